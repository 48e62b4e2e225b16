package io.qaforge.craft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import io.qaforge.craft.FieldRule.Problem;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a CRAFT task sample out of a model's raw output and validates it with the task's rules
 * ({@link FieldRule}). Plain Java, no Spark; never throws on model output.
 *
 * <p><b>Extraction.</b> Candidate objects are found with a brace scanner that knows JSON strings
 * and escapes: every balanced {@code {...}} in the text, in order of its opening brace, and inside
 * a parsed object every nested object (pre-order), so {@code {"sample": {...}}}, fenced ({@code
 * ```json}) and prose-wrapped outputs are recovered. A span that is not valid JSON is skipped and
 * scanning resumes after its opening brace, so a valid object inside a broken one is still found.
 * The first candidate that passes the rules wins (as in the seed). Candidates are parsed as JSON
 * with three tolerances the seed's {@code json.loads} lacks: raw line breaks/control characters
 * inside strings, a backslash before any character, and trailing commas.
 *
 * <p><b>Validation</b> of one candidate, each stage over the fields in column order: every field
 * present (or an alias), else {@code missing_key}; JSON types (strings; lists of strings), else
 * {@code wrong_type} or the list's {@code <name>_not_list}; then the value rules. Values are
 * stripped (Python's whitespace), lists lose blank items before they are counted, a letter field
 * keeps the first character of the stripped value. Lengths are code points, as Python's {@code
 * len}. Extra keys are ignored. The sample holds the task's columns in order, always under the
 * field name (csqa's {@code statement} is stored as {@code question}).
 *
 * <p><b>Errors.</b> When no candidate passes, the reported error is that of the candidate that got
 * furthest (valid JSON beats invalid, all keys present beats a missing key, right types beat wrong
 * ones); among equals the last one, as the seed reports its last message. Categories: {@link
 * #NO_JSON}, {@link #INVALID_JSON}, {@link #MISSING_KEY}, {@link #WRONG_TYPE} and the fields' own
 * ({@link CraftTask#errorCategories()}); messages are the seed's where it has one.
 *
 * <p>Not reproduced from the seed: splitting on {@code '}'} (nested objects were lost), fields of
 * an earlier failed candidate leaking into a later one, a string accepted as a list,
 * whitespace-only list items kept as empty strings, and an answer with a leading space passing the
 * letter check.
 */
public final class CraftParsing {
  public static final String NO_JSON = "no_json";
  public static final String INVALID_JSON = "invalid_json";
  public static final String MISSING_KEY = "missing_key";
  public static final String WRONG_TYPE = "wrong_type";

  static final List<String> GENERIC_CATEGORIES =
      List.of(NO_JSON, INVALID_JSON, MISSING_KEY, WRONG_TYPE);

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final ObjectMapper LENIENT =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
          .enable(JsonReadFeature.ALLOW_BACKSLASH_ESCAPING_ANY_CHARACTER)
          .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .build();

  private static final int STAGE_JSON = 0;
  private static final int STAGE_KEYS = 1;
  private static final int STAGE_TYPES = 2;
  private static final int STAGE_VALUES = 3;

  private CraftParsing() {}

  /**
   * The outcome of parsing one output: either {@code sample} (the task's columns in order: strings
   * and lists of strings) or {@code errorCategory} (a stable snake_case value) and {@code error} (a
   * human message).
   */
  public record Parsed(LinkedHashMap<String, Object> sample, String errorCategory, String error)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    static Parsed ok(LinkedHashMap<String, Object> sample) {
      return new Parsed(sample, null, null);
    }

    static Parsed failed(String category, String message) {
      return new Parsed(null, category, message);
    }

    public boolean ok() {
      return sample != null;
    }

    /** {@link CraftParsing#canonicalJson} of the sample, or null for a rejected output. */
    public String canonicalJson() {
      return sample == null ? null : CraftParsing.canonicalJson(sample);
    }
  }

  /**
   * The canonical JSON string of a sample, Python's {@code json.dumps} of it: the text the
   * contamination filter and the de-duplication compare, and the few-shot JSON of the prompts.
   */
  public static String canonicalJson(Map<String, ?> sample) {
    return PyJson.dumps(sample);
  }

  /** The first candidate object in {@code raw} that is a valid sample of {@code task}. */
  public static Parsed parse(CraftTask task, String raw) {
    if (raw == null || raw.indexOf('{') < 0) {
      return Parsed.failed(NO_JSON, "No JSON found.");
    }
    Parsed best = null;
    int bestStage = -1;
    boolean closed = false;
    int from = 0;
    int open;
    while ((open = raw.indexOf('{', from)) >= 0) {
      int close = closingBrace(raw, open);
      if (close < 0) {
        from = open + 1;
        continue;
      }
      closed = true;
      JsonNode node;
      try {
        node = LENIENT.readTree(raw.substring(open, close + 1));
      } catch (JsonProcessingException e) {
        if (STAGE_JSON >= bestStage) {
          best = Parsed.failed(INVALID_JSON, "Invalid JSON: " + e.getOriginalMessage());
          bestStage = STAGE_JSON;
        }
        from = open + 1;
        continue;
      }
      List<JsonNode> objects = new ArrayList<>();
      collectObjects(node, objects);
      for (JsonNode candidate : objects) {
        Staged s = check(task, candidate);
        if (s.parsed.ok()) {
          return s.parsed;
        }
        if (s.stage >= bestStage) {
          best = s.parsed;
          bestStage = s.stage;
        }
      }
      from = close + 1;
    }
    if (!closed) {
      return Parsed.failed(
          INVALID_JSON, "JSON object is not closed (the output may have been cut off).");
    }
    return best;
  }

  /** Validates one JSON object (e.g. a few-shot's task fields) with the task's rules. */
  public static Parsed validate(CraftTask task, JsonNode candidate) {
    return check(task, candidate).parsed;
  }

  /** Validates a sample given as Java values (maps, lists, strings) with the task's rules. */
  public static Parsed validate(CraftTask task, Map<String, ?> candidate) {
    JsonNode tree = MAPPER.valueToTree(candidate);
    return validate(task, tree);
  }

  private record Staged(int stage, Parsed parsed) {}

  private static Staged check(CraftTask task, JsonNode obj) {
    if (!obj.isObject()) {
      return new Staged(
          STAGE_KEYS,
          Parsed.failed(WRONG_TYPE, "The JSON is " + typeName(obj) + ", not an object."));
    }
    List<FieldRule> fields = task.fields();
    List<JsonNode> values = new ArrayList<>(fields.size());
    for (FieldRule f : fields) {
      JsonNode v = null;
      for (String key : f.keys()) {
        if (obj.has(key)) {
          v = obj.get(key);
          break;
        }
      }
      if (v == null) {
        return new Staged(STAGE_KEYS, Parsed.failed(MISSING_KEY, missingKey(f)));
      }
      values.add(v);
    }
    for (int i = 0; i < fields.size(); i++) {
      String problem = typeProblem(fields.get(i), values.get(i));
      if (problem != null) {
        Problem notList = fields.get(i).notList();
        return new Staged(
            STAGE_TYPES,
            problem.isEmpty()
                ? Parsed.failed(notList.category(), notList.message())
                : Parsed.failed(WRONG_TYPE, problem));
      }
    }
    LinkedHashMap<String, Object> sample = new LinkedHashMap<>();
    for (int i = 0; i < fields.size(); i++) {
      FieldRule f = fields.get(i);
      Object value = value(f, values.get(i));
      if (value == null) {
        return new Staged(
            STAGE_VALUES, Parsed.failed(f.invalid().category(), f.invalid().message()));
      }
      sample.put(f.name(), value);
    }
    return new Staged(STAGE_VALUES, Parsed.ok(sample));
  }

  private static String missingKey(FieldRule f) {
    StringBuilder sb = new StringBuilder("Missing key '").append(f.name()).append('\'');
    for (String alias : f.aliases()) {
      sb.append(" (or '").append(alias).append("')");
    }
    return sb.append('.').toString();
  }

  /** Null if the JSON type fits; "" for a list field that is not an array; else a message. */
  private static String typeProblem(FieldRule f, JsonNode v) {
    if (f.type() == FieldRule.Type.LIST) {
      if (!v.isArray()) {
        return "";
      }
      for (JsonNode item : v) {
        if (!item.isTextual()) {
          return "'" + f.name() + "' must be a list of strings, it holds " + typeName(item) + ".";
        }
      }
      return null;
    }
    return v.isTextual() ? null : "'" + f.name() + "' must be a string, got " + typeName(v) + ".";
  }

  /** The canonical value, or null if the value rule fails. */
  private static Object value(FieldRule f, JsonNode v) {
    switch (f.type()) {
      case STRING:
        {
          String s = PyText.strip(v.asText());
          return PyText.len(s) >= f.min() ? s : null;
        }
      case LIST:
        {
          List<String> items = new ArrayList<>();
          for (JsonNode item : v) {
            String s = PyText.strip(item.asText());
            if (!s.isEmpty()) {
              items.add(s);
            }
          }
          boolean fits = f.count() > 0 ? items.size() == f.count() : items.size() >= f.min();
          return fits ? List.copyOf(items) : null;
        }
      default:
        {
          String s = PyText.strip(v.asText());
          if (s.isEmpty()) {
            return null;
          }
          int first = s.codePointAt(0);
          return f.letters().codePoints().anyMatch(l -> l == first)
              ? Character.toString(first)
              : null;
        }
    }
  }

  private static String typeName(JsonNode n) {
    switch (n.getNodeType()) {
      case ARRAY:
        return "an array";
      case OBJECT:
      case POJO:
        return "an object";
      case NULL:
      case MISSING:
        return "null";
      default:
        return "a " + n.getNodeType().name().toLowerCase(Locale.ROOT);
    }
  }

  /** Every object in {@code node}, outer before inner, in document order. */
  private static void collectObjects(JsonNode node, List<JsonNode> out) {
    if (node.isObject()) {
      out.add(node);
    }
    if (node.isContainerNode()) {
      for (JsonNode child : node) {
        collectObjects(child, out);
      }
    }
  }

  /**
   * The index of the brace that closes the one at {@code open}, or -1 if the text ends first.
   * Braces inside JSON strings (with their escapes) do not count. Hand-written: Jackson's streaming
   * parser stops at the first syntax error, while this must only find the span to hand to it.
   */
  static int closingBrace(String s, int open) {
    int depth = 0;
    boolean inString = false;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  /** A few-shot value for a list field: the JSON array its text holds, else the text itself. */
  static JsonNode listOrText(String value) {
    try {
      JsonNode n = MAPPER.readTree(value);
      if (n != null && n.isArray()) {
        return n;
      }
    } catch (JsonProcessingException e) {
      // not JSON: the validator reports the field as not a list
    }
    return TextNode.valueOf(value);
  }
}
