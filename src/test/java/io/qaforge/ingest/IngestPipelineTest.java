package io.qaforge.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import io.qaforge.RunSummary;
import io.qaforge.TestPaths;
import io.qaforge.config.Settings;
import io.qaforge.spark.Lake;
import io.qaforge.spark.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class IngestPipelineTest {
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkTestSession.get();
  }

  private static Map<String, Long> splitCounts(Dataset<Row> table) {
    Map<String, Long> counts = new TreeMap<>();
    for (Row r : table.groupBy("split").count().collectAsList()) {
      counts.put(r.getString(0), r.getLong(1));
    }
    return counts;
  }

  private static Map<String, String> splitById(Dataset<Row> table) {
    Map<String, String> m = new HashMap<>();
    for (Row r : table.select("question_id", "split").collectAsList()) {
      m.put(r.getString(0), r.getString(1));
    }
    return m;
  }

  private static String inputs(String... paths) {
    return "ingest.inputs = ["
        + java.util.Arrays.stream(paths)
            .map(p -> "{ path = \"" + p + "\" }")
            .collect(Collectors.joining(", "))
        + "]\n";
  }

  @Test
  void samplesBecomeTheQuestionsTableWithSeedSplitsAndACatalogName() {
    Settings s = SparkTestSession.settings("");
    Lake lake = SparkTestSession.lake(s);
    RunSummary summary = new IngestPipeline(s).run(lake, false);

    assertThat(summary.steps()).hasSize(1);
    assertThat(summary.steps().get(0).skipped()).isFalse();
    assertThat(summary.steps().get(0).table().rows()).isEqualTo(60);
    Dataset<Row> table = lake.read("triviaqa", "questions");
    assertThat(table.schema()).isEqualTo(IngestPipeline.SCHEMA);
    assertThat(splitCounts(table)).isEqualTo(Map.of("sft", 48L, "test", 12L));
    Row qs1 = table.filter("question_id = 'qs_1'").first();
    assertThat(qs1.<String>getAs("answer")).isEqualTo("Canberra");
    assertThat(qs1.<String>getAs("source_split")).isEqualTo("train");
    assertThat(qs1.getList(qs1.fieldIndex("aliases")))
        .containsExactly("Canberra", "Canberra, Australia");
    // registered under its name, for SQL
    assertThat(spark.sql("select count(*) from triviaqa.questions").first().getLong(0))
        .isEqualTo(60);
  }

  @Test
  void allThreeLayoutsGiveTheSameTable() {
    Path parquet = SparkTestSession.newDir("parquet");
    // the Hugging Face Parquet layout: <split>/part-*.parquet, written from the JSONL samples
    spark
        .read()
        .json(TestPaths.samples("triviaqa/hf/train.jsonl").toString())
        .write()
        .parquet(parquet.resolve("train").toString());
    spark
        .read()
        .json(TestPaths.samples("triviaqa/hf/validation.jsonl").toString())
        .write()
        .parquet(parquet.resolve("validation").toString());

    String[] cols = {
      "question_id",
      "question",
      "answer",
      "aliases",
      "normalized_aliases",
      "normalized_answer",
      "answer_type",
      "question_source",
      "source_split",
      "split"
    };
    List<String> expected = null;
    for (String in :
        List.of(
            TestPaths.samples("triviaqa/json").toString(),
            TestPaths.samples("triviaqa/hf").toString(),
            parquet.toString())) {
      Settings s = SparkTestSession.settings(inputs(in));
      Lake lake = SparkTestSession.lake(s);
      new IngestPipeline(s).run(lake, false);
      List<String> rows =
          lake.read("triviaqa", "questions").selectExpr(cols).collectAsList().stream()
              .map(Row::toString)
              .sorted()
              .collect(Collectors.toList());
      assertThat(rows).as(in).hasSize(60);
      if (expected == null) {
        expected = rows;
      } else {
        assertThat(rows).as(in).isEqualTo(expected);
      }
    }
  }

  @Test
  void splitAssignmentIsTheHashRankAndIndependentOfFilesAndOrder() throws IOException {
    String plan =
        "ingest.splits.train = [{name = a, size = 10}, {name = b, size = 20}, {name = c, size = 5}]\n"
            + "ingest.splits.validation = [{name = t, size = 7}]\n";
    // the same 60 questions, once as 2 JSON files and once as 60 one-line files in reverse order
    Path scattered = SparkTestSession.newDir("scattered");
    List<String> lines = new java.util.ArrayList<>();
    lines.addAll(Files.readAllLines(TestPaths.samples("triviaqa/hf/train.jsonl")));
    int n = 0;
    for (String line : lines) {
      Files.writeString(
          scattered.resolve(String.format("z%02d-train.jsonl", 99 - n++)), line + "\n");
    }
    for (String line : Files.readAllLines(TestPaths.samples("triviaqa/hf/validation.jsonl"))) {
      Files.writeString(scattered.resolve(String.format("a%02d-dev.jsonl", n++)), line + "\n");
    }
    Settings s1 = SparkTestSession.settings(plan);
    Settings s2 = SparkTestSession.settings(plan + inputs(scattered.toString()));
    Lake l1 = SparkTestSession.lake(s1);
    Lake l2 = SparkTestSession.lake(s2);
    new IngestPipeline(s1).run(l1, false);
    new IngestPipeline(s2).run(l2, false);
    Dataset<Row> t1 = l1.read("triviaqa", "questions");
    Map<String, String> byId = splitById(t1);
    assertThat(splitById(l2.read("triviaqa", "questions"))).isEqualTo(byId);
    assertThat(splitCounts(t1))
        .isEqualTo(Map.of("a", 10L, "b", 20L, "c", 5L, "t", 7L, "unassigned", 18L));

    // the Spark assignment equals the Spark-free definition: rank by sha256(question_id)
    SplitPlan sp = SplitPlan.from(s1);
    for (String source : List.of("train", "validation")) {
      List<String> ids =
          t1
              .filter("source_split = '" + source + "'")
              .select("question_id")
              .collectAsList()
              .stream()
              .map(r -> r.getString(0))
              .sorted(
                  Comparator.comparing(SplitPlan::rankKey).thenComparing(Comparator.naturalOrder()))
              .collect(Collectors.toList());
      for (int i = 0; i < ids.size(); i++) {
        assertThat(byId.get(ids.get(i))).as(ids.get(i)).isEqualTo(sp.assign(source, i));
      }
    }
  }

  @Test
  void duplicateQuestionIdsAcrossInputsAreKeptOnce() {
    Settings s =
        SparkTestSession.settings(
            inputs(
                TestPaths.samples("triviaqa/json").toString(),
                TestPaths.samples("triviaqa/hf").toString()));
    Lake lake = SparkTestSession.lake(s);
    new IngestPipeline(s).run(lake, false);
    Dataset<Row> t = lake.read("triviaqa", "questions");
    assertThat(t.count()).isEqualTo(60);
    // the first occurrence by (file, line) wins: .../triviaqa/hf/... sorts before
    // .../triviaqa/json/...
    assertThat(t.filter("source_file like '%/triviaqa/hf/%'").count()).isEqualTo(60);
  }

  @Test
  void upToDateTablesAreSkippedAndForceRebuilds() {
    Settings s = SparkTestSession.settings("");
    Lake lake = SparkTestSession.lake(s);
    IngestPipeline p = new IngestPipeline(s);
    assertThat(p.run(lake, false).steps().get(0).table().version()).isZero();
    RunSummary again = p.run(lake, false);
    assertThat(again.steps().get(0).skipped()).isTrue();
    assertThat(again.steps().get(0).table().version()).isZero();
    RunSummary forced = p.run(lake, true);
    assertThat(forced.steps().get(0).skipped()).isFalse();
    assertThat(forced.steps().get(0).table().version()).isEqualTo(1);
  }

  @Test
  void malformedRecordsStopTheRunWithFileLineAndReasonAndWriteNothing() throws IOException {
    Path dir = SparkTestSession.newDir("bad");
    List<String> good = Files.readAllLines(TestPaths.samples("triviaqa/hf/train.jsonl"));
    Path bad = dir.resolve("train.jsonl");
    Files.writeString(
        bad, good.get(0) + "\n" + good.get(1) + "\n{\"question\": \"broken\n" + good.get(2) + "\n");
    Settings s = SparkTestSession.settings(inputs(dir.toString()));
    Lake lake = SparkTestSession.lake(s);
    assertThatThrownBy(() -> new IngestPipeline(s).run(lake, false))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Cannot ingest: 1 malformed record(s); nothing was written")
        .hasMessageContaining(bad.getFileName() + ":3: invalid JSON")
        .hasMessageContaining("fix:");
    assertThat(Files.exists(Path.of(lake.root().replace("file:", "")).resolve("triviaqa")))
        .isFalse();
  }

  @Test
  void aFailedRunLeavesAnExistingTableUntouched() throws IOException {
    Settings ok = SparkTestSession.settings("");
    Lake lake = SparkTestSession.lake(ok);
    new IngestPipeline(ok).run(lake, false);
    Path dir = SparkTestSession.newDir("empty-question");
    Files.writeString(
        dir.resolve("validation.jsonl"),
        "{\"question\": \"  \", \"question_id\": \"e1\", \"answer\": {\"value\": \"x\"}}\n");
    Settings bad =
        Settings.fromString(
            "output.root = \""
                + lake.root()
                + "\"\ncatalog.dir = \""
                + SparkTestSession.newDir("c")
                + "\"\n"
                + inputs(dir.toString()),
            Map.of());
    assertThatThrownBy(() -> new IngestPipeline(bad).run(lake, false))
        .hasMessageContaining("validation.jsonl:1: question e1: missing or empty \"question\"");
    assertThat(lake.describe("triviaqa", "questions").version()).isZero();
    assertThat(lake.read("triviaqa", "questions").count()).isEqualTo(60);
  }

  @Test
  void parquetWithoutTheExpectedColumnsIsRejectedBeforeAnyWrite() {
    Path dir = SparkTestSession.newDir("pq-bad");
    spark
        .sql("select 'q1' as id, 'What?' as text")
        .write()
        .parquet(dir.resolve("train").toString());
    Settings s = SparkTestSession.settings(inputs(dir.toString()));
    Lake lake = SparkTestSession.lake(s);
    assertThatThrownBy(() -> new IngestPipeline(s).run(lake, false))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("has no column 'question_id'")
        .hasMessageContaining("Hugging Face trivia_qa Parquet");
    assertThat(lake.exists("triviaqa", "questions")).isFalse();
  }

  @Test
  void missingInputIsReportedBeforeAnyJob() {
    Settings s = SparkTestSession.settings(inputs("/no/such/folder"));
    Lake lake = SparkTestSession.lake(s);
    assertThatThrownBy(() -> new IngestPipeline(s).run(lake, false))
        .hasMessageContaining("Cannot read ingest input /no/such/folder")
        .hasMessageContaining("no such file or folder")
        .hasMessageContaining("fix ingest.inputs.0.path");
  }

  @Test
  void planCountsRowsPerSplitWithoutWriting() {
    Settings s = SparkTestSession.settings("");
    Lake lake = SparkTestSession.lake(s);
    var plan = new IngestPipeline(s).plan(lake);
    assertThat(plan.steps()).hasSize(1);
    assertThat(plan.steps().get(0).rows()).isEqualTo(60);
    assertThat(plan.steps().get(0).llmRequests()).isZero();
    assertThat(plan.steps().get(0).note()).contains("sft=48").contains("test=12");
    assertThat(lake.exists("triviaqa", "questions")).isFalse();
  }
}
