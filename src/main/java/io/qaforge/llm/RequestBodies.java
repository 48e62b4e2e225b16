package io.qaforge.llm;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.models.ResponseFormatJsonSchema;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The JSON body of one completion request, for the online client ({@link
 * io.qaforge.llm.OpenAiHttpClient}, which sends these bytes) and the Batch files alike, with fixed
 * rules (roles, optional parameters, n = 1, {@code max_tokens} vs {@code max_completion_tokens},
 * json_schema response format named after the schema's title, strict). The bytes are those
 * openai-java writes for the same request: its parameter builders serialized with its own JSON
 * mapper, which {@code RequestBodiesTest} checks byte for byte over every parameter, role and
 * awkward string. They are written with a Jackson generator instead of through those builders
 * because building and reflectively serializing the SDK's parameter objects was the largest single
 * cost of a request on the client (a quarter of the calling task's CPU at 400 req/s); the response
 * format is still built by the SDK, once per distinct schema. {@code BatchFilesTest} compares the
 * Batch lines byte for byte against what the stub server receives from the online client.
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
    for (Message m : r.messages()) {
      if (m.content() == null) {
        // the SDK's builders refused it too: a call with "content": null is only a 400
        throw new IllegalArgumentException(
            "a " + (m.role() == null ? "user" : m.role()) + " message has no content (null)");
      }
    }
    // a schema problem is the request's, found before anything is written
    String responseFormat =
        completionStyle(spec) || r.jsonSchema() == null ? null : responseFormatJson(r.jsonSchema());
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + contentLength(r.messages()));
    try (JsonGenerator g = SDK_JSON.getFactory().createGenerator(out)) {
      g.writeStartObject();
      if (completionStyle(spec)) {
        g.writeStringField("model", spec.model());
        g.writeStringField("prompt", prompt(r.messages()));
        if (r.logprobs()) {
          g.writeNumberField("logprobs", 1);
        }
        writeMaxTokens(g, r, "max_tokens");
        g.writeNumberField("n", 1);
      } else {
        g.writeArrayFieldStart("messages");
        for (Message m : r.messages()) {
          writeMessage(g, m);
        }
        g.writeEndArray();
        g.writeStringField("model", spec.model());
        if (r.logprobs()) {
          g.writeBooleanField("logprobs", true);
        }
        writeMaxTokens(g, r, maxCompletionTokens ? "max_completion_tokens" : "max_tokens");
        g.writeNumberField("n", 1);
        if (responseFormat != null) {
          g.writeFieldName("response_format");
          g.writeRawValue(responseFormat);
        }
      }
      if (r.seed() != null) {
        g.writeNumberField("seed", r.seed().longValue());
      }
      if (!r.stop().isEmpty()) {
        g.writeArrayFieldStart("stop");
        for (String stop : r.stop()) {
          g.writeString(stop);
        }
        g.writeEndArray();
      }
      if (r.temperature() != null) {
        g.writeNumberField("temperature", r.temperature().doubleValue());
      }
      if (r.topP() != null) {
        g.writeNumberField("top_p", r.topP().doubleValue());
      }
      g.writeEndObject();
    } catch (IOException e) {
      // a ByteArrayOutputStream does not fail; this would be a Jackson bug
      throw new IllegalStateException(
          "the request cannot be written as JSON: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  private static int contentLength(List<Message> messages) {
    int n = 0;
    for (Message m : messages) {
      n += m.content().length();
    }
    return n;
  }

  private static void writeMessage(JsonGenerator g, Message m) throws IOException {
    String role = m.role() == null ? "user" : m.role();
    switch (role) {
      case "system", "user", "developer" -> {
        g.writeStartObject();
        g.writeStringField("content", m.content());
        g.writeStringField("role", role);
        g.writeEndObject();
      }
      case "assistant" -> {
        // the SDK's assistant message class declares role before content
        g.writeStartObject();
        g.writeStringField("role", role);
        g.writeStringField("content", m.content());
        g.writeEndObject();
      }
      default -> throw new IllegalArgumentException("unsupported message role '" + role + "'");
    }
  }

  private static void writeMaxTokens(JsonGenerator g, ChatRequest r, String name)
      throws IOException {
    if (r.maxTokens() != null) {
      g.writeNumberField(name, r.maxTokens().longValue());
    }
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
    return schema(schemaJson).format();
  }

  /** The response format as the SDK's JSON mapper writes it, once per distinct schema text. */
  static String responseFormatJson(String schemaJson) {
    return schema(schemaJson).json();
  }

  private static Schema schema(String schemaJson) {
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
    return (Schema) cached;
  }

  private record Schema(ResponseFormatJsonSchema format, String json) {}

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
    ResponseFormatJsonSchema format =
        ResponseFormatJsonSchema.builder()
            .jsonSchema(
                ResponseFormatJsonSchema.JsonSchema.builder()
                    .name(name)
                    .schema(s.build())
                    .strict(true)
                    .build())
            .build();
    try {
      return new Schema(format, SDK_JSON.writeValueAsString(format));
    } catch (JsonProcessingException e) {
      return new IllegalArgumentException(
          "the JSON schema cannot be written as JSON: " + e.getOriginalMessage());
    }
  }
}
