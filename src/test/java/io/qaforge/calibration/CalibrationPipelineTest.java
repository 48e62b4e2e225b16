package io.qaforge.calibration;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.RunSummary;
import io.qaforge.TestPaths;
import io.qaforge.bench.OpenAiStub;
import io.qaforge.config.Settings;
import io.qaforge.spark.Lake;
import io.qaforge.spark.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The calibration pipeline end to end on data-samples against the scripted OpenAI server. */
class CalibrationPipelineTest {
  private static OpenAiStub stub;

  @BeforeAll
  static void start() {
    stub = new OpenAiStub().latencyMs(2).start();
  }

  @AfterAll
  static void stop() {
    stub.close();
  }

  private static String common() {
    return "llm.base-url = \""
        + stub.baseUrl()
        + "\"\nllm.chunk-size = 50\n"
        + "ingest.splits.train = [{ name = sft, size = 24 }, { name = reward_model, size = 24 }]\n"
        + "calibration.samples.count = 4\n"
        // the server echoes prompts; room for the echo of the summary prompt
        + "calibration.summaries.max-tokens = 8000\n"
        + "calibration.queries.examples = \""
        + TestPaths.samples("calibration/query_examples.jsonl")
        + "\"\ncalibration.samples.examples = \""
        + TestPaths.samples("calibration/paragraph_examples.jsonl")
        + "\"\n";
  }

  private static Map<String, Long> rows(RunSummary s) {
    Map<String, Long> out = new TreeMap<>();
    for (RunSummary.Step step : s.steps()) {
      out.put(step.table().name(), step.table().rows());
    }
    return out;
  }

  @Test
  void everyStepAgainstTheServerThenZeroCallsOnRerunAndOnlySummariesAfterAnEdit() throws Exception {
    stub.resetCounters(); // the stub is shared with the other test of this class
    Settings settings = SparkTestSession.settings(common());
    Lake lake = SparkTestSession.lake(settings);
    RunSummary first = new CalibrationPipeline(settings).run(lake, false);
    long calls = stub.totalRequests();

    Map<String, Long> rows = rows(first);
    assertThat(rows)
        .containsEntry("triviaqa.questions", 60L)
        .containsEntry("calibration.queries", 60L) // 24 sft + 24 reward_model + 12 test
        .containsEntry("calibration.samples", 96L) // 24 queries x 4 samples
        .containsEntry("calibration.summaries", 24L)
        .containsEntry("calibration.sft", 24L)
        .containsEntry("calibration.rm_paragraphs", 48L) // 24 x (lc_sft, factuality_sft)
        .containsEntry("calibration.rm_extractions", 24L)
        .containsEntry("calibration.reward_model", 24L)
        .containsEntry("calibration.eval_paragraphs", 12L)
        .containsEntry("calibration.eval_extractions", 12L)
        .containsEntry("calibration.semantic_equivalence", 12L)
        .containsEntry("calibration.eval_results", 1L)
        .containsEntry("calibration.export", 8L);
    // the server answers every JSON schema with one-element arrays: one extracted answer each
    assertThat(rows.get("calibration.rm_forecasts")).isEqualTo(24L * 2 + 24);
    // queries 60 + samples 96 + summaries 24 + rm paragraphs 48 + extractions 24 + forecasts 72
    // + eval paragraphs 12 + extractions 12 + forecasts 12 + judge batches 2 (10 + 2)
    assertThat(calls).isEqualTo(60 + 96 + 24 + 48 + 24 + 72 + 12 + 12 + 12 + 2);
    assertThat(stub.requestsTo("/v1/completions")).isEqualTo(96 + 48 + 12); // base and SFT models

    // the server echoes the long 8-shot prompt, so base-model samples run to max tokens: usable,
    // and marked truncated
    assertThat(
            lake.read("calibration", "samples")
                .filter("status not in ('ok', 'truncated') or generated_paragraph is null")
                .count())
        .isZero();
    for (String t : List.of("queries", "summaries", "rm_paragraphs", "rm_forecasts")) {
      assertThat(
              lake.read("calibration", t).groupBy("status").count().collectAsList().stream()
                  .map(r -> r.getString(0))
                  .toList())
          .as(t + " statuses")
          .containsExactly("ok");
    }
    // the seed's published columns plus our lineage columns
    assertThat(lake.read("calibration", "sft").columns())
        .startsWith(
            "question_id",
            "paragraph_generation_prompt",
            "claude_summary",
            "icl_generated_paragraphs")
        .contains("summary_model", "summary_request_id", "sample_request_ids");
    assertThat(lake.read("calibration", "reward_model").columns())
        .contains(
            "question_id",
            "lc_sft_generated_paragraph",
            "lc_sft_ground_truth_and_extracted_answers",
            "lc_sft_forecasted_probs",
            "factuality_sft_generated_paragraph",
            "factuality_sft_binary_correctness");
    assertThat(lake.read("calibration", "eval_results").columns())
        .containsExactly(
            "method",
            "dataset",
            "n",
            "accuracy",
            "ci_lower",
            "ci_upper",
            "ece",
            "ece_lower",
            "ece_upper");

    // lineage: every summary names the 4 samples it merged, and they are rows of samples
    Set<String> sampleIds = new HashSet<>();
    for (Row r : lake.read("calibration", "samples").select("request_id").collectAsList()) {
      sampleIds.add(r.getString(0));
    }
    for (Row r : lake.read("calibration", "sft").collectAsList()) {
      List<String> ids = r.getList(r.fieldIndex("sample_request_ids"));
      assertThat(ids).hasSize(4);
      assertThat(sampleIds).containsAll(ids);
      assertThat(r.<String>getAs("claude_summary")).isNotBlank();
      assertThat(r.getList(r.fieldIndex("icl_generated_paragraphs"))).hasSize(4);
    }
    // ground truth first in the reward-model arrays, probabilities aligned
    Row rm = lake.read("calibration", "reward_model").orderBy("question_id").first();
    List<String> answers = rm.getList(rm.fieldIndex("lc_sft_ground_truth_and_extracted_answers"));
    String truth =
        lake.read("calibration", "queries")
            .filter("question_id = '" + rm.getAs("question_id") + "'")
            .first()
            .getAs("ground_truth_top_answer");
    assertThat(answers.get(0)).isEqualTo(truth);
    assertThat(rm.getList(rm.fieldIndex("lc_sft_forecasted_probs"))).hasSize(answers.size());

    Path files = Path.of(lake.root().replaceFirst("^file:", ""), "calibration", "training_files");
    assertThat(Files.readAllLines(files.resolve("lc_sft.jsonl"))).hasSize(24);
    assertThat(Files.readString(files.resolve("README.md"))).contains("lc_sft.jsonl | jsonl | 24");
    assertThat(Path.of(lake.root().replaceFirst("^file:", ""), "calibration", "eval_results.png"))
        .isRegularFile();

    // a second run: every step up to date, no calls
    RunSummary second = new CalibrationPipeline(settings).run(lake, false);
    assertThat(second.steps()).allMatch(RunSummary.Step::skipped);
    // forced: every step is rebuilt, and every answer comes from the cache
    new CalibrationPipeline(settings).run(lake, true);
    assertThat(stub.totalRequests()).isEqualTo(calls);

    // an edited summary prompt re-calls only the summaries (24); later steps rebuild without calls
    Path prompts = SparkTestSession.newDir("prompts");
    Files.createDirectories(prompts.resolve("calibration"));
    String bundled =
        new String(
            getClass().getResourceAsStream("/prompts/calibration/summaries.txt").readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8);
    Files.writeString(
        prompts.resolve("calibration/summaries.txt"), bundled + "\nKeep it under 120 words.\n");
    Settings edited =
        Settings.fromString(
            "output.root = \""
                + settings.string("output.root")
                + "\"\ncatalog.dir = \""
                + settings.string("catalog.dir")
                + "\"\ningest.inputs = [{ path = \""
                + TestPaths.samples("triviaqa/json")
                + "\" }]\n"
                + common()
                + "prompts.dir = \""
                + prompts
                + "\"\n",
            Map.of());
    RunSummary third = new CalibrationPipeline(edited).run(lake, false);
    assertThat(stub.totalRequests()).isEqualTo(calls + 24);
    assertThat(third.steps().stream().filter(s -> !s.skipped()).map(s -> s.table().name()))
        .containsExactly("calibration.summaries", "calibration.sft", "calibration.export");
  }

