package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class GenerationDryRunTest {
  static Dataset<Row> questions(SparkSession spark, String... texts) {
    return spark.createDataset(List.of(texts), org.apache.spark.sql.Encoders.STRING()).toDF("q");
  }

  @Test
  void withoutAnEndpointEveryRowAndSampleComesBackFromTheDryRun() {
    SparkSession spark = SparkTestSession.get();
    Settings s = SparkTestSession.settings("");
    Lake lake = SparkTestSession.lake(s);
    LlmSettings llm = LlmSettings.from(s);
    assertThat(llm.effectiveBackend("gpt-4o-mini")).isEqualTo("dry-run");
    Dataset<Row> in =
        questions(spark, "What is 2+2?", "Name a river.", "", "Capital of France?")
            .withColumn("messages", Generation.messages("Be brief.", col("q")));
    String schema =
        "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"},\"confidence\":{\"type\":\"number\"}},\"required\":[\"answer\",\"confidence\"]}";
    LlmRun run = LlmRun.unpaced();
    Dataset<Row> out =
        new Generation(lake, llm, run)
            .generate(
                in,
                new Generation.Spec(
                    "test", "gpt-4o-mini", 0.7, 0.9, 64, null, List.of(), 3, schema, false, "t1"));
    List<Row> rows = out.orderBy("q", "sample_idx").collectAsList();
    assertThat(rows).hasSize(12);
    assertThat(out.select("request_id").distinct().count()).isEqualTo(12);
    for (Row r : rows) {
      String q = r.getAs("q");
      assertThat(r.<String>getAs("backend")).isEqualTo("dry-run");
      if (q.isEmpty()) {
        assertThat(r.<String>getAs("status")).isEqualTo("failed");
        assertThat(r.<String>getAs("error")).contains("empty prompt");
      } else {
        assertThat(r.<String>getAs("status")).isEqualTo("ok");
        assertThat(r.<String>getAs("parsed")).contains("\"answer\"").contains("\"confidence\"");
        assertThat(r.<Long>getAs("prompt_tokens")).isGreaterThan(5L);
        assertThat(r.<Long>getAs("completion_tokens")).isEqualTo(64L);
        assertThat(r.<Double>getAs("cost_usd")).isGreaterThan(0.0);
      }
      assertThat(r.<Boolean>getAs("cache_hit")).isFalse();
    }
    assertThat(rows.stream().map(r -> r.<Integer>getAs("sample_idx")).distinct())
        .containsExactlyInAnyOrder(0, 1, 2);
    assertThat(lake.exists(Generation.DATASET, Generation.CACHE))
        .as("dry-run answers are never cached")
        .isFalse();
  }

  @Test
  void requestsWithoutMessagesAreRejectedClearly() {
    SparkSession spark = SparkTestSession.get();
    Settings s = SparkTestSession.settings("");
    Generation g = new Generation(SparkTestSession.lake(s), LlmSettings.from(s), LlmRun.unpaced());
    assertThatThrownBy(
            () ->
                g.generate(
                    questions(spark, "x"),
                    new Generation.Spec(
                        "t", "gpt-4o-mini", null, null, null, null, null, 1, null, false, "")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("no 'messages' column")
        .hasMessageContaining("Generation.messages");
  }

  @Test
  void unknownAliasNamesTheDefinedOnes() {
    Settings s = SparkTestSession.settings("");
    assertThatThrownBy(() -> LlmSettings.from(s).spec("gpt-5"))
        .hasMessageContaining("Unknown model alias 'gpt-5'")
        .hasMessageContaining("gpt-4o-mini");
  }
}
