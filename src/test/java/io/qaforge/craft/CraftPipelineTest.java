package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.RunSummary;
import io.qaforge.TestPaths;
import io.qaforge.bench.OpenAiStub;
import io.qaforge.config.Settings;
import io.qaforge.spark.Lake;
import io.qaforge.spark.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CRAFT end to end on data-samples against the scripted OpenAI-protocol server. */
class CraftPipelineTest {
  private static OpenAiStub stub;

  @BeforeAll
  static void start() {
    stub = new OpenAiStub().latencyMs(2).start();
  }

  @AfterAll
  static void stop() {
    stub.close();
  }

  private static String common(String task) {
    return "llm.base-url = \""
        + stub.baseUrl()
        + "\"\nllm.chunk-size = 50\n"
        + "craft.task = "
        + task
        + "\ncraft.corpora = [{ name = samples, path = \""
        + TestPaths.samples("corpus")
        + "\" }]\ncraft.few-shots = \""
        + TestPaths.samples("craft/" + task + "/few_shot.jsonl")
        + "\"\ncraft.retrieval.percentile = 1.0\n";
  }

  private static Map<String, Long> written(RunSummary s) {
    Map<String, Long> out = new TreeMap<>();
    for (RunSummary.Step step : s.steps()) {
      out.put(step.table().name(), step.table().rows());
    }
    return out;
  }

  private static String quizLine(String statement, String answer) {
    return "{\"Text\": \"A short note. "
        + statement
        + "\", \"question\": \""
        + statement
        + "\", \"options\": [\"A. True\", \"B. False\"], \"answer\": \""
        + answer
        + "\"}";
  }

  private static long count(Lake lake, String step, String task) {
    return lake.read("craft", step).filter("task = '" + task + "' and size = 'S'").count();
  }

