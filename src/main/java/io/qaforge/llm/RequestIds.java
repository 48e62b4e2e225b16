package io.qaforge.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qaforge.Hashing;
import java.util.List;

/**
 * The request id: SHA-256 of a canonical JSON of everything that determines an answer — the model
 * (name and call style, not the alias or the server address), the rendered messages, the sampling
 * parameters, the JSON schema, the sample index and the prompt-template hash. Editing a template or
 * a parameter changes exactly the ids it affects; nothing else does.
 */
public final class RequestIds {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private RequestIds() {}

  public static String of(
      String model,
      String style,
      List<Message> messages,
      Double temperature,
      Double topP,
      Integer maxTokens,
      Long seed,
      List<String> stop,
      String jsonSchema,
      boolean logprobs,
      int sampleIdx,
      String templateHash) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("v", 1);
    n.put("model", model);
    n.put("style", style);
    ArrayNode ms = n.putArray("messages");
    for (Message m : messages) {
      ms.addObject().put("role", m.role()).put("content", m.content());
    }
    putNumber(n, "temperature", temperature);
    putNumber(n, "top_p", topP);
    if (maxTokens != null) {
      n.put("max_tokens", maxTokens);
    }
    if (seed != null) {
      n.put("seed", seed);
    }
    ArrayNode st = n.putArray("stop");
    if (stop != null) {
      stop.forEach(st::add);
    }
    if (jsonSchema != null) {
      n.put("schema", canonicalJson(jsonSchema));
    }
    n.put("logprobs", logprobs);
    n.put("sample_idx", sampleIdx);
    n.put("template", templateHash == null ? "" : templateHash);
    try {
      return Hashing.sha256Hex(MAPPER.writeValueAsString(n));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a request for hashing", e);
    }
  }

  private static void putNumber(ObjectNode n, String key, Double v) {
    if (v != null) {
      // one textual form for 0.7 however it was computed (0.7, 0.70, 7e-1)
      n.put(key, java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString());
    }
  }

  /** The schema re-serialised without insignificant whitespace, so formatting does not matter. */
  static String canonicalJson(String json) {
    try {
      return MAPPER.writeValueAsString(MAPPER.readTree(json));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Invalid JSON schema: " + e.getOriginalMessage(), e);
    }
  }
}
