package io.qaforge.llm;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.qaforge.QaforgeException;
import io.qaforge.config.Settings;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The typed {@code llm.*} settings, validated eagerly (before any Spark job). */
public record LlmSettings(
    String baseUrl,
    Secret apiKey,
    boolean dryRun,
    String defaultAlias,
    Map<String, ModelSpec> models,
    Duration requestTimeout,
    RetryPolicy retry,
    int maxInFlightPerTask,
    int chunkSize,
    Duration chunkInterval,
    List<String> retryStatuses,
    Duration progressInterval,
    double maxCostUsd,
    long maxRequests,
    LlamaCppClient.Options llamaCpp,
    Duration breakerOpenAfter,
    int breakerMinFailures,
    Batch batch)
    implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final List<String> BACKENDS =
      List.of("openai", "openai-batch", "llama-cpp", "dry-run");

  /**
   * {@code llm.batch.*}: how aliases with backend = openai-batch use the OpenAI Batch API.
   *
   * @param retry how failed or expired lines of a finished batch are sent again: "batch" (in a new
   *     batch) or "online" (through the online client)
   */
  public record Batch(
      boolean waitForResults,
      Duration pollInterval,
      Duration maxWait,
      String completionWindow,
      int maxLines,
      long maxBytes,
      double discount,
      String retry,
      List<String> importFiles)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  private static final List<String> STYLES = List.of("chat", "completion");
  private static final Set<String> ALIAS_KEYS =
      Set.of(
          "backend",
          "model",
          "style",
          "input-usd-per-mtok",
          "output-usd-per-mtok",
          "context-window",
          "tokenizer",
          "requests-per-minute",
          "tokens-per-minute",
          "model-path");

  public static LlmSettings from(Settings s) {
    String baseUrl = s.string("llm.base-url").strip();
    if (!baseUrl.isEmpty() && !baseUrl.matches("https?://.+")) {
      throw s.invalid(
          "llm.base-url", "must be an http:// or https:// URL such as http://127.0.0.1:8000/v1");
    }
    Secret key = new Secret(s.string("llm.api-key"));
    String keyFile = s.string("llm.key-file");
    if (!keyFile.isEmpty()) {
      try {
        key = new Secret(Files.readString(Path.of(keyFile)).strip());
      } catch (IOException e) {
        throw new QaforgeException(
            "Cannot read llm.key-file " + keyFile,
            e.getClass().getSimpleName() + ": " + e.getMessage(),
            "point llm.key-file at a readable file that holds only the API key, or export OPENAI_API_KEY");
      }
    }
    if (baseUrl.isEmpty() && !key.isEmpty()) {
      baseUrl = "https://api.openai.com/v1"; // a key alone means OpenAI itself
    }
    Map<String, ModelSpec> models = new LinkedHashMap<>();
    for (String alias : s.childKeys("llm.models")) {
      models.put(alias, spec(s, alias, baseUrl));
    }
    String defaultAlias = s.string("llm.default-alias");
    if (!models.containsKey(defaultAlias)) {
      throw s.invalid(
          "llm.default-alias",
          "must name an alias under llm.models (" + String.join(", ", models.keySet()) + ")");
    }
    List<String> retryStatuses = s.config().getStringList("llm.retry-statuses");
    for (String st : retryStatuses) {
      if (!List.of(
              Result.FAILED,
              Result.SKIPPED_BUDGET,
              Result.INVALID_OUTPUT,
              Result.TRUNCATED,
              Result.REFUSED)
          .contains(st)) {
        throw s.invalid(
            "llm.retry-statuses",
            "may hold failed, skipped_budget, invalid_output, truncated, refused");
      }
    }
    return new LlmSettings(
        baseUrl,
        key,
        s.bool("llm.dry-run"),
        defaultAlias,
        Map.copyOf(models),
        duration(s, "llm.request-timeout"),
        new RetryPolicy(
            s.intAtLeast("llm.max-attempts", 1),
            duration(s, "llm.backoff-initial").toMillis(),
            duration(s, "llm.backoff-max").toMillis(),
            s.intAtLeast("llm.repair-attempts", 0)),
        s.intAtLeast("llm.max-in-flight-per-task", 1),
        s.intAtLeast("llm.chunk-size", 1),
        duration(s, "llm.chunk-interval"),
        List.copyOf(retryStatuses),
        duration(s, "llm.progress-interval"),
        nonNegative(s, "llm.budget.max-cost-usd"),
        (long) nonNegative(s, "llm.budget.max-requests"),
        new LlamaCppClient.Options(
            s.intAtLeast("llm.llama-cpp.context-per-slot", 16),
            threads(s),
            s.intAtLeast("llm.llama-cpp.parallel-slots", 1)),
        duration(s, "llm.breaker.open-after"),
        s.intAtLeast("llm.breaker.min-failures", 1),
        batch(s));
  }

  private static Batch batch(Settings s) {
    String window = s.string("llm.batch.completion-window").strip();
    if (!window.matches("[1-9][0-9]*h")) {
      throw s.invalid("llm.batch.completion-window", "must be a number of hours such as 24h");
    }
    int maxLines = s.intAtLeast("llm.batch.max-lines", 1);
    if (maxLines > 50_000) {
      throw s.invalid("llm.batch.max-lines", "must be between 1 and 50000 (the API's limit)");
    }
    long maxBytes;
    try {
      maxBytes = s.config().getLong("llm.batch.max-bytes");
    } catch (ConfigException.WrongType e) {
      throw s.invalid("llm.batch.max-bytes", "must be a whole number of bytes");
    }
    if (maxBytes < 1 || maxBytes > 200_000_000L) {
      throw s.invalid("llm.batch.max-bytes", "must be between 1 and 200000000 (under 200 MB)");
    }
    return new Batch(
        s.bool("llm.batch.wait"),
        duration(s, "llm.batch.poll-interval"),
        duration(s, "llm.batch.max-wait"),
        window,
        maxLines,
        maxBytes,
        nonNegative(s, "llm.batch.discount"),
        s.oneOf("llm.batch.retry", List.of("batch", "online")),
        importFiles(s));
  }

  private static List<String> importFiles(Settings s) {
    List<String> files;
    try {
      files = s.config().getStringList("llm.batch.import");
    } catch (ConfigException.WrongType e) {
      throw s.invalid("llm.batch.import", "must be a list of file paths");
    }
    for (String f : files) {
      if (!java.nio.file.Files.isRegularFile(java.nio.file.Path.of(f))) {
        throw new io.qaforge.QaforgeException(
            "Cannot import the Batch API result file " + f,
            "no such file (llm.batch.import / --import-batch-output)",
            "give the path of the output or error .jsonl file you downloaded");
      }
    }
    return List.copyOf(files);
  }

  private static int threads(Settings s) {
    int t = s.intAtLeast("llm.llama-cpp.threads", 0);
    return t == 0 ? Math.max(1, Runtime.getRuntime().availableProcessors()) : t;
  }

  private static Duration duration(Settings s, String key) {
    try {
      Duration d = s.config().getDuration(key);
      if (d.isNegative() || d.isZero()) {
        throw s.invalid(key, "must be a positive duration such as 30s or 500ms");
      }
      return d;
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw s.invalid(key, "must be a duration such as 30s or 500ms");
    }
  }

  private static double nonNegative(Settings s, String key) {
    try {
      double v = s.config().getDouble(key);
      if (v < 0) {
        throw s.invalid(key, "must be >= 0 (0 = unlimited)");
      }
      return v;
    } catch (ConfigException.WrongType e) {
      throw s.invalid(key, "must be a number >= 0 (0 = unlimited)");
    }
  }

  private static ModelSpec spec(Settings s, String alias, String baseUrl) {
    String p = "llm.models." + alias;
    Config c;
    try {
      c = s.config().getConfig(p);
    } catch (ConfigException.WrongType e) {
      throw s.invalid(p, "must be an object { backend = ..., model = ... }");
    }
    for (String k : c.root().keySet()) {
      if (!ALIAS_KEYS.contains(k)) {
        throw s.invalid(
            p + "." + k,
            "is not an alias setting; use "
                + String.join(", ", new java.util.TreeSet<>(ALIAS_KEYS)));
      }
    }
    String backend = c.hasPath("backend") ? c.getString("backend") : "openai";
    if (!BACKENDS.contains(backend)) {
      throw s.invalid(p + ".backend", "must be one of " + String.join(", ", BACKENDS));
    }
    String style = c.hasPath("style") ? c.getString("style") : "chat";
    if (!STYLES.contains(style)) {
      throw s.invalid(p + ".style", "must be chat or completion");
    }
    String model = c.hasPath("model") ? c.getString("model") : alias;
    String tokenizer = c.hasPath("tokenizer") ? c.getString("tokenizer") : "o200k_base";
    try {
      TokenCounter.check(tokenizer);
    } catch (IllegalArgumentException e) {
      throw s.invalid(p + ".tokenizer", "must be o200k_base, cl100k_base, p50k_base or r50k_base");
    }
    String modelPath = c.hasPath("model-path") ? c.getString("model-path") : "";
    if (backend.equals("llama-cpp") && modelPath.isEmpty()) {
      throw s.invalid(p + ".model-path", "is required for backend = llama-cpp (a .gguf file)");
    }
    return new ModelSpec(
        alias,
        backend,
        model,
        style,
        baseUrl,
        number(s, c, p, "input-usd-per-mtok"),
        number(s, c, p, "output-usd-per-mtok"),
        (int) number(s, c, p, "context-window"),
        tokenizer,
        number(s, c, p, "requests-per-minute"),
        number(s, c, p, "tokens-per-minute"),
        modelPath);
  }

  private static double number(Settings s, Config c, String p, String key) {
    if (!c.hasPath(key)) {
      return 0;
    }
    try {
      double v = c.getDouble(key);
      if (v < 0) {
        throw s.invalid(p + "." + key, "must be >= 0");
      }
      return v;
    } catch (ConfigException.WrongType e) {
      throw s.invalid(p + "." + key, "must be a number >= 0");
    }
  }

  /** The alias, or a clear error listing the defined ones. */
  /** The same settings with every alias forced to dry-run (what `qaforge plan` uses). */
  public LlmSettings asDryRun() {
    return new LlmSettings(
        baseUrl,
        apiKey,
        true,
        defaultAlias,
        models,
        requestTimeout,
        retry,
        maxInFlightPerTask,
        chunkSize,
        chunkInterval,
        retryStatuses,
        progressInterval,
        maxCostUsd,
        maxRequests,
        llamaCpp,
        breakerOpenAfter,
        breakerMinFailures,
        batch);
  }

  public ModelSpec spec(String alias) {
    ModelSpec spec = models.get(alias);
    if (spec == null) {
      throw new QaforgeException(
          "Unknown model alias '" + alias + "'",
          "llm.models defines " + String.join(", ", new java.util.TreeSet<>(models.keySet())),
          "define llm.models."
              + alias
              + " { backend = ..., model = ... } in a --conf file or use a defined alias");
    }
    return spec;
  }

  /**
   * The backend that really serves the alias in this run: dry-run when forced, or when an openai or
   * openai-batch alias has no endpoint (no llm.base-url / OPENAI_BASE_URL).
   */
  public String effectiveBackend(String alias) {
    ModelSpec spec = spec(alias);
    if (dryRun || spec.backend().equals("dry-run")) {
      return "dry-run";
    }
    if ((spec.backend().equals("openai") || spec.backend().equals("openai-batch"))
        && baseUrl.isEmpty()) {
      return "dry-run";
    }
    return spec.backend();
  }
}
