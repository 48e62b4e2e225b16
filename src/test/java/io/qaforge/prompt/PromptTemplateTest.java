package io.qaforge.prompt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.Hashing;
import io.qaforge.QaforgeException;
import io.qaforge.TestPaths;
import io.qaforge.calibration.CalibrationParsing;
import io.qaforge.calibration.CalibrationParsing.EquivalenceItem;
import io.qaforge.calibration.CalibrationParsing.ParagraphExample;
import io.qaforge.calibration.CalibrationParsing.QueryExample;
import io.qaforge.llm.Message;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PromptTemplateTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");

  /** Every calibration template, and whether it has a structured-output schema. */
  private static final Map<String, Boolean> CALIBRATION = new LinkedHashMap<>();

  static {
    CALIBRATION.put("queries", true);
    CALIBRATION.put("samples", false);
    CALIBRATION.put("summaries", false);
    CALIBRATION.put("extract_answers", true);
    CALIBRATION.put("forecast_probs", true);
    CALIBRATION.put("binary_correctness", true);
    CALIBRATION.put("semantic_equivalence", true);
    CALIBRATION.put("sft_prompt", false);
  }

  // ------------------------------------------------------------------ golden files

  static Stream<String> calibrationTemplates() {
    return CALIBRATION.keySet().stream();
  }

  @ParameterizedTest
  @MethodSource("calibrationTemplates")
  void rendersEveryCalibrationTemplateAsItsGoldenFile(String name) throws IOException {
    PromptTemplate t = PromptTemplate.load("calibration/" + name);
    Map<String, String> values = goldenInputs(name);
    assertThat(values.keySet()).containsAll(t.placeholders());
    String rendered = golden(t.render(values));
    Path file =
        TestPaths.project()
            .resolve("src/test/resources/golden/prompts/calibration/" + name + ".txt");
    if (UPDATE) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, rendered, StandardCharsets.UTF_8);
    }
    assertThat(file)
        .as("golden file %s (regenerate with -Dgolden.update=true and review the diff)", file)
        .exists();
    assertThat(rendered).isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
  }

  @Test
  void goldenFilesCoverEveryCalibrationTemplateOnTheClasspath() throws IOException {
    Path dir = TestPaths.project().resolve("src/main/resources/prompts/calibration");
    Set<String> onDisk = new TreeSet<>();
    try (Stream<Path> files = Files.list(dir)) {
      files
          .map(p -> p.getFileName().toString())
          .filter(f -> f.endsWith(".txt"))
          .forEach(f -> onDisk.add(f.substring(0, f.length() - 4)));
    }
    assertThat(onDisk).isEqualTo(new TreeSet<>(CALIBRATION.keySet()));
  }

  /** Messages in a readable, unambiguous form: a header line per message, then its content. */
  private static String golden(List<Message> messages) {
    StringBuilder sb = new StringBuilder();
    for (Message m : messages) {
      sb.append("======== ")
          .append(m.role())
          .append(" ========\n")
          .append(m.content())
          .append('\n');
    }
    return sb.append("======== end ========\n").toString();
  }

  /**
   * Fixed inputs: the project's own k-shot examples and one hand-written question. {@code examples}
   * is the query examples for queries.txt and the paragraph examples for samples.txt.
   */
  private static Map<String, String> goldenInputs(String template) throws IOException {
    List<QueryExample> queries = new ArrayList<>();
    for (JsonNode n : jsonl("calibration/query_examples.jsonl")) {
      queries.add(new QueryExample(n.get("question").asText(), n.get("query").asText()));
    }
    List<ParagraphExample> paragraphs = new ArrayList<>();
    for (JsonNode n : jsonl("calibration/paragraph_examples.jsonl")) {
      paragraphs.add(new ParagraphExample(n.get("query").asText(), n.get("paragraph").asText()));
    }
    Map<String, String> v = new HashMap<>();
    v.put(
        "examples",
        template.equals("samples")
            ? CalibrationParsing.renderParagraphExamples(paragraphs)
            : CalibrationParsing.renderQueryExamples(queries));
    v.put("question", "Which planet in our solar system has the most moons?");
    v.put("paragraph_generation_prompt", "Write a paragraph about the moons of the outer planets.");
    v.put(
        "formatted_paragraphs",
        CalibrationParsing.formatThoughts(
            List.of(
                "Saturn has more known moons than any other planet, with well over a hundred"
                    + " confirmed. Its largest moon, Titan, has a thick atmosphere.",
                "Jupiter has the most moons of any planet, including the four large Galilean"
                    + " moons discovered by Galileo in 1610.",
                "Saturn holds the record for the most moons. Titan is larger than the planet"
                    + " Mercury.")));
    v.put(
        "generated_paragraph",
        "I estimate a 67% chance that Saturn has the most moons of any planet and a 33% chance"
            + " that it is Jupiter. Saturn's largest moon, Titan, has a thick atmosphere.");
    v.put("candidate_answer", "Saturn");
    v.put("ground_truth_top_answer", "Saturn");
    v.put(
        "items",
        CalibrationParsing.renderEquivalenceItems(
            List.of(
                new EquivalenceItem(
                    "Which planet in our solar system has the most moons?", "Saturn", "Saturn"),
                new EquivalenceItem(
                    "Who wrote the novel Don Quixote?", "Cervantes", "Miguel de" + " Cervantes"),
                new EquivalenceItem("What is the capital city of Peru?", "Lima", "Peru"))));
    return v;
  }

  private static List<JsonNode> jsonl(String sample) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(TestPaths.samples(sample), StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(MAPPER.readTree(line));
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ loading

  @Test
  void aMissingResourceNamesTheTemplateTheResourceAndTheFix() {
    assertThatThrownBy(() -> PromptTemplate.load("calibration/nope"))
        .isInstanceOf(QaforgeException.class)
        .hasMessageStartingWith(
            "Cannot load prompt template calibration/nope: resource not found on classpath")
        .hasMessageContaining("prompts/calibration/nope.txt")
        .satisfies(
            e ->
                assertThat(((QaforgeException) e).fix())
                    .contains("src/main/resources/prompts/calibration/nope.txt"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "../secrets", "calibration/../x", "calibration/a b", "/abs"})
  void anInvalidNameIsRejected(String name) {
    assertThatThrownBy(() -> PromptTemplate.load(name))
        .isInstanceOf(QaforgeException.class)
        .hasMessageStartingWith("Cannot load prompt template " + name + ": invalid name");
  }

  @Test
  void loadIsCachedAndTheHashIsTheSha256OfTheResourceText() throws IOException {
    PromptTemplate a = PromptTemplate.load("calibration/summaries");
    assertThat(PromptTemplate.load("calibration/summaries")).isSameAs(a);
    assertThat(a.name()).isEqualTo("calibration/summaries");
    String text =
        Files.readString(
            TestPaths.project().resolve("src/main/resources/prompts/calibration/summaries.txt"));
    assertThat(a.hash()).isEqualTo(Hashing.sha256Hex(text)).hasSize(64);
  }

  @Test
  void theHashChangesWithTheText() {
    String h1 = PromptTemplate.of("t", "Hello {{name}}.\n", null).hash();
    String h2 = PromptTemplate.of("t", "Hello {{name}}!\n", null).hash();
    String h3 = PromptTemplate.of("other", "Hello {{name}}.\n", null).hash();
    assertThat(h1).isNotEqualTo(h2).isEqualTo(h3);
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    PromptTemplate t = PromptTemplate.load("calibration/forecast_probs");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(t);
    }
    PromptTemplate copy;
    try (InputStream in = new ByteArrayInputStream(bytes.toByteArray());
        ObjectInputStream oin = new ObjectInputStream(in)) {
      copy = (PromptTemplate) oin.readObject();
    }
    Map<String, String> v =
        Map.of("question", "Q?", "generated_paragraph", "P.", "candidate_answer", "A");
    assertThat(copy.render(v)).isEqualTo(t.render(v));
    assertThat(copy.hash()).isEqualTo(t.hash());
    assertThat(copy.schema()).isEqualTo(t.schema());
  }

  // ------------------------------------------------------------------ placeholders and rendering

  @Test
  void placeholdersAreListedInOrderOfFirstAppearance() {
    PromptTemplate t =
        PromptTemplate.of("t", "@system\n{{b}} and {{a}}\n@user\n{{c_1}} {{a}} {{B2}}\n", null);
    assertThat(t.placeholders()).containsExactly("b", "a", "c_1", "B2");
    assertThat(PromptTemplate.load("calibration/forecast_probs").placeholders())
        .containsExactly("question", "generated_paragraph", "candidate_answer");
  }

  static Stream<Arguments> calibrationPlaceholders() {
    return Stream.of(
        Arguments.of("queries", List.of("examples", "question")),
        Arguments.of("samples", List.of("examples", "paragraph_generation_prompt")),
        Arguments.of("summaries", List.of("paragraph_generation_prompt", "formatted_paragraphs")),
        Arguments.of("extract_answers", List.of("question", "generated_paragraph")),
        Arguments.of(
            "forecast_probs", List.of("question", "generated_paragraph", "candidate_answer")),
        Arguments.of(
            "binary_correctness",
            List.of("question", "ground_truth_top_answer", "generated_paragraph")),
        Arguments.of("semantic_equivalence", List.of("items")),
        Arguments.of("sft_prompt", List.of("paragraph_generation_prompt")));
  }

  @ParameterizedTest
  @MethodSource("calibrationPlaceholders")
  void calibrationTemplatesHaveTheirPlaceholders(String name, List<String> expected) {
    PromptTemplate t = PromptTemplate.load("calibration/" + name);
    assertThat(t.placeholders()).containsExactlyElementsOf(expected);
    t.requireFields(expected, "the test input"); // does not throw
  }

  @Test
  void substitutionIsSinglePass() {
    PromptTemplate t = PromptTemplate.of("t", "A={{a}} B={{b}}", null);
    String out = t.renderText(Map.of("a", "{{b}}", "b", "$1 \\ {{a}}"));
    assertThat(out).isEqualTo("A={{b}} B=$1 \\ {{a}}");
  }

  @Test
  void extraValuesAreIgnored() {
    PromptTemplate t = PromptTemplate.of("t", "Q: {{question}}", null);
    assertThat(t.renderText(Map.of("question", "Why?", "question_id", "q1"))).isEqualTo("Q: Why?");
  }

  @Test
  void aMissingValueIsARunLevelErrorNamingThePlaceholder() {
    PromptTemplate t = PromptTemplate.load("calibration/binary_correctness");
    Map<String, String> values = new HashMap<>();
    values.put("question", "Q?");
    values.put("generated_paragraph", "P.");
    assertThatThrownBy(() -> t.render(values))
        .isInstanceOf(QaforgeException.class)
        .hasMessageStartingWith(
            "Cannot render prompt template calibration/binary_correctness: no value for"
                + " {{ground_truth_top_answer}}")
        .hasMessageContaining("the value is missing")
        .hasMessageContaining("[generated_paragraph, question]");
    values.put("ground_truth_top_answer", null);
    assertThatThrownBy(() -> t.render(values))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("no value for {{ground_truth_top_answer}}")
        .hasMessageContaining("the value is null");
  }

  @Test
  void requireFieldsNamesEveryMissingFieldTheAvailableOnesAndTheFix() {
    PromptTemplate t = PromptTemplate.load("calibration/binary_correctness");
    assertThatThrownBy(
            () ->
                t.requireFields(
                    List.of("question_id", "question", "answer"), "table calibration/paragraphs"))
        .isInstanceOfSatisfying(
            QaforgeException.class,
            e -> {
              assertThat(e.problem())
                  .isEqualTo(
                      "Prompt template calibration/binary_correctness needs fields"
                          + " ground_truth_top_answer, generated_paragraph, which table"
                          + " calibration/paragraphs does not have");
              assertThat(e.reason())
                  .contains("available fields are [answer, question, question_id]")
                  .contains("{{question}}, {{ground_truth_top_answer}}, {{generated_paragraph}}");
              assertThat(e.fix())
                  .isEqualTo(
                      "add columns named ground_truth_top_answer, generated_paragraph to table"
                          + " calibration/paragraphs, or change the placeholders in"
                          + " src/main/resources/prompts/calibration/binary_correctness.txt");
            });
  }

  // ------------------------------------------------------------------ messages

  @Test
  void roleLinesSplitTheFileIntoMessagesWithoutTheirSurroundingBlankLines() {
    PromptTemplate t =
        PromptTemplate.of(
            "t",
            "\n@system\nBe brief.\n\n@user\n\nQ: {{q}}\n\nThanks.\n\n@assistant\nA:\n@user\n"
                + "  @user is only a marker when alone on its line\n",
            null);
    assertThat(t.roles()).containsExactly("system", "user", "assistant", "user");
    assertThat(t.render(Map.of("q", "why?")))
        .containsExactly(
            new Message("system", "Be brief."),
            new Message("user", "Q: why?\n\nThanks."),
            new Message("assistant", "A:"),
            new Message("user", "  @user is only a marker when alone on its line"));
    assertThat(t.renderText(Map.of("q", "why?")))
        .isEqualTo(
            "Be brief.\n\nQ: why?\n\nThanks.\n\nA:\n\n  @user is only a marker when alone on its line");
  }

  @Test
  void aFileWithoutRoleLinesIsOneVerbatimUserMessageWithoutItsFinalLineBreak() {
    PromptTemplate t = PromptTemplate.of("t", "\nLine 1\r\n\r\nLine {{n}}\n\n", null);
    assertThat(t.render(Map.of("n", "2")))
        .containsExactly(new Message("user", "\nLine 1\n\nLine 2\n"));
    assertThat(
            PromptTemplate.load("calibration/sft_prompt")
                .renderText(Map.of("paragraph_generation_prompt", "Write a paragraph about tea.")))
        .isEqualTo("### Instruction:\nWrite a paragraph about tea.\n\n### Response:\n");
  }

  @Test
  void textBeforeTheFirstRoleLineIsAnErrorAtLoad() {
    assertThatThrownBy(() -> PromptTemplate.of("pipe/x", "Hello\n@user\n{{q}}\n", null))
        .isInstanceOf(QaforgeException.class)
        .hasMessageStartingWith("Cannot load prompt template pipe/x: malformed template")
        .hasMessageContaining("line 1 has text before the first @system/@user/@assistant line")
        .hasMessageContaining("src/main/resources/prompts/pipe/x.txt");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{{ question }}", "{{question-id}}", "{{}}", "{{question}", "{{é}}"})
  void aMalformedPlaceholderIsAnErrorAtLoad(String bad) {
    assertThatThrownBy(() -> PromptTemplate.of("t", "Q: " + bad + "\n", null))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("malformed placeholder near \"" + bad);
  }

  // ------------------------------------------------------------------ schemas

  @ParameterizedTest
  @MethodSource("calibrationTemplates")
  void structuredTemplatesHaveAStrictObjectSchema(String name) throws IOException {
    String schema = PromptTemplate.load("calibration/" + name).schema();
    assertThat(CalibrationParsing.schema(name)).isEqualTo(schema);
    if (!CALIBRATION.get(name)) {
      assertThat(schema).isNull();
      return;
    }
    JsonNode s = MAPPER.readTree(schema);
    assertThat(s.path("type").asText()).isEqualTo("object");
    assertThat(s.path("additionalProperties").isBoolean()).isTrue();
    assertThat(s.path("additionalProperties").asBoolean()).isFalse();
    Set<String> props = new TreeSet<>();
    s.path("properties").fieldNames().forEachRemaining(props::add);
    Set<String> required = new TreeSet<>();
    s.path("required").forEach(r -> required.add(r.asText()));
    // OpenAI strict structured outputs: every property is required
    assertThat(required).isEqualTo(props).isNotEmpty();
  }

  @Test
  void anEditedCopyInTheOverrideFolderReplacesTheBundledTemplate(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
    PromptTemplate bundled = PromptTemplate.load("calibration/summaries");
    assertThat(PromptTemplate.load("calibration/summaries", "")).isSameAs(bundled);
    assertThat(PromptTemplate.load("calibration/summaries", dir.toString())).isSameAs(bundled);
    java.nio.file.Files.createDirectories(dir.resolve("calibration"));
    java.nio.file.Files.writeString(
        dir.resolve("calibration/summaries.txt"), "@user\nMerge: {{formatted_paragraphs}}\n");
    PromptTemplate edited = PromptTemplate.load("calibration/summaries", dir.toString());
    assertThat(edited.hash()).isNotEqualTo(bundled.hash());
    assertThat(edited.placeholders()).containsExactly("formatted_paragraphs");
    // a structured template keeps its bundled schema when the folder has none
    java.nio.file.Files.writeString(
        dir.resolve("calibration/queries.txt"), "Rewrite {{question}} with {{examples}}");
    assertThat(PromptTemplate.load("calibration/queries", dir.toString()).schema())
        .isEqualTo(PromptTemplate.load("calibration/queries").schema());
  }
}
