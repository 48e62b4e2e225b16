package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.QaforgeException;
import io.qaforge.bench.OpenAiStub;
import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.batch.BatchApi;
import io.qaforge.llm.batch.BatchResults;
import io.qaforge.llm.batch.BatchStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Generation with backend = openai-batch against the stub's Files + Batch API: submit, stop,
 * collect on a re-run (also from a new session), wait, expired batches, retries online, import.
 */
class GenerationBatchTest {
  private static final String KEY = "sk-batch-test-SECRET-0123456789";

  /** Settings over {@code root} (null = a fresh one) for the stub, plus extra HOCON lines. */
  private static Settings settings(OpenAiStub stub, String root, String extra) {
    return SparkTestSession.settings(
        "llm.base-url = \""
            + stub.baseUrl()
            + "\"\nllm.models.stub { backend = openai-batch, model = stub-model,"
            + " input-usd-per-mtok = 1, output-usd-per-mtok = 2 }\n"
            + "llm.request-timeout = 2s\nllm.max-attempts = 2\nllm.backoff-initial = 20ms\n"
            + "llm.backoff-max = 100ms\nllm.batch.poll-interval = 10ms\n"
            + (root == null ? "" : "output.root = \"" + root + "\"\n")
            + extra);
  }

  private static Generation.Spec spec(int samples) {
    return new Generation.Spec(
        "answers", "stub", 0.7, null, 64, null, List.of(), samples, null, false, "t1");
  }

  private static Map<String, Row> generate(
      SparkSession spark, Settings s, List<String> texts, int samples) {
    Lake lake = new Lake(spark, s.string("output.root"));
    Dataset<Row> in =
        spark
            .createDataset(texts, Encoders.STRING())
            .toDF("prompt")
            .withColumn("messages", Generation.messages("You answer briefly.", col("prompt")));
    LlmSettings llm = LlmSettings.from(s);
    // a budget needs the run's coordinator; without one the tests stay unpaced
    try (LlmRun run =
        llm.maxRequests() > 0 || llm.maxCostUsd() > 0
            ? LlmRun.start(spark, llm)
            : LlmRun.unpaced()) {
      Dataset<Row> out = new Generation(lake, llm, run).generate(in, spec(samples));
      Map<String, Row> byKey = new HashMap<>();
      for (Row r : out.collectAsList()) {
        assertThat(byKey.put(r.getAs("prompt") + "#" + r.getAs("sample_idx"), r)).isNull();
      }
      // as Generation#generate asks: cached answers left behind slow every later query of the JVM
      out.unpersist(false);
      assertThat(byKey).hasSize(texts.size() * samples);
      return byKey;
    }
  }

  private static Map<String, Row> generate(Settings s, List<String> texts, int samples) {
    return generate(SparkTestSession.get(), s, texts, samples);
  }

  private static QaforgeException waiting(Settings s, List<String> texts, int samples) {
    try {
      generate(s, texts, samples);
    } catch (QaforgeException e) {
      return e;
    }
    throw new AssertionError("expected the run to stop with 'waiting in OpenAI batches'");
  }

  private static List<Row> latestBatches(Settings s) {
    return SparkTestSession.get()
        .read()
        .format("delta")
        .load(s.string("output.root") + "/qaforge/batches")
        .orderBy(col("updated_at").desc())
        .collectAsList();
  }

  private static long batchRequests(Settings s, String batchId) {
    return SparkTestSession.get()
        .read()
        .format("delta")
        .load(s.string("output.root") + "/qaforge/batch_requests")
        .filter(col("batch_id").equalTo(batchId))
        .count();
  }

