package io.qaforge.llm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RequestIdsTest {
  static String id(
      String model, String text, Double temp, int sample, String template, String schema) {
    return RequestIds.of(
        model,
        "chat",
        List.of(new Message("user", text)),
        temp,
        0.9,
        100,
        null,
        List.of(),
        schema,
        false,
        sample,
        template);
  }

  @Test
  void sameInputsSameIdAndEveryIngredientMatters() {
    String base = id("m", "hello", 0.7, 0, "t1", null);
    assertThat(id("m", "hello", 0.7, 0, "t1", null)).isEqualTo(base).hasSize(64);
    assertThat(id("m2", "hello", 0.7, 0, "t1", null)).isNotEqualTo(base);
    assertThat(id("m", "hello!", 0.7, 0, "t1", null)).isNotEqualTo(base);
    assertThat(id("m", "hello", 0.8, 0, "t1", null)).isNotEqualTo(base);
    assertThat(id("m", "hello", 0.7, 1, "t1", null)).isNotEqualTo(base);
    assertThat(id("m", "hello", 0.7, 0, "t2", null)).isNotEqualTo(base);
    assertThat(id("m", "hello", 0.7, 0, "t1", "{\"type\":\"object\"}")).isNotEqualTo(base);
  }

  @Test
  void numberAndSchemaFormattingDoNotMatter() {
    assertThat(id("m", "x", 0.70, 0, "t", "{ \"type\" : \"object\" }"))
        .isEqualTo(id("m", "x", 0.7, 0, "t", "{\"type\":\"object\"}"));
  }
}
