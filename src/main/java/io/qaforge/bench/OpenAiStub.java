package io.qaforge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine;

/**
 * A scripted OpenAI-protocol HTTP server for tests and benchmarks (plain JDK HttpServer on
 * 127.0.0.1, no Spark).
 *
 * <p>Endpoints: {@code POST /v1/chat/completions}, {@code POST /v1/completions} (real OpenAI
 * response shapes), and a Files + Batch API ({@code POST /v1/files}, {@code GET
 * /v1/files/{id}[/content]}, {@code POST /v1/batches}, {@code GET /v1/batches/{id}}, {@code POST
 * /v1/batches/{id}/cancel}; see {@link StubBatches}).
 *
 * <p>Answers are deterministic: {@code "echo: " + last user message}, cut to {@code max_tokens} (or
 * {@code max_completion_tokens}) words with finish_reason {@code length}; with a {@code
 * json_schema} response format, a JSON object that satisfies simple schemas. "Tokens" are
 * whitespace-separated words: prompt_tokens = words of all messages, completion_tokens = words of
 * the answer.
 *
 * <p>Global behaviours (all off by default, changeable while running): {@link #latencyMs} (every
 * answer is delayed, without holding a thread: a timer completes the exchange later), {@link
 * #requestsPerSecond} (token bucket holding one second of tokens; over it: 429 with {@code
 * Retry-After} (whole seconds, rounded up) and {@code retry-after-ms}; every answer then carries
 * {@code x-ratelimit-limit-requests} = rps*60 and {@code x-ratelimit-remaining-requests}), {@link
 * #concurrencyCapacity} (more than N completion requests in flight: immediate 429 "server
 * overloaded" with retry-after-ms about one latency), {@link #tokensPerMinuteHeader} (advertised as
 * {@code x-ratelimit-limit-tokens}; not enforced).
 *
 * <p>Scripted faults, read from a marker in the LAST user message (the prompt for completions):
 * {@code [[fault:429x2]]} (the first 2 attempts of this exact request body get 429 with {@code
 * Retry-After: 1} and {@code retry-after-ms: 50}), {@code [[fault:500x1]]}, {@code [[fault:503x1]]}
 * (any status code works; without {@code xN} the fault is permanent), {@code [[fault:hang]]}
 * (answers only after {@link #hangMs}, 60 s by default, or never if the stub is closed first),
 * {@code [[fault:malformed]]} (200 with a body that is not JSON), {@code [[fault:truncate]]} (half
 * the answer, finish_reason length), {@code [[fault:refuse]]} (message.refusal set, content null),
 * {@code [[fault:badjson]]} (content not JSON on the first attempt, then valid), {@code
 * [[fault:400]]} (context_length_exceeded), {@code [[fault:401]]} (invalid_api_key; the message
 * deliberately echoes the bearer token, like a careless server, so tests can check that clients
 * redact it), {@code [[fault:batchfail]]} (Batch API only: the line goes to the error file).
 * Attempts are counted per distinct request body.
 *
 * <p>Counters for tests: total requests, requests per status and per path, peak concurrent
 * completion requests, a log of (path, fault marker, body hash, status) and the last 1,000 request
 * bodies. In-flight and peak count only the two completion endpoints.
 *
 * <p>Sets {@code sun.net.httpserver.nodelay=true} (unless set) so small answers are not held back
 * by Nagle's algorithm, and {@code sun.net.httpserver.maxIdleConnections=4096} (unless set): the
 * JDK's default of 200 closes the idle keep-alive connections beyond it, and a client with more in
 * flight then reuses closed ones (measured: 2.5 % of the attempts of 100,000 requests at 0 ms
 * latency failed with an IO error, a fault of the stub, not of the client).
 */
public final class OpenAiStub implements AutoCloseable {
  static {
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    if (System.getProperty("sun.net.httpserver.maxIdleConnections") == null) {
      System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");
    }
  }

