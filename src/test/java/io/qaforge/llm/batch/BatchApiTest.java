package io.qaforge.llm.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.qaforge.QaforgeException;
import io.qaforge.bench.OpenAiStub;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchApiTest {
  private static final String KEY = "sk-test-SECRET-0123456789abcdef";

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Everything the exception shows anywhere: message, parts, and the printed cause chain. */
  private static String allText(QaforgeException e) {
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    return e.getMessage() + "\n" + e.problem() + "\n" + e.reason() + "\n" + e.fix() + "\n" + w;
  }

  @Test
  void unreachableServerIsARunLevelProblemWithoutTheKey(@TempDir Path dir) throws Exception {
    String url = "http://127.0.0.1:" + freePort() + "/v1";
    Path file = dir.resolve("in.jsonl");
    Files.writeString(file, "{}\n");
    try (BatchApi api = new BatchApi(url, KEY, BatchApi.Options.defaults().withMaxRetries(1))) {
      for (Runnable call :
          new Runnable[] {
            () -> api.retrieve("batch_1"),
            () -> api.upload(file),
            () -> api.download("file-1", dir.resolve("out.jsonl")),
            () -> api.create("file-1", "/v1/chat/completions", Map.of("run", "x"))
          }) {
        assertThatThrownBy(call::run)
            .isInstanceOfSatisfying(
                QaforgeException.class,
                e -> {
                  assertThat(e.problem()).startsWith("Cannot reach the Batch API at " + url);
                  assertThat(e.reason()).isNotBlank();
                  assertThat(e.fix()).contains("OPENAI_BASE_URL");
                  assertThat(allText(e)).doesNotContain(KEY).doesNotContain("SECRET");
                });
      }
      assertThat(api.toString()).doesNotContain(KEY);
      assertThat(Files.exists(dir.resolve("out.jsonl"))).isFalse();
    }
  }

  @Test
  void serverThatEchoesTheKeyIsRedacted() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          calls.incrementAndGet();
          String auth = ex.getRequestHeaders().getFirst("Authorization");
          byte[] body =
              ("{\"error\":{\"message\":\"Incorrect API key provided: "
                      + auth.replaceFirst("^Bearer ", "")
                      + ".\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(401, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    try (BatchApi api =
        new BatchApi("http://127.0.0.1:" + server.getAddress().getPort() + "/v1", KEY)) {
      assertThatThrownBy(() -> api.retrieve("batch_1"))
          .isInstanceOfSatisfying(
              QaforgeException.class,
              e -> {
                assertThat(e.problem()).contains("refused the API key");
                assertThat(e.reason())
                    .contains("HTTP 401 (invalid_api_key)")
                    .contains("[redacted]");
                assertThat(e.fix()).contains("OPENAI_API_KEY");
                assertThat(allText(e)).doesNotContain(KEY).doesNotContain("SECRET");
              });
      assertThat(calls.get()).isEqualTo(1); // 401 is not retried
    } finally {
      server.stop(0);
    }
  }

  @Test
  void unknownIdsAndBadRequestsAreExplained(@TempDir Path dir) throws Exception {
    try (OpenAiStub stub = new OpenAiStub().start();
        BatchApi api = new BatchApi(stub.baseUrl(), KEY)) {
      assertThatThrownBy(() -> api.retrieve("batch_nope"))
          .isInstanceOfSatisfying(
              QaforgeException.class,
              e -> {
                assertThat(e.problem()).contains("Not found").contains("batch_nope");
                assertThat(e.reason()).contains("HTTP 404");
                assertThat(e.fix()).contains("Batch API");
              });
      assertThatThrownBy(() -> api.download("file-nope", dir.resolve("x.jsonl")))
          .isInstanceOf(QaforgeException.class)
          .hasMessageContaining("Not found");
      assertThatThrownBy(() -> api.create("file-nope", "/v1/chat/completions", null))
          .isInstanceOfSatisfying(
              QaforgeException.class,
              e -> {
                assertThat(e.problem()).contains("rejected");
                assertThat(e.reason()).contains("HTTP 400").contains("No such File object");
              });
      assertThatThrownBy(() -> api.upload(dir.resolve("missing.jsonl")))
          .isInstanceOf(QaforgeException.class)
          .hasMessageContaining("does not exist");
    }
  }

  @Test
  void metadataLimitsAreChecked() {
    Map<String, String> many = new HashMap<>();
    for (int i = 0; i < 17; i++) {
      many.put("k" + i, "v");
    }
    assertThatThrownBy(() -> BatchApi.checkMetadata(many))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BatchApi.checkMetadata(Map.of("k".repeat(65), "v")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BatchApi.checkMetadata(Map.of("k", "v".repeat(513))))
        .isInstanceOf(IllegalArgumentException.class);
    BatchApi.checkMetadata(Map.of("k".repeat(64), "v".repeat(512)));
    BatchApi.checkMetadata(null);
  }

  @Test
  void optionsAreChecked() {
    assertThatThrownBy(() -> new BatchApi.Options(Duration.ZERO, Duration.ofMinutes(1), 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BatchApi.Options.defaults().withMaxRetries(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
