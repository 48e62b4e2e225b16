package io.qaforge.llm.batch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.qaforge.QaforgeException;
import io.qaforge.llm.ChatRequest;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.RequestBodies;
import io.qaforge.llm.Result;
import io.qaforge.llm.TokenCounter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Writes {@link ChatRequest}s as OpenAI Batch API input files on local disk, streaming (memory
 * stays constant whatever the number of requests: one open file and the custom_ids of that file per
 * (endpoint, model)).
 *
 * <p>Each line is {@code {"custom_id": requestId, "method": "POST", "url": "/v1/chat/completions"
 * (or "/v1/completions" for models of style completion), "body": {...}}} where the body is
 * byte-for-byte what the online client sends for the same request (see {@link RequestBodies}).
 *
 * <p><b>Splitting</b>: a new file starts when the next line would exceed {@link Options#maxLines}
 * lines (default {@value #MAX_LINES}, the API's limit) or {@link Options#maxBytes} bytes (default
 * 200,000,000, under the API's 200 MB), and requests for different endpoints or models never share
 * a file (the API takes one endpoint per batch; OpenAI one model per input file). Files are named
 * {@code <prefix>-<chat|completions>-<model>-<00001>.jsonl} in the target folder; existing files of
 * the same name are overwritten, so use a fresh folder or prefix per submission.
 *
 * <p><b>Per-request problems</b> are data, as in the online path: a request with no non-blank user
 * message, one whose prompt plus max tokens is over the model's context window, one whose alias is
 * unknown, one that cannot be built (unknown role, schema not a JSON object) or one whose line
 * alone is larger than the byte limit is not written; it is handed to the {@code rejected} consumer
 * as a {@code failed} {@link Result} (attempts 0, backend {@value BatchResults#BACKEND}) with the
 * same error texts the {@link io.qaforge.llm.Dispatcher} uses. A request whose id is already in the
 * current file of its (endpoint, model) is skipped and counted as a duplicate (the API rejects
 * repeated custom_ids in one file; both would get the same answer anyway). Disk errors are
 * run-level ({@link QaforgeException}).
 */
public final class BatchFiles {
  public static final String CHAT_ENDPOINT = "/v1/chat/completions";
  public static final String COMPLETIONS_ENDPOINT = "/v1/completions";

  /** The API's limit of requests per input file. */
  public static final int MAX_LINES = 50_000;

  /** Bytes per input file: the API allows 200 MB; 200,000,000 stays under it in every reading. */
  public static final long MAX_BYTES = 200_000_000L;

  private static final JsonFactory JSON = new JsonFactory();
  private static final int BUFFER = 1 << 16;

  /**
   * How files are written.
   *
   * @param maxLines lines per file (1 to {@value #MAX_LINES})
   * @param maxBytes bytes per file, newlines included (at most {@link #MAX_BYTES})
   * @param maxCompletionTokens send the token limit as {@code max_completion_tokens} (OpenAI
   *     itself) instead of {@code max_tokens} (compatible servers); {@link #forBaseUrl} applies the
   *     online client's rule
   * @param prefix the start of every file name
   */
  public record Options(int maxLines, long maxBytes, boolean maxCompletionTokens, String prefix) {
    public Options {
      if (maxLines < 1 || maxLines > MAX_LINES) {
        throw new IllegalArgumentException("maxLines must be between 1 and " + MAX_LINES);
      }
      if (maxBytes < 1 || maxBytes > MAX_BYTES) {
        throw new IllegalArgumentException("maxBytes must be between 1 and " + MAX_BYTES);
      }
      if (prefix == null || !prefix.matches("[A-Za-z0-9._-]{1,100}")) {
        throw new IllegalArgumentException(
            "prefix must be 1-100 characters of letters, digits, '.', '_' or '-'");
      }
    }

    /** The API's limits, {@code max_tokens}, prefix "batch". */
    public static Options defaults() {
      return new Options(MAX_LINES, MAX_BYTES, false, "batch");
    }

    /**
     * The defaults with the token-limit field the online client uses for {@code baseUrl}: {@code
     * max_completion_tokens} for OpenAI itself (hosts *.openai.com, *.openai.azure.com), else
     * {@code max_tokens}.
     */
    public static Options forBaseUrl(String baseUrl) {
      return defaults().withMaxCompletionTokens(RequestBodies.isOpenAi(baseUrl));
    }

    public Options withLimits(int lines, long bytes) {
      return new Options(lines, bytes, maxCompletionTokens, prefix);
    }

    public Options withMaxCompletionTokens(boolean value) {
      return new Options(maxLines, maxBytes, value, prefix);
    }

    public Options withPrefix(String value) {
      return new Options(maxLines, maxBytes, maxCompletionTokens, value);
    }
  }

  /**
   * What {@link #write} produced.
   *
   * @param files the files in the order they were started (numbered per (endpoint, model))
   * @param written requests written (the sum of the files' lines)
   * @param duplicates requests skipped because their id was already in the same file
   * @param rejectedCount requests not written (per-request problems)
   * @param rejected those requests as failed Results, when no consumer was given (else empty)
   */
  public record Written(
      List<BatchInput> files,
      long written,
      long duplicates,
      long rejectedCount,
      List<Result> rejected) {
    public Written {
      files = List.copyOf(files);
      rejected = List.copyOf(rejected);
    }
  }

  private final Path dir;
  private final Function<String, ModelSpec> specs;
  private final Options options;

  /**
   * @param dir folder for the files (created if missing)
   * @param specs alias → model spec (model name, style, context window, tokenizer); may return null
   *     or throw for an unknown alias (the request is then rejected)
   */
  public BatchFiles(Path dir, Function<String, ModelSpec> specs, Options options) {
    this.dir = dir;
    this.specs = specs;
    this.options = options;
  }

  /** The endpoint for a model: {@code /v1/completions} for style completion, else chat. */
  public static String endpoint(ModelSpec spec) {
    return RequestBodies.completionStyle(spec) ? COMPLETIONS_ENDPOINT : CHAT_ENDPOINT;
  }

  /** Writes all requests; rejected requests are collected in {@link Written#rejected}. */
  public Written write(Iterator<ChatRequest> requests) {
    List<Result> rejected = new ArrayList<>();
    Written w = write(requests, rejected::add);
    return new Written(w.files(), w.written(), w.duplicates(), w.rejectedCount(), rejected);
  }

  /** Writes all requests, handing rejected ones to {@code rejected} as they come. */
  public Written write(Iterator<ChatRequest> requests, Consumer<Result> rejectedSink) {
    long[] rejectedCount = new long[1];
    Consumer<Result> rejected =
        r -> {
          rejectedCount[0]++;
          rejectedSink.accept(r);
        };
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw diskProblem(dir, e);
    }
    Map<String, Group> groups = new LinkedHashMap<>();
    List<Group.Part> parts = new ArrayList<>();
    long written = 0;
    long duplicates = 0;
    ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
    try {
      while (requests.hasNext()) {
        ChatRequest r = requests.next();
        ModelSpec spec;
        try {
          spec = r.alias() == null ? null : specs.apply(r.alias());
        } catch (RuntimeException e) {
          spec = null;
        }
        if (spec == null) {
          rejected.accept(
              reject(r, "model alias '" + r.alias() + "' is not registered with this client"));
          continue;
        }
        String problem = precheck(r, spec);
        if (problem != null) {
          rejected.accept(reject(r, problem));
          continue;
        }
        String endpoint = endpoint(spec);
        line.reset();
        try {
          writeLine(line, r, spec, endpoint, options.maxCompletionTokens());
        } catch (IllegalArgumentException e) {
          rejected.accept(reject(r, e.getMessage()));
          continue;
        }
        long size = line.size() + 1L;
        if (size > options.maxBytes()) {
          rejected.accept(
              reject(
                  r,
                  "request too large for a batch input file: "
                      + size
                      + " bytes, over the limit of "
                      + options.maxBytes()));
          continue;
        }
        String model = spec.model();
        Group g =
            groups.computeIfAbsent(endpoint + '\u0000' + model, k -> new Group(endpoint, model));
        if (g.current != null && g.current.ids.contains(r.requestId())) {
          duplicates++;
          continue;
        }
        if (g.current == null
            || g.current.lines + 1 > options.maxLines()
            || g.current.bytes + size > options.maxBytes()) {
          if (g.current != null) {
            g.current.close();
          }
          g.current = g.open(dir, options.prefix());
          parts.add(g.current);
        }
        g.current.append(line, r.requestId());
        written++;
      }
      for (Group g : groups.values()) {
        if (g.current != null) {
          g.current.close();
        }
      }
    } catch (IOException e) {
      for (Group.Part p : parts) {
        p.closeQuietly();
      }
      throw diskProblem(dir, e);
    } catch (RuntimeException e) {
      for (Group.Part p : parts) {
        p.closeQuietly();
      }
      throw e;
    }
    List<BatchInput> files = new ArrayList<>(parts.size());
    for (Group.Part p : parts) {
      files.add(new BatchInput(p.path, p.endpoint, p.model, p.lines, p.bytes));
    }
    return new Written(files, written, duplicates, rejectedCount[0], List.of());
  }

  /**
   * One input line (without the newline) for {@code r}: what {@link #write} writes.
   *
   * @throws IllegalArgumentException when the request cannot be built
   */
  public static String line(ChatRequest r, ModelSpec spec, boolean maxCompletionTokens) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    writeLine(out, r, spec, endpoint(spec), maxCompletionTokens);
    return out.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The custom_ids of an input file, in file order (e.g. to find what an expired batch lost). */
  public static Set<String> customIds(Path inputFile) {
    Set<String> ids = new LinkedHashSet<>();
    try (InputStream in = Files.newInputStream(inputFile)) {
      LineReader lines = new LineReader(in);
      for (LineReader.Line l = lines.next(); l != null; l = lines.next()) {
        if (l.blank()) {
          continue;
        }
        String id = customIdOf(l);
        if (id == null) {
          throw new QaforgeException(
              "Batch input file " + inputFile + " line " + l.number() + " has no custom_id",
              "every line of a batch input file must be a JSON object with a custom_id",
              "write the file again with BatchFiles, or repair line " + l.number());
        }
        ids.add(id);
      }
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot read batch input file " + inputFile,
          e.getClass().getSimpleName() + ": " + e.getMessage(),
          "check that the file exists and is readable");
    }
    return ids;
  }

  private static String customIdOf(LineReader.Line l) throws IOException {
    try (JsonParser p = JSON.createParser(l.bytes(), 0, l.length())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        if ("custom_id".equals(field) && t == JsonToken.VALUE_STRING) {
          return p.getText();
        }
        p.skipChildren();
      }
      return null;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------- internals

  /** The Dispatcher's checks before a call: empty prompt, prompt over the context window. */
  private static String precheck(ChatRequest r, ModelSpec spec) {
    if (r.messages().stream()
        .noneMatch(m -> "user".equals(m.role()) && m.content() != null && !m.content().isBlank())) {
      return "empty prompt: nothing to send";
    }
    if (spec.contextWindow() > 0) {
      long prompt = TokenCounter.countMessages(spec.tokenizer(), r.messages());
      long estimated = prompt + (r.maxTokens() != null ? r.maxTokens() : 256);
      if (estimated > spec.contextWindow()) {
        return "prompt too long: about "
            + estimated
            + " tokens with max tokens, over the context window of "
            + spec.alias()
            + " ("
            + spec.contextWindow()
            + ")";
      }
    }
    return null;
  }

  private static void writeLine(
      ByteArrayOutputStream out,
      ChatRequest r,
      ModelSpec spec,
      String endpoint,
      boolean maxCompletionTokens) {
    if (r.requestId() == null || r.requestId().isEmpty()) {
      throw new IllegalArgumentException("the request has no request id (custom_id)");
    }
    byte[] body = RequestBodies.body(r, spec, maxCompletionTokens);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("custom_id", r.requestId());
      g.writeStringField("method", "POST");
      g.writeStringField("url", endpoint);
      g.writeFieldName("body");
      g.writeRawValue(new String(body, java.nio.charset.StandardCharsets.UTF_8));
      g.writeEndObject();
    } catch (IOException e) { // a ByteArrayOutputStream does not fail
      throw new UncheckedIOException(e);
    }
  }

  private static Result reject(ChatRequest r, String error) {
    return new Result(
        r.requestId(),
        r.sampleIdx(),
        null,
        null,
        Result.FAILED,
        error,
        0,
        null,
        0,
        0,
        0,
        null,
        BatchResults.BACKEND,
        0);
  }

  private static QaforgeException diskProblem(Path dir, IOException e) {
    return new QaforgeException(
        "Cannot write batch input files in " + dir,
        e.getClass().getSimpleName() + ": " + e.getMessage(),
        "check that the folder is writable and the disk has room (each file holds up to 200 MB)",
        e);
  }

  /** The open file and numbering of one (endpoint, model). */
  private static final class Group {
    final String endpoint;
    final String model;
    int number;
    Part current;

    Group(String endpoint, String model) {
      this.endpoint = endpoint;
      this.model = model;
    }

    Part open(Path dir, String prefix) throws IOException {
      number++;
      String kind = CHAT_ENDPOINT.equals(endpoint) ? "chat" : "completions";
      String safe = model.replaceAll("[^A-Za-z0-9._-]", "_");
      if (safe.length() > 64) {
        safe = safe.substring(0, 64);
      }
      Path path = dir.resolve(String.format("%s-%s-%s-%05d.jsonl", prefix, kind, safe, number));
      return new Part(path, endpoint, model);
    }

    static final class Part {
      final Path path;
      final String endpoint;
      final String model;
      final OutputStream out;
      final Set<String> ids = new HashSet<>();
      int lines;
      long bytes;
      boolean closed;

      Part(Path path, String endpoint, String model) throws IOException {
        this.path = path;
        this.endpoint = endpoint;
        this.model = model;
        this.out =
            new java.io.BufferedOutputStream(
                Files.newOutputStream(
                    path,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE),
                BUFFER);
      }

      void append(ByteArrayOutputStream line, String id) throws IOException {
        line.writeTo(out);
        out.write('\n');
        lines++;
        bytes += line.size() + 1L;
        ids.add(id);
      }

      void close() throws IOException {
        if (!closed) {
          closed = true;
          ids.clear();
          out.close();
        }
      }

      void closeQuietly() {
        try {
          close();
        } catch (IOException ignored) {
          // already failing
        }
      }
    }
  }
}
