package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.bench.OpenAiStub;
import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation against the scripted OpenAI-protocol server: statuses, retries, cache, reruns. */
class GenerationHttpTest {
  private static OpenAiStub stub;
  private static final String SCHEMA =
      "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},\"required\":[\"answer\"]}";

  @BeforeAll
  static void start() {
    stub = new OpenAiStub().latencyMs(5).start();
  }

  @AfterAll
  static void stop() {
    stub.close();
  }

  static Settings settings(String extra) {
    return SparkTestSession.settings(
        "llm.base-url = \""
            + stub.baseUrl()
            + "\"\nllm.models.stub { backend = openai, model = stub-model, input-usd-per-mtok = 1, output-usd-per-mtok = 2 }\n"
            + "llm.request-timeout = 1s\nllm.max-attempts = 3\nllm.backoff-initial = 20ms\nllm.backoff-max = 200ms\nllm.chunk-size = 7\n"
            + extra);
  }

  static Dataset<Row> prompts(List<String> texts) {
    SparkSession spark = SparkTestSession.get();
    return spark
        .createDataset(texts, Encoders.STRING())
        .toDF("prompt")
        .withColumn("messages", Generation.messages("You answer briefly.", col("prompt")));
  }

  static Map<String, Row> generate(
      Settings s, List<String> texts, int samples, String schema, String template) {
    Dataset<Row> out =
        new Generation(SparkTestSession.lake(s), LlmSettings.from(s), LlmRun.unpaced())
            .generate(
                prompts(texts),
                new Generation.Spec(
                    "answers", "stub", 0.7, null, 64, null, List.of(), samples, schema, false,
                    template));
    Map<String, Row> byKey = new HashMap<>();
    for (Row r : out.collectAsList()) {
      assertThat(byKey.put(r.getAs("prompt") + "#" + r.getAs("sample_idx"), r)).isNull();
    }
    // as Generation#generate asks: cached answers left behind slow every later query of the JVM
    out.unpersist(false);
    return byKey;
  }

  @Test
  void everyRowGetsAStatusAndTransientFailuresAreRetried() {
    Settings s = settings("");
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      texts.add("plain question " + i);
    }
    texts.addAll(
        List.of(
            "q [[fault:429x2]]",
            "q [[fault:500x1]]",
            "q [[fault:503x1]]",
            "q [[fault:400]]",
            "q [[fault:hang]]",
            "q [[fault:malformed]]",
            "q [[fault:truncate]]",
            "q [[fault:refuse]]"));
    Map<String, Row> rows = generate(s, texts, 2, null, "t1");
    assertThat(rows).hasSize(texts.size() * 2);
    // the cache's distinct-valued columns are written without a Parquet dictionary (CPU per row)
    Map<String, Boolean> dictionary =
        dictionaryEncoded(
            SparkTestSession.lake(s).path(Generation.DATASET, Generation.CACHE),
            List.of("request_id", "content", "created_at", "status", "alias"));
    assertThat(dictionary)
        .containsEntry("request_id", false)
        .containsEntry("content", false)
        .containsEntry("created_at", false)
        .containsEntry("status", true)
        .containsEntry("alias", true);
    for (int i = 0; i < 10; i++) {
      Row r = rows.get("plain question " + i + "#1");
      assertThat(r.<String>getAs("status")).isEqualTo("ok");
      assertThat(r.<String>getAs("content")).isNotBlank();
      assertThat(r.<String>getAs("backend")).isEqualTo("openai");
      assertThat(r.<String>getAs("model_used")).isEqualTo("stub-model");
      assertThat(r.<Long>getAs("prompt_tokens")).isPositive();
      assertThat(r.<Double>getAs("cost_usd")).isPositive();
      assertThat(r.<Boolean>getAs("cache_hit")).isFalse();
    }
    // the stub scripts faults per request body; both samples share one body (no seed)
    assertThat(rows.get("q [[fault:429x2]]#0").<String>getAs("status")).isEqualTo("ok");
    assertThat(rows.get("q [[fault:429x2]]#1").<String>getAs("status")).isEqualTo("ok");
    assertThat(attempts(rows, "q [[fault:429x2]]")).isEqualTo(2 + 2);
    assertThat(attempts(rows, "q [[fault:500x1]]")).isEqualTo(1 + 2);
    assertThat(rows.get("q [[fault:503x1]]#1").<String>getAs("status")).isEqualTo("ok");
    Row bad = rows.get("q [[fault:400]]#0");
    assertThat(bad.<String>getAs("status")).isEqualTo("failed");
    assertThat(bad.<Integer>getAs("attempts")).isEqualTo(1);
    assertThat(bad.<String>getAs("error")).contains("HTTP 400");
    Row hang = rows.get("q [[fault:hang]]#0");
    assertThat(hang.<String>getAs("status")).isEqualTo("failed");
    assertThat(hang.<Integer>getAs("attempts")).isEqualTo(3);
    assertThat(hang.<String>getAs("error")).startsWith("timed out");
    assertThat(rows.get("q [[fault:malformed]]#0").<String>getAs("status"))
        .isEqualTo("invalid_output");
    assertThat(rows.get("q [[fault:truncate]]#0").<String>getAs("status")).isEqualTo("truncated");
    assertThat(rows.get("q [[fault:refuse]]#0").<String>getAs("status")).isEqualTo("refused");