  static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_LOG = 200_000;
  private static final int MAX_RECENT = 1_000;
  private static final byte[] MALFORMED_BODY =
      "{\"id\": \"chatcmpl-broken\", \"object\": \"chat.completion\", \"choices\": [{\"index\": 0,"
          .getBytes(StandardCharsets.UTF_8);
  private static final String REFUSAL = "I'm sorry, but I can't help with that request.";

  /** One served request: path, fault marker (or null), hash of the body, HTTP status. */
  public record Logged(String path, String marker, int bodyHash, int status) {}

  /** One received request body. */
  public record Received(String path, String body) {}

  private record Reply(int status, byte[] body, List<String> headers) {}

  private record Bucket(boolean ok, long remaining, long waitMs) {}

  /** What the stub reads from a completion request. */
  record Parsed(
      JsonNode request,
      boolean chat,
      String model,
      String lastUser,
      int promptWords,
      StubAnswers.Fault fault) {}

  private final int requestedPort;
  private volatile long latencyMs;
  private volatile double requestsPerSecond;
  private volatile int concurrencyCapacity;
  private volatile long tokensPerMinuteHeader;
  private volatile long hangMs = 60_000;

  private final AtomicLong total = new AtomicLong();
  private final ConcurrentHashMap<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, LongAdder> byPath = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object busyLock = new Object();
  private long busySince = System.nanoTime();
  private double busySlotNanos;
  private final AtomicInteger peak = new AtomicInteger();
  private final ConcurrentLinkedQueue<Logged> log = new ConcurrentLinkedQueue<>();
  private final AtomicInteger logSize = new AtomicInteger();
  private final ConcurrentLinkedDeque<Received> recent = new ConcurrentLinkedDeque<>();
  private final AtomicInteger recentSize = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final Set<HttpExchange> pending = ConcurrentHashMap.newKeySet();
  final StubBatches batches = new StubBatches(this);

  private double tokens;
  private long refilledAt = System.nanoTime();

  private HttpServer server;
  private ThreadPoolExecutor workers;
  private ScheduledThreadPoolExecutor timer;

  /** A stub on a free port. */
  public OpenAiStub() {
    this(0);
  }

  /** A stub on {@code port} (0 = pick a free one). */
  public OpenAiStub(int port) {
    this.requestedPort = port;
  }

  // ----------------------------------------------------------------------------------- settings

  /** Fixed delay of every completion answer (0 = answer at once). */
  public OpenAiStub latencyMs(long ms) {
    this.latencyMs = Math.max(0, ms);
    return this;
  }

  /** Requests per second admitted by the token bucket (0 = unlimited). */
  public synchronized OpenAiStub requestsPerSecond(double rps) {
    this.requestsPerSecond = Math.max(0, rps);
    this.tokens = this.requestsPerSecond;
    this.refilledAt = System.nanoTime();
    return this;
  }

  /** Completion requests served at once before 429 "server overloaded" (0 = unlimited). */
  public OpenAiStub concurrencyCapacity(int capacity) {
    this.concurrencyCapacity = Math.max(0, capacity);
    return this;
  }

  /** Advertise {@code x-ratelimit-limit-tokens} (0 = do not send it). */
  public OpenAiStub tokensPerMinuteHeader(long tpm) {
    this.tokensPerMinuteHeader = Math.max(0, tpm);
    return this;
  }

  /** How long a {@code [[fault:hang]]} request waits before it is answered. */
  public OpenAiStub hangMs(long ms) {
    this.hangMs = Math.max(0, ms);
    return this;
  }

  /**
   * A batch completes once it has been polled {@code polls} times (GET) AND {@code delayMs} have
   * passed since it was created. Default: 2 polls, no delay (validating → in_progress → completed).
   */
  public OpenAiStub batchCompletion(int polls, long delayMs) {
    batches.completion(polls, delayMs);
    return this;
  }

