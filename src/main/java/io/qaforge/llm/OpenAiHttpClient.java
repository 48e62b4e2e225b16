package io.qaforge.llm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.Hashing;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LlmClient} for any OpenAI-compatible HTTP server (OpenAI, vLLM, llama.cpp server, Ollama,
 * ...): the request bodies the official openai-java SDK writes ({@link RequestBodies#body}, byte
 * for byte), sent by an {@link HttpTransport}: Netty's event loop for plain-http servers reached
 * directly (vLLM, llama.cpp server, Ollama on a LAN), okhttp (the SDK's own HTTP library) for https
 * and proxies ({@link HttpTransport#forUrl}).
 *
 * <p><b>Why not the SDK's service call</b>: {@code client.chat().completions().create(...)} adds,
 * per request, a hop to the common ForkJoinPool ({@code thenComposeAsync}), a new okhttp client per
 * call, Kotlin reflection to find the model name, and a retry layer this class does not use (pacing
 * and retries belong to the caller). Measured with {@code qaforge bench generation} at 400 req/s
 * against a 200 ms stub (30,000 requests, 2 CPUs, three interleaved pairs of runs): 0.27-0.33 ms of
 * process CPU per answer in the second half through okhttp directly, 0.34-0.43 ms through the SDK's
 * async service. The body is byte for byte what the SDK sends and what the Batch files carry
 * ({@link RequestBodies#body}; {@code BatchFilesTest} compares them against what a server
 * receives); the Batch API itself goes through the SDK ({@code io.qaforge.llm.batch.BatchApi}).
 *
 * <p><b>One HTTP call per {@link #send}</b>, no retries: retries, backoff and pacing belong to the
 * caller. The future never completes exceptionally: every outcome is an {@link Attempt} (OK,
 * RATE_LIMITED for 429, SERVER_ERROR for 5xx/408/409, CLIENT_ERROR for other 4xx and for requests
 * that cannot be built, TIMEOUT, IO_ERROR for refused/reset connections, MALFORMED for bodies that
 * cannot be parsed). Error texts are "HTTP status (code): message" from the server's error body.
 * {@code retryAfterMs} comes from {@code retry-after-ms} (ms) or {@code Retry-After} (seconds or an
 * HTTP date), else -1; {@code x-ratelimit-limit-requests} / {@code x-ratelimit-limit-tokens} go to
 * {@link Attempt#withLimits} on every response that has them. The key is sent as {@code
 * Authorization: Bearer} (no header when it is empty) and never appears in error texts.
 *
 * <p><b>Connections and timeout</b>: see {@link NettyTransport} and {@link OkHttpTransport}; both
 * allow {@link #DEFAULT_MAX_IN_FLIGHT} (1,024) calls at once per client (more wait in a queue, and
 * their timeout starts when they leave it) and apply the configured request timeout to the whole
 * call (connect + send + the whole answer), connect alone capped at 10 s.
 *
 * <p><b>Requests</b>: the alias of the {@link ChatRequest} selects a registered {@link ModelSpec}
 * (model name, style). Style {@code chat}: {@code POST /chat/completions} with the messages (roles
 * system, developer, user, assistant), temperature, top_p, the token limit, seed, stop, n = 1,
 * logprobs when requested and, when the request has a JSON schema, {@code response_format = {type:
 * json_schema, json_schema: {name, schema, strict: true}}} (name = the schema's {@code title} when
 * it is a valid name, else "response"; the parsed schema is cached per schema text). The token
 * limit is sent as {@code max_tokens}, the field vLLM, llama.cpp server and Ollama all read; for
 * OpenAI itself (hosts {@code *.openai.com}, {@code *.openai.azure.com}) it is {@code
 * max_completion_tokens}, which its reasoning models require. Style {@code completion}: {@code POST
 * /completions} with one prompt = the contents of the messages joined with a blank line ("\n\n";
 * roles are dropped, a single message is sent verbatim) and the same parameters ({@code logprobs =
 * 1} when requested).
 *
 * <p><b>CPU</b>: the json_schema response format is parsed once per schema text and cached, answers
 * are read from the body with a Jackson streaming parser (about 1 µs instead of 6-10 µs through the
 * SDK's Kotlin-reflection model classes, which also reject answers of compatible servers that omit
 * fields OpenAI always sends), nothing is logged per request.
 *
 * <p><b>Warm-up</b>: the first request body of a JVM is slow: the SDK's JSON mapper goes through
 * jackson-module-kotlin, whose first use loads and reflects on many classes (measured through the
 * SDK's call: the first answer took 580 ms at 300 ms server latency, the first 429 500-800 ms to
 * classify). While they wait, every other call of that moment waits too, so the pacer learns of an
 * overload late and from a wrong in-flight count. Each new client therefore builds a chat request
 * with a JSON schema on a daemon thread and classifies two canned replies to it, an answer and a
 * 429, exactly as real replies are. Nothing reaches the network, is paced, counted or billed
 * ({@link #warmUp()}).
 *
 * <p><b>Sharing</b>: {@link #shared} keeps one client per JVM per (base URL, SHA-256 of the key,
 * timeout); the key itself is never a map key, logged or printed. {@link #close} of a shared client
 * does nothing (other tasks use it); its threads are daemons.
 */
public final class OpenAiHttpClient implements LlmClient {
  /** Concurrent HTTP calls per client (more wait in the transport's queue). */
  public static final int DEFAULT_MAX_IN_FLIGHT = 1024;

  private static final Logger LOG = LoggerFactory.getLogger(OpenAiHttpClient.class);
  private static final int MAX_ERROR_BODY_BYTES = 64 * 1024;

  /**
   * How long an idle keep-alive connection stays in okhttp's pool. Under the 5 s after which
   * uvicorn (vLLM), llama.cpp's server and Node close idle connections: with its own retries off,
   * okhttp checks a pooled connection only after 10 s idle, so a connection the server had closed
   * was reused and the call failed (an IO error and a retry with backoff after each pause of 5-10
   * s, such as between two steps). Netty's event loop sees such closes itself.
   */
  static final Duration IDLE_KEEP_ALIVE = Duration.ofSeconds(4);

  private static final int MAX_ERROR_CHARS = 500;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory JSON_FACTORY = new JsonFactory();
  private static final Pattern KEY_LIKE = Pattern.compile("\\b(sk-|Bearer\\s+)[A-Za-z0-9._*\\-]+");
  private static final ConcurrentHashMap<String, OpenAiHttpClient> SHARED =
      new ConcurrentHashMap<>();

  // the warm-up: a request built and two canned replies classified, never sent
  private static final ModelSpec WARM_UP_SPEC =
      new ModelSpec("warm-up", "openai", "warm-up", "chat", "", 0, 0, 0, "o200k_base", 0, 0, "");
  private static final String WARM_UP_SCHEMA =
      "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
          + "\"required\":[\"a\"],\"additionalProperties\":false}";
  private static final String WARM_UP_ANSWER =
      "{\"id\":\"warm-up\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"warm-up\","
          + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
          + "\"content\":\"{\\\"a\\\":\\\"b\\\"}\"},\"finish_reason\":\"stop\"}],"
          + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
  private static final String WARM_UP_REFUSAL =
      "{\"error\":{\"message\":\"warm-up\",\"type\":\"requests\","
          + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}";

  private final String baseUrl;
  private final Duration timeout;
  private final String apiKey; // only to redact it from error texts
  private final boolean maxCompletionTokens;
  private final boolean shared;
  private final HttpTransport http;
  private final String authorization; // the Authorization header, null without a key
  private final URI chatUrl;
  private final URI completionsUrl;
  private final Map<String, ModelSpec> specs = new ConcurrentHashMap<>();
  private final CompletableFuture<List<Attempt>> warmUp = new CompletableFuture<>();

  /** A client of its own (closed by {@link #close}); specs can be added with {@link #register}. */
  public OpenAiHttpClient(String baseUrl, String apiKey, Duration timeout) {
    this(baseUrl, apiKey, timeout, List.of(), DEFAULT_MAX_IN_FLIGHT, false, false);
  }

  public OpenAiHttpClient(
      String baseUrl, String apiKey, Duration timeout, Collection<ModelSpec> models) {
    this(baseUrl, apiKey, timeout, models, DEFAULT_MAX_IN_FLIGHT, false, false);
  }

  public OpenAiHttpClient(
      String baseUrl,
      String apiKey,
      Duration timeout,
      Collection<ModelSpec> models,
      int maxInFlight) {
    this(baseUrl, apiKey, timeout, models, maxInFlight, false, false);
  }

  /** A client of its own on okhttp whatever the URL (tests of that transport on plain http). */
  static OpenAiHttpClient onOkHttp(
      String baseUrl, String apiKey, Duration timeout, Collection<ModelSpec> models) {
    return new OpenAiHttpClient(
        baseUrl, apiKey, timeout, models, DEFAULT_MAX_IN_FLIGHT, false, true);
  }

  private OpenAiHttpClient(
      String baseUrl,
      String apiKey,
      Duration timeout,
      Collection<ModelSpec> models,
      int maxInFlight,
      boolean shared,
      boolean okHttp) {
    if (baseUrl == null || baseUrl.isBlank()) {
      throw new IllegalArgumentException("baseUrl is required (e.g. http://127.0.0.1:8000/v1)");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive");
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be positive");
    }
    URI base = httpUrl(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
    if (base == null) {
      throw new IllegalArgumentException(
          "baseUrl '"
              + baseUrl
              + "' is not an http(s) URL; set it like http://127.0.0.1:8000/v1 or"
              + " https://api.openai.com/v1");
    }
    this.chatUrl = base.resolve("chat/completions");
    this.completionsUrl = base.resolve("completions");
    this.baseUrl = baseUrl;
    this.timeout = timeout;
    this.apiKey = apiKey == null ? "" : apiKey;
    this.authorization = this.apiKey.isEmpty() ? null : "Bearer " + this.apiKey;
    this.shared = shared;
    this.maxCompletionTokens = RequestBodies.isOpenAi(baseUrl);
    this.http =
        okHttp
            ? new OkHttpTransport(timeout, maxInFlight)
            : HttpTransport.forUrl(base, timeout, maxInFlight);
    register(models);
    Thread warm = new Thread(this::runWarmUp, "qaforge-openai-warm-up");
    warm.setDaemon(true);
    warm.start();
  }

  /** An absolute http or https URL with a host, else null. */
  private static URI httpUrl(String url) {
    try {
      URI u = new URI(url);
      boolean http =
          "http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme());
      return http && u.getHost() != null ? u : null;
    } catch (java.net.URISyntaxException e) {
      return null;
    }
  }

  /**
   * The two warm-up calls this client sent when it was built (an answer, then a 429), answered
   * in-process by an interceptor; completes when both have been classified. Nobody needs to wait
   * for it: real calls that start earlier are only as slow as without a warm-up.
   */
  CompletableFuture<List<Attempt>> warmUp() {
    return warmUp;
  }

  private void runWarmUp() {
    try {
      ChatRequest r =
          new ChatRequest(
              "warm-up",
              WARM_UP_SPEC.alias(),
              List.of(new Message("system", "warm-up"), new Message("user", "warm-up")),
              0.5,
              1.0,
              16,
              1L,
              List.of("\n\n"),
              WARM_UP_SCHEMA,
              false,
              0);
      RequestBodies.body(r, WARM_UP_SPEC, maxCompletionTokens);
      Map<String, String> headers =
          Map.of("retry-after-ms", "1", "x-ratelimit-limit-requests", "1000");
      Function<String, String> header =
          name -> headers.get(name.toLowerCase(java.util.Locale.ROOT));
      List<Attempt> out = new ArrayList<>();
      for (String reply : new String[] {WARM_UP_ANSWER, WARM_UP_REFUSAL}) {
        int status = reply == WARM_UP_ANSWER ? 200 : 429;
        out.add(
            outcome(
                new HttpTransport.Reply(status, header, reply.getBytes(StandardCharsets.UTF_8)),
                System.nanoTime()));
      }
      http.warmUp();
      warmUp.complete(List.copyOf(out));
    } catch (RuntimeException e) { // only slower first calls: the real ones do not depend on it
      LOG.debug("the client's warm-up did not finish: {}", clean(String.valueOf(e)));
      warmUp.completeExceptionally(e);
    }
  }

  /**
   * The client of this JVM for (baseUrl, apiKey, timeout), created on first use; later calls with
   * the same configuration return the same instance.
   */
  public static OpenAiHttpClient shared(String baseUrl, String apiKey, Duration timeout) {
    String key =
        baseUrl
            + '\u0000'
            + Hashing.sha256Hex(apiKey == null ? "" : apiKey)
            + '\u0000'
            + timeout.toMillis();
    return SHARED.computeIfAbsent(
        key,
        k ->
            new OpenAiHttpClient(
                baseUrl, apiKey, timeout, List.of(), DEFAULT_MAX_IN_FLIGHT, true, false));
  }

  /** {@link #shared(String, String, Duration)} with {@code models} registered on it. */
  public static OpenAiHttpClient shared(
      String baseUrl, String apiKey, Duration timeout, Collection<ModelSpec> models) {
    return shared(baseUrl, apiKey, timeout).register(models);
  }

  /** Closes every shared client (tests, JVM shutdown). */
  public static void closeAllShared() {
    for (OpenAiHttpClient c : SHARED.values()) {
      c.shutdown();
    }
    SHARED.clear();
  }

  /** Adds or replaces model aliases this client serves. */
  public OpenAiHttpClient register(Collection<ModelSpec> models) {
    if (models != null) {
      for (ModelSpec m : models) {
        specs.put(m.alias(), m);
      }
    }
    return this;
  }

  public OpenAiHttpClient register(ModelSpec model) {
    specs.put(model.alias(), model);
    return this;
  }

  @Override
  public String backend() {
    return "openai";
  }

  @Override
  public CompletableFuture<Attempt> send(ChatRequest request) {
    ModelSpec spec = request.alias() == null ? null : specs.get(request.alias());
    if (spec == null) {
      return CompletableFuture.completedFuture(
          Attempt.failure(
              Attempt.Kind.CLIENT_ERROR,
              0,
              -1,
              "model alias '" + request.alias() + "' is not registered with this client",
              0));
    }
    return send(request, spec);
  }

  /** One call for {@code request} with an explicit model spec (its alias is not looked up). */
  public CompletableFuture<Attempt> send(ChatRequest request, ModelSpec spec) {
    long start = System.nanoTime();
    byte[] body;
    try {
      body = RequestBodies.body(request, spec, maxCompletionTokens);
    } catch (RuntimeException e) { // a request that cannot be built: unknown role, bad schema
      return CompletableFuture.completedFuture(failure(e, start));
    }
    // completes on the transport's thread, never exceptionally
    return http.post(
            RequestBodies.completionStyle(spec) ? completionsUrl : chatUrl, body, authorization)
        .handle((reply, e) -> reply != null ? outcome(reply, start) : failure(e, start));
  }

  @Override
  public void close() {
    if (!shared) {
      shutdown();
    }
  }

  private void shutdown() {
    http.close();
  }

  @Override
  public String toString() {
    return "OpenAiHttpClient[baseUrl="
        + baseUrl
        + ", apiKey="
        + (apiKey.isEmpty() ? "(none)" : "***")
        + ", timeout="
        + timeout
        + ", transport="
        + http
        + ", maxInFlight="
        + http.maxInFlight()
        + (shared ? ", shared" : "")
        + "]";
  }

  // ---------------------------------------------------------------------------------- requests

  // ---------------------------------------------------------------------------------- outcomes

  /** The Attempt for a reply: its answer (2xx) or the server's refusal. */
  private Attempt outcome(HttpTransport.Reply reply, long start) {
    try {
      boolean ok = reply.status() >= 200 && reply.status() < 300;
      return ok ? answer(reply, start) : rejection(reply, start);
    } catch (RuntimeException e) { // never complete the future exceptionally
      return Attempt.failure(
          Attempt.Kind.CLIENT_ERROR, 0, -1, clean("client failure: " + e), millis(start));
    }
  }

  /** A non-2xx answer: 429, 5xx/408/409 (retryable) or another 4xx, with the server's message. */
  private Attempt rejection(HttpTransport.Reply reply, long start) {
    int status = reply.status();
    Attempt.Kind kind =
        status == 429
            ? Attempt.Kind.RATE_LIMITED
            : status >= 500 || status == 408 || status == 409
                ? Attempt.Kind.SERVER_ERROR
                : Attempt.Kind.CLIENT_ERROR;
    byte[] bytes = reply.body();
    String body =
        new String(bytes, 0, Math.min(bytes.length, MAX_ERROR_BODY_BYTES), StandardCharsets.UTF_8);
    return limits(
        Attempt.failure(
            kind,
            status,
            retryAfterMs(reply.header()),
            clean(errorText(status, body)),
            millis(start)),
        reply.header());
  }

  private Attempt answer(HttpTransport.Reply reply, long start) {
    int status = reply.status();
    try (InputStream in = new ByteArrayInputStream(reply.body())) {
      Answer answer = readAnswer(in);
      if (!answer.hasChoice) {
        return limits(
            Attempt.failure(
                Attempt.Kind.MALFORMED, status, -1, "answer has no choices", millis(start)),
            reply.header());
      }
      Attempt a =
          Attempt.ok(
              answer.content,
              answer.finishReason,
              answer.promptTokens,
              answer.completionTokens,
              answer.model,
              millis(start));
      if (answer.refusal != null) {
        a = a.withRefusal(answer.refusal);
      }
      return limits(a, reply.header());
    } catch (IOException | RuntimeException e) {
      return limits(malformed(e, status, start), reply.header());
    }
  }

  /** The fields of a chat.completion or text_completion body that an Attempt needs. */
  private static final class Answer {
    boolean hasChoice;
    String content;
    String refusal;
    String finishReason;
    String model;
    long promptTokens;
    long completionTokens;
  }

  /** Reads model, the first choice (message.content/refusal or text, finish_reason) and usage. */
  static Answer readAnswer(InputStream in) throws IOException {
    Answer a = new Answer();
    try (JsonParser p = JSON_FACTORY.createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new JsonParseException(p, "the answer is not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "model":
            a.model = t == JsonToken.VALUE_STRING ? p.getText() : null;
            break;
          case "choices":
            if (t == JsonToken.START_ARRAY) {
              while (p.nextToken() == JsonToken.START_OBJECT) {
                if (a.hasChoice) {
                  p.skipChildren();
                } else {
                  readChoice(p, a);
                  a.hasChoice = true;
                }
              }
            } else {
              p.skipChildren();
            }
            break;
          case "usage":
            if (t == JsonToken.START_OBJECT) {
              while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (v == JsonToken.VALUE_NUMBER_INT && "prompt_tokens".equals(name)) {
                  a.promptTokens = p.getLongValue();
                } else if (v == JsonToken.VALUE_NUMBER_INT && "completion_tokens".equals(name)) {
                  a.completionTokens = p.getLongValue();
                } else {
                  p.skipChildren();
                }
              }
            } else {
              p.skipChildren();
            }
            break;
          default:
            p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) {
        throw new JsonParseException(p, "unexpected end of the answer");
      }
    }
    return a;
  }

  private static void readChoice(JsonParser p, Answer a) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      switch (field) {
        case "message":
          if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              JsonToken v = p.nextToken();
              if (v == JsonToken.VALUE_STRING && "content".equals(name)) {
                a.content = p.getText();
              } else if (v == JsonToken.VALUE_STRING && "refusal".equals(name)) {
                a.refusal = p.getText();
              } else {
                p.skipChildren();
              }
            }
          } else {
            p.skipChildren();
          }
          break;
        case "text":
          a.content = t == JsonToken.VALUE_STRING ? p.getText() : null;
          break;
        case "finish_reason":
          a.finishReason = t == JsonToken.VALUE_STRING ? p.getText() : null;
          break;
        default:
          p.skipChildren();
      }
    }
  }

  private Attempt malformed(Exception e, int status, long start) {
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    String what =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    int eol = what.indexOf('\n');
    if (eol > 0) {
      what = what.substring(0, eol);
    }
    return Attempt.failure(
        Attempt.Kind.MALFORMED, status, -1, clean("unreadable answer: " + what), millis(start));
  }

  /** A call the transport could not complete (an IOException) or a request that cannot be built. */
  private Attempt failure(Throwable e, long start) {
    long latency = millis(start);
    Throwable io = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (io instanceof HttpTransport.Closed) {
      return Attempt.failure(Attempt.Kind.IO_ERROR, 0, -1, "the client was closed", latency);
    }
    if (io instanceof InterruptedIOException) { // call and connect timeouts
      return Attempt.failure(
          Attempt.Kind.TIMEOUT, 0, -1, "no answer within " + timeout.toMillis() + " ms", latency);
    }
    if (io instanceof IOException) {
      return Attempt.failure(
          Attempt.Kind.IO_ERROR,
          0,
          -1,
          clean(io.getClass().getSimpleName() + ": " + io.getMessage()),
          latency);
    }
    // a request that cannot be built (bad schema, unknown role): not retried
    return Attempt.failure(
        Attempt.Kind.CLIENT_ERROR,
        0,
        -1,
        clean(io.getClass().getSimpleName() + ": " + io.getMessage()),
        latency);
  }

  /**
   * "HTTP 400 (code): message" from an error body ({@code {error: {message, code}}}, {@code {error:
   * "text"}} or {@code {message}}), else with the start of the body as the message.
   */
  static String errorText(int status, String body) {
    String message = null;
    String code = null;
    try {
      JsonNode root = body.isBlank() ? null : MAPPER.readTree(body);
      if (root != null && root.isObject()) {
        JsonNode fields = root;
        JsonNode err = root.get("error");
        if (err != null && err.isObject()) {
          fields = err;
        } else if (err != null && err.isTextual()) {
          message = err.asText();
        }
        if (message == null && fields.path("message").isTextual()) {
          message = fields.get("message").asText();
        }
        JsonNode c = fields.get("code");
        code = c != null && (c.isTextual() || c.isNumber()) ? c.asText() : null;
      }
    } catch (IOException e) {
      // not JSON: the body itself is the message
    }
    if (message == null) {
      message = body.isBlank() ? "(no body)" : body.strip();
    }
    return "HTTP " + status + (code == null ? "" : " (" + code + ")") + ": " + message;
  }

  /** Without the key, key-like tokens, or more than a few hundred characters. */
  private String clean(String text) {
    String out = text == null ? "" : text;
    if (apiKey.length() >= 4) {
      out = out.replace(apiKey, "[redacted]");
    }
    out = KEY_LIKE.matcher(out).replaceAll("$1[redacted]");
    return out.length() > MAX_ERROR_CHARS ? out.substring(0, MAX_ERROR_CHARS) + "..." : out;
  }

  private static Attempt limits(Attempt a, Function<String, String> headers) {
    long rpm = headerLong(headers, "x-ratelimit-limit-requests");
    long tpm = headerLong(headers, "x-ratelimit-limit-tokens");
    return rpm < 0 && tpm < 0 ? a : a.withLimits(rpm, tpm);
  }

  private static long headerLong(Function<String, String> headers, String name) {
    String v = headers.apply(name);
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      try {
        return (long) Double.parseDouble(v.trim());
      } catch (NumberFormatException e2) {
        return -1;
      }
    }
  }

  /**
   * retry-after-ms (ms), else Retry-After (seconds or an HTTP date), else -1; {@code headers} gives
   * a header's first value by name (case-insensitive), or null.
   */
  static long retryAfterMs(Function<String, String> headers) {
    String ms = headers.apply("retry-after-ms");
    if (ms != null) {
      try {
        double v = Double.parseDouble(ms.trim());
        if (v >= 0) {
          return Math.round(v);
        }
      } catch (NumberFormatException ignored) {
        // try Retry-After
      }
    }
    String s = headers.apply("retry-after");
    if (s == null) {
      return -1;
    }
    try {
      double v = Double.parseDouble(s.trim());
      return v >= 0 ? Math.round(v * 1000) : -1;
    } catch (NumberFormatException e) {
      try {
        long at =
            ZonedDateTime.parse(s.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                .toInstant()
                .toEpochMilli();
        return Math.max(0, at - System.currentTimeMillis());
      } catch (RuntimeException e2) {
        return -1;
      }
    }
  }

  private static long millis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