    // a re-run pays nothing for what succeeded and calls only the failed rows again
    long before = stub.totalRequests();
    Map<String, Row> again = generate(s, texts, 2, null, "t1");
    assertThat(again).hasSize(texts.size() * 2);
    long calledAgain = stub.totalRequests() - before;
    // the 400 rows (2 samples x 1 attempt) and the hanging rows (2 samples x 3 attempts)
    assertThat(calledAgain).isEqualTo(2 + 6);
    assertThat(again.get("plain question 3#0").<Boolean>getAs("cache_hit")).isTrue();
    assertThat(again.get("plain question 3#0").<String>getAs("content"))
        .isEqualTo(rows.get("plain question 3#0").<String>getAs("content"));
    assertThat(again.get("q [[fault:400]]#0").<Boolean>getAs("cache_hit")).isFalse();
  }

  /**
   * Per column: whether any Parquet file of the Delta table at {@code path} has it
   * dictionary-encoded.
   */
  static Map<String, Boolean> dictionaryEncoded(String path, List<String> columns) {
    Configuration conf = SparkTestSession.get().sparkContext().hadoopConfiguration();
    Map<String, Boolean> out = new HashMap<>();
    try (Stream<java.nio.file.Path> files =
        Files.walk(Paths.get(new org.apache.hadoop.fs.Path(path).toUri()))) {
      List<java.nio.file.Path> parquet =
          files.filter(f -> f.toString().endsWith(".parquet")).toList();
      assertThat(parquet).isNotEmpty();
      for (java.nio.file.Path f : parquet) {
        try (ParquetFileReader reader =
            ParquetFileReader.open(
                HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), conf))) {
          for (BlockMetaData block : reader.getFooter().getBlocks()) {
            for (ColumnChunkMetaData column : block.getColumns()) {
              String name = column.getPath().toDotString();
              if (columns.contains(name)) {
                boolean dict = column.getEncodings().stream().anyMatch(Encoding::usesDictionary);
                out.merge(name, dict, Boolean::logicalOr);
              }
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static int attempts(Map<String, Row> rows, String prompt) {
    return rows.get(prompt + "#0").<Integer>getAs("attempts")
        + rows.get(prompt + "#1").<Integer>getAs("attempts");
  }

  @Test
  void aFinishedJobRerunsWithZeroCallsAndEditsReCallOnlyWhatChanged() {
    Settings s = settings("");
    List<String> texts = List.of("alpha", "beta", "gamma", "delta [[fault:429x1]]");
    generate(s, texts, 3, SCHEMA, "t1");
    long before = stub.totalRequests();
    Map<String, Row> cached = generate(s, texts, 3, SCHEMA, "t1");
    assertThat(stub.totalRequests() - before).isZero();
    assertThat(cached.values()).allSatisfy(r -> assertThat(r.<Boolean>getAs("cache_hit")).isTrue());
    assertThat(cached.values())
        .allSatisfy(r -> assertThat(r.<String>getAs("parsed")).contains("answer"));

    before = stub.totalRequests();
    generate(
        s, List.of("alpha", "beta", "gamma CHANGED", "delta [[fault:429x1]]"), 3, SCHEMA, "t1");
    assertThat(stub.totalRequests() - before).as("one edited prompt x 3 samples").isEqualTo(3);

    before = stub.totalRequests();
    generate(s, texts, 3, SCHEMA, "t2");
    assertThat(stub.totalRequests() - before)
        .as("a new template version re-calls all")
        .isGreaterThanOrEqualTo(12);
  }
}
