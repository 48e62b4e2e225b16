package io.qaforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.qaforge.QaforgeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Layered settings: {@code reference.conf} (in the jar) &lt; each {@code --conf FILE} in the order
 * given &lt; each {@code --set key=value}. Everything is read and checked here, before a Spark
 * session exists: unknown keys, malformed values and secrets placed in files are rejected with a
 * message naming the key, the bad value, where it came from and the fix.
 *
 * <p>Secrets (any key whose name says key/secret/password/token) come only from environment
 * variables through {@code ${?VAR}} substitutions in reference.conf, and are masked whenever
 * settings are printed.
 */
public final class Settings {
  /**
   * A key is secret when its last segment names a secret (max-tokens, tokenizer and key-file are
   * not).
   */
  private static final Pattern SECRET =
      Pattern.compile(
          "(?i)(.*[.-])?(secret|secret-key|password|token|api-key|access-key|credentials?)$");

  /** Objects whose children are free-form names (for example model aliases). */
  private static final Set<String> OPEN_OBJECTS =
      Set.of("llm.models", "spark.conf", "craft.tasks", "craft.sizes");

  /** The top-level namespaces qaforge owns; everything else on the classpath is ignored. */
  private static final List<String> OWN_TOP_LEVEL =
      List.of(
          "output", "catalog", "s3", "llm", "prompts", "ingest", "calibration", "craft", "spark");

  private final Config config;
  private final List<String> layers;

  private Settings(Config config, List<String> layers) {
    this.config = config;
    this.layers = List.copyOf(layers);
  }

  /** Loads the layers with the real process environment. */
  public static Settings load(List<Path> confFiles, List<String> sets) {
    return load(confFiles, sets, System.getenv());
  }

  /** Loads the layers; {@code env} stands in for the process environment (tests). */
  public static Settings load(List<Path> confFiles, List<String> sets, Map<String, String> env) {
    Config reference =
        ConfigFactory.parseResources(Settings.class.getClassLoader(), "reference.conf");
    if (reference.isEmpty()) {
      throw new QaforgeException(
          "Cannot load settings: reference.conf is missing from the classpath",
          "the application jar is incomplete or the classpath does not contain it",
          "rebuild with `mvn package` and run through submit/local.sh or submit/cluster.sh");
    }
    List<String> layers = new ArrayList<>();
    layers.add("reference.conf");
    Config merged = reference;
    // for key checks only: the defaults with ${?ENV} fallbacks dropped
    Config known =
        reference.resolve(
            ConfigResolveOptions.defaults()
                .setUseSystemEnvironment(false)
                .setAllowUnresolved(true));
    for (Path file : confFiles) {
      Config layer = parseFile(file);
      checkKeys(layer, known, "settings file " + file);
      merged = layer.withFallback(merged);
      layers.add(file.toString());
    }
    for (String set : sets) {
      Config layer = parseSet(set);
      // values are never echoed in messages: a mistyped key may still carry a secret
      checkKeys(layer, known, "--set " + set.substring(0, set.indexOf('=')).trim());
      merged = layer.withFallback(merged);
      layers.add("--set " + set.substring(0, set.indexOf('=')));
    }
    // The environment is a fallback layer for ${?VAR} substitutions only; it is dropped again right
    // after resolution so that nothing from it can be printed.
    Config envConfig = ConfigValueFactory.fromMap(env).toConfig();
    Config resolved;
    try {
      resolved =
          merged
              .withFallback(envConfig)
              .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
    } catch (ConfigException e) {
      throw new QaforgeException(
          "Cannot resolve settings",
          e.getClass().getSimpleName()
              + " at "
              + (e.origin() == null ? "?" : e.origin().description()),
          "fix the ${...} substitution at that place");
    }
    Config own = ConfigFactory.empty();
    for (String k : OWN_TOP_LEVEL) {
      if (resolved.hasPath(k)) {
        own = own.withValue(k, resolved.getValue(k));
      }
    }
    return new Settings(own, layers);
  }

