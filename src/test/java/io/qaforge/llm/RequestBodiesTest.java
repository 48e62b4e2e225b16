package io.qaforge.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestBodies#body} writes the bytes openai-java would write for the same request: the
 * oracle here builds the request with the SDK's parameter builders and serializes it with the SDK's
 * JSON mapper, as the online client did before it wrote bodies itself.
 */
class RequestBodiesTest {
  private static final ModelSpec CHAT = spec("chat");
  private static final ModelSpec COMPLETION = spec("completion");
  private static final String SCHEMA =
      "{\"title\":\"Answer\",\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"number\","
          + "\"minimum\":0.0,\"maximum\":1}},\"required\":[\"p\"],\"additionalProperties\":false}";
  private static final List<String> TEXTS =
      List.of(
          "",
          "plain",
          "quote \" backslash \\ slash / tab \t newline \n return \r",
          "control \u0000 \u0001 \u001f \u007f",
          "accents é ü ß, CJK 漢字, emoji 🙂 and a lone surrogate \ud800 end",
          "line separators \u2028 \u2029 and <script>&amp;</script>",
          "x".repeat(5000));
  private static final List<String> ROLES =
      Arrays.asList("system", "user", "assistant", "developer", null);
  private static final List<Double> NUMBERS =
      List.of(0.0, 0.7, 1.0, 2.0, 1e-7, 0.30000000000000004, 123456.789);

  @Test
  void everyParameterRoleAndAwkwardStringIsWrittenAsTheSdkWritesIt() {
    Random random = new Random(7);
    for (int i = 0; i < 2000; i++) {
      List<Message> messages = new ArrayList<>();
      for (int m = 1 + random.nextInt(4); m > 0; m--) {
        messages.add(
            new Message(
                ROLES.get(random.nextInt(ROLES.size())), TEXTS.get(random.nextInt(TEXTS.size()))));
      }
      List<String> stop = new ArrayList<>();
      for (int s = random.nextInt(3); s > 0; s--) {
        stop.add(TEXTS.get(random.nextInt(TEXTS.size() - 1)));
      }
      ChatRequest r =
          new ChatRequest(
              "id-" + i,
              "a",
              messages,
              random.nextBoolean() ? null : NUMBERS.get(random.nextInt(NUMBERS.size())),
              random.nextBoolean() ? null : NUMBERS.get(random.nextInt(NUMBERS.size())),
              random.nextBoolean() ? null : random.nextInt(100_000),
              random.nextBoolean() ? null : random.nextLong(),
              stop,
              random.nextBoolean() ? null : SCHEMA,
              random.nextBoolean(),
              random.nextInt(5));
      for (boolean maxCompletionTokens : new boolean[] {false, true}) {
        assertThat(text(RequestBodies.body(r, CHAT, maxCompletionTokens)))
            .as("chat request %s", r)
            .isEqualTo(sdkChat(r, maxCompletionTokens));
      }
      assertThat(text(RequestBodies.body(r, COMPLETION, false)))
          .as("completion request %s", r)
          .isEqualTo(sdkCompletion(r));
    }
  }

  @Test
  void aMinimalRequestHasOnlyTheMessagesModelAndN() {
    ChatRequest r = minimal(null, "hi", null);
    assertThat(text(RequestBodies.body(r, CHAT, false)))
        .isEqualTo(
            "{\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],\"model\":\"m-1\",\"n\":1}");
    assertThat(text(RequestBodies.body(r, COMPLETION, false)))
        .isEqualTo("{\"model\":\"m-1\",\"prompt\":\"hi\",\"n\":1}");
  }

  @Test
  void anUnknownRoleABadSchemaOrAMissingContentIsThatRequestsProblem() {
    ChatRequest badRole = minimal("tool", "x", null);
    assertThatThrownBy(() -> RequestBodies.body(badRole, CHAT, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unsupported message role 'tool'");
    ChatRequest badSchema = minimal("user", "x", "[1]");
    assertThatThrownBy(() -> RequestBodies.body(badSchema, CHAT, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the JSON schema is not a JSON object");
    ChatRequest noContent = minimal("system", null, null);
    for (ModelSpec spec : List.of(CHAT, COMPLETION)) {
      assertThatThrownBy(() -> RequestBodies.body(noContent, spec, false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a system message has no content (null)");
    }
  }

  /** One message and no optional parameter but the schema. */
  private static ChatRequest minimal(String role, String content, String schema) {
    return new ChatRequest(
        "id",
        "a",
        List.of(new Message(role, content)),
        null,
        null,
        null,
        null,
        null,
        schema,
        false,
        0);
  }

  private static ModelSpec spec(String style) {
    return new ModelSpec("a", "openai", "m-1", style, "", 0, 0, 0, "", 0, 0, "");
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  // the oracle: what openai-java's builders and JSON mapper write
  @SuppressWarnings("deprecation")
  private static String sdkChat(ChatRequest r, boolean maxCompletionTokens) {
    ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model("m-1");
    for (Message m : r.messages()) {
      String role = m.role() == null ? "user" : m.role();
      switch (role) {
        case "system" -> b.addSystemMessage(m.content());
        case "user" -> b.addUserMessage(m.content());
        case "assistant" -> b.addAssistantMessage(m.content());
        case "developer" -> b.addDeveloperMessage(m.content());
        default -> throw new AssertionError(role);
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
      b.responseFormat(RequestBodies.responseFormat(r.jsonSchema()));
    }
    return sdkJson(b.build()._body());
  }

  private static String sdkCompletion(ChatRequest r) {
    CompletionCreateParams.Builder b =
        CompletionCreateParams.builder().model("m-1").prompt(RequestBodies.prompt(r.messages()));
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
    return sdkJson(b.build()._body());
  }

  private static String sdkJson(Object body) {
    try {
      return text(ObjectMappers.jsonMapper().writeValueAsBytes(body));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
