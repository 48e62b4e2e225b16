package io.qaforge.llm.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.QaforgeException;
import io.qaforge.llm.Attempt;
import io.qaforge.llm.ChatRequest;
import io.qaforge.llm.Dispatcher;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.Result;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Batch API output and error files into one {@link Result} per custom_id, the same statuses
 * the online path gives. Use one instance per batch: it remembers which custom_ids it has returned,
 * so a line seen twice yields one Result and {@link #missing} can tell which submitted requests got
 * no line at all (an expired or cancelled batch).
 *
 * <p><b>Lines</b> (any order): {@code {"id", "custom_id", "response": {"status_code", "request_id",
 * "body"}, "error"}}. Status 200: the body is read like an online answer (first choice's content or
 * text, refusal, finish_reason, model, usage) and classified with {@link Dispatcher#classify} (ok,
 * truncated, refused, invalid_output against the request's JSON schema); a body without choices is
 * {@code invalid_output} ("malformed response: ..."), as online. Any other status, or no response
 * with an error: {@code failed} with the server's code and message in the same words as the online
 * path ("server error (HTTP 500): HTTP 500 (server_error): ..."); an {@code batch_expired} error
 * reads {@value #EXPIRED}.
 *
 * <p><b>Columns</b>: attempts 1 for a line that ran (0 for one that expired before it ran), latency
 * 0 (the API does not report it), backend {@value #BACKEND}, cost = {@link ModelSpec#cost} × the
 * batch discount for lines with status 200 (failed lines are not billed). The discount defaults to
 * {@value #DEFAULT_DISCOUNT}: OpenAI bills Batch API tokens at half the online price; pass another
 * factor for servers or contracts that price batches differently (1.0 = online price).
 *
 * <p><b>Problems</b>: a line that is not a JSON object with a custom_id and either a response with
 * a status_code or an error is a corrupt file, a run-level problem: {@link QaforgeException} naming
 * the file and line. The one exception is an unparseable LAST line without a final newline — what a
 * cut-off download leaves: it is skipped and reported in {@link Summary#truncated} (its custom_id,
 * when readable, then shows up in {@link #missing}). A custom_id the {@link Lookup} does not know
 * still yields a Result (sample index -1, no schema check, cost 0) and is counted in {@link
 * Summary#unknownIds}.
 */
public final class BatchResults {
  public static final String BACKEND = "openai-batch";

  /** OpenAI's Batch API price relative to the online price. */
  public static final double DEFAULT_DISCOUNT = 0.5;

  /** The error of a request a batch never ran (expired or cancelled before it). */
  public static final String EXPIRED = "batch expired before this request ran";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern CUSTOM_ID =
      Pattern.compile("\"custom_id\"\\s*:\\s*\"([^\"\\\\]*)\"");

  /**
   * What the caller submitted for one custom_id: what the answer is checked against and priced by.
   *
   * @param spec the model spec for the price (null = cost 0)
   */
  public record Submitted(int sampleIdx, String jsonSchema, Integer maxTokens, ModelSpec spec) {
    public static Submitted of(ChatRequest r, ModelSpec spec) {
      return new Submitted(r.sampleIdx(), r.jsonSchema(), r.maxTokens(), spec);
    }
  }

  /** custom_id → what was submitted for it, or null when unknown. */
  @FunctionalInterface
  public interface Lookup {
    Submitted find(String customId);

    static Lookup of(Map<String, Submitted> submitted) {
      return submitted::get;
    }

    /** Knows nothing: every Result gets sample index -1, no schema check and cost 0. */
    static Lookup none() {
      return id -> null;
    }
  }

  /**
   * A last line cut off without its newline (a partial download).
   *
   * @param customId the custom_id when the fragment still shows it, else null
   * @param bytes the fragment's length
   */
  public record Truncated(Path file, long line, String customId, int bytes) {}

  /**
   * Counts over the lines read.
   *
   * @param lines non-blank lines read
   * @param results Results handed out
   * @param byStatus Results per status (ok, truncated, refused, invalid_output, failed)
   * @param duplicates lines skipped because their custom_id already had a Result
   * @param unknownIds Results for custom_ids the lookup did not know
   * @param truncated cut-off last lines (at most one per file)
   */
  public record Summary(
      long lines,
      long results,
      Map<String, Long> byStatus,
      long duplicates,
      long unknownIds,
      List<Truncated> truncated) {
    public Summary {
      byStatus = Collections.unmodifiableMap(new TreeMap<>(byStatus));
      truncated = List.copyOf(truncated);
    }

    public long count(String status) {
      return byStatus.getOrDefault(status, 0L);
    }
  }

  private final Lookup lookup;
  private final double discount;
  private final Set<String> returned = new HashSet<>();
  private final Set<String> retryable = new LinkedHashSet<>();
  private final Counts total = new Counts();

  /** With the default batch discount ({@value #DEFAULT_DISCOUNT}). */
  public BatchResults(Lookup lookup) {
    this(lookup, DEFAULT_DISCOUNT);
  }

  /**
   * @param discount the factor applied to {@link ModelSpec#cost} (0.5 = half price; 1 = online)
   */
  public BatchResults(Lookup lookup, double discount) {
    if (!(discount >= 0)) {
      throw new IllegalArgumentException("discount must be a factor >= 0, e.g. 0.5");
    }
    this.lookup = lookup == null ? Lookup.none() : lookup;
    this.discount = discount;
  }

  /**
   * Reads an output or error file (streaming; any line order) and hands one Result per new
   * custom_id to {@code sink}. A null path (a batch without that file) reads nothing.
   *
   * @return the counts of this file
   * @throws QaforgeException for a missing/unreadable file or a malformed line (not the cut-off
   *     last line, see {@link Summary#truncated})
   */
  public Summary read(Path file, Consumer<Result> sink) {
    Counts counts = new Counts();
    if (file == null) {
      return counts.summary();
    }
    try (InputStream in = Files.newInputStream(file)) {
      LineReader reader = new LineReader(in);
      for (LineReader.Line l = reader.next(); l != null; l = reader.next()) {
        if (l.blank()) {
          continue;
        }
        counts.lines++;
        total.lines++;
        JsonNode node;
        try {
          node = MAPPER.readTree(l.bytes(), 0, l.length());
        } catch (JsonProcessingException e) {
          if (!l.terminated()) {
            Truncated t = new Truncated(file, l.number(), customIdIn(l.text()), l.length());
            counts.truncated.add(t);
            total.truncated.add(t);
            break;
          }
          throw malformed(file, l.number(), "invalid JSON: " + e.getOriginalMessage());
        }
        Parsed p;
        try {
          p = toResult(node);
        } catch (IllegalArgumentException e) {
          throw malformed(file, l.number(), e.getMessage());
        }
        Result r = p.result();
        if (!returned.add(r.requestId())) {
          counts.duplicates++;
          total.duplicates++;
          continue;
        }
        if (p.retryable()) {
          retryable.add(r.requestId());
        }
        if (r.sampleIdx() < 0) {
          counts.unknownIds++;
          total.unknownIds++;
        }
        counts.add(r);
        total.add(r);
        sink.accept(r);
      }
    } catch (NoSuchFileException e) {
      throw new QaforgeException(
          "Batch result file " + file + " does not exist",
          "NoSuchFileException: " + e.getMessage(),
          "download the batch's output and error files first (BatchApi.download)");
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot read batch result file " + file,
          e.getClass().getSimpleName() + ": " + e.getMessage(),
          "check that the file is readable, or download it again");
    }
    return counts.summary();
  }

  /**
   * Reads a result file a user downloaded by hand ({@code --import-batch-output FILE}): an output
   * file, an error file, or both concatenated. Same parsing and bookkeeping as {@link #read}.
   */
  public Summary importFile(Path file, Consumer<Result> sink) {
    return read(file, sink);
  }

  /** {@link #importFile(Path, Consumer)} collecting the Results. */
  public List<Result> importFile(Path file) {
    List<Result> out = new ArrayList<>();
    importFile(file, out::add);
    return out;
  }

  /**
   * One line → its Result, without bookkeeping (for callers that read lines themselves, e.g. as a
   * text dataset). Thread-safe.
   *
   * @throws IllegalArgumentException when the line is not a valid result line
   */
  public Result parseLine(String line) {
    JsonNode node;
    try {
      node = MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage(), e);
    }
    return toResult(node).result();
  }

  /** custom_ids that have had a Result so far. */
  public Set<String> returned() {
    return Collections.unmodifiableSet(returned);
  }

  /**
   * The submitted custom_ids that got no line in any file read so far (an expired or cancelled
   * batch, a cut-off download), in {@code expected}'s order. Turn them into Results with {@link
   * #expired} and submit them again.
   */
  public Set<String> missing(Collection<String> expected) {
    Set<String> out = new LinkedHashSet<>();
    for (String id : expected) {
      if (!returned.contains(id)) {
        out.add(id);
      }
    }
    return out;
  }

  /**
   * custom_ids whose Result failed for a reason that may pass on a new submission: HTTP 408, 409,
   * 429 or 5xx, or expired before it ran. (Requests in {@link #missing} are retryable too.)
   */
  public Set<String> retryable() {
    return Collections.unmodifiableSet(retryable);
  }

  /** The failed Result of a request the batch never ran: error {@value #EXPIRED}, attempts 0. */
  public Result expired(String customId) {
    Submitted s = lookup.find(customId);
    return failed(customId, s, EXPIRED, 0);
  }

  /** Counts over every file read by this instance. */
  public Summary summary() {
    return total.summary();
  }

  // ------------------------------------------------------------------------------------ parsing

  /** A line's Result, and whether a new submission may succeed where it failed. */
  private record Parsed(Result result, boolean retryable) {}

  private Parsed toResult(JsonNode line) {
    if (!line.isObject()) {
      throw new IllegalArgumentException("the line is not a JSON object");
    }
    JsonNode idNode = line.get("custom_id");
    if (idNode == null || !idNode.isTextual() || idNode.textValue().isEmpty()) {
      throw new IllegalArgumentException("the line has no custom_id");
    }
    String id = idNode.textValue();
    Submitted s = lookup.find(id);
    JsonNode response = line.get("response");
    JsonNode error = line.get("error");
    if (response != null && response.isObject()) {
      JsonNode status = response.get("status_code");
      if (status == null || !status.canConvertToInt()) {
        throw new IllegalArgumentException("the response of " + id + " has no status_code");
      }
      int code = status.intValue();
      if (code == 200) {
        return new Parsed(answered(id, s, response.get("body")), false);
      }
      String text = httpError(code, response.path("body").path("error"), error);
      return new Parsed(failed(id, s, text, 1), isTransient(code));
    }
    if (error != null && error.isObject()) {
      String code = textOrNull(error.get("code"));
      String message = textOrNull(error.get("message"));
      // it never ran: worth another submission
      if ("batch_expired".equals(code)) {
        return new Parsed(failed(id, s, EXPIRED, 0), true);
      }
      return new Parsed(
          failed(
              id,
              s,
              (code == null ? "batch error" : code) + (message == null ? "" : ": " + message),
              0),
          true);
    }
    throw new IllegalArgumentException(
        "the line of " + id + " has neither a response nor an error");
  }

  private Result answered(String id, Submitted s, JsonNode body) {
    if (body == null || !body.isObject()) {
      return invalid(id, s, "answer is not a JSON object", 0, 0, null);
    }
    String model = textOrNull(body.get("model"));
    JsonNode usage = body.path("usage");
    long prompt = usage.path("prompt_tokens").asLong(0);
    long completion = usage.path("completion_tokens").asLong(0);
    JsonNode choices = body.get("choices");
    if (choices == null || !choices.isArray() || choices.isEmpty() || !choices.get(0).isObject()) {
      return invalid(id, s, "answer has no choices", prompt, completion, model);
    }
    JsonNode choice = choices.get(0);
    JsonNode message = choice.get("message");
    String content;
    String refusal = null;
    if (message != null && message.isObject()) {
      content = textOrNull(message.get("content"));
      refusal = textOrNull(message.get("refusal"));
    } else {
      content = textOrNull(choice.get("text"));
    }
    String finish = textOrNull(choice.get("finish_reason"));
    Attempt a = Attempt.ok(content, finish, prompt, completion, model, 0);
    if (refusal != null) {
      a = a.withRefusal(refusal);
    }
    Dispatcher.Classified c =
        Dispatcher.classify(a, s == null ? null : s.jsonSchema(), s == null ? null : s.maxTokens());
    return new Result(
        id,
        s == null ? -1 : s.sampleIdx(),
        content,
        c.parsed(),
        c.status(),
        c.error(),
        1,
        finish,
        prompt,
        completion,
        0,
        model,
        BACKEND,
        cost(s, prompt, completion));
  }

  private Result invalid(
      String id, Submitted s, String why, long prompt, long completion, String model) {
    return new Result(
        id,
        s == null ? -1 : s.sampleIdx(),
        null,
        null,
        Result.INVALID_OUTPUT,
        "malformed response: " + why,
        1,
        null,
        prompt,
        completion,
        0,
        model,
        BACKEND,
        cost(s, prompt, completion));
  }

  private Result failed(String id, Submitted s, String error, int attempts) {
    return new Result(
        id,
        s == null ? -1 : s.sampleIdx(),
        null,
        null,
        Result.FAILED,
        error,
        attempts,
        null,
        0,
        0,
        0,
        null,
        BACKEND,
        0);
  }

  private double cost(Submitted s, long prompt, long completion) {
    return s == null || s.spec() == null ? 0 : s.spec().cost(prompt, completion) * discount;
  }

  private static boolean isTransient(int status) {
    return status == 408 || status == 409 || status == 429 || status >= 500;
  }

  /** The online path's words: "server error (HTTP 500): HTTP 500 (code): message". */
  private static String httpError(int status, JsonNode bodyError, JsonNode lineError) {
    String message = null;
    String code = null;
    if (bodyError != null && bodyError.isObject()) {
      message = textOrNull(bodyError.get("message"));
      code = textOrNull(bodyError.get("code"));
    } else if (bodyError != null && bodyError.isTextual()) {
      message = bodyError.textValue();
    }
    if (lineError != null && lineError.isObject()) {
      if (message == null) {
        message = textOrNull(lineError.get("message"));
      }
      if (code == null) {
        code = textOrNull(lineError.get("code"));
      }
    }
    String what =
        status == 429
            ? "rate limited (HTTP 429)"
            : status >= 500 || status == 408 || status == 409
                ? "server error (HTTP " + status + ")"
                : "request rejected (HTTP " + status + ")";
    return what
        + ": HTTP "
        + status
        + (code == null ? "" : " (" + code + ")")
        + ": "
        + (message == null ? "no error message" : message);
  }

  private static String textOrNull(JsonNode n) {
    return n == null || n.isNull() ? null : n.isTextual() ? n.textValue() : n.toString();
  }

  private static String customIdIn(String fragment) {
    Matcher m = CUSTOM_ID.matcher(fragment);
    return m.find() ? m.group(1) : null;
  }

  private static QaforgeException malformed(Path file, long line, String why) {
    return new QaforgeException(
        "Batch result file " + file + " line " + line + " is not a valid result line",
        why,
        "download the file again (a corrupt download is not a model answer); if the file was"
            + " edited by hand, repair or remove line "
            + line);
  }

  /** Mutable counts behind a {@link Summary}. */
  private static final class Counts {
    long lines;
    long results;
    long duplicates;
    long unknownIds;
    final Map<String, Long> byStatus = new TreeMap<>();
    final List<Truncated> truncated = new ArrayList<>();

    void add(Result r) {
      results++;
      byStatus.merge(r.status(), 1L, Long::sum);
    }

    Summary summary() {
      return new Summary(lines, results, byStatus, duplicates, unknownIds, truncated);
    }
  }
}