  @Test
  void everyStepEndToEndThenZeroCallsOnRerunAndASecondTaskKeepsTheFirst() throws Exception {
    stub.resetCounters();
    Settings settings = SparkTestSession.settings(common("bioqa"));
    Lake lake = SparkTestSession.lake(settings);
    RunSummary first = new CraftPipeline(settings).run(lake, false);
    long calls = stub.totalRequests();

    Map<String, Long> rows = written(first);
    // 40 passages + 5 notes; the two short documents (< 200 characters) are not used
    assertThat(rows).containsEntry("craft.corpus", 45L).containsEntry("craft.embeddings", 45L);
    assertThat(rows).containsEntry("craft.fewshots", 8L);
    long retrieved = count(lake, "retrieved", "bioqa");
    long generated = count(lake, "generations", "bioqa");
    long valid = count(lake, "samples", "bioqa");
    long rejected = count(lake, "rejections", "bioqa");
    // size S: int(200/2*1.2) = 120 documents wanted, capped by the corpus (45): per few-shot
    // int(45/8/2) = 2, by mean similarity int(45/2) = 22; the union of both lists
    assertThat(retrieved).isBetween(22L, 38L);
    assertThat(generated).isEqualTo(retrieved);
    assertThat(valid + rejected).isEqualTo(generated);
    assertThat(calls).isEqualTo(generated);
    assertThat(count(lake, "clean", "bioqa")).isEqualTo(valid);

    // the final set: the kept samples (at most 100 - 8) plus the 8 few-shots, seed columns
    Dataset<Row> fin = lake.read("craft", "final").filter("task = 'bioqa' and size = 'S'");
    long kept =
        lake.read("craft", "clean")
            .filter("task = 'bioqa' and size = 'S' and clean_status = 'kept'")
            .count();
    assertThat(fin.count()).isEqualTo(Math.min(kept, 92) + 8);
    assertThat(fin.filter("is_few_shot = 1").count()).isEqualTo(8);
    assertThat(fin.columns()).contains("question", "options", "answer", "is_few_shot");
    for (Row r : fin.collectAsList()) {
      assertThat(r.getList(r.fieldIndex("options"))).hasSize(4);
      assertThat(r.<String>getAs("answer")).matches("[ABCD]");
    }
    Path files =
        Path.of(lake.root().replaceFirst("^file:", ""), "craft", "training_files", "bioqa", "S");
    assertThat(Files.readAllLines(files.resolve("train.jsonl"))).hasSize((int) fin.count());
    assertThat(Files.readAllLines(files.resolve("train.jsonl")).get(0))
        .startsWith("{\"question\":")
        .contains("\"options\":[", "\"answer\":", "\"is_few_shot\":1");
    assertThat(Files.readString(files.resolve("README.md"))).contains("train.jsonl", "bioqa");

    // the schema of every table
    Map<String, List<String>> columns =
        Map.of(
            "corpus", List.of("doc_id", "corpus", "source", "text", "chars", "sentences", "tokens"),
            "embeddings", List.of("doc_id", "vec", "model", "model_version"),
            "fewshots",
                List.of(
                    "idx", "text", "instruction", "output", "sample_json", "query", "vec", "task"),
            "retrieved",
                List.of("doc_id", "corpus", "similarity", "selections", "text", "task", "size"),
            "generations",
                List.of(
                    "doc_id",
                    "shot_indices",
                    "instruction_variant",
                    "content",
                    "request_id",
                    "status",
                    "error",
                    "prompt_tokens",
                    "cost_usd",
                    "cache_hit",
                    "task",
                    "size"),
            "samples",
                List.of(
                    "doc_id",
                    "request_id",
                    "question",
                    "options",
                    "answer",
                    "sample_json",
                    "task",
                    "size"),
            "rejections",
                List.of("doc_id", "request_id", "status", "error_category", "error", "content"),
            "clean",
                List.of("request_id", "sample_json", "clean_status", "clean_ref", "clean_score"),
            "final",
                List.of(
                    "question",
                    "options",
                    "answer",
                    "is_few_shot",
                    "doc_id",
                    "request_id",
                    "task",
                    "size"),
            "export", List.of("file", "format", "rows", "few_shots", "task", "size"));
    columns.forEach(
        (table, cols) ->
            assertThat(lake.read("craft", table).columns())
                .as(table)
                .contains(cols.toArray(String[]::new)));
    assertThat(
            lake.read("craft", "embeddings")
                .selectExpr("size(vec) as d")
                .distinct()
                .collectAsList())
        .extracting(r -> r.getInt(0))
        .containsExactly(384);

    // every retrieved document became one request; every rejected one says why
    assertThat(
            lake.read("craft", "rejections")
                .filter("task = 'bioqa' and (error_category is null or error is null)")
                .count())
        .isZero();

    // a second run: every step up to date, no calls
    RunSummary second = new CraftPipeline(settings).run(lake, false);
    assertThat(second.steps()).allMatch(RunSummary.Step::skipped);
    assertThat(stub.totalRequests()).isEqualTo(calls);

    // another task in the same lake: corpus and embeddings are reused, the bioqa slices stay
    Settings csqa =
        Settings.fromString(
            "output.root = \""
                + settings.string("output.root")
                + "\"\ncatalog.dir = \""
                + settings.string("catalog.dir")
                + "\"\n"
                + common("csqa"),
            Map.of());
    RunSummary third = new CraftPipeline(csqa).run(lake, false);
    assertThat(third.steps().get(0).skipped()).isTrue(); // corpus
    assertThat(third.steps().get(1).skipped()).isTrue(); // embeddings
    assertThat(count(lake, "final", "bioqa")).isEqualTo(fin.count());
    assertThat(count(lake, "final", "csqa")).isPositive();
    for (Row r :
        lake.read("craft", "final").filter("task = 'csqa' and is_few_shot = 0").collectAsList()) {
      assertThat(r.getList(r.fieldIndex("options"))).hasSize(2);
    }

    // a custom task from settings and a few-shot file, no code: same corpus, its own slices
    Path few = SparkTestSession.newDir("quiz").resolve("quiz.jsonl");
    Files.writeString(
        few,
        String.join(
                "\n",
                quizLine("Rice doubles in volume when it is cooked in plenty of water.", "A"),
                quizLine("Houseplants need more water in winter than in summer.", "B"),
                quizLine("Sunscreen should be applied again after swimming.", "A"),
                quizLine("Photosynthesis happens mainly in the roots of a plant.", "B"))
            + "\n");
    Settings quiz =
        Settings.fromString(
            "output.root = \""
                + settings.string("output.root")
                + "\"\ncatalog.dir = \""
                + settings.string("catalog.dir")
                + "\"\n"
                + common("bioqa")
                + "craft.task = quiz\ncraft.few-shots = \""
                + few
                + "\"\ncraft.until = samples\n"
                + "craft.tasks.quiz {\n"
                + "  instruction = \"Read the text below and write one true/false quiz item.\"\n"
                + "  max-tokens = 200\n"
                + "  fields = [\n"
                + "    { name = question, type = string, min-length = 16 }\n"
                + "    { name = options, type = list, count = 2, example = [\"A. True\", \"B. False\"] }\n"
                + "    { name = answer, type = letter, letters = \"AB\" }\n"
                + "  ]\n}\n",
            Map.of());
    new CraftPipeline(quiz).run(lake, false);
    long quizGenerated = count(lake, "generations", "quiz");
    assertThat(quizGenerated).isPositive();
    assertThat(count(lake, "samples", "quiz") + count(lake, "rejections", "quiz"))
        .isEqualTo(quizGenerated);
    for (Row r : lake.read("craft", "samples").filter("task = 'quiz'").collectAsList()) {
      assertThat(r.getList(r.fieldIndex("options"))).hasSize(2);
      assertThat(r.<String>getAs("answer")).matches("[AB]");
    }
  }
}
