package io.qaforge.llm.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.QaforgeException;
import io.qaforge.llm.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchResultsTest {
  private static final String SCHEMA = BatchFilesTest.SCHEMA;

  private static final BatchResults.Lookup LOOKUP =
      BatchResults.Lookup.of(
          Map.of(
              "a", new BatchResults.Submitted(0, null, 64, BatchFilesTest.CHAT),
              "b", new BatchResults.Submitted(1, null, 64, BatchFilesTest.CHAT),
              "s", new BatchResults.Submitted(2, SCHEMA, 64, BatchFilesTest.CHAT),
              "bad", new BatchResults.Submitted(0, SCHEMA, 64, BatchFilesTest.CHAT),
              "cut", new BatchResults.Submitted(0, null, 16, BatchFilesTest.CHAT),
              "no", new BatchResults.Submitted(0, null, 64, BatchFilesTest.CHAT),
              "e500", new BatchResults.Submitted(0, null, 64, BatchFilesTest.CHAT),
              "e400", new BatchResults.Submitted(0, null, 64, BatchFilesTest.CHAT),
              "exp", new BatchResults.Submitted(4, null, 64, BatchFilesTest.CHAT),
              "t", new BatchResults.Submitted(0, null, 64, BatchFilesTest.CHAT)));

  static String ok(String id, String content, String finish, long prompt, long completion) {
    return "{\"id\":\"batch_req_1\",\"custom_id\":\""
        + id
        + "\",\"response\":{\"status_code\":200,\"request_id\":\"r1\",\"body\":{\"id\":\"c1\","
        + "\"object\":\"chat.completion\",\"model\":\"gpt-x-2026\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":"
        + content
        + ",\"refusal\":null},\"finish_reason\":\""
        + finish
        + "\"}],\"usage\":{\"prompt_tokens\":"
        + prompt
        + ",\"completion_tokens\":"
        + completion
        + ",\"total_tokens\":"
        + (prompt + completion)
        + "}}},\"error\":null}";
  }

  private static Path write(Path dir, String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  private static Map<String, Result> byId(List<Result> results) {
    return results.stream().collect(Collectors.toMap(Result::requestId, Function.identity()));
  }

  @Test
  void linesBecomeResultsWithOnlineStatusesAndDiscountedCost(@TempDir Path dir) throws Exception {
    String output =
        String.join(
                "\n",
                ok("b", "\"second\"", "stop", 10, 5),
                ok("a", "\"first answer\"", "stop", 1_000_000, 1_000_000),
                ok("s", "\"{\\\"answer\\\": \\\"x\\\", \\\"confidence\\\": 0.5}\"", "stop", 3, 4),
                ok("bad", "\"not json at all\"", "stop", 3, 4),
                ok("cut", "\"one two\"", "length", 3, 16),
                "{\"id\":\"r\",\"custom_id\":\"no\",\"response\":{\"status_code\":200,\"body\":"
                    + "{\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":2,"
                    + "\"completion_tokens\":0}}},\"error\":null}",
                "{\"id\":\"r\",\"custom_id\":\"t\",\"response\":{\"status_code\":200,\"body\":"
                    + "{\"model\":\"base\",\"choices\":[{\"text\":\"plain\",\"index\":0,"
                    + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":2,"
                    + "\"completion_tokens\":1}}},\"error\":null}")
            + "\n";
    String errors =
        "{\"id\":\"r\",\"custom_id\":\"e500\",\"response\":{\"status_code\":500,\"request_id\":"
            + "\"x\",\"body\":{\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":"
            + "\"server_error\"}}},\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}\n"
            + "{\"id\":\"r\",\"custom_id\":\"e400\",\"response\":{\"status_code\":400,\"body\":"
            + "{\"error\":{\"message\":\"too long\",\"code\":\"context_length_exceeded\"}}},"
            + "\"error\":null}\n"
            + "{\"id\":\"r\",\"custom_id\":\"exp\",\"response\":null,\"error\":{\"code\":"
            + "\"batch_expired\",\"message\":\"This request could not be executed before the"
            + " completion window expired.\"}}\n";
    BatchResults results = new BatchResults(LOOKUP);
    List<Result> out = new ArrayList<>();
    BatchResults.Summary s1 = results.read(write(dir, "out.jsonl", output), out::add);
    BatchResults.Summary s2 = results.read(write(dir, "err.jsonl", errors), out::add);
    assertThat(s1.lines()).isEqualTo(7);
    assertThat(s2.lines()).isEqualTo(3);
    Map<String, Result> r = byId(out);
    assertThat(r).hasSize(10);

    Result a = r.get("a");
    assertThat(a.status()).isEqualTo(Result.OK);
    assertThat(a.content()).isEqualTo("first answer");
    assertThat(a.finishReason()).isEqualTo("stop");
    assertThat(a.modelUsed()).isEqualTo("gpt-x-2026");
    assertThat(a.attempts()).isEqualTo(1);
    assertThat(a.latencyMs()).isZero();
    assertThat(a.backend()).isEqualTo("openai-batch");
    assertThat(a.promptTokens()).isEqualTo(1_000_000);
    // CHAT costs 2 + 8 USD per million tokens online; half of it in a batch
    assertThat(a.costUsd()).isCloseTo(5.0, within(1e-9));
    assertThat(r.get("b").sampleIdx()).isEqualTo(1);

    assertThat(r.get("s").status()).isEqualTo(Result.OK);
    assertThat(r.get("s").parsed()).isEqualTo("{\"answer\":\"x\",\"confidence\":0.5}");
    assertThat(r.get("bad").status()).isEqualTo(Result.INVALID_OUTPUT);
    assertThat(r.get("bad").error()).startsWith("output does not match the schema");
    assertThat(r.get("cut").status()).isEqualTo(Result.TRUNCATED);
    assertThat(r.get("cut").error()).isEqualTo("cut at max tokens (16)");
    assertThat(r.get("no").status()).isEqualTo(Result.INVALID_OUTPUT);
    assertThat(r.get("no").error()).isEqualTo("malformed response: answer has no choices");
    assertThat(r.get("t").content()).isEqualTo("plain");

    assertThat(r.get("e500").status()).isEqualTo(Result.FAILED);
    assertThat(r.get("e500").error())
        .isEqualTo("server error (HTTP 500): HTTP 500 (server_error): boom");
    assertThat(r.get("e500").costUsd()).isZero();
    assertThat(r.get("e400").error())
        .isEqualTo("request rejected (HTTP 400): HTTP 400 (context_length_exceeded): too long");
    assertThat(r.get("exp").error()).isEqualTo(BatchResults.EXPIRED);
    assertThat(r.get("exp").attempts()).isZero();
    assertThat(r.get("exp").sampleIdx()).isEqualTo(4);
    assertThat(results.retryable()).containsExactlyInAnyOrder("e500", "exp");

    BatchResults.Summary all = results.summary();
    assertThat(all.results()).isEqualTo(10);
    assertThat(all.count(Result.OK)).isEqualTo(4);
    assertThat(all.count(Result.FAILED)).isEqualTo(3);
    assertThat(all.unknownIds()).isZero();
    assertThat(results.missing(List.of("a", "exp", "never"))).containsExactly("never");
    Result never = results.expired("never");
    assertThat(never.status()).isEqualTo(Result.FAILED);
    assertThat(never.error()).isEqualTo("batch expired before this request ran");
    assertThat(never.sampleIdx()).isEqualTo(-1);

    // another discount factor
    Result online = new BatchResults(LOOKUP, 1.0).parseLine(ok("a", "\"x\"", "stop", 1_000_000, 0));
    assertThat(online.costUsd()).isCloseTo(2.0, within(1e-9));
  }

  @Test
  void duplicateLinesAndUnknownIdsAreCounted(@TempDir Path dir) throws Exception {
    String text =
        ok("a", "\"1\"", "stop", 1, 1)
            + "\n"
            + ok("a", "\"again\"", "stop", 1, 1)
            + "\n\n"
            + ok("stranger", "\"?\"", "stop", 1, 1)
            + "\n";
    BatchResults results = new BatchResults(LOOKUP);
    List<Result> out = new ArrayList<>();
    BatchResults.Summary s = results.read(write(dir, "o.jsonl", text), out::add);
    assertThat(out).extracting(Result::requestId).containsExactly("a", "stranger");
    assertThat(out.get(0).content()).isEqualTo("1");
    assertThat(s.duplicates()).isEqualTo(1);
    assertThat(s.unknownIds()).isEqualTo(1);
    assertThat(out.get(1).sampleIdx()).isEqualTo(-1);
    assertThat(out.get(1).costUsd()).isZero();
    assertThat(results.read(null, out::add).lines()).isZero();
  }

  @Test
  void malformedLineIsARunLevelProblemNamingFileAndLine(@TempDir Path dir) throws Exception {
    Path bad =
        write(
            dir,
            "output.jsonl",
            ok("a", "\"1\"", "stop", 1, 1)
                + "\n{\"custom_id\": \"b\", \"respo\n"
                + ok("b", "\"2\"", "stop", 1, 1)
                + "\n");
    assertThatThrownBy(() -> new BatchResults(LOOKUP).read(bad, r -> {}))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("output.jsonl line 2")
        .hasMessageContaining("invalid JSON")
        .satisfies(
            e -> assertThat(((QaforgeException) e).fix()).contains("download the file again"));

    Path noId =
        write(dir, "noid.jsonl", ok("a", "\"1\"", "stop", 1, 1) + "\n{\"response\":null}\n");
    assertThatThrownBy(() -> new BatchResults(LOOKUP).read(noId, r -> {}))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("noid.jsonl line 2")
        .hasMessageContaining("no custom_id");

    // a broken LAST line that still ends with a newline is corruption, not a cut-off download
    Path lastTerminated =
        write(dir, "last.jsonl", ok("a", "\"1\"", "stop", 1, 1) + "\n{\"custom_id\n");
    assertThatThrownBy(() -> new BatchResults(LOOKUP).read(lastTerminated, r -> {}))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("last.jsonl line 2");

    assertThatThrownBy(() -> new BatchResults(LOOKUP).read(dir.resolve("nope.jsonl"), r -> {}))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> new BatchResults(LOOKUP).parseLine("[1,2]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a JSON object");
  }

  @Test
  void truncatedLastLineIsReportedNotThrown(@TempDir Path dir) throws Exception {
    String full = ok("a", "\"1\"", "stop", 1, 1) + "\n" + ok("b", "\"2\"", "stop", 1, 1) + "\n";
    Path cut = write(dir, "partial.jsonl", full.substring(0, full.length() - 40));
    BatchResults results = new BatchResults(LOOKUP);
    List<Result> out = new ArrayList<>();
    BatchResults.Summary s = results.read(cut, out::add);
    assertThat(out).extracting(Result::requestId).containsExactly("a");
    assertThat(s.truncated()).hasSize(1);
    BatchResults.Truncated t = s.truncated().get(0);
    assertThat(t.file()).isEqualTo(cut);
    assertThat(t.line()).isEqualTo(2);
    assertThat(t.customId()).isEqualTo("b");
    assertThat(t.bytes()).isGreaterThan(0);
    assertThat(results.missing(Set.of("a", "b"))).containsExactly("b");
    assertThat(results.summary().truncated()).containsExactly(t);

    // a complete last line without a newline is fine
    Path noNewline = write(dir, "whole.jsonl", full.strip());
    assertThat(new BatchResults(LOOKUP).read(noNewline, r -> {}).results()).isEqualTo(2);
  }

  @Test
  void importFileReadsAHandDownloadedFile(@TempDir Path dir) throws Exception {
    Path file =
        write(
            dir,
            "batch_abc_output.jsonl",
            ok("a", "\"1\"", "stop", 1, 1)
                + "\r\n"
                + "{\"id\":\"r\",\"custom_id\":\"exp\",\"response\":null,\"error\":{\"code\":"
                + "\"batch_expired\",\"message\":\"late\"}}\r\n");
    List<Result> results = new BatchResults(BatchResults.Lookup.none()).importFile(file);
    assertThat(results).extracting(Result::status).containsExactly(Result.OK, Result.FAILED);
    assertThat(results.get(0).sampleIdx()).isEqualTo(-1);
  }
}
