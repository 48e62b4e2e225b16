package io.qaforge.llm;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Iterator;
import java.util.Map;

/**
 * Tolerant reading of structured model output: accepts the JSON object itself, or one wrapped in
 * prose or a ```json fence, with single quotes, trailing commas or comments (servers without schema
 * support produce these). Checks the schema's required properties and their basic types. Never
 * evaluates anything.
 */
public final class JsonOutput {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final ObjectMapper LENIENT =
      new ObjectMapper()
          .enable(JsonParser.Feature.ALLOW_SINGLE_QUOTES)
          .enable(JsonParser.Feature.ALLOW_UNQUOTED_FIELD_NAMES)
          .enable(JsonParser.Feature.ALLOW_COMMENTS)
          .enable(JsonParser.Feature.ALLOW_TRAILING_COMMA)
          .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);
  private static final Map<String, JsonNode> SCHEMAS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private JsonOutput() {}

  /** The parsed value as compact JSON, or an error saying what is wrong. */
  public record Parsed(String json, String error) {
    public boolean ok() {
      return error == null;
    }
  }

  public static Parsed parse(String content, String schema) {
    if (content == null || content.isBlank()) {
      return new Parsed(null, "empty output");
    }
    JsonNode value = read(content.strip());
    if (value == null) {
      int start = content.indexOf('{');
      int end = content.lastIndexOf('}');
      if (start >= 0 && end > start) {
        value = read(content.substring(start, end + 1));
      }
    }
    if (value == null) {
      return new Parsed(null, "output is not JSON");
    }
    if (schema != null) {
      String problem = check(value, SCHEMAS.computeIfAbsent(schema, JsonOutput::readSchema), "$");
      if (problem != null) {
        return new Parsed(null, problem);
      }
    }
    try {
      return new Parsed(MAPPER.writeValueAsString(value), null);
    } catch (JsonProcessingException e) {
      return new Parsed(null, "output is not JSON");
    }
  }

  private static JsonNode readSchema(String schema) {
    try {
      return MAPPER.readTree(schema);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Invalid JSON schema: " + e.getOriginalMessage(), e);
    }
  }

  private static JsonNode read(String text) {
    try {
      JsonNode n = LENIENT.readTree(text);
      return n == null || n.isMissingNode() || !(n.isObject() || n.isArray()) ? null : n;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  /** Required properties and basic types (object, array, string, number, integer, boolean). */
  static String check(JsonNode value, JsonNode schema, String path) {
    String type = schema.path("type").asText("");
    switch (type) {
      case "object":
        if (!value.isObject()) {
          return path + " must be an object";
        }
        for (JsonNode req : schema.path("required")) {
          if (!value.has(req.asText())) {
            return path + "." + req.asText() + " is missing";
          }
        }
        Iterator<Map.Entry<String, JsonNode>> props = schema.path("properties").fields();
        while (props.hasNext()) {
          Map.Entry<String, JsonNode> p = props.next();
          if (value.has(p.getKey()) && !value.get(p.getKey()).isNull()) {
            String problem = check(value.get(p.getKey()), p.getValue(), path + "." + p.getKey());
            if (problem != null) {
              return problem;
            }
          }
        }
        return null;
      case "array":
        if (!value.isArray()) {
          return path + " must be an array";
        }
        JsonNode items = schema.path("items");
        for (int i = 0; i < value.size() && items.isObject(); i++) {
          String problem = check(value.get(i), items, path + "[" + i + "]");
          if (problem != null) {
            return problem;
          }
        }
        return null;
      case "string":
        return value.isTextual() ? null : path + " must be a string";
      case "integer":
        return value.canConvertToExactIntegral() && value.isNumber()
            ? null
            : path + " must be an integer";
      case "number":
        return value.isNumber() ? null : path + " must be a number";
      case "boolean":
        return value.isBoolean() ? null : path + " must be true or false";
      default:
        return null;
    }
  }
}
