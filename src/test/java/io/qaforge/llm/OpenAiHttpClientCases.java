package io.qaforge.llm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.bench.OpenAiStub;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What {@link OpenAiHttpClient} does against the scripted server, whichever {@link HttpTransport}
 * carries it: {@code OpenAiHttpClientTest} (Netty, what plain-http URLs get) and {@code
 * OpenAiHttpClientOkHttpTest} (okhttp, what https and proxied URLs get) run every case.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OpenAiHttpClientCases {
  /** A client of its own on the transport under test. */
  abstract OpenAiHttpClient newClient(
      String baseUrl, String key, Duration timeout, List<ModelSpec> models);

  /** The name the client's toString gives its transport. */
  abstract String transportName();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "sk-test-SECRET-0123456789abcdef";
  static final ModelSpec CHAT =
      new ModelSpec(
          "chat-alias",
          "openai",
          "stub-chat-model",
          "chat",
          "",
          0,
          0,
          8192,
          "o200k_base",
          0,
          0,
          "");
  private static final ModelSpec BASE =
      new ModelSpec(
          "base-alias",
          "openai",
          "stub-base-model",
          "completion",
          "",
          0,
          0,
          8192,
          "o200k_base",
          0,
          0,
          "");

  private OpenAiStub stub;
  private OpenAiHttpClient client;

  @BeforeAll
  void start() {
    stub = new OpenAiStub().requestsPerSecond(5000).tokensPerMinuteHeader(2_000_000).start();
    client = newClient(stub.baseUrl(), KEY, Duration.ofSeconds(10), List.of(CHAT, BASE));
    assertThat(client.toString()).contains("transport=" + transportName());
  }

  @AfterAll
  void stop() {
    client.close();
    stub.close();
    OpenAiHttpClient.closeAllShared();
  }

  static ChatRequest request(String alias, String user) {
    return request(alias, user, null);
  }

  private static ChatRequest request(String alias, String user, String schema) {
    return new ChatRequest(
        "rid-" + user.hashCode(),
        alias,
        List.of(new Message("system", "be brief"), new Message("user", user)),
        0.7,
        0.9,
        64,
        42L,
        List.of("\n\n\n"),
        schema,
        false,
        0);
  }

  static Attempt send(OpenAiHttpClient c, ChatRequest r) throws Exception {
    return c.send(r).get(30, TimeUnit.SECONDS);
  }

  @Test
  void okAttemptCarriesContentUsageModelAndLimits() throws Exception {
    Attempt a = send(client, request("chat-alias", "hello there world"));
    assertThat(a.kind()).isEqualTo(Attempt.Kind.OK);
    assertThat(a.content()).isEqualTo("echo: hello there world");
    assertThat(a.finishReason()).isEqualTo("stop");
    assertThat(a.promptTokens()).isEqualTo(5); // "be brief" + 3 words
    assertThat(a.completionTokens()).isEqualTo(4);
    assertThat(a.model()).isEqualTo("stub-chat-model");
    assertThat(a.httpStatus()).isEqualTo(200);
    assertThat(a.refusal()).isNull();
    assertThat(a.error()).isNull();
    assertThat(a.latencyMs()).isBetween(0L, 5_000L);
    assertThat(a.limitRequestsPerMinute()).isEqualTo(300_000);
    assertThat(a.limitTokensPerMinute()).isEqualTo(2_000_000);
  }

  @Test
  void parametersAreSentAsOpenAiFields() throws Exception {
    ChatRequest r =
        new ChatRequest(
            "rid-params",
            "chat-alias",
            List.of(
                new Message("system", "sys"),
                new Message("user", "params please"),
                new Message("assistant", "ok"),
                new Message("user", "params check")),
            0.25,
            0.5,
            17,
            7L,
            List.of("END", "STOP"),
            null,
            true,
            0);
    Attempt a = send(client, r);
    assertThat(a.kind()).isEqualTo(Attempt.Kind.OK);
    List<String> bodies = stub.receivedContaining("/v1/chat/completions", "params check");
    assertThat(bodies).hasSize(1);
    JsonNode sent = JSON.readTree(bodies.get(0));
    assertThat(sent.path("model").asText()).isEqualTo("stub-chat-model");
    assertThat(sent.path("messages")).hasSize(4);
    assertThat(sent.path("messages").get(2).path("role").asText()).isEqualTo("assistant");
    assertThat(sent.path("temperature").asDouble()).isEqualTo(0.25);
    assertThat(sent.path("top_p").asDouble()).isEqualTo(0.5);
    assertThat(sent.path("max_tokens").asInt()).isEqualTo(17);
    assertThat(sent.has("max_completion_tokens")).isFalse();
    assertThat(sent.path("seed").asLong()).isEqualTo(7);
    assertThat(sent.path("stop").toString()).isEqualTo("[\"END\",\"STOP\"]");
    assertThat(sent.path("n").asInt()).isEqualTo(1);
    assertThat(sent.path("logprobs").asBoolean()).isTrue();
    assertThat(sent.has("response_format")).isFalse();
  }

  @Test
  void jsonSchemaIsSentAsStrictResponseFormat() throws Exception {
    String schema =
        "{\"title\":\"qa_answer\",\"type\":\"object\",\"properties\":{\"answer\":{\"type\":"
            + "\"string\"},\"confidence\":{\"type\":\"number\"}},\"required\":[\"answer\","
            + "\"confidence\"],\"additionalProperties\":false}";
    Attempt a = send(client, request("chat-alias", "schema question", schema));
    assertThat(a.kind()).isEqualTo(Attempt.Kind.OK);
    JsonNode content = JSON.readTree(a.content());
    assertThat(content.path("answer").isTextual()).isTrue();
    assertThat(content.path("confidence").isNumber()).isTrue();

    JsonNode sent =
        JSON.readTree(stub.receivedContaining("/v1/chat/completions", "schema question").get(0));
    JsonNode format = sent.path("response_format");
    assertThat(format.path("type").asText()).isEqualTo("json_schema");
    assertThat(format.path("json_schema").path("name").asText()).isEqualTo("qa_answer");
    assertThat(format.path("json_schema").path("strict").asBoolean()).isTrue();
    assertThat(format.path("json_schema").path("schema")).isEqualTo(JSON.readTree(schema));

    // the parsed schema is cached per schema text
    assertThat(RequestBodies.responseFormat(schema)).isSameAs(RequestBodies.responseFormat(schema));
    Attempt bad = send(client, request("chat-alias", "bad schema", "{not json"));
    assertThat(bad.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    assertThat(bad.error()).contains("JSON schema");
  }

  @Test
  void completionStyleUsesTheCompletionsEndpointWithAJoinedPrompt() throws Exception {
    long before = stub.requestsTo("/v1/completions");
    Attempt a = send(client, request("base-alias", "continue this"));
    assertThat(a.kind()).isEqualTo(Attempt.Kind.OK);
    assertThat(a.content()).isEqualTo("echo: be brief\n\ncontinue this");
    assertThat(a.model()).isEqualTo("stub-base-model");
    assertThat(a.finishReason()).isEqualTo("stop");
    assertThat(a.promptTokens()).isEqualTo(4);
    assertThat(a.limitRequestsPerMinute()).isEqualTo(300_000);
    assertThat(stub.requestsTo("/v1/completions")).isEqualTo(before + 1);
    JsonNode sent =
        JSON.readTree(stub.receivedContaining("/v1/completions", "continue this").get(0));
    assertThat(sent.path("prompt").asText()).isEqualTo("be brief\n\ncontinue this");
    assertThat(sent.path("max_tokens").asInt()).isEqualTo(64);
    assertThat(sent.has("messages")).isFalse();
  }

  @Test
  void aNewClientWarmsItsAnswerAndRefusalPathsInProcessWithoutCallingTheServer() throws Exception {
    OpenAiStub quiet = new OpenAiStub().start();
    try (OpenAiHttpClient c =
        newClient(quiet.baseUrl(), KEY, Duration.ofSeconds(10), List.of(CHAT))) {
      List<Attempt> warm = c.warmUp().get(60, TimeUnit.SECONDS);
      // the same classification as real calls: an answer with its content, then a 429
      assertThat(warm)
          .extracting(Attempt::kind)
          .containsExactly(Attempt.Kind.OK, Attempt.Kind.RATE_LIMITED);
      assertThat(warm.get(0).content()).isEqualTo("{\"a\":\"b\"}");
      assertThat(warm.get(1).httpStatus()).isEqualTo(429);
      assertThat(warm.get(1).retryAfterMs()).isEqualTo(1);
      assertThat(quiet.statusCounts()).isEmpty(); // never on the network
      // every other call goes to the server unchanged
      Attempt real = send(c, request("chat-alias", "after the warm-up"));
      assertThat(real.kind()).isEqualTo(Attempt.Kind.OK);
      assertThat(real.content()).isEqualTo("echo: after the warm-up");
      assertThat(quiet.statusCounts()).containsExactly(Map.entry(200, 1L));
    } finally {
      quiet.close();
    }
  }

  @Test
  void rateLimitedAttemptsCarryRetryAfterAndEachSendIsOneCall() throws Exception {
    ChatRequest r = request("chat-alias", "limited [[fault:429x2]]");
    Attempt first = send(client, r);
    assertThat(first.kind()).isEqualTo(Attempt.Kind.RATE_LIMITED);
    assertThat(first.httpStatus()).isEqualTo(429);
    assertThat(first.retryAfterMs()).isEqualTo(50); // retry-after-ms wins over Retry-After: 1
    assertThat(first.limitRequestsPerMinute()).isEqualTo(300_000);
    assertThat(first.retryable()).isTrue();
    assertThat(send(client, r).kind()).isEqualTo(Attempt.Kind.RATE_LIMITED);
    Attempt third = send(client, r);
    assertThat(third.kind()).isEqualTo(Attempt.Kind.OK);
    assertThat(stub.log()).filteredOn(l -> "[[fault:429x2]]".equals(l.marker())).hasSize(3);
  }

  @Test
  void serverErrorsMapToServerError() throws Exception {
    Attempt a500 = send(client, request("chat-alias", "boom [[fault:500x1]]"));
    assertThat(a500.kind()).isEqualTo(Attempt.Kind.SERVER_ERROR);
    assertThat(a500.httpStatus()).isEqualTo(500);
    assertThat(a500.retryAfterMs()).isEqualTo(-1);
    assertThat(a500.error()).contains("HTTP 500");
    assertThat(send(client, request("chat-alias", "boom [[fault:500x1]]")).kind())
        .isEqualTo(Attempt.Kind.OK);

    Attempt a503 = send(client, request("chat-alias", "busy [[fault:503x1]]"));
    assertThat(a503.kind()).isEqualTo(Attempt.Kind.SERVER_ERROR);
    assertThat(a503.httpStatus()).isEqualTo(503);
    assertThat(a503.retryAfterMs()).isEqualTo(1000); // Retry-After: 1 (seconds)

    assertThat(send(client, request("chat-alias", "conflict [[fault:409]]")).kind())
        .isEqualTo(Attempt.Kind.SERVER_ERROR);
    assertThat(send(client, request("chat-alias", "gone [[fault:404]]")).kind())
        .isEqualTo(Attempt.Kind.CLIENT_ERROR);
  }

  @Test
  void hangingServerTimesOutWithinTheConfiguredTimeout() throws Exception {
    try (OpenAiHttpClient fast =
        newClient(stub.baseUrl(), KEY, Duration.ofMillis(300), List.of(CHAT))) {
      // warm: the first call of a JVM loads and links the SDK, which is not the server's time
      assertThat(send(fast, request("chat-alias", "warm-up")).kind()).isEqualTo(Attempt.Kind.OK);
      Attempt a = send(fast, request("chat-alias", "wait [[fault:hang]]"));
      assertThat(a.kind()).isEqualTo(Attempt.Kind.TIMEOUT);
      assertThat(a.httpStatus()).isZero();
      assertThat(a.latencyMs()).isBetween(250L, 2_000L);
      assertThat(a.error()).contains("300 ms");
    }
  }

  @Test
  void contentFaultsMapToMalformedTruncatedAndRefused() throws Exception {
    Attempt malformed = send(client, request("chat-alias", "x [[fault:malformed]]"));
    assertThat(malformed.kind()).isEqualTo(Attempt.Kind.MALFORMED);
    assertThat(malformed.httpStatus()).isEqualTo(200);
    assertThat(malformed.limitRequestsPerMinute()).isEqualTo(300_000);
    assertThat(malformed.error()).isNotBlank();

    Attempt truncated = send(client, request("chat-alias", "a b c d e f [[fault:truncate]]"));
    assertThat(truncated.kind()).isEqualTo(Attempt.Kind.OK);
    assertThat(truncated.finishReason()).isEqualTo("length");

    Attempt refused = send(client, request("chat-alias", "x [[fault:refuse]]"));
    assertThat(refused.kind()).isEqualTo(Attempt.Kind.OK);
    assertThat(refused.content()).isNull();
    assertThat(refused.refusal()).contains("can't help");
  }

  @Test
  void clientErrorsCarryTheServerMessageButNeverTheKey() throws Exception {
    Attempt tooLong = send(client, request("chat-alias", "x [[fault:400]]"));
    assertThat(tooLong.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    assertThat(tooLong.httpStatus()).isEqualTo(400);
    assertThat(tooLong.error())
        .contains("context_length_exceeded")
        .contains("maximum context length");
    assertThat(tooLong.retryable()).isFalse();

    // the stub's 401 message echoes the bearer token, like a careless server
    Attempt badKey = send(client, request("chat-alias", "x [[fault:401]]"));
    assertThat(badKey.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    assertThat(badKey.httpStatus()).isEqualTo(401);
    assertThat(badKey.error())
        .contains("Incorrect API key")
        .doesNotContain(KEY)
        .doesNotContain("SECRET");
    assertThat(stub.log()).filteredOn(l -> "[[fault:401]]".equals(l.marker())).hasSize(1);

    Attempt unknown = send(client, request("no-such-alias", "x"));
    assertThat(unknown.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    assertThat(unknown.error()).contains("no-such-alias");
  }

  @Test
  void refusedConnectionIsAnIoError() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (OpenAiHttpClient dead =
        newClient("http://127.0.0.1:" + port + "/v1", "", Duration.ofSeconds(2), List.of(CHAT))) {
      Attempt a = send(dead, request("chat-alias", "anyone?"));
      assertThat(a.kind()).isEqualTo(Attempt.Kind.IO_ERROR);
      assertThat(a.retryable()).isTrue();
    }
  }

  @Test
  void manyConcurrentSendsExceedOkHttpsDefaultOf64() throws Exception {
    try (OpenAiStub slow = new OpenAiStub().latencyMs(100).start();
        OpenAiHttpClient c = newClient(slow.baseUrl(), "", Duration.ofSeconds(10), List.of(CHAT))) {
      sendAll(c, 100, "warm-up "); // class loading and JIT, not what this test measures
      slow.resetCounters();
      long start = System.nanoTime();
      List<CompletableFuture<Attempt>> futures = sendAll(c, 200, "concurrent ");
      long wallMs = (System.nanoTime() - start) / 1_000_000;
      System.out.printf(
          "200 concurrent sends against a 100 ms stub: %d ms, peak %d in flight%n",
          wallMs, slow.peakConcurrent());
      assertThat(futures).allSatisfy(f -> assertThat(f.join().kind()).isEqualTo(Attempt.Kind.OK));
      assertThat(wallMs).isLessThan(2_000);
      assertThat(slow.peakConcurrent()).isGreaterThan(64);
      assertThat(slow.totalRequests()).isEqualTo(200);
    }
  }

  /** {@code n} sends from 4 threads at once (like several Spark tasks sharing the client). */
  static List<CompletableFuture<Attempt>> sendAll(OpenAiHttpClient c, int n, String prefix)
      throws Exception {
    List<CompletableFuture<Attempt>> futures = new CopyOnWriteArrayList<>();
    ExecutorService senders = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int first = t;
        done.add(
            senders.submit(
                () -> {
                  for (int i = first; i < n; i += 4) {
                    futures.add(c.send(request("chat-alias", prefix + i)));
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      senders.shutdown();
    }
    CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    return futures;
  }

  @Test
  void sharedClientIsOnePerConfigurationAndHidesTheKey() {
    OpenAiHttpClient a = OpenAiHttpClient.shared(stub.baseUrl(), KEY, Duration.ofSeconds(10));
    OpenAiHttpClient b =
        OpenAiHttpClient.shared(stub.baseUrl(), KEY, Duration.ofSeconds(10), List.of(CHAT));
    assertThat(b).isSameAs(a);
    assertThat(OpenAiHttpClient.shared(stub.baseUrl(), KEY + "x", Duration.ofSeconds(10)))
        .isNotSameAs(a);
    assertThat(OpenAiHttpClient.shared(stub.baseUrl(), KEY, Duration.ofSeconds(11))).isNotSameAs(a);
    assertThat(a.toString()).doesNotContain(KEY).doesNotContain("SECRET").contains("***");
    assertThat(a.backend()).isEqualTo("openai");
    a.close(); // no-op for shared clients
    assertThat(a.send(request("chat-alias", "still open")).join().kind())
        .isEqualTo(Attempt.Kind.OK);
  }

  @Test
  void errorTextsComeFromEveryCommonErrorBodyShape() {
    assertThat(
            OpenAiHttpClient.errorText(
                400,
                "{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\","
                    + "\"code\":\"context_length_exceeded\"}}"))
        .isEqualTo("HTTP 400 (context_length_exceeded): too long");
    // vLLM and llama.cpp server send numeric codes; some servers a bare error string or message
    assertThat(
            OpenAiHttpClient.errorText(
                404, "{\"error\":{\"message\":\"no such model\",\"code\":404}}"))
        .isEqualTo("HTTP 404 (404): no such model");
    assertThat(OpenAiHttpClient.errorText(500, "{\"error\":\"model crashed\"}"))
        .isEqualTo("HTTP 500: model crashed");
    assertThat(OpenAiHttpClient.errorText(422, "{\"message\":\"bad field\"}"))
        .isEqualTo("HTTP 422: bad field");
    // not JSON (a proxy's HTML page), an empty body
    assertThat(OpenAiHttpClient.errorText(502, "  <html>Bad Gateway</html>\n"))
        .isEqualTo("HTTP 502: <html>Bad Gateway</html>");
    assertThat(OpenAiHttpClient.errorText(503, "")).isEqualTo("HTTP 503: (no body)");
  }

  @Test
  void retryAfterHeaderForms() {
    assertThat(OpenAiHttpClient.retryAfterMs(Headers.of()::get)).isEqualTo(-1);
    assertThat(OpenAiHttpClient.retryAfterMs(Headers.of("Retry-After", "2")::get)).isEqualTo(2000);
    assertThat(
            OpenAiHttpClient.retryAfterMs(
                Headers.of("retry-after-ms", "20.5", "Retry-After", "2")::get))
        .isEqualTo(21);
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(30));
    assertThat(OpenAiHttpClient.retryAfterMs(Headers.of("Retry-After", date)::get))
        .isBetween(25_000L, 30_000L);
  }

  /**
   * Client CPU per request against a zero-latency stub: process CPU minus the stub's threads (its
   * workers, timer and the JDK HTTP dispatcher), over 5,000 requests after a warm-up. Includes GC
   * and JIT threads, so it is an upper bound. Prints the figure; the bound only catches gross
   * regressions (the test JVM runs C1 only).
   */
  @Test
  void clientCpuPerRequest() throws Exception {
    try (OpenAiStub zero = new OpenAiStub().start();
        OpenAiHttpClient c = newClient(zero.baseUrl(), "", Duration.ofSeconds(10), List.of(CHAT))) {
      String schema =
          "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},"
              + "\"required\":[\"answer\"],\"additionalProperties\":false}";
      run(c, 3_000, schema);
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      Map<Long, Long> stubBefore = stubThreadCpu(threads);
      long processBefore = os.getProcessCpuTime();
      long wallStart = System.nanoTime();
      int n = 5_000;
      run(c, n, schema);
      long wall = System.nanoTime() - wallStart;
      long process = os.getProcessCpuTime() - processBefore;
      Map<Long, Long> stubAfter = stubThreadCpu(threads);
      long stubCpu = 0;
      for (Map.Entry<Long, Long> e : stubAfter.entrySet()) {
        stubCpu += e.getValue() - stubBefore.getOrDefault(e.getKey(), 0L);
      }
      double clientMsPerRequest = (process - stubCpu) / 1e6 / n;
      System.out.printf(
          "OpenAiHttpClient CPU: %.3f ms/request (process %.3f, stub %.3f ms/request; %d requests"
              + " in %d ms)%n",
          clientMsPerRequest, process / 1e6 / n, stubCpu / 1e6 / n, n, wall / 1_000_000);
      assertThat(clientMsPerRequest).isLessThan(3.0);
    }
  }

  private static void run(OpenAiHttpClient c, int n, String schema) throws Exception {
    int window = 64;
    List<CompletableFuture<Attempt>> inFlight = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ChatRequest r = request("chat-alias", "cpu question " + i, i % 2 == 0 ? schema : null);
      inFlight.add(c.send(r));
      if (inFlight.size() == window) {
        for (CompletableFuture<Attempt> f : inFlight) {
          assertThat(f.get(30, TimeUnit.SECONDS).kind()).isEqualTo(Attempt.Kind.OK);
        }
        inFlight.clear();
      }
    }
    for (CompletableFuture<Attempt> f : inFlight) {
      assertThat(f.get(30, TimeUnit.SECONDS).kind()).isEqualTo(Attempt.Kind.OK);
    }
  }

  private static Map<Long, Long> stubThreadCpu(ThreadMXBean threads) {
    Map<Long, Long> out = new HashMap<>();
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      String name = info.getThreadName();
      if (name.startsWith("openai-stub-") || name.startsWith("HTTP-Dispatcher")) {
        long cpu = threads.getThreadCpuTime(info.getThreadId());
        if (cpu >= 0) {
          out.put(info.getThreadId(), cpu);
        }
      }
    }
    return out;
  }

  /**
   * A keep-alive HTTP/1.1 server that answers every chat call at once and, like uvicorn (vLLM) or
   * llama.cpp's server, closes a connection that stays idle for {@code idleMs}. Counts the
   * connections it accepted.
   */
  private static final class IdleClosingServer implements AutoCloseable {
    private static final byte[] ANSWER =
        ("{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
                + "\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    final ServerSocket socket;
    final java.util.concurrent.atomic.AtomicInteger connections =
        new java.util.concurrent.atomic.AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    IdleClosingServer(int idleMs) throws java.io.IOException {
      socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      threads.execute(
          () -> {
            while (!socket.isClosed()) {
              try {
                java.net.Socket c = socket.accept();
                connections.incrementAndGet();
                threads.execute(() -> serve(c, idleMs));
              } catch (java.io.IOException e) {
                return; // closed
              }
            }
          });
    }

    String baseUrl() {
      return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
    }

    private static void serve(java.net.Socket c, int idleMs) {
      try (c) {
        c.setSoTimeout(idleMs);
        java.io.InputStream in = c.getInputStream();
        while (true) {
          StringBuilder head = new StringBuilder();
          int b;
          while (!head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0) {
            head.append((char) b);
          }
          if (!head.toString().endsWith("\r\n\r\n")) {
            return; // the client closed it
          }
          java.util.regex.Matcher m =
              java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
          in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
          String status =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  + ANSWER.length
                  + "\r\n\r\n";
          c.getOutputStream().write(status.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          c.getOutputStream().write(ANSWER);
          c.getOutputStream().flush();
        }
      } catch (java.net.SocketTimeoutException e) {
        // idle too long: closed, as the servers do
      } catch (java.io.IOException e) {
        // the client went away
      }
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
      threads.shutdownNow();
    }
  }

  @Test
  void aConnectionIdleForFiveSecondsIsNotReusedAfterTheServerClosedIt() throws Exception {
    // a pause of 5 s between two calls (a job boundary between steps) against a server that
    // closes connections idle for 4.5 s: the second call must open a new connection, not fail on
    // the closed one (okhttp only checks pooled connections idle for 10 s or more)
    try (IdleClosingServer server =
            new IdleClosingServer((int) OpenAiHttpClient.IDLE_KEEP_ALIVE.toMillis() + 500);
        OpenAiHttpClient c =
            newClient(server.baseUrl(), KEY, Duration.ofSeconds(10), List.of(CHAT))) {
      assertThat(send(c, request("chat-alias", "before the pause")).kind())
          .isEqualTo(Attempt.Kind.OK);
      Thread.sleep(OpenAiHttpClient.IDLE_KEEP_ALIVE.toMillis() + 1000);
      Attempt after = send(c, request("chat-alias", "after the pause"));
      assertThat(after.kind()).as(String.valueOf(after.error())).isEqualTo(Attempt.Kind.OK);
      assertThat(server.connections.get()).isEqualTo(2);
    }
  }
}