  /** Expire mode: batches end "expired" with only part of the lines answered. */
  public OpenAiStub batchExpire(boolean expire) {
    batches.expire(expire);
    return this;
  }

  /** Seed of the output file's line order. */
  public OpenAiStub shuffleSeed(long seed) {
    batches.seed(seed);
    return this;
  }

  // ---------------------------------------------------------------------------------- lifecycle

  public synchronized OpenAiStub start() {
    if (server != null) {
      return this;
    }
    try {
      server =
          HttpServer.create(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), requestedPort), 4096);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on 127.0.0.1:" + requestedPort, e);
    }
    int threads = Math.max(64, Runtime.getRuntime().availableProcessors() * 16);
    workers =
        new ThreadPoolExecutor(
            threads,
            threads,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            daemon("openai-stub-worker-"));
    workers.allowCoreThreadTimeOut(true);
    timer = new ScheduledThreadPoolExecutor(4, daemon("openai-stub-timer-"));
    timer.setRemoveOnCancelPolicy(true);
    server.setExecutor(workers);
    server.createContext("/", this::handle);
    server.start();
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://127.0.0.1:PORT/v1}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port() + "/v1";
  }

  @Override
  public synchronized void close() {
    if (server == null) {
      return;
    }
    timer.shutdownNow();
    for (HttpExchange ex : pending) {
      ex.close();
    }
    pending.clear();
    server.stop(0);
    workers.shutdownNow();
    server = null;
  }

  // ----------------------------------------------------------------------------------- counters

  public long totalRequests() {
    return total.get();
  }

  /** Requests answered with {@code status}. */
  public long requests(int status) {
    LongAdder n = byStatus.get(status);
    return n == null ? 0 : n.sum();
  }

  /** Requests answered, by status. */
  public Map<Integer, Long> statusCounts() {
    Map<Integer, Long> out = new TreeMap<>();
    byStatus.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Requests received on {@code path} (e.g. "/v1/completions"). */
  public long requestsTo(String path) {
    LongAdder n = byPath.get(path);
    return n == null ? 0 : n.sum();
  }

  /** The most completion requests that were in flight at once. */
  public int peakConcurrent() {
    return peak.get();
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** Served requests in completion order (at most 200,000 are kept). */
  public List<Logged> log() {
    return new ArrayList<>(log);
  }

  /** The last 1,000 request bodies, oldest first. */
  public List<Received> received() {
    return new ArrayList<>(recent);
  }

  /** Bodies received on {@code path} whose text contains {@code needle}. */
  public List<String> receivedContaining(String path, String needle) {
    List<String> out = new ArrayList<>();
    for (Received r : recent) {
      if (r.path().equals(path) && r.body().contains(needle)) {
        out.add(r.body());
      }
    }
    return out;
  }

  /** Changes the completion requests in flight, integrating the count over time. */
  private int changeInFlight(int delta) {
    synchronized (busyLock) {
      long t = System.nanoTime();
      busySlotNanos += (double) inFlight.get() * (t - busySince);
      busySince = t;
      return inFlight.addAndGet(delta);
    }
  }

  /**
   * Completion requests in flight integrated over time since the start, in request-seconds: over an
   * interval, its increase divided by the interval is the mean number in flight, and divided by the
   * concurrency capacity, the share of the server's capacity that was busy.
   */
  public double busySlotSeconds() {
    synchronized (busyLock) {
      long t = System.nanoTime();
      return (busySlotNanos + (double) inFlight.get() * (t - busySince)) / 1e9;
    }
  }

  public void resetCounters() {
    total.set(0);
    byStatus.clear();
    byPath.clear();
    peak.set(inFlight.get());
    log.clear();
    logSize.set(0);
    recent.clear();
    recentSize.set(0);
  }

  // ------------------------------------------------------------------------------------ routing

  private void handle(HttpExchange ex) {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    total.incrementAndGet();
    byPath.computeIfAbsent(path, p -> new LongAdder()).increment();
    try {
      if ("POST".equals(method) && "/v1/chat/completions".equals(path)) {
        completion(ex, path, true);
      } else if ("POST".equals(method) && "/v1/completions".equals(path)) {
        completion(ex, path, false);
      } else if (path.startsWith("/v1/files") || path.startsWith("/v1/batches")) {
        StubBatches.Response r = batches.handle(method, path, ex);
        send(
            ex,
            new Reply(r.status(), r.body(), List.of("Content-Type", r.contentType())),
            path,
            null,
            0,
            false);
      } else {
        send(
            ex,
            error(
                404, "Unknown request URL: " + method + " " + path, "invalid_request_error", null),
            path,
            null,
            0,
            false);
      }
    } catch (RuntimeException | IOException e) {
      send(ex, error(500, "stub failure: " + e, "server_error", null), path, null, 0, false);
    }
  }

  private void completion(HttpExchange ex, String path, boolean chat) throws IOException {
    byte[] raw = ex.getRequestBody().readAllBytes();
    String body = new String(raw, StandardCharsets.UTF_8);
    remember(path, body);
    int now = changeInFlight(1);
    peak.accumulateAndGet(now, Math::max);
    try {
      completion(ex, path, chat, raw, body, now);
    } catch (IOException | RuntimeException e) { // a stub bug: answer, and keep in-flight right
      send(ex, error(500, "stub failure: " + e, "server_error", null), path, null, 0, true);
    }
  }

  private void completion(
      HttpExchange ex, String path, boolean chat, byte[] raw, String body, int now)
      throws IOException {
    List<String> headers = new ArrayList<>(10);
    headers.add("Content-Type");
    headers.add("application/json");
    headers.add("x-request-id");
    headers.add("req_stub_" + ids.incrementAndGet());
    double rps = requestsPerSecond;
    if (rps > 0) {
      Bucket b = take();
      headers.add("x-ratelimit-limit-requests");
      headers.add(Long.toString(Math.round(rps * 60)));
      headers.add("x-ratelimit-remaining-requests");
      headers.add(Long.toString(b.remaining()));
      if (!b.ok()) {
        addLimitTokens(headers);
        retryAfter(headers, b.waitMs());
        send(
            ex,
            withHeaders(
                error(
                    429,
                    "Rate limit reached for requests per second (stub limit "
                        + rps
                        + "/s). Please try again in "
                        + b.waitMs()
                        + "ms.",
                    "requests",
                    "rate_limit_exceeded"),
                headers),
            path,
            null,
            body.hashCode(),
            true);
        return;
      }
    }
    addLimitTokens(headers);
    int cap = concurrencyCapacity;
    if (cap > 0 && now > cap) {
      retryAfter(headers, Math.max(1, latencyMs));
      send(
          ex,
          withHeaders(
              error(429, "The server is overloaded. Please retry.", "server_error", "overloaded"),
              headers),
          path,
          null,
          body.hashCode(),
          true);
      return;
    }

    JsonNode request;
    try {
      request = JSON.readTree(raw);
    } catch (IOException e) {
      send(
          ex,
          withHeaders(
              error(
                  400,
                  "We could not parse the JSON body of your request.",
                  "invalid_request_error",
                  null),
              headers),
          path,
          null,
          body.hashCode(),
          true);
      return;
    }
    Parsed p = parse(request, chat);
    StubAnswers.Fault fault = p.fault();
    String marker = fault == null ? null : fault.marker();
    int attempt = 1;
    if (fault != null && countsAttempts(fault.name())) {
      attempt = attempts.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
    }
    long delay = latencyMs;
    Reply reply = null;
    if (fault != null && isStatus(fault.name()) && fault.appliesTo(attempt)) {
      int status = Integer.parseInt(fault.name());
      if (status == 429) {
        headers.add("Retry-After");
        headers.add("1");
        headers.add("retry-after-ms");
        headers.add("50");
        delay = 0;
        reply =
            error(
                429,
                "Rate limit reached for requests (scripted fault).",
                "requests",
                "rate_limit_exceeded");
      } else if (status == 400) {
        reply =
            error(
                400,
                "This model's maximum context length is 8192 tokens. However, your messages"
                    + " resulted in 9000 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                "context_length_exceeded");
      } else if (status == 401) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        String key = auth == null ? "" : auth.replaceFirst("^Bearer\\s*", "");
        reply =
            error(
                401,
                "Incorrect API key provided: "
                    + key
                    + ". You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key");
      } else {
        if (status == 503) {
          headers.add("Retry-After");
          headers.add("1");
        }
        reply =
            error(
                status,
                status >= 500
                    ? "The server had an error while processing your request (scripted fault)."
                    : "Scripted error " + status + ".",
                status >= 500 ? "server_error" : "invalid_request_error",
                null);
      }
    } else if (fault != null && "malformed".equals(fault.name())) {
      reply = new Reply(200, MALFORMED_BODY, List.of());
    } else {
      if (fault != null && "hang".equals(fault.name())) {
        delay = hangMs;
      }
      ObjectNode answer = answer(p, attempt);
      reply = new Reply(200, JSON.writeValueAsBytes(answer), List.of());
    }
    deliver(ex, withHeaders(reply, headers), path, marker, body.hashCode(), delay);
  }

  private static boolean countsAttempts(String name) {
    return isStatus(name) || "badjson".equals(name);
  }

  private static boolean isStatus(String name) {
    if (name.length() != 3) {
      return false;
    }
    for (int i = 0; i < 3; i++) {
      if (!Character.isDigit(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private void addLimitTokens(List<String> headers) {
    long tpm = tokensPerMinuteHeader;
    if (tpm > 0) {
      headers.add("x-ratelimit-limit-tokens");
      headers.add(Long.toString(tpm));
    }
  }

  private static void retryAfter(List<String> headers, long waitMs) {
    headers.add("Retry-After");
    headers.add(Long.toString(Math.max(1, (waitMs + 999) / 1000)));
    headers.add("retry-after-ms");
    headers.add(Long.toString(Math.max(1, waitMs)));
  }

  private synchronized Bucket take() {
    double rate = requestsPerSecond;
    long now = System.nanoTime();
    tokens = Math.min(rate, tokens + (now - refilledAt) / 1e9 * rate);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return new Bucket(true, (long) Math.floor(tokens), 0);
    }
    long wait = (long) Math.ceil((1 - tokens) / rate * 1000);
    return new Bucket(false, 0, Math.max(1, wait));
  }

  // ------------------------------------------------------------------------------------ answers

  /** Reads model, last user message, prompt size and fault marker of a completion request. */
  static Parsed parse(JsonNode request, boolean chat) {
    String model = request.path("model").asText("stub-model");
    String lastUser = "";
    int promptWords = 0;
    if (chat) {
      for (JsonNode m : request.path("messages")) {
        String text = StubAnswers.contentText(m.get("content"));
        promptWords += StubAnswers.words(text);
        if ("user".equals(m.path("role").asText())) {
          lastUser = text;
        }
      }
    } else {
      JsonNode prompt = request.path("prompt");
      if (prompt.isArray() && prompt.size() > 0) {
        prompt = prompt.get(0);
      }
      lastUser = prompt.isTextual() ? prompt.textValue() : "";
      promptWords = StubAnswers.words(lastUser);
    }
    return new Parsed(request, chat, model, lastUser, promptWords, StubAnswers.fault(lastUser));
  }

  /** The 200 body for a parsed request; content faults (truncate/refuse/badjson) apply. */
  ObjectNode answer(Parsed p, int attempt) {
    JsonNode request = p.request();
    StubAnswers.Fault fault = p.fault();
    String faultName = fault == null ? "" : fault.name();
    JsonNode schema = null;
    JsonNode format = request.get("response_format");
    if (p.chat() && format != null && "json_schema".equals(format.path("type").asText())) {
      schema = format.path("json_schema").path("schema");
    }
    JsonNode limit = request.get("max_completion_tokens");
    if (limit == null || !limit.isNumber()) {
      limit = request.get("max_tokens");
    }
    String content;
    String finish = "stop";
    String refusal = null;
    if (schema != null) {
      String text = p.lastUser();
      if (fault != null) {
        text = text.replace(fault.marker(), "");
      }
      // the first and last words and a short hash of the whole prompt: different prompts,
      // different values, and prompts that share an opening (one instruction, many documents)
      // still differ in words, not only in the hash
      text =
          StubAnswers.firstWords(text, 8)
              + " #"
              + io.qaforge.Hashing.sha256Hex(text).substring(0, 6)
              + (StubAnswers.words(text) > 8 ? " " + StubAnswers.lastWords(text, 8) : "");
      try {
        content =
            JSON.writeValueAsString(
                StubAnswers.valueFor(schema, text.isEmpty() ? "x" : text, "v", 0));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } else {
      content = "echo: " + p.lastUser();
      if (limit != null && limit.isNumber() && StubAnswers.words(content) > limit.asInt()) {
        content = StubAnswers.firstWords(content, Math.max(1, limit.asInt()));
        finish = "length";
      }
    }
    switch (faultName) {
      case "truncate":
        content = StubAnswers.firstWords(content, Math.max(1, StubAnswers.words(content) / 2));
        finish = "length";
        break;
      case "refuse":
        refusal = REFUSAL;
        content = null;
        break;
      case "badjson":
        // first attempt only (or the first N with badjsonxN), then valid
        if (attempt <= (fault.times() == Integer.MAX_VALUE ? 1 : fault.times())) {
          content = "{\"answer\": this is not json";
        }
        break;
      default:
        break;
    }
    int completionWords = StubAnswers.words(content == null ? refusal : content);
    long id = ids.incrementAndGet();
    ObjectNode out = JSON.createObjectNode();
    ArrayNode choices = JSON.createArrayNode();
    ObjectNode choice = choices.addObject();
    if (p.chat()) {
      out.put("id", "chatcmpl-stub" + id);
      out.put("object", "chat.completion");
      out.put("created", System.currentTimeMillis() / 1000);
      out.put("model", p.model());
      choice.put("index", 0);
      ObjectNode message = choice.putObject("message");
      message.put("role", "assistant");
      message.put("content", content);
      message.put("refusal", refusal);
      if (request.path("logprobs").asBoolean(false) && content != null) {
        ObjectNode lp = choice.putObject("logprobs");
        ArrayNode tokens = lp.putArray("content");
        for (String w : content.split("\\s+")) {
          ObjectNode t = tokens.addObject();
          t.put("token", w);
          t.put("logprob", -0.01);
          t.putNull("bytes");
          t.putArray("top_logprobs");
        }
        lp.putNull("refusal");
      } else {
        choice.putNull("logprobs");
      }
      choice.put("finish_reason", refusal != null ? "stop" : finish);
    } else {
      out.put("id", "cmpl-stub" + id);
      out.put("object", "text_completion");
      out.put("created", System.currentTimeMillis() / 1000);
      out.put("model", p.model());
      choice.put("text", content == null ? "" : content);
      choice.put("index", 0);
      choice.putNull("logprobs");
      choice.put("finish_reason", refusal != null ? "content_filter" : finish);
    }
    out.set("choices", choices);
    ObjectNode usage = out.putObject("usage");
    usage.put("prompt_tokens", p.promptWords());
    usage.put("completion_tokens", completionWords);
    usage.put("total_tokens", p.promptWords() + completionWords);
    if (p.chat()) {
      out.put("system_fingerprint", "fp_stub");
    }
    return out;
  }

  static Reply error(int status, String message, String type, String code) {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("message", message);
    error.put("type", type);
    error.putNull("param");
    error.put("code", code);
    try {
      return new Reply(status, JSON.writeValueAsBytes(body), List.of());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Reply withHeaders(Reply reply, List<String> headers) {
    if (reply.headers().isEmpty()) {
      return new Reply(reply.status(), reply.body(), headers);
    }
    List<String> all = new ArrayList<>(headers);
    all.addAll(reply.headers());
    return new Reply(reply.status(), reply.body(), all);
  }

  // ----------------------------------------------------------------------------------- delivery

  private void deliver(
      HttpExchange ex, Reply reply, String path, String marker, int bodyHash, long delayMs) {
    if (delayMs <= 0) {
      send(ex, reply, path, marker, bodyHash, true);
      return;
    }
    pending.add(ex);
    try {
      timer.schedule(
          () -> {
            if (pending.remove(ex)) {
              send(ex, reply, path, marker, bodyHash, true);
            }
          },
          delayMs,
          TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) { // closed meanwhile
      pending.remove(ex);
      changeInFlight(-1);
      ex.close();
    }
  }

  private void send(
      HttpExchange ex, Reply reply, String path, String marker, int bodyHash, boolean tracked) {
    // counted before the answer leaves, so a client that has its answer sees it counted
    byStatus.computeIfAbsent(reply.status(), s -> new LongAdder()).increment();
    if (logSize.incrementAndGet() <= MAX_LOG) {
      log.add(new Logged(path, marker, bodyHash, reply.status()));
    }
    try {
      Headers h = ex.getResponseHeaders();
      List<String> headers = reply.headers();
      for (int i = 0; i + 1 < headers.size(); i += 2) {
        h.add(headers.get(i), headers.get(i + 1));
      }
      if (!h.containsKey("Content-Type")) {
        h.add("Content-Type", "application/json");
      }
      byte[] body = reply.body();
      ex.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    } catch (IOException | RuntimeException e) {
      // the client went away (timeout) or the stub is closing: nothing to answer
    } finally {
      ex.close();
      if (tracked) {
        changeInFlight(-1);
      }
    }
  }

  private void remember(String path, String body) {
    recent.addLast(new Received(path, body));
    if (recentSize.incrementAndGet() > MAX_RECENT) {
      if (recent.pollFirst() != null) {
        recentSize.decrementAndGet();
      }
    }
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ---------------------------------------------------------------------------------------- main

  /**
   * {@code qaforge bench stub --port 18080 --latency-ms 200 --rps 400} (or {@code java ...
   * io.qaforge.bench.OpenAiStub ...}).
   */
  @CommandLine.Command(
      name = "stub",
      mixinStandardHelpOptions = true,
      description =
          "Scripted OpenAI-protocol server on 127.0.0.1 for benchmarks (runs until killed): fixed"
              + " latency, optional requests/s limit (429 + Retry-After + x-ratelimit headers) or"
              + " concurrency capacity (429 beyond it).")
  public static final class Cli implements Callable<Integer> {
    @CommandLine.Option(names = "--port", description = "port (0 = any free port)")
    int port = 0;

    @CommandLine.Option(names = "--latency-ms", description = "fixed delay per answer")
    long latencyMs = 0;

    @CommandLine.Option(names = "--rps", description = "requests per second (0 = unlimited)")
    double rps = 0;

    @CommandLine.Option(names = "--capacity", description = "concurrent requests (0 = unlimited)")
    int capacity = 0;

    @CommandLine.Option(names = "--tpm", description = "advertised x-ratelimit-limit-tokens")
    long tpm = 0;

    @CommandLine.Option(names = "--seed", description = "batch output shuffle seed")
    long seed = 42;

    @CommandLine.Option(
        names = "--warmup",
        description =
            "chat requests the stub sends itself before it serves (no latency, no limits), so its"
                + " JIT is warm and the first answers of a benchmark take the stated latency, not"
                + " several times it (default 5000; 0 = none)")
    int warmup = 5000;

    @Override
    public Integer call() throws Exception {
      OpenAiStub stub = new OpenAiStub(port).shuffleSeed(seed).start();
      Runtime.getRuntime().addShutdownHook(new Thread(stub::close, "openai-stub-shutdown"));
      if (warmup > 0) {
        long t0 = System.nanoTime();
        warmUp(stub, warmup);
        System.err.printf(
            java.util.Locale.ROOT,
            "stub: warmed up with %d requests in %.1f s%n",
            warmup,
            (System.nanoTime() - t0) / 1e9);
      }
      stub.latencyMs(latencyMs)
          .requestsPerSecond(rps)
          .concurrencyCapacity(capacity)
          .tokensPerMinuteHeader(tpm)
          .resetCounters();
      System.out.println(stub.baseUrl());
      System.out.flush();
      reportEvery(stub, 5);
      new CountDownLatch(1).await();
      return 0;
    }
  }

  /**
   * Prints, every {@code seconds} while requests come in, what the stub served: answers/s, 429s/s,
   * the mean number of requests in flight and, with a concurrency capacity, the share of it that
   * was busy (how much of what the server can take a client used).
   */
  private static void reportEvery(OpenAiStub stub, int seconds) {
    java.util.concurrent.ScheduledExecutorService timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            daemon("openai-stub-report-"));
    double[] last = {stub.busySlotSeconds(), stub.requests(200), stub.requests(429)};
    long[] at = {System.nanoTime()};
    timer.scheduleAtFixedRate(
        () -> {
          long now = System.nanoTime();
          double dt = (now - at[0]) / 1e9;
          double busy = stub.busySlotSeconds();
          double ok = stub.requests(200);
          double refused = stub.requests(429);
          if (ok > last[1] || refused > last[2]) {
            double inFlight = (busy - last[0]) / dt;
            int cap = stub.concurrencyCapacity;
            System.err.printf(
                java.util.Locale.ROOT,
                "stub: %.1f ok/s, %.1f 429/s, %.1f in flight on average%s%n",
                (ok - last[1]) / dt,
                (refused - last[2]) / dt,
                inFlight,
                cap > 0
                    ? String.format(
                        java.util.Locale.ROOT,
                        " = %.1f %% of the capacity %d",
                        100 * inFlight / cap,
                        cap)
                    : "");
          }
          last[0] = busy;
          last[1] = ok;
          last[2] = refused;
          at[0] = now;
        },
        seconds,
        seconds,
        TimeUnit.SECONDS);
  }

  /** Sends {@code n} small chat requests to the stub from 16 threads and checks the answers. */
  static void warmUp(OpenAiStub stub, int n) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.URI uri = java.net.URI.create(stub.baseUrl() + "/chat/completions");
    AtomicInteger left = new AtomicInteger(n);
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(16, daemon("openai-stub-warmup-"));
    List<java.util.concurrent.Future<?>> workers = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      workers.add(
          pool.submit(
              () -> {
                for (int i = left.getAndDecrement(); i > 0; i = left.getAndDecrement()) {
                  String body =
                      "{\"model\":\"warmup\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\","
                          + "\"content\":\"warm up request "
                          + i
                          + "\"}]}";
                  java.net.http.HttpResponse<String> r =
                      http.send(
                          java.net.http.HttpRequest.newBuilder(uri)
                              .header("Content-Type", "application/json")
                              .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                              .build(),
                          java.net.http.HttpResponse.BodyHandlers.ofString());
                  if (r.statusCode() != 200) {
                    throw new IllegalStateException(
                        "stub warm-up request answered " + r.statusCode() + ": " + r.body());
                  }
                }
                return null;
              }));
    }
    try {
      for (java.util.concurrent.Future<?> w : workers) {
        w.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Cli()).execute(args));
  }
}
