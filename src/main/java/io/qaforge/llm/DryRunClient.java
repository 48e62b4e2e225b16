package io.qaforge.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qaforge.Hashing;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Makes no call. Answers deterministically (a placeholder derived from the request id, or a JSON
 * value shaped by the schema) so downstream steps run end to end, and reports real prompt token
 * counts; completion tokens are the request's max tokens (the upper bound a plan should budget).
 */
public final class DryRunClient implements LlmClient {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final Function<String, ModelSpec> specs;

  public DryRunClient(Function<String, ModelSpec> specs) {
    this.specs = specs;
  }

  @Override
  public String backend() {
    return "dry-run";
  }

  @Override
  public CompletableFuture<Attempt> send(ChatRequest r) {
    ModelSpec spec = specs.apply(r.alias());
    int prompt = TokenCounter.countMessages(spec.tokenizer(), r.messages());
    String tag = r.requestId().substring(0, 12);
    String content =
        r.jsonSchema() != null
            ? sample(readTree(r.jsonSchema()), tag).toString()
            : "[dry-run " + tag + "] placeholder answer from " + spec.model() + ".";
    int completion =
        r.maxTokens() != null ? r.maxTokens() : TokenCounter.count(spec.tokenizer(), content);
    return CompletableFuture.completedFuture(
        Attempt.ok(content, "stop", prompt, completion, spec.model(), 0));
  }

  private static JsonNode readTree(String schema) {
    try {
      return MAPPER.readTree(schema);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("Invalid JSON schema: " + e.getOriginalMessage(), e);
    }
  }

  /** A value that satisfies simple schemas: required properties with the declared types. */
  static JsonNode sample(JsonNode schema, String tag) {
    switch (schema.path("type").asText("string")) {
      case "object":
        ObjectNode o = MAPPER.createObjectNode();
        for (Map.Entry<String, JsonNode> p :
            (Iterable<Map.Entry<String, JsonNode>>) () -> schema.path("properties").fields()) {
          o.set(p.getKey(), sample(p.getValue(), tag));
        }
        return o;
      case "array":
        ArrayNode a = MAPPER.createArrayNode();
        for (int i = Math.max(1, schema.path("minItems").asInt(1)); i > 0; i--) {
          a.add(sample(schema.path("items"), tag));
        }
        return a;
      case "integer":
        return MAPPER.getNodeFactory().numberNode(schema.path("minimum").asInt(0));
      case "number":
        return MAPPER.getNodeFactory().numberNode(schema.path("minimum").asDouble(0.5));
      case "boolean":
        return MAPPER.getNodeFactory().booleanNode(Hashing.sha256Hex(tag).charAt(0) < '8');
      default:
        JsonNode e = schema.path("enum");
        return e.isArray() && e.size() > 0
            ? e.get(0)
            : MAPPER.getNodeFactory().textNode("dry-run " + tag);
    }
  }

  @Override
  public void close() {}
}
