package io.qaforge.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.qaforge.calibration.CalibrationParsing.EquivalenceItem;
import io.qaforge.calibration.CalibrationParsing.ParagraphExample;
import io.qaforge.calibration.CalibrationParsing.Parsed;
import io.qaforge.calibration.CalibrationParsing.QueryExample;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CalibrationParsingTest {

  // ------------------------------------------------------------------ cutAtBlankLine

  static Stream<Arguments> continuations() {
    return Stream.of(
        arguments(" Tea is a drink.\n\nQuery: Write a paragraph about", "Tea is a drink."),
        arguments(
            "\n\n  Tea is a drink. It is old.\nStill here.\n\nNext",
            "Tea is a drink. It is" + " old.\nStill here."),
        arguments("Tea is a drink.\r\n\r\nQuery: x", "Tea is a drink."),
        arguments("Tea is a drink.\n   \t\nQuery: x", "Tea is a drink."),
        arguments("Tea is a drink.\r\n \r\nQuery: x", "Tea is a drink."),
        arguments("Only one paragraph, no stop.", "Only one paragraph, no stop."),
        arguments("   \n\n  ", ""),
        arguments("", ""));
  }

  @ParameterizedTest
  @MethodSource("continuations")
  void cutAtBlankLineKeepsTheFirstParagraph(String raw, String expected) {
    assertThat(CalibrationParsing.cutAtBlankLine(raw)).isEqualTo(expected);
  }

  @Test
  void cutAtBlankLineKeepsNull() {
    assertThat(CalibrationParsing.cutAtBlankLine(null)).isNull();
  }

  // ------------------------------------------------------------------ prompt inputs

  @Test
  void formatThoughtsNumbersTheParagraphsInTheGivenOrder() {
    assertThat(CalibrationParsing.formatThoughts(List.of("First one.", " Second one.\n")))
        .isEqualTo("### Thought 1\nFirst one.\n\n### Thought 2\nSecond one.");
    assertThat(CalibrationParsing.formatThoughts(List.of())).isEmpty();
  }

  @Test
  void renderQueryExamplesShowsTheQuestionAndTheJsonOutput() {
    assertThat(
            CalibrationParsing.renderQueryExamples(
                List.of(
                    new QueryExample(
                        "Who wrote \"Don Quixote\"?",
                        "Write a paragraph about the" + " novel \"Don Quixote\"."),
                    new QueryExample(
                        "What is the capital of Peru?",
                        "Write a paragraph about" + " Peru's capital."))))
        .isEqualTo(
            "Question: Who wrote \"Don Quixote\"?\n"
                + "Output: {\"query\":\"Write a paragraph about the novel \\\"Don Quixote\\\".\"}\n"
                + "\n"
                + "Question: What is the capital of Peru?\n"
                + "Output: {\"query\":\"Write a paragraph about Peru's capital.\"}");
  }

  @Test
  void renderParagraphExamplesPutsEachParagraphOnOneLine() {
    assertThat(
            CalibrationParsing.renderParagraphExamples(
                List.of(
                    new ParagraphExample(
                        "Write a paragraph about tea.", "Tea is old.\n\nIt is" + " drunk hot."),
                    new ParagraphExample("Write a paragraph about Lima.", "Lima is a city."))))
        .isEqualTo(
            "Query: Write a paragraph about tea.\nParagraph: Tea is old. It is drunk hot.\n\n"
                + "Query: Write a paragraph about Lima.\nParagraph: Lima is a city.");
  }

  @Test
  void renderEquivalenceItemsNumbersTheItems() {
    assertThat(
            CalibrationParsing.renderEquivalenceItems(
                List.of(
                    new EquivalenceItem("Capital of Peru?", "Lima", "Lima, Peru"),
                    new EquivalenceItem("Author of Don Quixote?", "Cervantes", null))))
        .isEqualTo(
            "Item 1\nQuestion: Capital of Peru?\nGround-truth answer: Lima\n"
                + "Provided answer: Lima, Peru\n\n"
                + "Item 2\nQuestion: Author of Don Quixote?\nGround-truth answer: Cervantes\n"
                + "Provided answer: (none)");
  }

  // ------------------------------------------------------------------ query

  static Stream<Arguments> queries() {
    return Stream.of(
        arguments(
            "{\"query\": \"Write a paragraph about the opera Carmen.\"}",
            "Write a paragraph about the opera Carmen.",
            null),
        arguments(
            "```json\n{'query': 'Write a paragraph about Petra.',}\n```",
            "Write a paragraph about Petra.",
            null),
        arguments(
            "Sure! Here it is:\nQuery: Write a paragraph about the river Rio Grande.",
            "Write a paragraph about the river Rio Grande.",
            null),
        arguments("{\"query\": \"  \"}", null, "query is empty"),
        arguments("{\"question\": \"Write a paragraph about tea.\"}", null, "$.query is missing"),
        arguments("I cannot help with that.", null, "output is not JSON"),
        arguments("", null, "output is empty"));
  }

  @ParameterizedTest
  @MethodSource("queries")
  void parsesQueries(String content, String value, String error) {
    check(CalibrationParsing.query(content), value, error);
  }

  // ------------------------------------------------------------------ extract answers

  static Stream<Arguments> extractions() {
    return Stream.of(
        arguments(
            "{\"reasoning\": \"The paragraph names Saturn and Jupiter.\", \"answers\":"
                + " [\"Saturn\", \"Jupiter\"]}",
            List.of("Saturn", "Jupiter"),
            null),
        arguments(
            "```json\n{\n  \"reasoning\": \"Only one city.\",\n  \"answers\": [\" Lima \", \"\","
                + " \"Lima\"],\n}\n```",
            List.of("Lima"),
            null),
        arguments(
            "{'reasoning': 'Two candidates, the last one sloppy.', 'answers': ['Miguel de"
                + " Cervantes', 'Lope de Vega.']}",
            List.of("Miguel de Cervantes", "Lope de Vega"),
            null),
        arguments(
            "{\"reasoning\": \"It says Washington.\", \"answers\": [\"Washington, D.C.\"]}",
            List.of("Washington, D.C."),
            null),
        arguments(
            "{\"reasoning\": \"The paragraph never says.\", \"answers\": []}", List.of(), null),
        arguments(
            "{\"reasoning\": \"Nothing relevant.\", \"answers\": [\"No Answer\"]}",
            List.of(),
            null),
        arguments(
            "Reasoning: the paragraph weighs two composers.\n"
                + "List of Answers to the Question in the Context Paragraph: Georges Bizet;"
                + " Jules Massenet; Georges Bizet.",
            List.of("Georges Bizet", "Jules Massenet"),
            null),
        arguments("Answers: Potassium; K.", List.of("Potassium", "K"), null),
        arguments("Reasoning: nothing on the question.\nNo answers.", List.of(), null),
        arguments("Answers: none", List.of(), null),
        arguments("none", List.of(), null),
        arguments(
            "{\"reasoning\": \"x\", \"answers\": \"Saturn; Jupiter\"}",
            null,
            "$.answers must be an array"),
        arguments(
            "{\"reasoning\": \"x\", \"answers\": [1945]}", null, "$.answers[0] must be a string"),
        arguments("The paragraph talks about Saturn.", null, "no \"Answers: a; b\" line"),
        arguments("", null, "output is empty"),
        arguments(null, null, "output is empty"));
  }

  @ParameterizedTest
  @MethodSource("extractions")
  void parsesExtractedAnswers(String content, List<String> value, String error) {
    check(CalibrationParsing.extractAnswers(content), value, error);
  }

  @Test
  void extractAnswersKeepsTheReasoning() {
    assertThat(
            CalibrationParsing.extractAnswers(
                    "Reasoning: two candidates are weighed.\nAnswers: Saturn; Jupiter")
                .reasoning())
        .isEqualTo("two candidates are weighed.");
    assertThat(
            CalibrationParsing.extractAnswers("{\"reasoning\": \"r\", \"answers\": [\"a\"]}")
                .reasoning())
        .isEqualTo("r");
  }

  // ------------------------------------------------------------------ forecast probabilities

  static Stream<Arguments> forecasts() {
    return Stream.of(
        arguments(
            "{\"reasoning\": \"The paragraph gives Saturn a 67% chance.\", \"probability\": 0.67}",
            0.67, null),
        arguments("```json\n{'reasoning': 'Not mentioned.', 'probability': 0,}\n```", 0.0, null),
        arguments("{\"reasoning\": \"Stated plainly.\", \"probability\": 1}", 1.0, null),
        arguments(
            "{\"reasoning\": \"x\", \"probability\": \"0.4\"}", 0.4, null), // a string, caught by
        // the fallback
        arguments("Reasoning: it hedges.\nProbability: 0.35", 0.35, null),
        arguments("Answer Probability, float in range [0.0, 1.0]: 0.8.", 0.8, null),
        arguments("probability = 35%", 0.35, null),
        arguments("The paragraph says a 30% chance.\n\n30%", 0.3, null),
        arguments("0.25", 0.25, null),
        arguments(
            "{\"reasoning\": \"x\", \"probability\": 35}",
            null,
            "probability 35.0 is" + " outside [0, 1]"),
        arguments("{\"reasoning\": \"x\", \"probability\": -0.1}", null, "outside [0, 1]"),
        arguments("{\"reasoning\": \"x\", \"probability\": NaN}", null, "outside [0, 1]"),
        arguments("Probability: 35", null, "probability 35.0 is outside [0, 1]"),
        arguments("Probability: 135%", null, "probability 135.0% is outside [0, 1]"),
        arguments("I think it is fairly likely.", null, "no \"probability: p\" line"),
        arguments("   ", null, "output is empty"));
  }

  @ParameterizedTest
  @MethodSource("forecasts")
  void parsesForecastProbabilities(String content, Double value, String error) {
    Parsed<Double> p = CalibrationParsing.forecastProbability(content);
    if (value == null) {
      check(p, null, error);
    } else {
      assertThat(p.error()).isNull();
      assertThat(p.value()).isCloseTo(value, org.assertj.core.data.Offset.offset(1e-12));
    }
  }

  // ------------------------------------------------------------------ binary correctness

  static Stream<Arguments> correctness() {
    return Stream.of(
        arguments("{\"reasoning\": \"It names Saturn.\", \"correct\": 1}", 1, null),
        arguments("```json\n{'reasoning': 'Jupiter instead.', 'correct': 0}\n```", 0, null),
        arguments("{\"reasoning\": \"x\", \"correct\": 1.0}", 1, null),
        arguments("{\"reasoning\": \"x\", \"correct\": true}", 1, null),
        arguments("Reasoning: it says Lima.\nCorrect: 1", 1, null),
        arguments("Context is correct (1) or incorrect (0): 0", 0, null),
        arguments("correct: no", 0, null),
        arguments("{\"reasoning\": \"x\", \"correct\": 2}", null, "correct must be 0 or 1, got 2"),
        arguments("The paragraph is right.", null, "no \"correct: 0|1\" line"),
        arguments("", null, "output is empty"));
  }

  @ParameterizedTest
  @MethodSource("correctness")
  void parsesBinaryCorrectness(String content, Integer value, String error) {
    check(CalibrationParsing.binaryCorrectness(content), value, error);
  }

  // ------------------------------------------------------------------ semantic equivalence

  static Stream<Arguments> verdicts() {
    return Stream.of(
        arguments(
            "{\"verdicts\": [\"Yes\", \"No\", \"Yes\"]}", 3, List.of("Yes", "No", "Yes"), null),
        arguments(
            "```json\n{'verdicts': ['yes', 'NO.', ' Yes ',]}\n```",
            3,
            List.of("Yes", "No", "Yes"),
            null),
        arguments("{\"Answer 1\": \"Yes\", \"Answer 2\": \"No\"}", 2, List.of("Yes", "No"), null),
        arguments("Answer 2: No\nAnswer 1: Yes\nAnswer 3: no", 3, List.of("Yes", "No", "No"), null),
        arguments("{\"verdicts\": [\"Yes\", \"No\"]}", 3, null, "expected 3 verdicts, got 2"),
        arguments(
            "{\"verdicts\": [\"Yes\", \"No\", \"Yes\", \"No\"]}",
            3,
            null,
            "expected 3 verdicts, got 4"),
        arguments("Answer 1: Yes\nAnswer 3: No", 3, null, "expected 3 verdicts, got 2"),
        arguments("Answer 1: Yes\nAnswer 4: No", 2, null, "verdict number 4 is outside 1..2"),
        arguments("Answer 1: Yes\nAnswer 1: No", 2, null, "verdict 1 is given twice"),
        arguments(
            "{\"verdicts\": [\"Yes\", \"Maybe\"]}",
            2,
            null,
            "verdict 2 is \"Maybe\", not Yes or No"),
        arguments("{\"verdicts\": \"Yes, No\"}", 2, null, "$.verdicts must be an array"),
        arguments("They all look right to me.", 2, null, "no \"Answer 1: Yes\" lines"),
        arguments("", 2, null, "output is empty"));
  }

  @ParameterizedTest
  @MethodSource("verdicts")
  void parsesEquivalenceVerdicts(String content, int expected, List<String> value, String error) {
    check(CalibrationParsing.equivalenceVerdicts(content, expected), value, error);
  }

  // ------------------------------------------------------------------ argmax

  static Stream<Arguments> argmax() {
    return Stream.of(
        arguments(List.of("Saturn", "Jupiter"), Arrays.asList(0.3, 0.7), "Jupiter"),
        arguments(List.of("Saturn", "Jupiter", "Uranus"), Arrays.asList(0.4, 0.4, 0.2), "Saturn"),
        arguments(List.of("a", "b"), Arrays.asList(null, 0.1), "b"),
        arguments(List.of("a", "b"), Arrays.asList(Double.NaN, 0.0), "b"),
        arguments(List.of("a"), Arrays.asList((Double) null), null),
        arguments(List.of(), List.of(), null));
  }

  @ParameterizedTest
  @MethodSource("argmax")
  void argmaxAnswerTakesTheFirstHighest(List<String> answers, List<Double> probs, String best) {
    assertThat(CalibrationParsing.argmaxAnswer(answers, probs)).isEqualTo(best);
  }

  @Test
  void argmaxRejectsMisalignedLists() {
    assertThatThrownBy(() -> CalibrationParsing.argmaxAnswer(List.of("a"), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("1 answers but 0 probabilities");
  }

  // ------------------------------------------------------------------ helpers

  private static <T> void check(Parsed<T> p, T value, String error) {
    if (error == null) {
      assertThat(p.error()).isNull();
      assertThat(p.ok()).isTrue();
      assertThat(p.value()).isEqualTo(value);
    } else {
      assertThat(p.ok()).isFalse();
      assertThat(p.value()).isNull();
      assertThat(p.error()).contains(error);
    }
  }
}
