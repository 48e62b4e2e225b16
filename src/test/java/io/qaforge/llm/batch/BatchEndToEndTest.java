package io.qaforge.llm.batch;

import static io.qaforge.llm.batch.BatchFilesTest.SCHEMA;
import static io.qaforge.llm.batch.BatchFilesTest.SPECS;
import static io.qaforge.llm.batch.BatchFilesTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.bench.OpenAiStub;
import io.qaforge.llm.ChatRequest;
import io.qaforge.llm.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole cycle against the stub's Files + Batch API: write, upload, create, poll, read. */
class BatchEndToEndTest {
  private static final String KEY = "sk-e2e-SECRET-0123456789";

  private static List<ChatRequest> requests() {
    List<ChatRequest> out = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      out.add(request("q-" + i, "chat", "question number " + i));
    }
    out.add(request("q-fail", "chat", "please fail [[fault:batchfail]]"));
    out.add(request("q-trunc", "chat", "cut me off somewhere in the middle [[fault:truncate]]"));
    out.add(request("q-schema", "chat", "structured please", SCHEMA));
    out.add(request("q-refuse", "chat", "something bad [[fault:refuse]]"));
    return out;
  }

  private static BatchResults.Lookup lookup(List<ChatRequest> requests) {
    Map<String, BatchResults.Submitted> m = new HashMap<>();
    for (ChatRequest r : requests) {
      m.put(r.requestId(), BatchResults.Submitted.of(r, SPECS.get(r.alias())));
    }
    return BatchResults.Lookup.of(m);
  }

  @Test
  void fullCycleGivesOneResultPerCustomId(@TempDir Path dir) throws Exception {
    List<ChatRequest> requests = requests();
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(2, 0).start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      BatchFiles.Written w =
          new BatchFiles(
                  dir.resolve("in"), SPECS::get, BatchFiles.Options.forBaseUrl(stub.baseUrl()))
              .write(requests.iterator());
      assertThat(w.files()).hasSize(1);
      BatchInput input = w.files().get(0);

      BatchApi.Submitted sub = api.submit(input, Map.of("qaforge_run", "e2e", "part", "1"));
      assertThat(sub.fileId()).startsWith("file-");
      assertThat(sub.batchId()).startsWith("batch_");

      List<BatchStatus> polls = new ArrayList<>();
      BatchStatus done =
          api.await(sub.batchId(), Duration.ofMillis(10), Duration.ofSeconds(30), polls::add);
      assertThat(polls).extracting(BatchStatus::status).containsExactly("in_progress", "completed");
      assertThat(done.terminal()).isTrue();
      assertThat(done.total()).isEqualTo(requests.size());
      assertThat(done.completed()).isEqualTo(requests.size() - 1);
      assertThat(done.failed()).isEqualTo(1);
      assertThat(done.metadata()).containsEntry("qaforge_run", "e2e").containsEntry("part", "1");
      assertThat(done.endpoint()).isEqualTo("/v1/chat/completions");
      assertThat(done.inputFileId()).isEqualTo(sub.fileId());
      assertThat(done.createdAt()).isNotNull();
      assertThat(done.completedAt()).isNotNull();
      assertThat(done.hasResultFiles()).isTrue();
      assertThat(done.describe()).contains("completed");

      Path out = dir.resolve("out.jsonl");
      Path err = dir.resolve("err.jsonl");
      assertThat(api.download(done.outputFileId(), out)).isEqualTo(Files.size(out));
      assertThat(api.download(done.errorFileId(), err)).isEqualTo(Files.size(err));
      assertThat(Files.exists(dir.resolve("out.jsonl.part"))).isFalse();

      // the output file is shuffled: not in submission order
      List<String> outputOrder = new ArrayList<>(BatchFiles.customIds(out));
      List<String> inputOrder =
          requests.stream()
              .map(ChatRequest::requestId)
              .filter(outputOrder::contains)
              .collect(Collectors.toList());
      assertThat(outputOrder).containsExactlyInAnyOrderElementsOf(inputOrder);
      assertThat(outputOrder).isNotEqualTo(inputOrder);

      BatchResults results = new BatchResults(lookup(requests));
      List<Result> all = new ArrayList<>();
      results.read(out, all::add);
      results.read(err, all::add);
      Map<String, Result> byId = new LinkedHashMap<>();
      for (Result r : all) {
        assertThat(byId.put(r.requestId(), r)).as("one Result per id").isNull();
      }
      Set<String> submitted = BatchFiles.customIds(input.path());
      assertThat(byId.keySet()).isEqualTo(submitted);
      assertThat(results.missing(submitted)).isEmpty();

      for (int i = 0; i < 20; i++) {
        Result r = byId.get("q-" + i);
        assertThat(r.status()).isEqualTo(Result.OK);
        assertThat(r.content()).isEqualTo("echo: question number " + i);
        assertThat(r.sampleIdx()).isEqualTo(3);
        assertThat(r.backend()).isEqualTo("openai-batch");
        assertThat(r.modelUsed()).isEqualTo("stub-chat-model");
        assertThat(r.costUsd())
            .isCloseTo(
                BatchFilesTest.CHAT.cost(r.promptTokens(), r.completionTokens()) * 0.5,
                within(1e-12))
            .isPositive();
      }
      Result fail = byId.get("q-fail");
      assertThat(fail.status()).isEqualTo(Result.FAILED);
      assertThat(fail.error()).contains("HTTP 500").contains("Scripted batch failure.");
      assertThat(results.retryable()).containsExactly("q-fail");
      assertThat(byId.get("q-trunc").status()).isEqualTo(Result.TRUNCATED);
      assertThat(byId.get("q-refuse").status()).isEqualTo(Result.REFUSED);
      Result schema = byId.get("q-schema");
      assertThat(schema.status()).isEqualTo(Result.OK);
      assertThat(schema.parsed()).contains("\"answer\"").contains("\"confidence\"");

      assertThat(results.summary().count(Result.OK)).isEqualTo(21);
    }
  }

  @Test
  void completionStyleRunsAsItsOwnBatch(@TempDir Path dir) throws Exception {
    List<ChatRequest> requests =
        List.of(request("b-1", "base", "continue one"), request("b-2", "base", "continue two"));
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(1, 0).start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      BatchInput input =
          new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults())
              .write(requests.iterator())
              .files()
              .get(0);
      assertThat(input.endpoint()).isEqualTo("/v1/completions");
      BatchApi.Submitted sub = api.submit(input, null);
      BatchStatus done =
          api.await(sub.batchId(), Duration.ofMillis(5), Duration.ofSeconds(30), null);
      assertThat(done.status()).isEqualTo("completed");
      assertThat(done.errorFileId()).isNull();
      Path out = dir.resolve("o.jsonl");
      api.download(done.outputFileId(), out);
      List<Result> results = new ArrayList<>();
      new BatchResults(lookup(requests)).read(out, results::add);
      assertThat(results)
          .extracting(Result::content)
          .containsExactlyInAnyOrder(
              "echo: be brief\n\ncontinue one", "echo: be brief\n\ncontinue two");
    }
  }

  @Test
  void expiredBatchKeepsFinishedLinesAndReportsTheRest(@TempDir Path dir) throws Exception {
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      requests.add(request("x-" + i, "chat", "question number " + i));
    }
    try (OpenAiStub stub = new OpenAiStub().batchExpire(true).batchCompletion(2, 0).start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      BatchInput input =
          new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults())
              .write(requests.iterator())
              .files()
              .get(0);
      BatchApi.Submitted sub = api.submit(input, Map.of("qaforge_run", "expire"));
      BatchStatus s = api.await(sub.batchId(), Duration.ofMillis(5), Duration.ofSeconds(30), null);
      assertThat(s.status()).isEqualTo("expired");
      assertThat(s.expiredAt()).isNotNull();
      assertThat(s.completed()).isEqualTo(5);

      Path out = dir.resolve("out.jsonl");
      Path err = dir.resolve("err.jsonl");
      api.download(s.outputFileId(), out);
      api.download(s.errorFileId(), err);
      Set<String> expected = BatchFiles.customIds(input.path());

      // the output file alone: the finished lines are kept, the rest are missing
      BatchResults fromOutput = new BatchResults(lookup(requests));
      List<Result> kept = new ArrayList<>();
      fromOutput.read(out, kept::add);
      assertThat(kept).hasSize(5).allSatisfy(r -> assertThat(r.status()).isEqualTo(Result.OK));
      Set<String> missing = fromOutput.missing(expected);
      assertThat(missing).hasSize(5).doesNotContainAnyElementsOf(fromOutput.returned());
      for (String id : missing) {
        Result r = fromOutput.expired(id);
        assertThat(r.status()).isEqualTo(Result.FAILED);
        assertThat(r.error()).isEqualTo("batch expired before this request ran");
        assertThat(r.sampleIdx()).isEqualTo(3);
      }

      // with the error file too: the expired lines come back failed with the same error
      BatchResults both = new BatchResults(lookup(requests));
      List<Result> all = new ArrayList<>();
      both.read(out, all::add);
      both.read(err, all::add);
      assertThat(all).hasSize(10);
      assertThat(both.missing(expected)).isEmpty();
      assertThat(both.retryable()).isEqualTo(missing);
      assertThat(all.stream().filter(r -> r.status().equals(Result.FAILED)))
          .allSatisfy(r -> assertThat(r.error()).isEqualTo(BatchResults.EXPIRED))
          .hasSize(5);
    }
  }

  @Test
  void cancelledBatchEndsCancelled(@TempDir Path dir) throws Exception {
    try (OpenAiStub stub = new OpenAiStub().batchCompletion(50, 0).start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      BatchInput input =
          new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults())
              .write(List.of(request("c-1", "chat", "hello")).iterator())
              .files()
              .get(0);
      BatchApi.Submitted sub = api.submit(input, null);
      assertThat(api.retrieve(sub.batchId()).status()).isEqualTo("in_progress");
      assertThat(api.cancel(sub.batchId()).status()).isEqualTo("cancelling");
      BatchStatus s = api.retrieve(sub.batchId());
      assertThat(s.status()).isEqualTo("cancelled");
      assertThat(s.terminal()).isTrue();
      assertThat(s.hasResultFiles()).isFalse();
    }
  }
}
