package io.qaforge.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The JSON body of one completion request, for the online client ({@link
 * io.qaforge.llm.OpenAiHttpClient}, which sends these bytes) and the Batch files alike: openai-java
 * parameter builders with fixed rules (roles, optional parameters, n = 1, {@code max_tokens} vs
 * {@code max_completion_tokens}, json_schema response format named after the schema's title,
 * strict), serialized with the SDK's own JSON mapper, which is what the SDK writes on the wire.
 * {@code BatchFilesTest} compares the Batch lines byte for byte against what the stub server
 * receives from the online client.
 */
public final class RequestBodies {
  private static final ObjectMapper SDK_JSON = ObjectMappers.jsonMapper();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final int MAX_CACHED_SCHEMAS = 1024;
  private static final Map<String, Object> SCHEMAS = new ConcurrentHashMap<>();

  private RequestBodies() {}

  /** True for OpenAI itself (the hosts that get {@code max_completion_tokens}). */
  public static boolean isOpenAi(String baseUrl) {
    if (baseUrl == null) {
      return false;
    }
    try {
      String host = URI.create(baseUrl).getHost();
      if (host == null) {
        return false;
      }
      host = host.toLowerCase(Locale.ROOT);
      return host.equals("openai.com")
          || host.endsWith(".openai.com")
          || host.endsWith(".openai.azure.com");
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  public static boolean completionStyle(ModelSpec spec) {
    return "completion".equalsIgnoreCase(spec.style());
  }

  /**
   * The body bytes for {@code r} served by {@code spec}.
   *
   * @throws IllegalArgumentException when the request cannot be built (unknown role, a schema that
   *     is not a JSON object): a per-request problem
   */
  public static byte[] body(ChatRequest r, ModelSpec spec, boolean maxCompletionTokens) {
    Object params =
        completionStyle(spec)
            ? completionParams(r, spec)._body()
            : chatParams(r, spec, maxCompletionTokens)._body();
    try {
      return SDK_JSON.writeValueAsBytes(params);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "the request cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }

  // max_tokens and seed are deprecated in OpenAI's spec, but compatible servers read them
  @SuppressWarnings("deprecation")
  private static ChatCompletionCreateParams chatParams(
      ChatRequest r, ModelSpec spec, boolean maxCompletionTokens) {
    ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model(spec.model());
    for (Message m : r.messages()) {
      String role = m.role() == null ? "user" : m.role();
      switch (role) {
        case "system":
          b.addSystemMessage(m.content());
          break;
        case "user":
          b.addUserMessage(m.content());
          break;
        case "assistant":
          b.addAssistantMessage(m.content());
          break;
        case "developer":
          b.addDeveloperMessage(m.content());
          break;
        default:
          throw new IllegalArgumentException("unsupported message role '" + role + "'");
      }
    }
    if (r.temperature() != null) {
      b.temperature(r.temperature());
    }
    if (r.topP() != null) {
      b.topP(r.topP());
    }
    if (r.maxTokens() != null) {
      if (maxCompletionTokens) {
        b.maxCompletionTokens(r.maxTokens().longValue());
      } else {
        b.maxTokens(r.maxTokens().longValue());
      }
    }
    if (r.seed() != null) {
      b.seed(r.seed());
    }
    if (!r.stop().isEmpty()) {
      b.stop(ChatCompletionCreateParams.Stop.ofStrings(r.stop()));
    }
    b.n(1);
    if (r.logprobs()) {
      b.logprobs(true);
    }
    if (r.jsonSchema() != null) {
      b.responseFormat(responseFormat(r.jsonSchema()));
    }
    return b.build();
  }

  private static CompletionCreateParams completionParams(ChatRequest r, ModelSpec spec) {
    CompletionCreateParams.Builder b =
        CompletionCreateParams.builder().model(spec.model()).prompt(prompt(r.messages()));
    if (r.temperature() != null) {
      b.temperature(r.temperature());
    }
    if (r.topP() != null) {
      b.topP(r.topP());
    }
    if (r.maxTokens() != null) {
      b.maxTokens(r.maxTokens().longValue());
    }
    if (r.seed() != null) {
      b.seed(r.seed());
    }
    if (!r.stop().isEmpty()) {
      b.stop(CompletionCreateParams.Stop.ofStrings(r.stop()));
    }
    b.n(1);
    if (r.logprobs()) {
      b.logprobs(1L);
    }
    return b.build();
  }

  /** The completion-style prompt: message contents joined by a blank line, roles dropped. */
  public static String prompt(List<Message> messages) {
    if (messages.size() == 1) {
      return messages.get(0).content();
    }
    StringBuilder out = new StringBuilder();
    for (Message m : messages) {
      if (out.length() > 0) {
        out.append("\n\n");
      }
      out.append(m.content());
    }
    return out.toString();
  }

  /** The json_schema response format for a schema text, parsed once per distinct text. */
  public static ResponseFormatJsonSchema responseFormat(String schemaJson) {
    Object cached = SCHEMAS.get(schemaJson);
    if (cached == null) {
      cached = parseSchema(schemaJson);
      if (SCHEMAS.size() >= MAX_CACHED_SCHEMAS) {
        SCHEMAS.clear();
      }
      SCHEMAS.put(schemaJson, cached);
    }
    if (cached instanceof RuntimeException e) {
      throw e;
    }
    return (ResponseFormatJsonSchema) cached;
  }

  private static Object parseSchema(String schemaJson) {
    Map<String, Object> schema;
    try {
      schema = MAPPER.readValue(schemaJson, new TypeReference<Map<String, Object>>() {});
    } catch (IOException | RuntimeException e) {
      return new IllegalArgumentException(
          "the JSON schema is not a JSON object: " + e.getMessage());
    }
    if (schema == null) {
      return new IllegalArgumentException("the JSON schema is not a JSON object");
    }
    ResponseFormatJsonSchema.JsonSchema.Schema.Builder s =
        ResponseFormatJsonSchema.JsonSchema.Schema.builder();
    schema.forEach((k, v) -> s.putAdditionalProperty(k, JsonValue.from(v)));
    Object title = schema.get("title");
    String name = title instanceof String t && NAME.matcher(t).matches() ? t : "response";
    return ResponseFormatJsonSchema.builder()
        .jsonSchema(
            ResponseFormatJsonSchema.JsonSchema.builder()
                .name(name)
                .schema(s.build())
                .strict(true)
                .build())
        .build();
  }
}
