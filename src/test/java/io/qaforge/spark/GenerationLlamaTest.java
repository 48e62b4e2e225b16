package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.TestPaths;
import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The in-process llama.cpp backend inside a Spark job, with the tiny GGUF fixture. */
class GenerationLlamaTest {
  static final String MODEL =
      TestPaths.project()
          .resolve("../shared/fixtures/models/llama-2-tiny-random.gguf")
          .normalize()
          .toString();

  static Settings settings() {
    return SparkTestSession.settings(
        "llm.models.tiny { backend = llama-cpp, model = tiny, style = completion, context-window = 512, model-path = \""
            + MODEL
            + "\" }\nllm.llama-cpp { context-per-slot = 512, threads = 1, parallel-slots = 2 }\n");
  }

  static List<String> run(Settings s, String schema) {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> in =
        spark
            .createDataset(
                List.of("Once upon a time", "The capital of", "Numbers:"),
                org.apache.spark.sql.Encoders.STRING())
            .toDF("prompt")
            .withColumn("messages", Generation.messages(null, col("prompt")));
    Dataset<Row> out =
        new Generation(SparkTestSession.lake(s), LlmSettings.from(s), LlmRun.unpaced())
            .generate(
                in,
                new Generation.Spec(
                    "t", "tiny", 0.8, 0.95, 16, 42L, List.of(), 2, schema, false, "t"));
    List<Row> rows = out.orderBy("prompt", "sample_idx").collectAsList();
    assertThat(rows).hasSize(6);
    assertThat(rows).allSatisfy(r -> assertThat(r.<String>getAs("backend")).isEqualTo("llama-cpp"));
    assertThat(rows).allSatisfy(r -> assertThat(r.<String>getAs("status")).isIn("ok", "truncated"));
    return rows.stream()
        .map(
            r ->
                r.getAs("prompt")
                    + "#"
                    + r.getAs("sample_idx")
                    + "="
                    + r.getAs("content")
                    + "|"
                    + r.getAs("parsed"))
        .collect(Collectors.toList());
  }

  @Test
  void seededSamplingIsReproducibleAcrossRunsAndDiffersAcrossSamples() {
    List<String> first = run(settings(), null);
    List<String> second = run(settings(), null); // fresh lake: no cache, generated again
    assertThat(second).isEqualTo(first);
    assertThat(first.get(0)).isNotEqualTo(first.get(1).replace("#1=", "#0=")); // sample 0 vs 1
  }

  @Test
  void schemaConstrainedOutputParses() {
    String schema =
        "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\",\"maxLength\":12},\"score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"required\":[\"answer\",\"score\"],\"additionalProperties\":false}";
    Settings s = settings();
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> in =
        spark
            .createDataset(List.of("Rate this:", "Answer:"), org.apache.spark.sql.Encoders.STRING())
            .toDF("prompt")
            .withColumn("messages", Generation.messages(null, col("prompt")));
    List<Row> rows =
        new Generation(SparkTestSession.lake(s), LlmSettings.from(s), LlmRun.unpaced())
            .generate(
                in,
                new Generation.Spec(
                    "t", "tiny", 0.8, null, 64, 7L, List.of(), 2, schema, false, "t"))
            .collectAsList();
    assertThat(rows).hasSize(4);
    for (Row r : rows) {
      assertThat(r.<String>getAs("status")).as(r.<String>getAs("content")).isEqualTo("ok");
      assertThat(r.<String>getAs("parsed")).contains("\"answer\"").contains("\"score\"");
    }
  }
}
