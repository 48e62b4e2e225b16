package io.qaforge.llm.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.MultipartField;
import com.openai.core.ObjectMappers;
import com.openai.core.Timeout;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import io.qaforge.QaforgeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;

/**
 * The driver-side calls of the OpenAI Files and Batch API, on the official openai-java SDK built
 * like {@link io.qaforge.llm.OpenAiHttpClient} (our own okhttp client, the base URL and key given,
 * the placeholder key "none" when there is none, answers read as raw JSON with Jackson so that
 * compatible servers that omit fields still work).
 *
 * <p><b>Retries</b>: control calls (create, retrieve, cancel) are retried by the SDK up to {@link
 * Options#maxRetries} times on connection errors, 408, 409, 429 and 5xx, with its backoff. Uploads
 * and downloads are retried as many times by this class (the file is sent again from the start, a
 * download starts over), since a consumed upload stream cannot be replayed by the SDK.
 *
 * <p><b>Timeouts</b>: control calls get {@link Options#timeout} for the whole call (connect capped
 * at 10 s); uploads and downloads get {@link Options#transferTimeout} for the whole transfer and
 * {@link Options#timeout} as the longest silence while reading or writing.
 *
 * <p><b>Errors</b>: anything that keeps a control call from succeeding (bad key, unreachable
 * server, no Batch API on the server, unknown id, rejected request) is a run-level problem: a
 * {@link QaforgeException} with the problem, the cause and the fix. Its texts and its cause never
 * contain the API key (it is redacted, as are key-like tokens, even when a server echoes it).
 */
