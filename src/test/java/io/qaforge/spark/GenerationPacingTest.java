package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import io.qaforge.bench.OpenAiStub;
import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The job-wide coordinator inside a Spark job: budget stops and the circuit breaker. */
class GenerationPacingTest {
  static Dataset<Row> prompts(List<String> texts) {
    return SparkTestSession.get()
        .createDataset(texts, Encoders.STRING())
        .toDF("prompt")
        .withColumn("messages", Generation.messages(null, col("prompt")));
  }

  static Generation.Spec spec() {
    return new Generation.Spec("s", "stub", 0.0, null, 16, null, List.of(), 1, null, false, "t");
  }

  static Settings settings(OpenAiStub stub, String root, String extra) {
    return SparkTestSession.settings(
        (root == null ? "" : "output.root = \"" + root + "\"\n")
            + "llm.base-url = \""
            + stub.baseUrl()
            + "\"\nllm.models.stub { backend = openai, model = m, input-usd-per-mtok = 1, output-usd-per-mtok = 1 }\n"
            + extra);
  }

  @Test
  void theBudgetStopsCallsAcrossTheJobAndTheRestIsRetriedLater() {
    try (OpenAiStub stub = new OpenAiStub().latencyMs(5).start()) {
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        texts.add("question " + i);
      }
      Settings s = settings(stub, null, "llm.budget.max-requests = 5\n");
      LlmSettings llm = LlmSettings.from(s);
      Lake lake = SparkTestSession.lake(s);
      List<Row> rows;
      try (LlmRun run = LlmRun.start(SparkTestSession.get(), llm)) {
        rows = new Generation(lake, llm, run).generate(prompts(texts), spec()).collectAsList();
        assertThat(run.entries().get(0).skippedBudget()).isEqualTo(7);
      }
      assertThat(rows).hasSize(12);
      assertThat(rows.stream().filter(r -> r.getAs("status").equals("ok"))).hasSize(5);
      assertThat(rows.stream().filter(r -> r.getAs("status").equals("skipped_budget")))
          .hasSize(7)
          .allSatisfy(
              r -> assertThat(r.<String>getAs("error")).contains("llm.budget.max-requests = 5"));
      assertThat(stub.totalRequests()).isEqualTo(5);

      // a new run with a new budget calls only the skipped rows
      Settings more = settings(stub, lake.root(), "llm.budget.max-requests = 100\n");
      try (LlmRun run = LlmRun.start(SparkTestSession.get(), LlmSettings.from(more))) {
        List<Row> again =
            new Generation(lake, LlmSettings.from(more), run)
                .generate(prompts(texts), spec())
                .collectAsList();
        assertThat(again).allSatisfy(r -> assertThat(r.<String>getAs("status")).isEqualTo("ok"));
      }
      assertThat(stub.totalRequests()).isEqualTo(12);
    }
  }

  @Test
  void aProviderThatKeepsRefusingStopsTheRunCleanly() {
    try (OpenAiStub stub = new OpenAiStub().latencyMs(2).start()) {
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        texts.add("q" + i + " [[fault:429]]");
      }
      Settings s =
          settings(
              stub,
              null,
              "llm.breaker { open-after = 1s, min-failures = 5 }\nllm.max-attempts = 100\nllm.request-timeout = 7s\n"
                  + "llm.backoff-initial = 50ms\nllm.backoff-max = 200ms\n");
      LlmSettings llm = LlmSettings.from(s);
      long start = System.nanoTime();
      try (LlmRun run = LlmRun.start(SparkTestSession.get(), llm)) {
        assertThatThrownBy(
                () ->
                    new Generation(SparkTestSession.lake(s), llm, run)
                        .generate(prompts(texts), spec()))
            .isInstanceOf(QaforgeException.class)
            .hasMessageContaining("kept refusing")
            .hasMessageContaining("fix:");
      }
      assertThat((System.nanoTime() - start) / 1e9).as("no stall").isLessThan(60);
      assertThat(stub.totalRequests()).as("bounded calls").isLessThan(30L * 100);
    }
  }
}
