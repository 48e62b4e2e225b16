package io.qaforge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Deterministic answers of {@link OpenAiStub}: the echo text, word counts (the stub's "tokens"),
 * scripted fault markers and JSON values that satisfy simple JSON schemas. Pure functions, no
 * state.
 */
final class StubAnswers {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String MARKER = "[[fault:";

  private StubAnswers() {}

  /** A scripted fault from a {@code [[fault:NAME]]} or {@code [[fault:NAMExN]]} marker. */
  record Fault(String name, int times, String marker) {
    /** True when this attempt (1-based) of the request still gets the fault. */
    boolean appliesTo(int attempt) {
      return attempt <= times;
    }
  }

  /** The first fault marker in {@code text}, or null. Without {@code xN} the fault is permanent. */
  static Fault fault(String text) {
    if (text == null) {
      return null;
    }
    int start = text.indexOf(MARKER);
    if (start < 0) {
      return null;
    }
    int end = text.indexOf("]]", start);
    if (end < 0) {
      return null;
    }
    String spec = text.substring(start + MARKER.length(), end);
    String marker = text.substring(start, end + 2);
    int x = spec.lastIndexOf('x');
    if (x > 0 && x < spec.length() - 1 && allDigits(spec, x + 1)) {
      return new Fault(spec.substring(0, x), Integer.parseInt(spec.substring(x + 1)), marker);
    }
    return new Fault(spec, Integer.MAX_VALUE, marker);
  }

  private static boolean allDigits(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      if (!Character.isDigit(s.charAt(i))) {
        return false;
      }
    }
    return s.length() - from <= 9;
  }

  /** Whitespace-separated words: the stub's token count. */
  static int words(String text) {
    if (text == null) {
      return 0;
    }
    int n = 0;
    boolean in = false;
    for (int i = 0, len = text.length(); i < len; i++) {
      boolean ws = Character.isWhitespace(text.charAt(i));
      if (!ws && !in) {
        n++;
      }
      in = !ws;
    }
    return n;
  }

  /** The first {@code max} words of {@code text}, joined by single spaces. */
  static String firstWords(String text, int max) {
    StringBuilder out = new StringBuilder();
    int n = 0;
    int i = 0;
    int len = text.length();
    while (i < len && n < max) {
      while (i < len && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < len && !Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      if (i > start) {
        if (n > 0) {
          out.append(' ');
        }
        out.append(text, start, i);
        n++;
      }
    }
    return out.toString();
  }

  /** The last {@code max} words of {@code text}, joined by single spaces. */
  static String lastWords(String text, int max) {
    String[] words = text.strip().split("\\s+");
    int from = Math.max(0, words.length - max);
    return String.join(" ", java.util.Arrays.asList(words).subList(from, words.length));
  }

  /** The text of a chat message's content: a string, or the text parts of a content array. */
  static String contentText(JsonNode content) {
    if (content == null || content.isNull() || content.isMissingNode()) {
      return "";
    }
    if (content.isTextual()) {
      return content.textValue();
    }
    if (content.isArray()) {
      StringBuilder out = new StringBuilder();
      for (JsonNode part : content) {
        JsonNode text = part.get("text");
        if (text != null && text.isTextual()) {
          if (out.length() > 0) {
            out.append('\n');
          }
          out.append(text.textValue());
        }
      }
      return out.toString();
    }
    return content.toString();
  }

  /**
   * A JSON value for {@code schema}: objects get every listed property (so required ones are
   * there), strings the given text, integers a stable number from the text, numbers 0.5, booleans
   * true, arrays {@code max(1, minItems)} items; enum/const values win. Enough for the flat schemas
   * structured outputs use; $ref is not followed.
   */
  static JsonNode valueFor(JsonNode schema, String text, String name, int depth) {
    if (schema == null || !schema.isObject() || depth > 8) {
      return NODES.textNode(text);
    }
    JsonNode constant = schema.get("const");
    if (constant != null) {
      return constant;
    }
    JsonNode values = schema.get("enum");
    if (values != null && values.isArray() && values.size() > 0) {
      return values.get(0);
    }
    JsonNode anyOf = schema.has("anyOf") ? schema.get("anyOf") : schema.get("oneOf");
    if (anyOf != null && anyOf.isArray() && anyOf.size() > 0) {
      return valueFor(anyOf.get(0), text, name, depth + 1);
    }
    String type = type(schema);
    switch (type) {
      case "object":
        {
          ObjectNode out = NODES.objectNode();
          JsonNode properties = schema.get("properties");
          if (properties != null && properties.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = properties.fields();
            while (it.hasNext()) {
              Map.Entry<String, JsonNode> p = it.next();
              out.set(p.getKey(), valueFor(p.getValue(), text, p.getKey(), depth + 1));
            }
          }
          return out;
        }
      case "array":
        {
          ArrayNode out = NODES.arrayNode();
          int n = Math.max(1, schema.path("minItems").asInt(1));
          JsonNode items = schema.get("items");
          for (int i = 0; i < n; i++) {
            out.add(valueFor(items, text, name, depth + 1));
          }
          return out;
        }
      case "integer":
        {
          long v = Math.floorMod((long) text.hashCode() * 31 + name.hashCode(), 100L);
          if (schema.has("minimum")) {
            v = Math.max(v, schema.get("minimum").asLong());
          }
          if (schema.has("maximum")) {
            v = Math.min(v, schema.get("maximum").asLong());
          }
          return NODES.numberNode(v);
        }
      case "number":
        {
          double v = 0.5;
          if (schema.has("minimum")) {
            v = Math.max(v, schema.get("minimum").asDouble());
          }
          if (schema.has("maximum")) {
            v = Math.min(v, schema.get("maximum").asDouble());
          }
          return NODES.numberNode(v);
        }
      case "boolean":
        return NODES.booleanNode(true);
      case "null":
        return NODES.nullNode();
      default:
        return NODES.textNode(text);
    }
  }

  private static String type(JsonNode schema) {
    JsonNode type = schema.get("type");
    if (type != null && type.isTextual()) {
      return type.textValue();
    }
    if (type != null && type.isArray()) {
      for (JsonNode t : type) {
        if (t.isTextual() && !"null".equals(t.textValue())) {
          return t.textValue();
        }
      }
    }
    if (schema.has("properties")) {
      return "object";
    }
    if (schema.has("items")) {
      return "array";
    }
    return "string";
  }
}