  @Test
  void precomputedQueriesMakeNoCalls() {
    Settings settings =
        SparkTestSession.settings(
            common() + "calibration { until = queries, queries.precomputed-column = question }\n");
    Lake lake = SparkTestSession.lake(settings);
    long before = stub.totalRequests();
    new CalibrationPipeline(settings).run(lake, false);
    assertThat(stub.totalRequests()).isEqualTo(before);
    assertThat(
            lake.read("calibration", "queries")
                .filter("paragraph_generation_prompt = question and status = 'ok'")
                .count())
        .isEqualTo(60);
    assertThat(lake.exists("calibration", "samples")).isFalse();
  }

  @Test
  void samplesAndModelParagraphsInProcessWithTheTinyGguf() {
    Path gguf = TestPaths.project().resolve("../shared/fixtures/models/llama-2-tiny-random.gguf");
    Settings settings =
        SparkTestSession.settings(
            common()
                + "llm.models.base-model { backend = llama-cpp, model-path = \""
                + gguf.normalize()
                + "\", context-window = 4096 }\n"
                + "llm.models.lc-sft-model { backend = llama-cpp, model-path = \""
                + gguf.normalize()
                + "\" }\n"
                + "llm.models.factuality-sft-model { backend = llama-cpp, model-path = \""
                + gguf.normalize()
                + "\" }\n"
                + "llm.llama-cpp.context-per-slot = 4096\n"
                + "calibration { max-questions-per-split = 2, until = rm_paragraphs,"
                + " reward-model.lc-sft.max-tokens = 8, reward-model.factuality-sft.max-tokens = 8,"
                + " samples { count = 2, max-tokens = 8 } }\n");
    Lake lake = SparkTestSession.lake(settings);
    new CalibrationPipeline(settings).run(lake, false);
    List<Row> samples = lake.read("calibration", "samples").collectAsList();
    assertThat(samples).hasSize(4);
    for (Row r : samples) {
      assertThat(r.<String>getAs("backend")).isEqualTo("llama-cpp");
      assertThat(r.<String>getAs("status")).isIn("ok", "truncated");
      assertThat(r.<String>getAs("unprocessed_generated_paragraph")).isNotNull();
    }
    // step 5: both SFT models in-process too (2 reward-model questions x 2 models)
    List<Row> paragraphs = lake.read("calibration", "rm_paragraphs").collectAsList();
    assertThat(paragraphs).hasSize(4);
    assertThat(paragraphs)
        .allSatisfy(r -> assertThat(r.<String>getAs("backend")).isEqualTo("llama-cpp"));
    assertThat(lake.exists("calibration", "rm_extractions")).as("until = rm_paragraphs").isFalse();
  }
}