  private static List<String> texts(int plain, String... more) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < plain; i++) {
      out.add("plain question " + i);
    }
    out.addAll(List.of(more));
    return out;
  }

  @Test
  void batchSettingsAreReadAndCheckedAndWithoutAnEndpointItIsADryRun() {
    LlmSettings llm =
        LlmSettings.from(
            SparkTestSession.settings(
                "llm.models.b { backend = openai-batch, model = m }\n"
                    + "llm.batch { wait = true, poll-interval = 2s, retry = online }\n"));
    assertThat(llm.effectiveBackend("b")).isEqualTo("dry-run");
    assertThat(llm.batch().waitForResults()).isTrue();
    assertThat(llm.batch().pollInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(llm.batch().maxWait()).isEqualTo(Duration.ofHours(25));
    assertThat(llm.batch().completionWindow()).isEqualTo("24h");
    assertThat(llm.batch().maxLines()).isEqualTo(50_000);
    assertThat(llm.batch().maxBytes()).isEqualTo(200_000_000L);
    assertThat(llm.batch().discount()).isEqualTo(0.5);
    assertThat(llm.batch().retry()).isEqualTo("online");
    LlmSettings withEndpoint =
        LlmSettings.from(
            SparkTestSession.settings(
                "llm.base-url = \"http://127.0.0.1:9/v1\"\n"
                    + "llm.models.b { backend = openai-batch, model = m }\n"));
    assertThat(withEndpoint.effectiveBackend("b")).isEqualTo("openai-batch");
    assertThat(withEndpoint.batch().retry()).isEqualTo("batch");
    for (String bad :
        List.of(
            "llm.batch.retry = later",
            "llm.batch.max-lines = 50001",
            "llm.batch.max-bytes = 300000000",
            "llm.batch.discount = -1",
            "llm.batch.completion-window = soon",
            "llm.batch.poll-interval = 0s")) {
      assertThatThrownBy(() -> LlmSettings.from(SparkTestSession.settings(bad + "\n")))
          .as(bad)
          .isInstanceOf(QaforgeException.class)
          .hasMessageContaining(bad.substring(0, bad.indexOf(' ')));
    }
  }

  @Test
  void submitsStopsAndCollectsOnTheNextRunThenEverythingIsCached() {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(1, 0).start()) {
      Settings s = settings(stub, null, "");
      String root = s.string("output.root");
      List<String> texts =
          texts(12, "fail me [[fault:batchfail]]", "also fail [[fault:batchfail]]");

      // run 1: submits one batch and stops cleanly
      QaforgeException e = waiting(s, texts, 2);
      assertThat(e.problem()).isEqualTo("Step answers: 28 requests are waiting in 1 OpenAI batch");
      assertThat(e.reason()).contains("asynchronous").contains("completion window");
      assertThat(e.fix()).contains("run the same command again later").contains("nothing is");
      assertThat(e.getMessage()).doesNotContain(KEY);
      assertThat(stub.requestsTo("/v1/batches")).isEqualTo(1);
      assertThat(stub.requestsTo("/v1/chat/completions")).isZero();
      List<Row> ledger = latestBatches(s);
      assertThat(ledger).hasSize(1);
      Row b = ledger.get(0);
      String batchId = b.getAs("batch_id");
      assertThat(batchId).startsWith("batch_");
      assertThat(b.<Boolean>getAs("collected")).isFalse();
      assertThat(b.<String>getAs("status")).isEqualTo("validating");
      assertThat(b.<String>getAs("step")).isEqualTo("answers");
      assertThat(b.<String>getAs("alias")).isEqualTo("stub");
      assertThat(b.<String>getAs("endpoint")).isEqualTo("/v1/chat/completions");
      assertThat(b.<String>getAs("input_file_id")).startsWith("file-");
      assertThat(b.<Long>getAs("total")).isEqualTo(28);
      assertThat(Path.of(b.<String>getAs("input_file"))).exists();
      assertThat(batchRequests(s, batchId)).isEqualTo(28);

      // run 2 (a new run over the same lake): collects; every row has a status
      Map<String, Row> rows = generate(s, texts, 2);
      assertThat(stub.requestsTo("/v1/batches")).as("nothing submitted again").isEqualTo(1);
      assertThat(stub.requestsTo("/v1/chat/completions")).isZero();
      ModelSpec price = LlmSettings.from(s).spec("stub");
      for (int i = 0; i < 12; i++) {
        for (int k = 0; k < 2; k++) {
          Row r = rows.get("plain question " + i + "#" + k);
          assertThat(r.<String>getAs("status")).isEqualTo("ok");
          // the output file is shuffled: every answer still lands on its own row
          assertThat(r.<String>getAs("content")).isEqualTo("echo: plain question " + i);
          assertThat(r.<String>getAs("backend")).isEqualTo("openai-batch");
          assertThat(r.<Boolean>getAs("cache_hit")).isFalse();
          assertThat(r.<Integer>getAs("attempts")).isEqualTo(1);
          assertThat(r.<Double>getAs("cost_usd"))
              .isPositive()
              .isCloseTo(
                  0.5 * price.cost(r.getAs("prompt_tokens"), r.getAs("completion_tokens")),
                  within(1e-15));
        }
      }
      for (String p : List.of("fail me [[fault:batchfail]]", "also fail [[fault:batchfail]]")) {
        for (int k = 0; k < 2; k++) {
          Row r = rows.get(p + "#" + k);
          assertThat(r.<String>getAs("status")).isEqualTo("failed");
          assertThat(r.<String>getAs("error")).contains("HTTP 500");
          assertThat(r.<Double>getAs("cost_usd")).isZero();
        }
      }
      Row collected = latestBatches(s).get(0);
      assertThat(collected.<String>getAs("batch_id")).isEqualTo(batchId);
      assertThat(collected.<Boolean>getAs("collected")).isTrue();
      assertThat(collected.<String>getAs("status")).isEqualTo("completed");
      assertThat(collected.<String>getAs("output_file_id")).isNotNull();
      assertThat(collected.<String>getAs("error_file_id")).isNotNull();
      assertThat(collected.<Long>getAs("completed")).isEqualTo(24);
      assertThat(collected.<Long>getAs("failed")).isEqualTo(4);
      Dataset<Row> cache =
          SparkTestSession.get().read().format("delta").load(root + "/qaforge/responses");
      assertThat(cache.count()).isEqualTo(28);
      assertThat(cache.filter(col("backend").notEqual("openai-batch")).count()).isZero();
      assertThat(cache.filter(col("sample_idx").lt(0)).count()).isZero();

      // run 3, failed rows final (not retried): zero HTTP calls, all cached
      long before = stub.totalRequests();
      Settings finalFailed = settings(stub, root, "llm.retry-statuses = [skipped_budget]\n");
      Map<String, Row> again = generate(finalFailed, texts, 2);
      assertThat(stub.totalRequests() - before).isZero();
      assertThat(again.values())
          .allSatisfy(r -> assertThat(r.<Boolean>getAs("cache_hit")).isTrue());
      assertThat(again.get("plain question 3#1").<String>getAs("content"))
          .isEqualTo(rows.get("plain question 3#1").<String>getAs("content"));

      // run 4, default retry statuses and llm.batch.retry = batch: only the failed rows go into a
      // new batch
      QaforgeException retry = waiting(settings(stub, root, ""), texts, 2);
      assertThat(retry.problem())
          .isEqualTo("Step answers: 4 requests are waiting in 1 OpenAI batch");
      assertThat(stub.requestsTo("/v1/batches")).isEqualTo(2);
      Row second = latestBatches(s).get(0);
      assertThat(second.<String>getAs("batch_id")).isNotEqualTo(batchId);
      assertThat(batchRequests(s, second.getAs("batch_id"))).isEqualTo(4);
    }
  }

  @Test
  void waitTrueReturnsEveryRowInOneRun() {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(3, 0).start()) {
      Settings s = settings(stub, null, "llm.batch.wait = true\n");
      List<String> texts = texts(5, "cut me off somewhere in the middle [[fault:truncate]]");
      Map<String, Row> rows = generate(s, texts, 1);
      assertThat(stub.requestsTo("/v1/batches")).isEqualTo(1);
      assertThat(stub.requestsTo("/v1/chat/completions")).isZero();
      for (int i = 0; i < 5; i++) {
        Row r = rows.get("plain question " + i + "#0");
        assertThat(r.<String>getAs("status")).isEqualTo("ok");
        assertThat(r.<String>getAs("backend")).isEqualTo("openai-batch");
        assertThat(r.<String>getAs("content")).isEqualTo("echo: plain question " + i);
      }
      assertThat(
              rows.get("cut me off somewhere in the middle [[fault:truncate]]#0")
                  .<String>getAs("status"))
          .isEqualTo("truncated");
      List<Row> ledger = latestBatches(s);
      assertThat(ledger.get(0).<Boolean>getAs("collected")).isTrue();
      assertThat(ledger.get(0).<String>getAs("status")).isEqualTo("completed");
      assertThat(Path.of(ledger.get(0).<String>getAs("input_file"))).doesNotExist();
    }
  }

  @Test
  void theBudgetBoundsWhatIsSubmittedAndTheRestIsSkippedThenSentByALaterRun() {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(1, 0).start()) {
      Settings s = settings(stub, null, "llm.batch.wait = true\nllm.budget.max-requests = 3\n");
      List<String> texts = texts(5);
      Map<String, Row> rows = generate(s, texts, 1);
      long ok = rows.values().stream().filter(r -> "ok".equals(r.getAs("status"))).count();
      List<Row> skipped =
          rows.values().stream().filter(r -> "skipped_budget".equals(r.getAs("status"))).toList();
      assertThat(ok).isEqualTo(3);
      assertThat(skipped).hasSize(2);
      assertThat(skipped.get(0).<String>getAs("error"))
          .contains("budget reached", "llm.budget.max-requests = 3", "not submitted");
      assertThat(stub.requestsTo("/v1/batches")).isEqualTo(1);
      assertThat(latestBatches(s).get(0).<Long>getAs("total")).isEqualTo(3);

      // a later run with a fresh budget submits only the two skipped requests
      Map<String, Row> again = generate(s, texts, 1);
      assertThat(again.values())
          .allSatisfy(r -> assertThat(r.<String>getAs("status")).isEqualTo("ok"));
      assertThat(stub.requestsTo("/v1/batches")).isEqualTo(2);
      Map<String, Long> totals = new HashMap<>();
      latestBatches(s).forEach(r -> totals.put(r.getAs("batch_id"), r.<Long>getAs("total")));
      assertThat(totals).hasSize(2);
      assertThat(totals.values()).containsExactlyInAnyOrder(3L, 2L);
    }
  }

  @Test
  void aNewSessionFindsThePendingBatchAndCollectsItWithoutResubmitting() {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(2, 0).start()) {
      Settings s = settings(stub, null, "");
      List<String> texts = texts(6);
      assertThat(waiting(s, texts, 2).problem()).contains("12 requests are waiting");

      // a new Spark session: its own SQL state, catalog and UDFs; the ledger is the only state
      SparkSession fresh = SparkTestSession.get().newSession();
      // first poll: still in progress -> stops again, nothing submitted again
      QaforgeException stillWaiting = null;
      try {
        generate(fresh, s, texts, 2);
      } catch (QaforgeException e) {
        stillWaiting = e;
      }
      assertThat(stillWaiting).isNotNull();
      assertThat(stillWaiting.problem()).contains("12 requests are waiting in 1 OpenAI batch");
      assertThat(latestBatches(s).get(0).<String>getAs("status")).isEqualTo("in_progress");

      SparkSession another = SparkTestSession.get().newSession();
      Map<String, Row> rows = generate(another, s, texts, 2);
      assertThat(rows.values())
          .allSatisfy(r -> assertThat(r.<String>getAs("status")).isEqualTo("ok"));
      assertThat(stub.requestsTo("/v1/batches")).as("exactly one batch created").isEqualTo(1);
      assertThat(stub.requestsTo("/v1/chat/completions")).isZero();
    }
  }

  @Test
  void expiredBatchKeepsFinishedLinesAndRetriesTheRestOnline() {
    try (OpenAiStub stub = new OpenAiStub().batchExpire(true).batchCompletion(1, 0).start()) {
      Settings s = settings(stub, null, "llm.batch.wait = true\n");
      List<String> texts = texts(10);
      Map<String, Row> first = generate(s, texts, 1);
      List<String> kept = new ArrayList<>();
      List<String> lost = new ArrayList<>();
      for (Map.Entry<String, Row> e : first.entrySet()) {
        String status = e.getValue().getAs("status");
        if (status.equals("ok")) {
          kept.add(e.getKey());
        } else {
          assertThat(status).isEqualTo("failed");
          assertThat(e.getValue().<String>getAs("error")).isEqualTo(BatchResults.EXPIRED);
          assertThat(e.getValue().<Integer>getAs("attempts")).isZero();
          lost.add(e.getKey());
        }
      }
      assertThat(kept).hasSize(5);
      assertThat(lost).hasSize(5);
      assertThat(latestBatches(s).get(0).<String>getAs("status")).isEqualTo("expired");

      // next run with retry = online: only the lost ones are sent, online
      Settings online = settings(stub, s.string("output.root"), "llm.batch.retry = online\n");
      long chat = stub.requestsTo("/v1/chat/completions");
      Map<String, Row> second = generate(online, texts, 1);
      assertThat(stub.requestsTo("/v1/chat/completions") - chat).isEqualTo(5);
      assertThat(stub.requestsTo("/v1/batches")).as("no new batch").isEqualTo(1);
      for (String k : kept) {
        Row r = second.get(k);
        assertThat(r.<Boolean>getAs("cache_hit")).isTrue();
        assertThat(r.<String>getAs("backend")).isEqualTo("openai-batch");
        assertThat(r.<String>getAs("content")).isEqualTo(first.get(k).<String>getAs("content"));
      }
      for (String k : lost) {
        Row r = second.get(k);
        assertThat(r.<String>getAs("status")).isEqualTo("ok");
        assertThat(r.<Boolean>getAs("cache_hit")).isFalse();
        assertThat(r.<String>getAs("backend")).isEqualTo("openai");
        assertThat(r.<String>getAs("content")).isEqualTo("echo: " + k.substring(0, k.indexOf('#')));
      }
    }
  }

  @Test
  void requestsACancelledBatchNeverRanAreFailed() throws Exception {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(50, 0).start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      Settings s = settings(stub, null, "");
      List<String> texts = texts(3);
      waiting(s, texts, 1);
      String batchId = latestBatches(s).get(0).getAs("batch_id");
      assertThat(api.cancel(batchId).status()).isEqualTo(BatchStatus.CANCELLING);
      Map<String, Row> rows = generate(s, texts, 1);
      assertThat(rows.values())
          .allSatisfy(
              r -> {
                assertThat(r.<String>getAs("status")).isEqualTo("failed");
                assertThat(r.<String>getAs("error")).contains("cancelled before this request ran");
              });
      assertThat(latestBatches(s).get(0).<String>getAs("status")).isEqualTo("cancelled");
    }
  }

  @Test
  void importBatchOutputAppendsTheAnswersOfADownloadedFile() throws Exception {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(1, 0).start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      Settings s = settings(stub, null, "");
      List<String> texts = texts(4, "nope [[fault:batchfail]]");
      waiting(s, texts, 2);
      String batchId = latestBatches(s).get(0).getAs("batch_id");
      BatchStatus done = api.await(batchId, Duration.ofMillis(5), Duration.ofSeconds(30), null);
      Path file = SparkTestSession.newDir("import").resolve("downloaded.jsonl");
      api.download(done.outputFileId(), file);
      // plus a line of a request qaforge never submitted
      Files.writeString(
          file,
          Files.readString(file)
              + "{\"id\":\"x\",\"custom_id\":\"not-ours\",\"response\":{\"status_code\":200,"
              + "\"body\":{\"model\":\"m\",\"choices\":[{\"message\":{\"content\":\"hi\"},"
              + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
              + "\"completion_tokens\":1}}},\"error\":null}\n");

      Lake lake = SparkTestSession.lake(s);
      LlmSettings llm = LlmSettings.from(s);
      BatchGeneration.Imported imported;
      try (LlmRun run = LlmRun.unpaced()) {
        imported = new BatchGeneration(lake, llm, run).importBatchOutput(file, spec(2));
      }
      assertThat(imported.appended()).isEqualTo(8);
      assertThat(imported.unknown()).isEqualTo(1);
      assertThat(imported.summary().lines()).isEqualTo(9);
      Dataset<Row> cache = lake.read("qaforge", "responses");
      assertThat(cache.count()).isEqualTo(8);
      assertThat(cache.filter(col("status").notEqual("ok")).count()).isZero();
      assertThat(cache.filter(col("backend").notEqual("openai-batch")).count()).isZero();
      assertThat(cache.filter(col("step").notEqual("answers")).count()).isZero();
      Dataset<Row> req = lake.read("qaforge", "batch_requests");
      // sample_idx comes from qaforge.batch_requests
      assertThat(
              cache
                  .join(req, cache.col("request_id").equalTo(req.col("request_id")))
                  .filter(cache.col("sample_idx").notEqual(req.col("sample_idx")))
                  .count())
          .isZero();
      assertThat(cache.select("sample_idx").distinct().count()).isEqualTo(2);

      // the imported answers are cache hits; the batch itself is still collected (the failed lines)
      long before = stub.requestsTo("/v1/batches");
      Map<String, Row> rows = generate(s, texts, 2);
      assertThat(stub.requestsTo("/v1/batches")).isEqualTo(before);
      assertThat(rows.get("plain question 2#1").<Boolean>getAs("cache_hit")).isTrue();
      assertThat(rows.get("nope [[fault:batchfail]]#0").<String>getAs("status"))
          .isEqualTo("failed");
    }
  }
}