  /** Settings from reference.conf plus the given HOCON text (tests, embedded use). */
  public static Settings fromString(String hocon, Map<String, String> env) {
    try {
      Path tmp = Files.createTempFile("qaforge", ".conf");
      Files.writeString(tmp, hocon);
      try {
        return load(List.of(tmp), List.of(), env);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Config parseFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new QaforgeException(
          "Cannot read settings file " + file,
          Files.exists(file) ? "it is not a regular file" : "no such file",
          "pass an existing HOCON file with --conf (see conf/ for examples)");
    }
    try {
      return ConfigFactory.parseFile(
          file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new QaforgeException(
          "Cannot parse settings file " + file,
          e.getMessage(),
          "fix the HOCON syntax at the line named above");
    }
  }

  /**
   * Parses {@code key=value}. The value is a plain string unless it starts with '[', '{' or '"'
   * (then it is HOCON), so paths such as {@code s3a://bucket/x} need no quoting. Numbers and
   * booleans given as strings are converted when read.
   */
  static Config parseSet(String set) {
    int eq = set.indexOf('=');
    if (eq <= 0) {
      throw new QaforgeException(
          "Invalid --set " + set, "expected key=value", "write it as --set output.root=/data/lake");
    }
    String key = set.substring(0, eq).trim();
    String value = set.substring(eq + 1).trim();
    try {
      if (value.startsWith("[") || value.startsWith("{") || value.startsWith("\"")) {
        return ConfigFactory.parseString(key + " = " + value)
            .withFallback(ConfigFactory.empty("--set " + key));
      }
      return ConfigFactory.empty("--set " + key)
          .withValue(key, ConfigValueFactory.fromAnyRef(value, "--set " + key));
    } catch (ConfigException e) {
      throw new QaforgeException(
          "Invalid --set " + key + "=...",
          e.getMessage(),
          "use a dotted key from reference.conf, e.g. --set ingest.dataset=triviaqa");
    }
  }

  private static void checkKeys(Config layer, Config reference, String source) {
    for (Map.Entry<String, ConfigValue> e : layer.entrySet()) {
      String key = e.getKey();
      if (SECRET.matcher(key).matches()) {
        throw new QaforgeException(
            "Refusing secret setting " + key + " from " + source,
            "secrets must not be written in settings files or on the command line, where they end"
                + " up in shell history, process lists and logs",
            "export it in the environment instead (reference.conf names the variable, e.g."
                + " AWS_SECRET_ACCESS_KEY or OPENAI_API_KEY)");
      }
      if (isOpen(key)) {
        continue;
      }
      if (!reference.hasPathOrNull(key)) {
        throw new QaforgeException(
            "Unknown setting " + key + " (from " + source + ")",
            "reference.conf defines no such key" + suggestion(key, reference),
            "correct the key name; valid keys are listed with their defaults in reference.conf"
                + " (print the effective settings with `qaforge settings`)");
      }
      ConfigValue ref = reference.getValue(key);
      if (ref.valueType() == ConfigValueType.LIST
          && e.getValue().valueType() != ConfigValueType.LIST) {
        throw invalid(key, e.getValue(), "must be a list [...]");
      }
    }
    // a user list of objects replaces the default list; an object given where a scalar is expected
    // (or vice versa) shows up as a missing leaf above.
  }

  private static boolean isOpen(String key) {
    for (String open : OPEN_OBJECTS) {
      if (key.startsWith(open + ".")) {
        return true;
      }
    }
    return false;
  }

  private static String suggestion(String key, Config reference) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : leafKeys(reference)) {
      int d = levenshtein(key, candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return best != null && bestDistance <= Math.max(2, key.length() / 4)
        ? "; did you mean " + best + "?"
        : "";
  }

  private static Set<String> leafKeys(Config c) {
    Set<String> keys = new TreeSet<>();
    c.entrySet().forEach(e -> keys.add(e.getKey()));
    return keys;
  }

  private static int levenshtein(String a, String b) {
    return org.apache.commons.text.similarity.LevenshteinDistance.getDefaultInstance().apply(a, b);
  }

  /** A validation error for {@code key} with its current value and origin. */
  public static QaforgeException invalid(String key, ConfigValue value, String rule) {
    String shown = SECRET.matcher(key).matches() ? "<redacted>" : render(value);
    String origin = value == null ? "" : " (set in " + value.origin().description() + ")";
    return new QaforgeException(
        "Invalid " + key + ": " + shown + origin,
        "the value " + rule,
        "change " + key + " in your --conf file or with --set " + key + "=...");
  }

  public QaforgeException invalid(String key, String rule) {
    return invalid(key, config.hasPathOrNull(key) ? config.getValue(key) : null, rule);
  }

  private static String render(ConfigValue value) {
    return value == null ? "<missing>" : value.render(ConfigRenderOptions.concise());
  }

  // ---- typed reads; every failure names the key and its origin ----

  public Config config() {
    return config;
  }

  public String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException.WrongType e) {
      throw invalid(key, "must be a string");
    }
  }

  public int intAtLeast(String key, int min) {
    int v;
    try {
      v = config.getInt(key);
    } catch (ConfigException.WrongType e) {
      throw invalid(key, "must be a whole number >= " + min);
    }
    if (v < min) {
      throw invalid(key, "must be a whole number >= " + min);
    }
    return v;
  }

  public boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException.WrongType e) {
      throw invalid(key, "must be true or false");
    }
  }

  public String oneOf(String key, List<String> allowed) {
    String v = string(key).toLowerCase(Locale.ROOT);
    if (!allowed.contains(v)) {
      throw invalid(key, "must be one of " + String.join(", ", allowed));
    }
    return v;
  }

  /** The settings as HOCON with every secret masked, for printing and logs. */
  public String redacted() {
    Config shown = config;
    for (Map.Entry<String, ConfigValue> e : shown.entrySet()) {
      if (SECRET.matcher(e.getKey()).matches()) {
        String v = e.getValue().unwrapped().toString();
        shown =
            shown.withValue(
                e.getKey(), ConfigValueFactory.fromAnyRef(v.isEmpty() ? "" : "<redacted>"));
      }
    }
    return "# layers: "
        + String.join(" < ", layers)
        + "\n"
        + shown.root().render(ConfigRenderOptions.defaults().setOriginComments(false));
  }

  /** Layers in precedence order, lowest first. */
  public List<String> layers() {
    return layers;
  }

  /** Keys of an object setting, sorted (for open maps such as model aliases). */
  public List<String> childKeys(String key) {
    List<String> keys = new ArrayList<>(config.getObject(key).keySet());
    keys.sort(Comparator.naturalOrder());
    return keys;
  }
}
