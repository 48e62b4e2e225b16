package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.qaforge.craft.CraftParsing.Parsed;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CraftParsingTest {
  private static final String Q = "Which enzyme unwinds the DNA double helix?";
  private static final List<String> OPTS =
      List.of("A. Ligase", "B. Primase", "C. Helicase", "D. Polymerase");
  private static final String GOOD_MC =
      "{\"question\": \"" + Q + "\", \"options\": " + PyJson.dumps(OPTS) + ", \"answer\": \"C\"}";

  private static String json(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return PyJson.dumps(m);
  }

  private static String mc(Object question, Object options, Object answer) {
    return json("question", question, "options", options, "answer", answer);
  }

  private static String recipe(Object instruction, Object ingredients, Object steps) {
    return json("instruction", instruction, "ingredients", ingredients, "steps", steps);
  }

  private static String summary(Object instruction, Object summary, Object text) {
    return json("instruction", instruction, "summary", summary, "long_but_clean_text", text);
  }

  // ------------------------------------------------------------------ accepted outputs

  static Stream<Arguments> accepted() {
    String canonical = mc(Q, OPTS, "C");
    String recipeOk =
        recipe(
            "How do I make a simple tomato soup?",
            List.of("tomatoes", "salt"),
            List.of("Cook.", "Blend."));
    String sumInstr = "Write a short summary of the text.";
    String sum101 = "s".repeat(101);
    String long501 = "l".repeat(501);
    return Stream.of(
        arguments("bioqa", "flat object", GOOD_MC, canonical),
        arguments(
            "bioqa",
            "prose around it",
            "Here is the sample:\n" + GOOD_MC + "\nHope this helps!",
            canonical),
        arguments("bioqa", "```json fence", "```json\n" + GOOD_MC + "\n```", canonical),
        arguments("bioqa", "nested under a key", "{\"sample\": " + GOOD_MC + "}", canonical),
        arguments("bioqa", "nested inside an array", "[" + GOOD_MC + "]", canonical),
        arguments(
            "bioqa",
            "object value inside the sample (split-on-} lost it)",
            GOOD_MC.replace("}", ", \"meta\": {\"source\": \"text\"}}"),
            canonical),
        arguments(
            "bioqa",
            "braces and escaped quotes inside strings",
            mc("Which {set} is \"closed\" under } addition?", OPTS, "A"),
            mc("Which {set} is \"closed\" under } addition?", OPTS, "A")),
        arguments("bioqa", "answer with its option text", mc(Q, OPTS, "C. Helicase"), canonical),
        arguments("bioqa", "answer with a leading space", mc(Q, OPTS, "  C"), canonical),
        arguments(
            "bioqa",
            "values are stripped, blank options dropped",
            mc(
                "  " + Q + "\n",
                Arrays.asList(
                    " A. Ligase ", "   ", "B. Primase", "", "C. Helicase", "D. Polymerase\t"),
                "C"),
            canonical),
        arguments(
            "bioqa",
            "first of two valid candidates wins",
            GOOD_MC + "\n" + mc(Q, OPTS, "D"),
            canonical),
        arguments(
            "bioqa",
            "a failing candidate before the valid one",
            mc("Too short?", OPTS, "C") + " " + GOOD_MC,
            canonical),
        arguments(
            "bioqa",
            "a placeholder {...} in prose before the sample",
            "Format: {question} then {options}. " + GOOD_MC,
            canonical),
        arguments(
            "bioqa",
            "a broken object around a valid one",
            "{\"x\": oops, \"y\": " + GOOD_MC + "}",
            canonical),
        arguments(
            "bioqa",
            "truncated outer object, complete inner one",
            "{\"samples\": [" + GOOD_MC + ", {\"question\": \"Wh",
            canonical),
        arguments(
            "bioqa",
            "raw line break inside a string",
            GOOD_MC.replace("unwinds the", "unwinds\nthe"),
            mc(Q.replace("unwinds the", "unwinds\nthe"), OPTS, "C")),
        arguments("bioqa", "trailing comma", GOOD_MC.replace("\"C\"}", "\"C\",}"), canonical),
        arguments(
            "bioqa",
            "extra keys are ignored",
            GOOD_MC.replace("{", "{\"difficulty\": 3, "),
            canonical),
        arguments(
            "bioqa",
            "16 code points incl. an astral character pass",
            mc("What is 😀 about??", OPTS, "B"),
            mc("What is 😀 about??", OPTS, "B")),
        arguments("medqa", "medqa has the same rules", GOOD_MC, canonical),
        arguments(
            "csqa",
            "statement stored as question",
            json(
                "statement",
                "Water boils at 100 degrees at sea level.",
                "options",
                List.of("A. Yes", "B. No"),
                "answer",
                "A"),
            mc("Water boils at 100 degrees at sea level.", List.of("A. Yes", "B. No"), "A")),
        arguments(
            "csqa",
            "question wins over statement",
            json(
                "statement",
                "A statement nobody asked for.",
                "question",
                "Does water boil at 100 degrees?",
                "options",
                List.of("A. Yes", "B. No"),
                "answer",
                "B. No"),
            mc("Does water boil at 100 degrees?", List.of("A. Yes", "B. No"), "B")),
        arguments("recipegen", "recipe", recipeOk, recipeOk),
        arguments(
            "recipegen",
            "whitespace items dropped",
            recipe(
                "How do I make a simple tomato soup?",
                List.of("tomatoes", " ", "salt "),
                List.of("", "Cook.", "Blend.")),
            recipeOk),
        arguments(
            "summarization",
            "boundaries 16/101/501",
            summary(sumInstr, sum101, long501),
            summary(sumInstr, sum101, long501)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("accepted")
  void acceptsAndCanonicalises(String task, String what, String raw, String canonical) {
    Parsed p = CraftParsing.parse(CraftTask.builtIn(task), raw);

    assertThat(p.error()).isNull();
    assertThat(p.errorCategory()).isNull();
    assertThat(p.ok()).isTrue();
    assertThat(p.canonicalJson()).isEqualTo(canonical);
    assertThat(p.sample().keySet()).containsExactlyElementsOf(CraftTask.builtIn(task).columns());
  }

  // ------------------------------------------------------------------ rejected outputs

  static Stream<Arguments> rejected() {
    String instr = "How do I make a simple tomato soup?";
    List<String> two = List.of("one", "two");
    String sumInstr = "Write a short summary of the text.";
    return Stream.of(
        // generic
        arguments(
            "bioqa",
            "no JSON",
            "I cannot write a question for this text.",
            "no_json",
            "No JSON found."),
        arguments("bioqa", "empty", "", "no_json", "No JSON found."),
        arguments("bioqa", "null", null, "no_json", "No JSON found."),
        arguments("bioqa", "closing brace only", "answer: C }", "no_json", "No JSON found."),
        arguments(
            "bioqa",
            "cut off",
            "{\"question\": \"" + Q + "\", \"options\": [\"A. Lig",
            "invalid_json",
            "JSON object is not closed (the output may have been cut off)."),
        arguments("bioqa", "not JSON", "{question: 'What?'}", "invalid_json", null),
        arguments(
            "bioqa",
            "missing answer",
            json("question", Q, "options", OPTS),
            "missing_key",
            "Missing key 'answer'."),
        arguments(
            "bioqa",
            "missing keys come before other problems",
            json("question", "Short?", "answer", "Z"),
            "missing_key",
            "Missing key 'options'."),
        arguments(
            "csqa",
            "csqa names the alias",
            json("options", List.of("A. Yes", "B. No"), "answer", "A"),
            "missing_key",
            "Missing key 'question' (or 'statement')."),
        arguments(
            "bioqa",
            "question is a number",
            mc(42, OPTS, "C"),
            "wrong_type",
            "'question' must be a string, got a number."),
        arguments(
            "bioqa",
            "question is null",
            mc(null, OPTS, "C"),
            "wrong_type",
            "'question' must be a string, got null."),
        arguments(
            "bioqa",
            "answer is a list",
            mc(Q, OPTS, List.of("C")),
            "wrong_type",
            "'answer' must be a string, got an array."),
        arguments(
            "bioqa",
            "option is a number",
            mc(Q, Arrays.asList("A. x", 2, "C. y", "D. z"), "C"),
            "wrong_type",
            "'options' must be a list of strings, it holds a number."),
        // multiple choice
        arguments(
            "bioqa",
            "short question",
            mc("Why is that?", OPTS, "C"),
            "question_too_short",
            "No question  found / below 15 characters."),
        arguments(
            "bioqa",
            "15 characters are too few",
            mc("x".repeat(15), OPTS, "C"),
            "question_too_short",
            "No question  found / below 15 characters."),
        arguments(
            "bioqa",
            "blank question",
            mc("   ", OPTS, "C"),
            "question_too_short",
            "No question  found / below 15 characters."),
        arguments(
            "bioqa",
            "3 options",
            mc(Q, OPTS.subList(0, 3), "C"),
            "option_count",
            "Number of answer options other than 4."),
        arguments(
            "bioqa",
            "a blank option does not count",
            mc(Q, List.of("A. x", "B. y", "C. z", "  "), "C"),
            "option_count",
            "Number of answer options other than 4."),
        arguments(
            "bioqa",
            "options as one string (seed iterated its characters)",
            mc(Q, "A. x B. y C. z D. w", "C"),
            "options_not_list",
            "'options' is not a list."),
        arguments(
            "bioqa",
            "answer E",
            mc(Q, OPTS, "E"),
            "answer_letter",
            "Answer does not include A, B, C, or D."),
        arguments(
            "bioqa",
            "lower-case answer",
            mc(Q, OPTS, "c"),
            "answer_letter",
            "Answer does not include A, B, C, or D."),
        arguments(
            "bioqa",
            "empty answer (seed: string index out of range)",
            mc(Q, OPTS, ""),
            "answer_letter",
            "Answer does not include A, B, C, or D."),
        arguments(
            "bioqa",
            "blank answer",
            mc(Q, OPTS, "  "),
            "answer_letter",
            "Answer does not include A, B, C, or D."),
        // yes/no
        arguments(
            "csqa",
            "short statement",
            json("statement", "Fire is hot.", "options", List.of("A. Yes", "B. No"), "answer", "A"),
            "question_too_short",
            "No question or statement found / shorter than 15 characters."),
        arguments(
            "csqa",
            "4 options",
            mc("Is water wet at room temperature?", OPTS, "A"),
            "option_count",
            "Number of answer options other than 2."),
        arguments(
            "csqa",
            "answer C",
            mc("Is water wet at room temperature?", List.of("A. Yes", "B. No"), "C"),
            "answer_letter",
            "Answer does not include A or B."),
        arguments(
            "csqa",
            "answer Yes",
            mc("Is water wet at room temperature?", List.of("A. Yes", "B. No"), "Yes"),
            "answer_letter",
            "Answer does not include A or B."),
        // recipe
        arguments(
            "recipegen",
            "short instruction",
            recipe("Make soup.", two, two),
            "instruction_too_short",
            "No instruction found / below 15 characters."),
        arguments(
            "recipegen",
            "ingredients as a string (seed accepted it)",
            recipe(instr, "tomatoes, salt", two),
            "ingredients_not_list",
            "Ingredients not in list format."),
        arguments(
            "recipegen",
            "no ingredients",
            recipe(instr, List.of(), two),
            "no_ingredients",
            "One or no ingredient found."),
        arguments(
            "recipegen",
            "whitespace-only ingredients (seed kept them as \"\")",
            recipe(instr, List.of(" ", "\n"), two),
            "no_ingredients",
            "One or no ingredient found."),
        arguments(
            "recipegen",
            "steps as a string",
            recipe(instr, two, "Cook it."),
            "steps_not_list",
            "Steps not in list format."),
        arguments(
            "recipegen",
            "no steps",
            recipe(instr, two, List.of("")),
            "no_steps",
            "One or no cooking step found."),
        arguments(
            "recipegen",
            "ingredients object",
            recipe(instr, Map.of("a", "b"), two),
            "ingredients_not_list",
            "Ingredients not in list format."),
        // summarization
        arguments(
            "summarization",
            "short instruction",
            summary("Summarize.", "s".repeat(101), "l".repeat(501)),
            "instruction_too_short",
            "Instruction shorter than 15 characters."),
        arguments(
            "summarization",
            "100-character summary",
            summary(sumInstr, "s".repeat(100), "l".repeat(501)),
            "summary_too_short",
            "Summary shorter than 100 characters."),
        arguments(
            "summarization",
            "padding does not count",
            summary(sumInstr, "  " + "s".repeat(100) + "\n\n", "l".repeat(501)),
            "summary_too_short",
            "Summary shorter than 100 characters."),
        arguments(
            "summarization",
            "500-character long text",
            summary(sumInstr, "s".repeat(101), "l".repeat(500)),
            "long_text_too_short",
            "Long but clean text shorter than 500 characters."));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("rejected")
  void rejectsWithCategoryAndMessage(
      String task, String what, String raw, String category, String message) {
    Parsed p = CraftParsing.parse(CraftTask.builtIn(task), raw);

    assertThat(p.ok()).isFalse();
    assertThat(p.sample()).isNull();
    assertThat(p.canonicalJson()).isNull();
    assertThat(p.errorCategory()).isEqualTo(category);
    if (message != null) {
      assertThat(p.error()).isEqualTo(message);
    } else {
      assertThat(p.error()).startsWith("Invalid JSON: Unexpected character");
    }
    assertThat(CraftTask.builtIn(task).errorCategories()).contains(category);
  }

  // ------------------------------------------------------------------ several candidates

  @Test
  void fieldsOfFailedCandidatesNeverMix() {
    // the seed could carry question/options of a failed piece into the next one
    String raw = mc(Q, OPTS, "E") + "\n" + json("answer", "A");
    Parsed p = CraftParsing.parse(CraftTask.builtIn("bioqa"), raw);

    assertThat(p.ok()).isFalse();
    assertThat(p.errorCategory()).isEqualTo("answer_letter");
  }

  @Test
  void theCandidateThatGotFurthestIsReported() {
    CraftTask bioqa = CraftTask.builtIn("bioqa");
    // a value failure beats a later invalid {...} and a later object without the keys
    assertThat(
            CraftParsing.parse(bioqa, mc("Short?", OPTS, "C") + " then {oops} and {\"note\": 1}")
                .errorCategory())
        .isEqualTo("question_too_short");
    // among failures of the same stage the last one is reported, as in the seed
    assertThat(
            CraftParsing.parse(bioqa, mc("Short?", OPTS, "C") + mc(Q, OPTS.subList(0, 2), "C"))
                .errorCategory())
        .isEqualTo("option_count");
    // the inner object of {"sample": {...}} is the one reported
    assertThat(CraftParsing.parse(bioqa, "{\"sample\": " + mc(Q, OPTS, "X") + "}").errorCategory())
        .isEqualTo("answer_letter");
  }

  @Test
  void validateTakesJavaMaps() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("answer", " B. ");
    m.put("options", List.of("A. Yes", "B. No"));
    m.put("statement", "  Fish can live without water for weeks. ");
    Parsed p = CraftParsing.validate(CraftTask.builtIn("csqa"), m);

    assertThat(p.canonicalJson())
        .isEqualTo(
            "{\"question\": \"Fish can live without water for weeks.\", \"options\": [\"A. Yes\","
                + " \"B. No\"], \"answer\": \"B\"}");
  }

  @Test
  void closingBraceSkipsStringsAndEscapes() {
    assertThat(CraftParsing.closingBrace("{\"a\": \"}\\\"}\"} x", 0)).isEqualTo(12);
    assertThat(CraftParsing.closingBrace("x {{}} y", 2)).isEqualTo(5);
    assertThat(CraftParsing.closingBrace("{\"a\": \"}", 0)).isEqualTo(-1);
  }
}
