package io.qaforge.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import io.qaforge.QaforgeException;
import java.io.IOException;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * In-process GGUF generation with java-llama.cpp ({@code de.kherud:llama:4.2.0}, the llama.cpp
 * server loop inside the JVM).
 *
 * <p><b>Sharing.</b> {@link #shared} keeps one loaded model per JVM for each (model file, context
 * per slot, threads, parallel slots); every Spark task of the executor uses it. The model has
 * {@code parallel} slots of {@code contextPerSlot} tokens each (native context = their product);
 * requests run on a small per-model pool with one thread per slot, and llama.cpp batches the slots
 * together. {@link #close()} does nothing (other tasks use the model); {@link #closeAll()} unloads
 * everything (tests).
 *
 * <p><b>Prompt.</b> Style {@code completion}: the message contents joined by a blank line, roles
 * dropped ({@link RequestBodies#prompt}, the rule of the HTTP backend). Style {@code chat}: the
 * model's chat template (llama.cpp's built-in template handling via {@code
 * LlamaModel.applyTemplate}; when the model has no template, or one llama.cpp does not recognise,
 * llama.cpp itself uses ChatML), with the generation prompt appended. System (and {@code
 * developer}) messages are joined with a blank line into the one system message the binding
 * supports, placed first; other roles must be {@code user} or {@code assistant}. If template
 * rendering fails natively the same ChatML layout is rendered in Java.
 *
 * <p><b>Sampling.</b> Null temperature / top-p mean llama.cpp's defaults (0.8 / 0.95). The seed is
 * an int: a given seed is used as is for sample 0 and mixed with the sample index otherwise;
 * without a seed it is derived from the request id and sample index. Same request, same output
 * (prompt caching is off so the prompt is always evaluated the same way). {@code maxTokens} becomes
 * n_predict, clamped to what is left of the slot's context after the prompt (the context never
 * shifts); without {@code maxTokens} generation may fill the slot's context.
 *
 * <p><b>Stop strings</b> are matched here on the streamed text (not in llama.cpp), so the result
 * knows it stopped on one: the content ends before the first occurrence of any stop string.
 *
 * <p><b>JSON schema</b>: converted once per schema to a GBNF grammar with {@link
 * LlamaModel#jsonSchemaToGrammar} and cached. That native call aborts the whole JVM on a schema it
 * cannot convert, so each new schema is first checked through llama.cpp's request path (which
 * reports the same conversion errors as an exception); an unsupported schema gives CLIENT_ERROR.
 *
 * <p><b>Counts and finish reason.</b> Prompt tokens = {@code encode(prompt).length} (without the
 * BOS token llama.cpp adds). Completion tokens = the number of streamed pieces: one per generated
 * token (the end-of-sequence token included), except that tokens which end inside a UTF-8 character
 * arrive merged with the next one, so the count can be slightly low for byte-fallback output
 * (emoji, rare scripts); it never exceeds {@code maxTokens}. The binding does not expose
 * llama.cpp's stop type, so finish_reason is inferred: {@code stop} when a stop string matched or
 * the last piece was the empty piece of an end-of-generation token, else {@code length} (n_predict
 * or the slot's context reached). Rare misreads: a non-EOG special token as the very last token
 * reads as stop; an EOS right after an incomplete UTF-8 byte sequence reads as length. {@code
 * latencyMs} is the generation time on the model (queueing for a free slot excluded).
 */
public final class LlamaCppClient implements LlmClient {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern REMOTE = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");

  /**
   * How a model file is loaded: tokens of context per slot, CPU threads, parallel slots (requests
   * decoded together). Part of the identity of a shared model.
   */
  public record Options(int contextPerSlot, int threads, int parallel) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Options {
      if (contextPerSlot < 16) {
        throw new IllegalArgumentException("contextPerSlot must be at least 16: " + contextPerSlot);
      }
      if (threads < 1 || parallel < 1) {
        throw new IllegalArgumentException("threads and parallel must be at least 1");
      }
    }

    /** 4096 tokens per slot, one thread per available core, one slot. */
    public static Options defaults() {
      return new Options(4096, Math.max(1, Runtime.getRuntime().availableProcessors()), 1);
    }
  }

  private record ModelKey(Path path, int contextPerSlot, int threads, int parallel) {}

  private record ClientKey(ModelKey model, String style) {}

  /** A schema's grammar, or why it cannot be used. */
  private record Grammar(String gbnf, String error) {}

  // guarded by LlamaCppClient.class
  private static final Map<ModelKey, Loaded> MODELS = new HashMap<>();
  private static final Map<ClientKey, LlamaCppClient> CLIENTS = new HashMap<>();

  private static final Map<String, Grammar> GRAMMARS = new ConcurrentHashMap<>();

  private final Loaded loaded;
  private final boolean chat;

  private LlamaCppClient(Loaded loaded, boolean chat) {
    this.loaded = loaded;
    this.chat = chat;
  }

  /**
   * The client for this alias's model file with these options: loads the model on first use in this
   * JVM, then returns the same instance.
   *
   * @throws QaforgeException when the model file is not a local, existing, loadable GGUF file
   */
  public static synchronized LlamaCppClient shared(ModelSpec spec, Options opts) {
    Path path = modelPath(spec);
    ModelKey mk = new ModelKey(path, opts.contextPerSlot(), opts.threads(), opts.parallel());
    boolean chat = !"completion".equalsIgnoreCase(spec.style());
    ClientKey ck = new ClientKey(mk, chat ? "chat" : "completion");
    LlamaCppClient c = CLIENTS.get(ck);
    if (c != null) {
      return c;
    }
    Loaded m = MODELS.get(mk);
    if (m == null) {
      m = load(spec, mk);
      MODELS.put(mk, m);
    }
    c = new LlamaCppClient(m, chat);
    CLIENTS.put(ck, c);
    return c;
  }

  /** Unloads every shared model (waiting for running requests); later sends fail. For tests. */
  public static synchronized void closeAll() {
    for (Loaded m : MODELS.values()) {
      m.close();
    }
    MODELS.clear();
    CLIENTS.clear();
    GRAMMARS.clear();
  }

  @Override
  public String backend() {
    return "llama-cpp";
  }

  /** The model name reported in attempts: the GGUF file name. */
  public String model() {
    return loaded.name;
  }

  @Override
  public CompletableFuture<Attempt> send(ChatRequest r) {
    if (loaded.closed) {
      return CompletableFuture.completedFuture(closedAttempt());
    }
    try {
      return CompletableFuture.supplyAsync(() -> generate(r), loaded.pool);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.completedFuture(closedAttempt());
    }
  }

  /** Does not unload the shared model: other tasks use it. See {@link #closeAll()}. */
  @Override
  public void close() {}

  // ---------------------------------------------------------------- generation

  private Attempt generate(ChatRequest r) {
    long t0 = System.nanoTime();
    try {
      String invalid = validate(r);
      if (invalid != null) {
        return fail(Attempt.Kind.CLIENT_ERROR, invalid, t0);
      }
      String prompt = prompt(r);
      LlamaModel model = loaded.model;
      int promptTokens = model.encode(prompt).length;
      // + 1 for the BOS token llama.cpp adds; the context never shifts, so prompt + output must fit
      int room = loaded.contextPerSlot - promptTokens - 1;
      if (room < 1) {
        return fail(
            Attempt.Kind.CLIENT_ERROR,
            "prompt of "
                + promptTokens
                + " tokens does not fit the llama-cpp context of "
                + loaded.contextPerSlot
                + " tokens per slot",
            t0);
      }
      int nPredict = r.maxTokens() == null ? room : Math.min(r.maxTokens(), room);
      InferenceParameters p =
          new InferenceParameters(prompt)
              .setNPredict(nPredict)
              .setSeed(seed(r))
              .setCachePrompt(false);
      if (r.temperature() != null) {
        p.setTemperature(r.temperature().floatValue());
      }
      if (r.topP() != null) {
        p.setTopP(r.topP().floatValue());
      }
      if (r.jsonSchema() != null) {
        Grammar g = grammar(r.jsonSchema());
        if (g.error != null) {
          return fail(Attempt.Kind.CLIENT_ERROR, g.error, t0);
        }
        p.setGrammar(g.gbnf);
      }
      return stream(model, p, r.stop(), promptTokens, t0);
    } catch (IllegalArgumentException e) {
      return fail(Attempt.Kind.CLIENT_ERROR, String.valueOf(e.getMessage()), t0);
    } catch (Exception e) {
      return nativeFailure(e, t0);
    }
  }

  private Attempt stream(
      LlamaModel model, InferenceParameters p, List<String> stops, int promptTokens, long t0) {
    List<String> stopList = new ArrayList<>();
    int maxStop = 0;
    for (String s : stops) {
      if (s != null && !s.isEmpty()) {
        stopList.add(s);
        maxStop = Math.max(maxStop, s.length());
      }
    }
    StringBuilder text = new StringBuilder();
    int pieces = 0;
    boolean lastPieceEmpty = false;
    LlamaIterator it = model.generate(p).iterator();
    while (it.hasNext()) {
      LlamaOutput out = it.next();
      if (!it.hasNext()) {
        // the final result: no token of its own; in streaming mode its text is empty
        text.append(out.text);
        break;
      }
      pieces++;
      lastPieceEmpty = out.text.isEmpty();
      int from = Math.max(0, text.length() - maxStop + 1);
      text.append(out.text);
      int at = firstStop(text, stopList, from);
      if (at >= 0) {
        it.cancel();
        text.setLength(at);
        return Attempt.ok(text.toString(), "stop", promptTokens, pieces, loaded.name, ms(t0));
      }
    }
    // a stop string can also be completed by the final text
    int at = firstStop(text, stopList, 0);
    if (at >= 0) {
      text.setLength(at);
      return Attempt.ok(text.toString(), "stop", promptTokens, pieces, loaded.name, ms(t0));
    }
    String finish = lastPieceEmpty ? "stop" : "length";
    return Attempt.ok(text.toString(), finish, promptTokens, pieces, loaded.name, ms(t0));
  }

  private static int firstStop(CharSequence text, List<String> stops, int from) {
    if (stops.isEmpty()) {
      return -1;
    }
    String s = text.toString();
    int best = -1;
    for (String stop : stops) {
      int i = s.indexOf(stop, from);
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
      }
    }
    return best;
  }

  /** Parameters that would break the native JSON request (NaN, ...) or make no sense. */
  private static String validate(ChatRequest r) {
    if (r.messages().isEmpty()) {
      return "request has no messages";
    }
    if (r.temperature() != null
        && (!Double.isFinite(r.temperature()) || r.temperature() < 0 || r.temperature() > 100)) {
      return "temperature must be a finite number >= 0: " + r.temperature();
    }
    if (r.topP() != null && (!Double.isFinite(r.topP()) || r.topP() < 0 || r.topP() > 1)) {
      return "top_p must be between 0 and 1: " + r.topP();
    }
    if (r.maxTokens() != null && r.maxTokens() < 1) {
      return "max_tokens must be at least 1: " + r.maxTokens();
    }
    return null;
  }

  // ---------------------------------------------------------------- prompt

  /** The text given to the model for this request (see the class comment for the rules). */
  String prompt(ChatRequest r) {
    return chat ? chatPrompt(loaded.model, r.messages()) : RequestBodies.prompt(r.messages());
  }

  private static String chatPrompt(LlamaModel model, List<Message> messages) {
    StringBuilder system = new StringBuilder();
    List<Pair<String, String>> turns = new ArrayList<>();
    for (Message m : messages) {
      String role = m.role() == null ? "" : m.role().toLowerCase(java.util.Locale.ROOT);
      String content = m.content() == null ? "" : m.content();
      switch (role) {
        case "system", "developer" -> {
          if (system.length() > 0) {
            system.append("\n\n");
          }
          system.append(content);
        }
        case "user", "assistant" -> turns.add(new Pair<>(role, content));
        default ->
            throw new IllegalArgumentException(
                "unsupported message role for llama-cpp: '" + m.role() + "'");
      }
    }
    String sys = system.length() == 0 ? null : system.toString();
    try {
      return model.applyTemplate(new InferenceParameters("").setMessages(sys, turns));
    } catch (RuntimeException e) {
      return chatMl(sys, turns);
    }
  }

  /** ChatML, llama.cpp's own fallback layout, with the assistant turn opened. */
  static String chatMl(String system, List<Pair<String, String>> turns) {
    StringBuilder sb = new StringBuilder();
    if (system != null) {
      sb.append("<|im_start|>system\n").append(system).append("<|im_end|>\n");
    }
    for (Pair<String, String> t : turns) {
      sb.append("<|im_start|>")
          .append(t.getKey())
          .append('\n')
          .append(t.getValue())
          .append("<|im_end|>\n");
    }
    return sb.append("<|im_start|>assistant\n").toString();
  }

  // ---------------------------------------------------------------- seed

  /**
   * The sampler seed: the request's seed (folded to an int) for sample 0, mixed with the sample
   * index for later samples; without a seed, a hash of the request id and sample index. Never -1
   * (llama.cpp's "random seed").
   */
  static int seed(ChatRequest r) {
    long v;
    if (r.seed() != null) {
      long s = r.seed();
      v = r.sampleIdx() == 0 ? s : mix(s ^ mix(0x5EEDL + r.sampleIdx()));
    } else {
      long h = 0xcbf29ce484222325L; // FNV-1a 64 over the request id
      String id = r.requestId() == null ? "" : r.requestId();
      for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
        h = (h ^ (b & 0xff)) * 0x100000001b3L;
      }
      v = mix(h ^ mix(0x5EEDL + r.sampleIdx()));
    }
    int seed = (int) (v ^ (v >>> 32));
    return seed == -1 ? 0x5EED : seed;
  }

  /** SplitMix64 finaliser. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  // ---------------------------------------------------------------- JSON schema

  private Grammar grammar(String schema) {
    Grammar g = GRAMMARS.get(schema);
    if (g == null) {
      g = compileGrammar(loaded.model, schema);
      Grammar prev = GRAMMARS.putIfAbsent(schema, g);
      if (prev != null) {
        g = prev;
      }
    }
    return g;
  }

  /**
   * {@code LlamaModel.jsonSchemaToGrammar} aborts the JVM (uncaught C++ exception) on any schema it
   * cannot convert, and on invalid JSON. So: parse and re-serialise with Jackson (valid JSON), then
   * let llama.cpp's request parser convert it once inside its try/catch (a one-token request with
   * {@code json_schema}; the binding has no setter for it, hence reflection), and only then call
   * jsonSchemaToGrammar, which runs the same converter on the same text.
   */
  private static Grammar compileGrammar(LlamaModel model, String schema) {
    String canonical;
    try {
      JsonNode node = MAPPER.readTree(schema);
      if (node == null || !node.isObject()) {
        return new Grammar(null, "JSON schema must be a JSON object");
      }
      canonical = MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      return new Grammar(null, "invalid JSON schema: " + e.getOriginalMessage());
    }
    InferenceParameters probe =
        new InferenceParameters("").setNPredict(1).setSeed(0).setTemperature(0f);
    try {
      rawParameter(probe, "json_schema", canonical);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return new Grammar(
          null, "cannot check the JSON schema safely with this java-llama.cpp version: " + e);
    }
    try {
      model.complete(probe);
    } catch (RuntimeException e) {
      return new Grammar(null, "unsupported JSON schema: " + nativeMessage(e));
    }
    return new Grammar(LlamaModel.jsonSchemaToGrammar(canonical), null);
  }

  @SuppressWarnings("unchecked")
  private static void rawParameter(InferenceParameters p, String key, String json)
      throws ReflectiveOperationException {
    Field f = InferenceParameters.class.getSuperclass().getDeclaredField("parameters");
    f.setAccessible(true);
    ((Map<String, String>) f.get(p)).put(key, json);
  }

  // ---------------------------------------------------------------- errors

  private Attempt nativeFailure(Exception e, long t0) {
    String msg = nativeMessage(e);
    String lower = msg.toLowerCase(java.util.Locale.ROOT);
    boolean client =
        lower.contains("invalid")
            || lower.contains("context")
            || lower.contains("too big")
            || lower.contains("exceed");
    return fail(client ? Attempt.Kind.CLIENT_ERROR : Attempt.Kind.SERVER_ERROR, msg, t0);
  }

  /** The message of a native error; request errors arrive as {"code":400,"message":...}. */
  private static String nativeMessage(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (m.startsWith("{")) {
      try {
        JsonNode n = MAPPER.readTree(m);
        if (n.hasNonNull("message")) {
          return n.get("message").asText();
        }
      } catch (JsonProcessingException ignored) {
        // keep the raw text
      }
    }
    return m;
  }

  private static Attempt fail(Attempt.Kind kind, String error, long t0) {
    String e = error.length() > 500 ? error.substring(0, 500) + "..." : error;
    return Attempt.failure(kind, 0, -1, "llama-cpp: " + e, ms(t0));
  }

  private static Attempt closedAttempt() {
    return Attempt.failure(Attempt.Kind.SERVER_ERROR, 0, -1, "llama-cpp: model was closed", 0);
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  // ---------------------------------------------------------------- loading

  private static Path modelPath(ModelSpec spec) {
    String alias = spec.alias();
    String fix = "set llm.models." + alias + ".model-path to an existing .gguf file";
    String s = spec.modelPath() == null ? "" : spec.modelPath().trim();
    if (s.isEmpty()) {
      throw new QaforgeException(
          "llama-cpp alias '" + alias + "' has no model file",
          "llm.models." + alias + ".model-path is empty",
          fix);
    }
    Path p;
    try {
      if (s.regionMatches(true, 0, "file:", 0, 5)) {
        URI u = URI.create(s);
        p = u.isOpaque() ? Paths.get(u.getSchemeSpecificPart()) : Paths.get(u);
      } else if (REMOTE.matcher(s).matches()) {
        throw new QaforgeException(
            "llama-cpp model file " + s + " is not a local file",
            "the client loads local files only; remote files must be fetched first (SparkFiles)",
            "ship the file to the executors (spark.files) or " + fix);
      } else {
        p = Paths.get(s);
      }
    } catch (IllegalArgumentException e) {
      throw new QaforgeException(
          "llama-cpp model path " + s + " is not a valid path",
          String.valueOf(e.getMessage()),
          fix);
    }
    p = p.toAbsolutePath().normalize();
    if (!Files.isRegularFile(p)) {
      throw new QaforgeException(
          "llama-cpp model file not found: " + p,
          "alias '"
              + alias
              + "': "
              + (Files.exists(p) ? "not a regular file" : "no such file")
              + " on host "
              + hostName(),
          fix);
    }
    return p;
  }

  private static Loaded load(ModelSpec spec, ModelKey key) {
    isolateNativeLibrary();
    ModelParameters mp =
        new ModelParameters()
            .setModel(key.path().toString())
            .setCtxSize(key.contextPerSlot() * key.parallel())
            .setParallel(key.parallel())
            .setThreads(key.threads())
            .disableContextShift()
            .disableLog();
    LlamaModel model;
    try {
      model = new LlamaModel(mp);
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      throw new QaforgeException(
          "cannot load llama-cpp model " + key.path(),
          String.valueOf(nativeMessage(e)),
          "check that llm.models."
              + spec.alias()
              + ".model-path is a complete GGUF model that llama.cpp supports (java-llama.cpp"
              + " 4.2.0), and that the context fits in memory",
          e);
    }
    return new Loaded(model, key);
  }

  /**
   * java-llama.cpp extracts its native library to a fixed name in the temp directory; several JVMs
   * on one host (executors) would overwrite each other's copy. Give this JVM its own directory
   * unless the user chose one ({@code -Dde.kherud.llama.tmpdir}).
   */
  private static void isolateNativeLibrary() {
    if (System.getProperty("de.kherud.llama.tmpdir") == null) {
      try {
        Path dir = Files.createTempDirectory("qaforge-jllama-");
        dir.toFile().deleteOnExit();
        System.setProperty("de.kherud.llama.tmpdir", dir.toString());
      } catch (IOException | SecurityException e) {
        // keep the library's default (java.io.tmpdir)
      }
    }
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** One loaded model, its request pool and its slot size. */
  private static final class Loaded {
    final LlamaModel model;
    final ExecutorService pool;
    final String name;
    final int contextPerSlot;
    volatile boolean closed;

    Loaded(LlamaModel model, ModelKey key) {
      this.model = model;
      this.name = key.path().getFileName().toString();
      this.contextPerSlot = key.contextPerSlot();
      AtomicInteger n = new AtomicInteger();
      this.pool =
          Executors.newFixedThreadPool(
              key.parallel(),
              r -> {
                Thread t = new Thread(r, "qaforge-llama-" + name + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
    }

    void close() {
      closed = true;
      pool.shutdown();
      try {
        if (pool.awaitTermination(60, TimeUnit.SECONDS)) {
          model.close();
        }
        // else: a request is still running natively; leave the model loaded rather than crash
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
