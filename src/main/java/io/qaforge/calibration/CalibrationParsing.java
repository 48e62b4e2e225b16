package io.qaforge.calibration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.llm.JsonOutput;
import io.qaforge.prompt.PromptTemplate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prompt inputs and model-output parsers of the Linguistic Calibration pipeline. Plain Java, no
 * Spark. The parsers never throw on model output: each returns a {@link Parsed} holding either a
 * value or the reason the output was rejected (the row's {@code error}). They accept the JSON the
 * templates ask for (via {@link JsonOutput}: fences, prose around it, single quotes and trailing
 * commas are fine) and, for servers without structured-output support, a labelled plain-text line.
 */
public final class CalibrationParsing {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern LINE_BREAK = Pattern.compile("\r\n|\r|\n");
  private static final Pattern BLANK_LINE = Pattern.compile("\n[ \t\f\u000B]*\n");

  private CalibrationParsing() {}

  /**
   * A parser's outcome: exactly one of {@code value} and {@code error} is non-null. {@code
   * reasoning} is the model's stated reasoning when the output has one (else null).
   */
  public record Parsed<T>(T value, String reasoning, String error) {
    public static <T> Parsed<T> ok(T value, String reasoning) {
      return new Parsed<>(value, reasoning, null);
    }

    public static <T> Parsed<T> failed(String error) {
      return new Parsed<>(null, null, error);
    }

    public boolean ok() {
      return error == null;
    }
  }

  /** One k-shot example for the {@code queries} prompt (query_examples.jsonl). */
  public record QueryExample(String question, String query) {}

  /** One k-shot example for the {@code samples} prompt (paragraph_examples.jsonl). */
  public record ParagraphExample(String query, String paragraph) {}

  /** One item of a batched semantic-equivalence prompt. */
  public record EquivalenceItem(String question, String groundTruthAnswer, String providedAnswer) {}

  // ------------------------------------------------------------------ schemas

  /**
   * The JSON schema text of the template {@code calibration/<template>}, or null if it has none.
   */
  public static String schema(String template) {
    return PromptTemplate.load("calibration/" + template).schema();
  }

  // ------------------------------------------------------------------ prompt inputs

  /**
   * A base model's continuation cut to its first paragraph: stripped, then the text before the
   * first blank line (empty or whitespace only; {@code \r\n} line breaks are handled). Null stays
   * null.
   */
  public static String cutAtBlankLine(String raw) {
    if (raw == null) {
      return null;
    }
    String text = LINE_BREAK.matcher(raw).replaceAll("\n").strip();
    Matcher m = BLANK_LINE.matcher(text);
    return m.find() ? text.substring(0, m.start()).strip() : text;
  }

  /**
   * The samples for the summary prompt: {@code ### Thought 1}, newline, paragraph, blank line,
   * {@code ### Thought 2}, ... in the given order (the caller sorts by sample index). No trailing
   * blank line.
   */
  public static String formatThoughts(List<String> paragraphs) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < paragraphs.size(); i++) {
      Objects.requireNonNull(paragraphs.get(i), "thought " + (i + 1) + " is null");
      if (i > 0) {
        sb.append("\n\n");
      }
      sb.append("### Thought ").append(i + 1).append('\n').append(paragraphs.get(i).strip());
    }
    return sb.toString();
  }

  /**
   * The few-shot block of the {@code queries} prompt: per example a {@code Question:} line and the
   * JSON output the model should give, examples separated by a blank line.
   */
  public static String renderQueryExamples(List<QueryExample> examples) {
    List<String> blocks = new ArrayList<>();
    for (QueryExample e : examples) {
      blocks.add(
          "Question: "
              + oneLine(e.question())
              + "\nOutput: "
              + MAPPER.createObjectNode().put("query", oneLine(e.query())));
    }
    return String.join("\n\n", blocks);
  }

  /**
   * The few-shot block of the {@code samples} prompt: per example {@code Query: ...} and {@code
   * Paragraph: ...} lines, examples separated by a blank line (the base model's stop signal, see
   * {@link #cutAtBlankLine}).
   */
  public static String renderParagraphExamples(List<ParagraphExample> examples) {
    List<String> blocks = new ArrayList<>();
    for (ParagraphExample e : examples) {
      blocks.add("Query: " + oneLine(e.query()) + "\nParagraph: " + oneLine(e.paragraph()));
    }
    return String.join("\n\n", blocks);
  }

  /**
   * The items of a batched semantic-equivalence prompt, numbered from 1 in list order; a null
   * provided answer is shown as {@code (none)}.
   */
  public static String renderEquivalenceItems(List<EquivalenceItem> items) {
    List<String> blocks = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      EquivalenceItem it = items.get(i);
      blocks.add(
          "Item "
              + (i + 1)
              + "\nQuestion: "
              + oneLine(it.question())
              + "\nGround-truth answer: "
              + oneLine(it.groundTruthAnswer())
              + "\nProvided answer: "
              + (it.providedAnswer() == null ? "(none)" : oneLine(it.providedAnswer())));
    }
    return String.join("\n\n", blocks);
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*[\r\n]+\\s*", " ");
  }

  // ------------------------------------------------------------------ parsers

  private static final Pattern QUERY_LINE =
      Pattern.compile(
          "(?im)^[\\s*>#-]*(?:query\\s*:\\s*)?[\"']?(write a paragraph\\b.*?)[\"']?\\s*$");

  /** The {@code queries} output: JSON {@code {"query": ...}}, or a line "Write a paragraph ...". */
  public static Parsed<String> query(String content) {
    if (content == null || content.isBlank()) {
      return Parsed.failed("output is empty");
    }
    JsonOutput.Parsed json = JsonOutput.parse(content, schema("queries"));
    if (json.ok()) {
      String q = read(json.json()).path("query").asText("").strip();
      return q.isEmpty() ? Parsed.failed("query is empty") : Parsed.ok(q, null);
    }
    Matcher m = QUERY_LINE.matcher(content);
    if (m.find()) {
      return Parsed.ok(m.group(1).strip(), null);
    }
    return Parsed.failed(jsonError(json) + " and has no \"Write a paragraph ...\" line");
  }

  private static final Pattern ANSWERS_LINE =
      Pattern.compile(
          "(?i)^[\\s*>#-]*(?:the\\s+)?(?:list\\s+of\\s+)?(?:candidate\\s+|extracted\\s+)?answers?\\b"
              + "[^:\n]*:\\s*(.*)$");
  private static final Pattern NO_ANSWERS_LINE =
      Pattern.compile("(?i)^[\\s*>#-]*(?:no\\s+answers?|none)\\s*\\.?\\s*$");
  private static final Pattern REASONING_LINE =
      Pattern.compile("(?i)^[\\s*>#-]*reasoning[^:\n]*:\\s*(.*)$");
  private static final Pattern NO_ANSWER_ITEM = Pattern.compile("(?i)no\\s+answers?|none|n/a");
  private static final Pattern ABBREVIATION_END = Pattern.compile(".*\\.\\p{L}\\.$");

  /**
   * The {@code extract_answers} output: JSON {@code {"reasoning", "answers": [..]}}, or a line
   * {@code Answers: a; b; c} / {@code No answers} / {@code none}. Answers are stripped, empty ones
   * dropped, a trailing period on the last one dropped (not on an abbreviation such as "D.C."),
   * duplicates dropped keeping the first, and a lone "No answer(s)"/"none" means no answers.
   */
  public static Parsed<List<String>> extractAnswers(String content) {
    if (content == null || content.isBlank()) {
      return Parsed.failed("output is empty");
    }
    JsonOutput.Parsed json = JsonOutput.parse(content, schema("extract_answers"));
    if (json.ok()) {
      JsonNode node = read(json.json());
      List<String> raw = new ArrayList<>();
      node.path("answers").forEach(a -> raw.add(a.asText()));
      return Parsed.ok(normaliseAnswers(raw), text(node.get("reasoning")));
    }
    String reasoning = null;
    for (String line : LINE_BREAK.split(content)) {
      Matcher r = REASONING_LINE.matcher(line);
      if (r.matches()) {
        reasoning = r.group(1).strip();
        continue;
      }
      if (NO_ANSWERS_LINE.matcher(line).matches()) {
        return Parsed.ok(List.of(), reasoning);
      }
      Matcher m = ANSWERS_LINE.matcher(line);
      if (m.matches()) {
        return Parsed.ok(normaliseAnswers(List.of(m.group(1).split(";"))), reasoning);
      }
    }
    return Parsed.failed(jsonError(json) + " and has no \"Answers: a; b\" line");
  }

  static List<String> normaliseAnswers(List<String> raw) {
    List<String> items = new ArrayList<>();
    for (String r : raw) {
      String s = r == null ? "" : r.strip();
      if (!s.isEmpty()) {
        items.add(s);
      }
    }
    if (!items.isEmpty()) {
      int last = items.size() - 1;
      String s = items.get(last);
      if (s.endsWith(".") && !ABBREVIATION_END.matcher(s).matches()) {
        s = s.substring(0, s.length() - 1).strip();
        if (s.isEmpty()) {
          items.remove(last);
        } else {
          items.set(last, s);
        }
      }
    }
    if (items.size() == 1 && NO_ANSWER_ITEM.matcher(items.get(0)).matches()) {
      return List.of();
    }
    return List.copyOf(new LinkedHashSet<>(items));
  }

  private static final Pattern PROBABILITY_LINE =
      Pattern.compile(
          "(?im)(?:^[\\s*>#-]*(?:answer\\s+)?probability[^:=\n]*|[\"'](?:answer\\s+)?probability[\"'])"
              + "\\s*[:=]\\s*[\"']?([-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)\\s*(%)?");
  private static final Pattern NUMBER_LINE =
      Pattern.compile("(?m)^\\s*([-+]?(?:\\d+\\.?\\d*|\\.\\d+))\\s*(%)?\\s*\\.?\\s*$");

  /**
   * The {@code forecast_probs} output: JSON {@code {"reasoning", "probability"}}, or a line {@code
   * probability: 0.35} or a line holding only a number ({@code 0.35}, {@code 35%}). A percentage is
   * divided by 100; any value outside [0, 1] (e.g. a bare 35) is rejected.
   */
  public static Parsed<Double> forecastProbability(String content) {
    if (content == null || content.isBlank()) {
      return Parsed.failed("output is empty");
    }
    JsonOutput.Parsed json = JsonOutput.parse(content, schema("forecast_probs"));
    if (json.ok()) {
      JsonNode node = read(json.json());
      return probability(node.path("probability").asDouble(), false, text(node.get("reasoning")));
    }
    Matcher m = PROBABILITY_LINE.matcher(content);
    if (!m.find()) {
      m = NUMBER_LINE.matcher(content);
      if (!m.find()) {
        m = null;
      }
    }
    if (m != null) {
      return probability(Double.parseDouble(m.group(1)), m.group(2) != null, reasoning(content));
    }
    return Parsed.failed(jsonError(json) + " and has no \"probability: p\" line");
  }

  private static Parsed<Double> probability(double p, boolean percent, String reasoning) {
    double v = percent ? p / 100.0 : p;
    if (!(v >= 0.0 && v <= 1.0)) {
      return Parsed.failed(
          "probability " + (percent ? p + "%" : String.valueOf(p)) + " is outside [0, 1]");
    }
    return Parsed.ok(v, reasoning);
  }

  private static final Pattern CORRECT_LINE =
      Pattern.compile(
          "(?im)(?:^[^:=\n]*?\\bcorrect(?:ness)?\\b[^:=\n]*|[\"']correct(?:ness)?[\"'])\\s*[:=]\\s*[\"']?"
              + "(1(?:\\.0+)?|0(?:\\.0+)?|true|false|yes|no)\\b");

  /**
   * The {@code binary_correctness} output: JSON {@code {"reasoning", "correct": 0|1}}, or a line
   * {@code correct: 1} (also true/false, yes/no).
   */
  public static Parsed<Integer> binaryCorrectness(String content) {
    if (content == null || content.isBlank()) {
      return Parsed.failed("output is empty");
    }
    JsonOutput.Parsed json = JsonOutput.parse(content, schema("binary_correctness"));
    if (json.ok()) {
      JsonNode node = read(json.json());
      int c = node.path("correct").asInt(-1);
      if (c != 0 && c != 1) {
        return Parsed.failed("correct must be 0 or 1, got " + node.path("correct"));
      }
      return Parsed.ok(c, text(node.get("reasoning")));
    }
    Matcher m = CORRECT_LINE.matcher(content);
    if (m.find()) {
      String v = m.group(1).toLowerCase(Locale.ROOT);
      int c = v.startsWith("1") || v.equals("true") || v.equals("yes") ? 1 : 0;
      return Parsed.ok(c, reasoning(content));
    }
    return Parsed.failed(jsonError(json) + " and has no \"correct: 0|1\" line");
  }

  private static final Pattern VERDICT_LINE =
      Pattern.compile(
          "(?i)[\"']?(?:answer|item|verdict)\\s*#?\\s*(\\d+)[\"']?\\s*[:=]\\s*[\"']?([A-Za-z]+)");

  /**
   * The {@code semantic_equivalence} output: JSON {@code {"verdicts": [..]}}, or numbered {@code
   * Answer 1: Yes} entries (as lines or as a JSON object). Verdicts are normalised to "Yes"/"No";
   * anything else, a number that is not 1..expected, a repeated number, or a count other than
   * {@code expected} is an error, so a short reply can never shift verdicts onto the wrong items.
   */
  public static Parsed<List<String>> equivalenceVerdicts(String content, int expected) {
    if (content == null || content.isBlank()) {
      return Parsed.failed("output is empty");
    }
    JsonOutput.Parsed json = JsonOutput.parse(content, schema("semantic_equivalence"));
    List<String> raw;
    if (json.ok()) {
      raw = new ArrayList<>();
      for (JsonNode v : read(json.json()).path("verdicts")) {
        raw.add(v.asText());
      }
    } else {
      Map<Integer, String> numbered = new TreeMap<>();
      Matcher m = VERDICT_LINE.matcher(content);
      while (m.find()) {
        int n = Integer.parseInt(m.group(1));
        if (numbered.put(n, m.group(2)) != null) {
          return Parsed.failed("verdict " + n + " is given twice");
        }
      }
      if (numbered.isEmpty()) {
        return Parsed.failed(jsonError(json) + " and has no \"Answer 1: Yes\" lines");
      }
      for (int n : numbered.keySet()) {
        if (n < 1 || n > expected) {
          return Parsed.failed(
              "verdict number " + n + " is outside 1.." + expected + " (" + expected + " items)");
        }
      }
      raw = new ArrayList<>(numbered.values());
    }
    if (raw.size() != expected) {
      return Parsed.failed("expected " + expected + " verdicts, got " + raw.size());
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      String v = raw.get(i).strip().replaceAll("[.!]+$", "").toLowerCase(Locale.ROOT);
      if (v.equals("yes")) {
        out.add("Yes");
      } else if (v.equals("no")) {
        out.add("No");
      } else {
        return Parsed.failed("verdict " + (i + 1) + " is \"" + raw.get(i) + "\", not Yes or No");
      }
    }
    return Parsed.ok(List.copyOf(out), null);
  }

  /**
   * The answer with the highest probability; the first wins ties; null and NaN probabilities never
   * win. Null when there are no answers or no usable probability.
   *
   * @throws IllegalArgumentException if the lists differ in length
   */
  public static String argmaxAnswer(List<String> answers, List<Double> probs) {
    if (answers.size() != probs.size()) {
      throw new IllegalArgumentException(
          answers.size() + " answers but " + probs.size() + " probabilities");
    }
    int i = argmaxIndex(probs);
    return i < 0 ? null : answers.get(i);
  }

  /** Index of the highest probability (first wins ties, null/NaN skipped), or -1 if none. */
  public static int argmaxIndex(List<Double> probs) {
    int best = -1;
    for (int i = 0; i < probs.size(); i++) {
      Double p = probs.get(i);
      if (p != null && !p.isNaN() && (best < 0 || p > probs.get(best))) {
        best = i;
      }
    }
    return best;
  }

  // ------------------------------------------------------------------ helpers

  private static JsonNode read(String compactJson) {
    try {
      return MAPPER.readTree(compactJson);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("JsonOutput returned invalid JSON", e);
    }
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  private static String reasoning(String content) {
    for (String line : LINE_BREAK.split(content)) {
      Matcher r = REASONING_LINE.matcher(line);
      if (r.matches()) {
        return r.group(1).strip();
      }
    }
    return null;
  }

  private static String jsonError(JsonOutput.Parsed json) {
    String e = json.error();
    if (e.startsWith("$")) {
      return "JSON output does not match the schema (" + e + ")";
    }
    return e.startsWith("output ") ? e : "output: " + e;
  }
}