public final class BatchApi implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final ObjectMapper SDK_JSON = ObjectMappers.jsonMapper();
  private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Pattern KEY_LIKE = Pattern.compile("\\b(sk-|Bearer\\s+)[A-Za-z0-9._*\\-]+");
  private static final int MAX_ERROR_CHARS = 500;

  /** Default completion window; the only one OpenAI accepts today. */
  public static final String COMPLETION_WINDOW = "24h";

  /**
   * Client settings.
   *
   * @param timeout per control call (create, retrieve, cancel), and the longest silence during a
   *     transfer
   * @param transferTimeout per upload or download (200 MB files take a while)
   * @param maxRetries retries of a call on connection errors, 408, 409, 429 and 5xx
   */
  public record Options(Duration timeout, Duration transferTimeout, int maxRetries) {
    public Options {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive");
      }
      if (transferTimeout == null || transferTimeout.isNegative() || transferTimeout.isZero()) {
        throw new IllegalArgumentException("transferTimeout must be positive");
      }
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0");
      }
    }

    /** 60 s per control call, 1 h per transfer, 3 retries. */
    public static Options defaults() {
      return new Options(Duration.ofSeconds(60), Duration.ofHours(1), 3);
    }

    public Options withMaxRetries(int retries) {
      return new Options(timeout, transferTimeout, retries);
    }

    public Options withTimeout(Duration value) {
      return new Options(value, transferTimeout, maxRetries);
    }
  }

  /** An input file uploaded and its batch created. */
  public record Submitted(BatchInput input, String fileId, String batchId) {}

  private final String baseUrl;
  private final String apiKey; // only to redact it from error texts
  private final Options options;
  private final OkHttpClient http;
  private final OpenAIClient control;
  private final OpenAIClient transfer;

  /** With {@link Options#defaults()}. */
  public BatchApi(String baseUrl, String apiKey) {
    this(baseUrl, apiKey, Options.defaults());
  }

  public BatchApi(String baseUrl, String apiKey, Options options) {
    if (baseUrl == null || baseUrl.isBlank()) {
      throw new IllegalArgumentException("baseUrl is required (e.g. https://api.openai.com/v1)");
    }
    this.baseUrl = baseUrl;
    this.apiKey = apiKey == null ? "" : apiKey;
    this.options = options;
    Duration t = options.timeout();
    Duration connect = t.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? t : MAX_CONNECT_TIMEOUT;
    this.http =
        new OkHttpClient.Builder()
            .connectionPool(new ConnectionPool(4, 5, java.util.concurrent.TimeUnit.MINUTES))
            .connectTimeout(connect)
            .readTimeout(t)
            .writeTimeout(t)
            .callTimeout(t)
            .retryOnConnectionFailure(false)
            .build();
    String key = this.apiKey.isEmpty() ? "none" : this.apiKey;
    this.control =
        OpenAIOkHttpClient.builder()
            .baseUrl(baseUrl)
            .apiKey(key)
            .maxRetries(options.maxRetries())
            .okHttpClient(http)
            .timeout(Timeout.builder().connect(connect).read(t).write(t).request(t).build())
            .build();
    this.transfer =
        OpenAIOkHttpClient.builder()
            .baseUrl(baseUrl)
            .apiKey(key)
            .maxRetries(0)
            .okHttpClient(http)
            .timeout(
                Timeout.builder()
                    .connect(connect)
                    .read(t)
                    .write(t)
                    .request(options.transferTimeout())
                    .build())
            .build();
  }

  // ----------------------------------------------------------------------------------- calls

  /** Uploads a batch input file (purpose "batch") and returns its file id. */
  public String upload(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new QaforgeException(
          "Cannot upload batch input file " + file,
          "the file does not exist",
          "write the input files first (BatchFiles.write) and pass one of the paths it returns");
    }
    return withRetries(
        "upload " + file.getFileName(),
        () -> {
          InputStream in;
          try {
            in = Files.newInputStream(file);
          } catch (IOException e) {
            throw new LocalProblem("Cannot read batch input file " + file, e);
          }
          // our own stream, closed whatever happens (the SDK leaves that to the caller)
          try (in) {
            FileCreateParams params =
                FileCreateParams.builder()
                    .file(
                        MultipartField.<InputStream>builder()
                            .value(in)
                            .filename(file.getFileName().toString())
                            .build())
                    .purpose(FilePurpose.BATCH)
                    .build();
            try (HttpResponse r = transfer.files().withRawResponse().create(params)) {
              return required(read(r), "id", "upload " + file.getFileName());
            }
          } catch (IOException e) { // closing the local file
            throw new LocalProblem("Cannot read batch input file " + file, e);
          }
        });
  }

  /** Creates a batch with the {@value #COMPLETION_WINDOW} window; returns the batch id. */
  public String create(String inputFileId, String endpoint, Map<String, String> metadata) {
    return create(inputFileId, endpoint, COMPLETION_WINDOW, metadata);
  }

  /**
   * Creates a batch over an uploaded input file.
   *
   * @param endpoint the endpoint of every line ({@link BatchInput#endpoint()})
   * @param metadata labels shown in the API's batch list (run id, step, part): at most 16 pairs,
   *     keys up to 64 characters, values up to 512; null = none
   * @return the batch id
   */
  public String create(
      String inputFileId, String endpoint, String completionWindow, Map<String, String> metadata) {
    checkMetadata(metadata);
    BatchCreateParams.Builder b =
        BatchCreateParams.builder()
            .inputFileId(inputFileId)
            .endpoint(BatchCreateParams.Endpoint.of(endpoint))
            .completionWindow(BatchCreateParams.CompletionWindow.of(completionWindow));
    if (metadata != null && !metadata.isEmpty()) {
      BatchCreateParams.Metadata.Builder m = BatchCreateParams.Metadata.builder();
      metadata.forEach((k, v) -> m.putAdditionalProperty(k, JsonValue.from(v)));
      b.metadata(m.build());
    }
    BatchCreateParams params = b.build();
    return call(
        "create a batch for file " + inputFileId,
        () -> {
          try (HttpResponse r = control.batches().withRawResponse().create(params)) {
            return required(read(r), "id", "create a batch");
          }
        });
  }

  /** Uploads {@code input} and creates its batch (endpoint from the file). */
  public Submitted submit(BatchInput input, Map<String, String> metadata) {
    checkMetadata(metadata);
    String fileId = upload(input.path());
    return new Submitted(input, fileId, create(fileId, input.endpoint(), metadata));
  }

  /** The batch's current status (a poll). */
  public BatchStatus retrieve(String batchId) {
    return call(
        "read the status of batch " + batchId,
        () -> {
          try (HttpResponse r = control.batches().withRawResponse().retrieve(batchId)) {
            return BatchStatus.parse(read(r));
          }
        });
  }

  /** Asks the API to cancel the batch; returns its status (cancelling, or already final). */
  public BatchStatus cancel(String batchId) {
    return call(
        "cancel batch " + batchId,
        () -> {
          try (HttpResponse r = control.batches().withRawResponse().cancel(batchId)) {
            return BatchStatus.parse(read(r));
          }
        });
  }

  /**
   * Streams a file's content (an output or error file) to {@code target} and returns its size. The
   * bytes go to {@code target + ".part"} first and are moved into place when complete, so a failed
   * download never leaves a partial file under the target name.
   */
  public long download(String fileId, Path target) {
    Path part = target.resolveSibling(target.getFileName() + ".part");
    String diskProblem = "Cannot store the download of file " + fileId + " in " + target;
    try {
      return download(fileId, target, part, diskProblem);
    } catch (RuntimeException e) {
      try {
        Files.deleteIfExists(part);
      } catch (IOException ignored) {
        // the exception says what went wrong
      }
      throw e;
    }
  }

  private long download(String fileId, Path target, Path part, String diskProblem) {
    return withRetries(
        "download file " + fileId,
        () -> {
          try {
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null) {
              Files.createDirectories(parent);
            }
          } catch (IOException e) {
            throw new LocalProblem(diskProblem, e);
          }
          long n = 0;
          try (HttpResponse r = transfer.files().content(fileId);
              InputStream in = r.body();
              OutputStream out = open(part, diskProblem)) {
            byte[] buf = new byte[1 << 16];
            for (int k = in.read(buf); k >= 0; k = in.read(buf)) {
              try {
                out.write(buf, 0, k);
              } catch (IOException e) {
                throw new LocalProblem(diskProblem, e);
              }
              n += k;
            }
          } catch (IOException e) { // reading the body (the network): retried
            throw new UncheckedIOException(e);
          }
          try {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
          } catch (IOException e) {
            throw new LocalProblem(diskProblem, e);
          }
          return n;
        });
  }

  /**
   * Polls until the batch is terminal (completed, failed, expired, cancelled) or {@code maxWait}
   * has passed, calling {@code onPoll} with every status read (null = no callback). Returns the
   * last status: check {@link BatchStatus#terminal()}; a batch still running after {@code maxWait}
   * keeps running on the server.
   */
  public BatchStatus await(
      String batchId, Duration pollInterval, Duration maxWait, Consumer<BatchStatus> onPoll)
      throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    while (true) {
      BatchStatus s = retrieve(batchId);
      if (onPoll != null) {
        onPoll.accept(s);
      }
      if (s.terminal() || System.nanoTime() - deadline >= 0) {
        return s;
      }
      long left = (deadline - System.nanoTime()) / 1_000_000;
      Thread.sleep(Math.max(1, Math.min(pollInterval.toMillis(), left)));
    }
  }

  @Override
  public void close() {
    control.close();
    transfer.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  @Override
  public String toString() {
    return "BatchApi[baseUrl="
        + baseUrl
        + ", apiKey="
        + (apiKey.isEmpty() ? "(none)" : "***")
        + ", "
        + options
        + "]";
  }

  // -------------------------------------------------------------------------------- internals

  /** A local disk failure during a transfer (not retried, not the server's fault). */
  private static final class LocalProblem extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String problem;

    LocalProblem(String problem, IOException e) {
      super(e);
      this.problem = problem;
    }
  }

  private static OutputStream open(Path part, String problem) {
    try {
      return Files.newOutputStream(part);
    } catch (IOException e) {
      throw new LocalProblem(problem, e);
    }
  }

  static void checkMetadata(Map<String, String> metadata) {
    if (metadata == null) {
      return;
    }
    if (metadata.size() > 16) {
      throw new IllegalArgumentException(
          "batch metadata takes at most 16 pairs, not " + metadata.size());
    }
    metadata.forEach(
        (k, v) -> {
          if (k == null || k.isEmpty() || k.length() > 64) {
            throw new IllegalArgumentException(
                "batch metadata keys must have 1-64 characters: '" + k + "'");
          }
          if (v == null || v.length() > 512) {
            throw new IllegalArgumentException(
                "batch metadata values must have at most 512 characters (key '" + k + "')");
          }
        });
  }

  private static JsonNode read(HttpResponse r) {
    try (InputStream in = r.body()) {
      JsonNode n = MAPPER.readTree(in);
      if (n == null || !n.isObject()) {
        throw new IllegalStateException("the answer is not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new IllegalStateException("the answer is not JSON: " + e.getMessage(), e);
    }
  }

  private static String required(JsonNode n, String field, String action) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw new IllegalStateException("the answer to '" + action + "' has no " + field);
    }
    return v.textValue();
  }

  /** A control call: the SDK retries; any failure becomes a QaforgeException. */
  private <T> T call(String action, Supplier<T> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      throw problem(action, e);
    }
  }

  /** A transfer: retried here (the SDK runs it with no retries), failures as in {@link #call}. */
  private <T> T withRetries(String action, Supplier<T> work) {
    for (int attempt = 0; ; attempt++) {
      try {
        return work.get();
      } catch (LocalProblem e) {
        IOException io = (IOException) e.getCause();
        throw new QaforgeException(
            e.problem,
            io.getClass().getSimpleName() + ": " + io.getMessage(),
            "check that the file or folder is readable/writable and the disk has room",
            io);
      } catch (RuntimeException e) {
        if (attempt >= options.maxRetries() || !retryable(e)) {
          throw problem(action, e);
        }
        try {
          Thread.sleep(Math.min(8_000L, 500L << Math.min(attempt, 4)));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw problem(action, e);
        }
      }
    }
  }

  private static boolean retryable(RuntimeException e) {
    OpenAIServiceException se = find(e, OpenAIServiceException.class);
    if (se != null) {
      int s = se.statusCode();
      return s == 408 || s == 409 || s == 429 || s >= 500;
    }
    return find(e, IOException.class) != null;
  }

  private static <X extends Throwable> X find(Throwable e, Class<X> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** The run-level exception for a failed call: problem, cause, fix; no key anywhere. */
  QaforgeException problem(String action, Throwable e) {
    String where = " (" + baseUrl + ")";
    OpenAIServiceException se = find(e, OpenAIServiceException.class);
    String problem;
    String reason;
    String fix;
    if (se != null) {
      int status = se.statusCode();
      reason = clean(errorText(se));
      switch (status) {
        case 401:
          problem = "The Batch API refused the API key, so it could not " + action + where;
          fix =
              "set OPENAI_API_KEY (or llm.key-file) to a valid key for this server; keys are"
                  + " never read from settings files";
          break;
        case 403:
          problem = "The API key may not " + action + where;
          fix =
              "use a key (and project) that has access to the Files and Batch API, or run the"
                  + " step online instead of as a batch";
          break;
        case 404:
          problem = "Not found while trying to " + action + where;
          fix =
              "check the id (files and batches belong to one organization and project; output"
                  + " files are deleted after 30 days); if the server has no Batch API (vLLM,"
                  + " llama.cpp server, Ollama), run the step online instead";
          break;
        case 429:
          problem = "The Batch API is rate limited or over quota; it could not " + action + where;
          fix =
              "wait and retry; for batch creation, check the organization's batch queue limit"
                  + " (tokens enqueued per model) and submit fewer files at once";
          break;
        default:
          if (status >= 500 || status == 408 || status == 409) {
            problem =
                "The Batch API failed "
                    + (options.maxRetries() + 1)
                    + " times to "
                    + action
                    + where;
            fix = "retry later; the server reported an error on its side";
          } else {
            problem = "The Batch API rejected the request to " + action + where;
            fix = "see the cause; the request (file, endpoint, window or metadata) must be fixed";
          }
      }
    } else {
      IOException io = find(e, IOException.class);
      if (io instanceof InterruptedIOException) {
        problem = "The Batch API did not answer in time; it could not " + action + where;
        reason = clean(io.getClass().getSimpleName() + ": " + io.getMessage());
        fix =
            "check the network path to the server, or raise the timeout (now "
                + options.timeout().toSeconds()
                + " s per call, "
                + options.transferTimeout().toMinutes()
                + " min per transfer)";
      } else if (io != null) {
        problem = "Cannot reach the Batch API at " + baseUrl + " to " + action;
        reason = clean(io.getClass().getSimpleName() + ": " + io.getMessage());
        fix =
            "check llm.base-url / OPENAI_BASE_URL (for OpenAI: https://api.openai.com/v1) and"
                + " that the server is running and reachable from the driver";
      } else {
        problem = "Unexpected answer while trying to " + action + where;
        reason = clean(e.getClass().getSimpleName() + ": " + e.getMessage());
        fix =
            "check that the server implements the OpenAI Files and Batch API; run the step"
                + " online if it does not";
      }
    }
    return new QaforgeException(problem, reason, fix, redacted(e));
  }

  /** "HTTP 400 (code): message" from the error body ({error: {message, code}}). */
  private static String errorText(OpenAIServiceException se) {
    String message = null;
    String code = null;
    try {
      JsonNode body = SDK_JSON.valueToTree(se.body());
      JsonNode err = body == null ? null : body.get("error");
      JsonNode fields = err != null && err.isObject() ? err : body;
      if (err != null && err.isTextual()) {
        message = err.textValue();
      }
      if (fields != null && fields.isObject()) {
        if (message == null && fields.path("message").isTextual()) {
          message = fields.path("message").textValue();
        }
        if (fields.path("code").isTextual()) {
          code = fields.path("code").textValue();
        }
      }
    } catch (RuntimeException ignored) {
      // fall back to the exception text
    }
    if (message == null) {
      message = se.getMessage();
    }
    return "HTTP " + se.statusCode() + (code == null ? "" : " (" + code + ")") + ": " + message;
  }

  /** Without the key, key-like tokens, or more than a few hundred characters. */
  String clean(String text) {
    String out = text == null ? "" : text;
    if (apiKey.length() >= 4) {
      out = out.replace(apiKey, "[redacted]");
    }
    out = KEY_LIKE.matcher(out).replaceAll("$1[redacted]");
    return out.length() > MAX_ERROR_CHARS ? out.substring(0, MAX_ERROR_CHARS) + "..." : out;
  }

  /** A stand-in for the SDK exception whose texts (and causes') are redacted. */
  private Throwable redacted(Throwable e) {
    Throwable root = null;
    Throwable last = null;
    int depth = 0;
    for (Throwable t = e; t != null && depth < 8; t = t.getCause(), depth++) {
      RuntimeException copy =
          new RuntimeException(clean(t.getClass().getName() + ": " + t.getMessage()));
      copy.setStackTrace(t.getStackTrace());
      if (root == null) {
        root = copy;
      } else {
        last.initCause(copy);
      }
      last = copy;
      if (t.getCause() == t) {
        break;
      }
    }
    return root;
  }
}
