package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.qaforge.Hashing;
import io.qaforge.QaforgeException;
import io.qaforge.TestPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class CraftTaskTest {
  @TempDir Path dir;

  private static List<LinkedHashMap<String, Object>> samples(String task, Path file) {
    CraftTask t = CraftTask.builtIn(task);
    return FewShots.load(file, 0, t).stream().map(t::toSample).toList();
  }

  private static String hash(List<LinkedHashMap<String, Object>> samples) {
    return Hashing.sha256Hex(
        samples.stream().map(CraftParsing::canonicalJson).collect(Collectors.joining("\n")));
  }

  // ------------------------------------------------------------------ built-in few-shot conversion

  // sha256 of the files' canonical JSON lines joined by "\n", computed with Python 3.11: json.dumps
  // of the seed's few-shot conversion (FormatExtractor, is_few_shot=True, at 875063a) with blank
  // items dropped after strip. For every file but recipegen that equals the seed byte for byte; the
  // seed's recipegen hash is 14799baa... (few-shots 3 and 7 carry "" items from whitespace lines).
  static Stream<Arguments> conversions() {
    return Stream.of(
        arguments("bioqa", "6c4aeed796892892e3a4597c4148550c5cecbd17d34ddaa2214552deb671b385"),
        arguments("csqa", "f957fa36f66fbf5a0a9b356c8ad23685a76da9636f3403ac7d5cafa0710a6697"),
        arguments("medqa", "ec25605a3df65d5d990cfa4ae64884d9b10eec42310af2a1de2a0764fb3ead99"),
        arguments("recipegen", "8e276ef8a0b0e6982c79c7c370607d783ca0c231529e8e1d1478b73f61050395"),
        arguments(
            "summarization", "626be11568b43507da1a268d452760ebbfc17499adf817a0fc052930950bcb6d"));
  }

  @ParameterizedTest
  @MethodSource("conversions")
  void seedFewShotsConvertToThePythonCanonicalJson(String task, String expected) {
    List<LinkedHashMap<String, Object>> s = samples(task, FewShotsTest.seedFile(task));
    assertThat(s).hasSize(32);
    assertThat(s)
        .allSatisfy(
            m ->
                assertThat(m.keySet())
                    .containsExactlyElementsOf(CraftTask.builtIn(task).columns()));
    assertThat(hash(s)).isEqualTo(expected);
  }

  static Stream<Arguments> projectSampleHashes() {
    return Stream.of(
        arguments("bioqa", "11abb18ce6c62e448763964c6093825a1f235f6fecec304f0269416621666dac"),
        arguments("csqa", "3335fd49321d2b7fcf60779eef7bd0aa30e29121ca948dc899c8cda63c893cee"),
        arguments("medqa", "4aff5292b823da24587cedbca08119fd8a1eccef3ec567d4ed21e14936757c1d"),
        arguments("recipegen", "e41c161e188f153fb9fc4e1d823f7746983f41032f30c30e7acf2e68e9603a91"),
        arguments(
            "summarization", "ae77506cedd729c660c7559df460cbd541c5102c264ddaf78c45c0dc38cfc5e1"));
  }

  @ParameterizedTest
  @MethodSource("projectSampleHashes")
  void projectFewShotsConvertToThePythonCanonicalJsonAndAllPass(String task, String expected) {
    List<LinkedHashMap<String, Object>> s =
        samples(task, TestPaths.samples("craft/" + task + "/few_shot.jsonl"));
    assertThat(hash(s)).isEqualTo(expected);
    assertThat(s)
        .allSatisfy(
            m ->
                assertThat(CraftParsing.validate(CraftTask.builtIn(task), m).sample())
                    .isEqualTo(m));
  }

  /**
   * The seed's own 32 few-shots against the seed's rules: all pass and validation changes nothing,
   * except csqa 18 (Output "No." gives answer N, kept as data) and summarization 10 and 26, whose
   * human-written summaries have 94 and 66 characters (the rule wants more than 100).
   */
  static Stream<Arguments> seedValidation() {
    return Stream.of(
        arguments("bioqa", Map.of()),
        arguments("csqa", Map.of(18, "answer_letter")),
        arguments("medqa", Map.of()),
        arguments("recipegen", Map.of()),
        arguments("summarization", Map.of(10, "summary_too_short", 26, "summary_too_short")));
  }

  @ParameterizedTest
  @MethodSource("seedValidation")
  void seedFewShotsPassTheirTaskRulesExceptKnownLines(String task, Map<Integer, String> failing) {
    CraftTask t = CraftTask.builtIn(task);
    List<LinkedHashMap<String, Object>> s = samples(task, FewShotsTest.seedFile(task));
    Map<Integer, String> failures = new TreeMap<>();
    for (int i = 0; i < s.size(); i++) {
      CraftParsing.Parsed p = CraftParsing.validate(t, s.get(i));
      if (p.ok()) {
        assertThat(p.sample()).isEqualTo(s.get(i));
      } else {
        failures.put(i, p.errorCategory());
      }
    }
    assertThat(failures).isEqualTo(failing);
  }

  @Test
  void csqaNoQuirkIsKeptAsAnswerN() {
    List<FewShot> fs = FewShots.load(FewShotsTest.seedFile("csqa"), 0);
    LinkedHashMap<String, Object> s = CraftTask.builtIn("csqa").toSample(fs.get(18));

    assertThat(fs.get(18).output()).isEqualTo("No.");
    assertThat(s.get("answer")).isEqualTo("N");
    assertThat(s.get("options")).isEqualTo(List.of("A. Yes", "B. No"));
    assertThat(CraftParsing.validate(CraftTask.builtIn("csqa"), s).error())
        .isEqualTo("Answer does not include A or B.");
    assertThat(answerCounts("csqa")).isEqualTo(Map.of("A", 16L, "B", 15L, "N", 1L));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bioqa", "medqa"})
  void multipleChoiceAnswersAreBalanced(String task) {
    assertThat(answerCounts(task)).isEqualTo(Map.of("A", 8L, "B", 8L, "C", 8L, "D", 8L));
  }

  private static Map<Object, Long> answerCounts(String task) {
    return samples(task, FewShotsTest.seedFile(task)).stream()
        .collect(Collectors.groupingBy(m -> m.get("answer"), Collectors.counting()));
  }

  @Test
  void recipeBaseIngredientsAndTripleStepsFollowTheSeed() {
    List<LinkedHashMap<String, Object>> s =
        samples("recipegen", FewShotsTest.seedFile("recipegen"));
    List<?> ingredients = (List<?>) s.get(2).get("ingredients");
    List<?> steps = (List<?>) s.get(2).get("steps");

    // "Base Ingredients:" is the first line and is dropped like "Ingredients:"
    assertThat(ingredients).hasSize(11).first().isEqualTo("* Fresh organic milk");
    // three "Steps:" (the 2nd inside "4. Stirring Steps:"): steps end where the 2nd one starts
    assertThat(steps).hasSize(9).first().isEqualTo("Base:");
    assertThat(steps).last().isEqualTo("4. Stirring");
    // whitespace-only lines of few-shots 3 and 7 do not become "" items (the seed kept them)
    assertThat(s).allSatisfy(m -> assertThat(((List<?>) m.get("steps")).contains("")).isFalse());
    assertThat(((List<?>) s.get(3).get("ingredients")).size()).isEqualTo(20);
    assertThat(((List<?>) s.get(3).get("steps")).size()).isEqualTo(14);
  }

  static Stream<Arguments> unconvertible() {
    return Stream.of(
        arguments(
            "bioqa", Map.of("Text", "t", "Output", "A."), "few-shot 0: missing key 'Instruction'"),
        arguments(
            "csqa",
            Map.of("Text", "t", "Instruction", "q\nA. Yes\nB. No", "Output", ""),
            "Output is empty"),
        arguments(
            "recipegen",
            Map.of("Text", "t", "Instruction", "i", "Output", "Ingredients:\n* a"),
            "no 'Steps:' line"),
        arguments(
            "summarization",
            Map.of("Text", "t", "Instruction", " \n\n", "Output", "s"),
            "Instruction is empty"));
  }

  @ParameterizedTest
  @MethodSource("unconvertible")
  void unconvertibleFewShotsSayWhy(String task, Map<String, String> fields, String message) {
    FewShot fs = new FewShot(0, new LinkedHashMap<>(fields));
    assertThatThrownBy(() -> CraftTask.builtIn(task).toSample(fs))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  // ------------------------------------------------------------------ task definitions

  static Stream<Arguments> builtIns() {
    return Stream.of(
        arguments("bioqa", List.of("question", "options", "answer"), 1536),
        arguments("medqa", List.of("question", "options", "answer"), 256),
        arguments("csqa", List.of("question", "options", "answer"), 256),
        arguments("recipegen", List.of("instruction", "ingredients", "steps"), 1280),
        arguments("summarization", List.of("instruction", "summary", "long_but_clean_text"), 1536));
  }

  @ParameterizedTest
  @MethodSource("builtIns")
  void builtInsHaveTheSeedColumnsAndTokenLimits(String name, List<String> columns, int maxTokens) {
    CraftTask t = CraftTask.builtIn(name);
    List<String> finalColumns = new ArrayList<>(columns);
    finalColumns.add("is_few_shot");

    assertThat(t.name()).isEqualTo(name);
    assertThat(t.columns()).isEqualTo(columns);
    assertThat(t.finalColumns()).isEqualTo(finalColumns);
    assertThat(t.maxTokens()).isEqualTo(maxTokens);
    // built-in instructions are prompt files (prompts/craft/instructions/), not code
    assertThat(t.instructions()).isEmpty();
  }

  @Test
  void namesListsTheBuiltIns() {
    assertThat(CraftTask.names())
        .containsExactly("bioqa", "csqa", "medqa", "recipegen", "summarization");
    assertThatThrownBy(() -> CraftTask.builtIn("quiz"))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Unknown built-in craft task 'quiz'")
        .hasMessageContaining("bioqa, csqa, medqa, recipegen, summarization");
  }

  @Test
  void errorCategoriesAreTheSeedsMapped() {
    assertThat(CraftTask.builtIn("bioqa").errorCategories())
        .containsExactlyElementsOf(
            withGeneric("question_too_short", "options_not_list", "option_count", "answer_letter"));
    assertThat(CraftTask.builtIn("recipegen").errorCategories())
        .containsExactlyElementsOf(
            withGeneric(
                "instruction_too_short",
                "ingredients_not_list",
                "no_ingredients",
                "steps_not_list",
                "no_steps"));
    assertThat(CraftTask.builtIn("summarization").errorCategories())
        .containsExactlyElementsOf(
            withGeneric("instruction_too_short", "summary_too_short", "long_text_too_short"));
  }

  /** The categories of every task ({@link CraftParsing}'s generic ones) followed by {@code own}. */
  private static List<String> withGeneric(String... own) {
    List<String> all =
        new ArrayList<>(List.of("no_json", "invalid_json", "missing_key", "wrong_type"));
    all.addAll(List.of(own));
    return all;
  }

  @Test
  void schemaAndFormatExample() {
    CraftTask bioqa = CraftTask.builtIn("bioqa");
    assertThat(bioqa.jsonSchema())
        .isEqualTo(
            "{\"type\":\"object\",\"properties\":{"
                + "\"question\":{\"type\":\"string\",\"description\":\"the question\"},"
                + "\"options\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":4,\"maxItems\":4,"
                + "\"description\":\"the four answer options, each starting with its letter label\"},"
                + "\"answer\":{\"type\":\"string\",\"enum\":[\"A\",\"B\",\"C\",\"D\"],"
                + "\"description\":\"the letter label of the correct option\"}},"
                + "\"required\":[\"question\",\"options\",\"answer\"],\"additionalProperties\":false}");
    assertThat(bioqa.formatExample())
        .isEqualTo(
            "{\"question\": \"<the question>\", \"options\": [\"A. <option A>\", \"B. <option B>\","
                + " \"C. <option C>\", \"D. <option D>\"], \"answer\": \"<one of A, B, C, D>\"}");
    assertThat(CraftTask.builtIn("recipegen").jsonSchema())
        .contains(
            "\"ingredients\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":1,\"description\"");
  }

  // ------------------------------------------------------------------ custom tasks

  private static final String QUIZ =
      "craft.tasks.quiz {\n"
          + "  instruction = \"Read the text and write one quiz question with three options.\"\n"
          + "  max-tokens = 300\n"
          + "  fields = [\n"
          + "    { name = question, type = string, min-length = 16, aliases = [query] }\n"
          + "    { name = options, type = list, count = 3, description = \"answer option\" }\n"
          + "    { name = answer, type = letter, letters = \"ABC\" }\n"
          + "    { name = topics, type = list, min-items = 2, example = [\"<topic>\", \"...\"] }\n"
          + "  ]\n"
          + "}\n";

  @Test
  void customTaskFromHoconEndToEnd() throws IOException {
    Config root = ConfigFactory.parseString(QUIZ);
    CraftTask quiz = CraftTask.resolve("quiz", root);

    assertThat(quiz.kind()).isEqualTo(CraftTask.Kind.CUSTOM);
    assertThat(quiz.finalColumns())
        .containsExactly("question", "options", "answer", "topics", "is_few_shot");
    assertThat(quiz.maxTokens()).isEqualTo(300);
    assertThat(quiz.instructions())
        .containsExactly("Read the text and write one quiz question with three options.");
    assertThat(quiz.errorCategories())
        .containsExactlyElementsOf(
            withGeneric(
                "question_too_short",
                "options_not_list",
                "options_count",
                "answer_letter",
                "topics_not_list",
                "no_topics"));
    assertThat(quiz.formatExample())
        .isEqualTo(
            "{\"question\": \"<question>\", \"options\": [\"<answer option>\", \"<answer option>\","
                + " \"<answer option>\"], \"answer\": \"<one of A, B, C>\", \"topics\": [\"<topic>\", \"...\"]}");
    assertThat(quiz.jsonSchema())
        .contains("\"topics\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":2}");

    // few-shots: fields given directly (first line, with the alias) or an Output with the JSON
    Path f = dir.resolve("quiz.jsonl");
    Files.writeString(
        f,
        "{\"Text\": \"doc one\", \"query\": \"  Which planet is the largest?  \", \"options\": [\"A. Mars\", \" \", \"B. Jupiter\", \"C. Venus\"], \"answer\": \"B.\", \"topics\": [\"space\", \"planets\"]}\n"
            + "{\"Text\": \"doc two\", \"Output\": \"```json\\n{\\\"question\\\": \\\"What is the boiling point of water?\\\", \\\"options\\\": [\\\"A. 90\\\", \\\"B. 100\\\", \\\"C. 110\\\"], \\\"answer\\\": \\\"B\\\", \\\"topics\\\": [\\\"physics\\\", \\\"water\\\"]}\\n```\"}\n"
            + "{\"Text\": \"doc three\", \"Output\": {\"question\": \"Which gas do plants take in?\", \"options\": [\"A. CO2\", \"B. O2\", \"C. N2\"], \"answer\": \"A\", \"topics\": [\"biology\", \"plants\"]}}\n",
        StandardCharsets.UTF_8);
    List<FewShot> fewShots = FewShots.load(f, 0, quiz);
    List<String> json =
        fewShots.stream().map(quiz::toSample).map(CraftParsing::canonicalJson).toList();

    assertThat(json)
        .containsExactly(
            "{\"question\": \"Which planet is the largest?\", \"options\": [\"A. Mars\", \"B. Jupiter\", \"C. Venus\"], \"answer\": \"B\", \"topics\": [\"space\", \"planets\"]}",
            "{\"question\": \"What is the boiling point of water?\", \"options\": [\"A. 90\", \"B. 100\", \"C. 110\"], \"answer\": \"B\", \"topics\": [\"physics\", \"water\"]}",
            "{\"question\": \"Which gas do plants take in?\", \"options\": [\"A. CO2\", \"B. O2\", \"C. N2\"], \"answer\": \"A\", \"topics\": [\"biology\", \"plants\"]}");

    // model outputs
    String good =
        "Sure! {\"question\": \"Which metal is liquid at room temperature?\", \"options\": [\"A. Iron\", \"B. Mercury\", \"C. Tin\"], \"answer\": \"B\", \"topics\": [\"chemistry\", \"metals\"]}";
    assertThat(CraftParsing.parse(quiz, good).canonicalJson()).contains("\"answer\": \"B\"");
    assertThat(CraftParsing.parse(quiz, good.replace("\"B\",", "\"D\",")).errorCategory())
        .isEqualTo("answer_letter");
    assertThat(
            CraftParsing.parse(quiz, good.replace("\"answer\": \"B\"", "\"answer\": \"D\""))
                .error())
        .isEqualTo("'answer' does not start with one of A, B, C.");
    assertThat(
            CraftParsing.parse(quiz, good.replace("\"C. Tin\"", "\"C. Tin\", \"D. Lead\"")).error())
        .isEqualTo("'options' must have exactly 3 non-empty items.");
    assertThat(
            CraftParsing.parse(
                    quiz, good.replace("[\"chemistry\", \"metals\"]", "[\"chemistry\", \"  \"]"))
                .error())
        .isEqualTo("'topics' must have at least 2 non-empty items.");
    assertThat(
            CraftParsing.parse(
                    quiz, good.replace("Which metal is liquid at room temperature?", "Metal?"))
                .error())
        .isEqualTo("'question' is empty or shorter than 16 characters.");
    assertThat(
            CraftParsing.parse(quiz, good.replace("[\"chemistry\", \"metals\"]", "\"chemistry\""))
                .errorCategory())
        .isEqualTo("topics_not_list");
  }

  @Test
  void customFewShotThatBreaksTheRulesFailsAtLoad() throws IOException {
    CraftTask quiz = CraftTask.resolve("quiz", ConfigFactory.parseString(QUIZ));
    Path f = dir.resolve("bad.jsonl");
    Files.writeString(
        f,
        "{\"Text\": \"doc\", \"question\": \"Which planet is the largest?\", \"options\": [\"A. Mars\", \"B. Jupiter\"], \"answer\": \"B\", \"topics\": [\"a\", \"b\"]}\n"
            + "{\"Text\": \"doc\", \"Instruction\": \"x\"}\n",
        StandardCharsets.UTF_8);

    assertThatThrownBy(() -> FewShots.load(f, 0, quiz))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("line 1 is not a quiz few-shot")
        .hasMessageContaining(
            "few-shot 0 breaks the quiz rules: 'options' must have exactly 3 non-empty items. (options_count)");
    assertThatThrownBy(() -> FewShots.load(f, 0, quiz).size())
        .hasMessageContaining(
            "Text plus either the task fields (question, options, answer, topics) or an Output");
    FewShot second = FewShots.load(f, 0).get(1);
    assertThatThrownBy(() -> quiz.toSample(second))
        .hasMessage(
            "few-shot 1 has neither the task fields (question, options, answer, topics) nor an Output holding the task JSON");
  }

  static Stream<Arguments> badConfigs() {
    String f3 = "{ name = answer, type = letter, letters = AB }";
    return Stream.of(
        arguments(
            "instruction = x, fields = [" + f3 + "], colour = red",
            "Unknown setting craft.tasks.t.colour"),
        arguments("instruction = x", "Invalid craft.tasks.t.fields: (missing)"),
        arguments("instruction = x, fields = []", "Invalid craft.tasks.t.fields: []"),
        arguments("fields = [" + f3 + "]", "Invalid craft.tasks.t.instruction: (missing)"),
        arguments(
            "instruction = \" \", fields = [" + f3 + "]",
            "Invalid craft.tasks.t.instruction: \"\""),
        arguments(
            "instruction = x, max-tokens = 0, fields = [" + f3 + "]",
            "Invalid craft.tasks.t.max-tokens: 0"),
        arguments(
            "instruction = x, max-tokens = many, fields = [" + f3 + "]", "Invalid craft.tasks.t\n"),
        arguments(
            "instruction = x, fields = [{ name = q, type = text }]",
            "Invalid craft.tasks.t.fields[0].type: text"),
        arguments("instruction = x, fields = [{ name = q }]", "a field needs name and type"),
        arguments(
            "instruction = x, fields = [{ name = q, type = string, size = 3 }]",
            "Unknown setting craft.tasks.t.fields[0].size"),
        arguments(
            "instruction = x, fields = [{ name = q, type = string, min-length = 0 }]",
            "Invalid craft.tasks.t.fields[0].min-length: 0"),
        arguments(
            "instruction = x, fields = [{ name = q, type = string, count = 2 }]",
            "Invalid craft.tasks.t.fields[0].count: 2"),
        arguments(
            "instruction = x, fields = [{ name = q, type = list, count = 2, min-items = 1 }]",
            "give count or min-items, not both"),
        arguments(
            "instruction = x, fields = [{ name = q, type = letter }]",
            "Invalid craft.tasks.t.fields[0].letters: (missing)"),
        arguments(
            "instruction = x, fields = [{ name = q, type = letter, letters = AA }]",
            "must be distinct non-space characters"),
        arguments(
            "instruction = x, fields = [{ name = Text, type = string }]",
            "Invalid craft.tasks.t.fields[0].name: Text"),
        arguments(
            "instruction = x, fields = [{ name = \"a b\", type = string }]",
            "Invalid craft.tasks.t.fields[0].name: a b"),
        arguments(
            "instruction = x, fields = [{ name = q, type = string }, { name = r, type = string, aliases = [q] }]",
            "Invalid craft.tasks.t.fields[1]: q"),
        arguments(
            "instruction = x, fields = [{ name = q, type = string, example = { a = 1 } }]",
            "Invalid craft.tasks.t.fields[0].example"));
  }

  @ParameterizedTest
  @MethodSource("badConfigs")
  void invalidCustomTasksFailWithTheKey(String block, String message) {
    Config root = ConfigFactory.parseString("craft.tasks.t { " + block + " }");
    assertThatThrownBy(() -> CraftTask.resolve("t", root))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining(message)
        .hasMessageContaining("fix:");
  }

  @Test
  void resolveRejectsUnknownNamesAndShadowedBuiltIns() {
    Config root =
        ConfigFactory.parseString(
            QUIZ + "craft.tasks.csqa { instruction = x, fields = [{ name = q, type = string }] }");
    assertThat(CraftTask.resolve("medqa", root)).isEqualTo(CraftTask.builtIn("medqa"));
    assertThatThrownBy(() -> CraftTask.resolve("csqa", root))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("craft.tasks.csqa redefines the built-in task csqa");
    assertThatThrownBy(() -> CraftTask.resolve("trivia", root))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Unknown craft task 'trivia'")
        .hasMessageContaining(
            "set craft.task to one of bioqa, csqa, medqa, quiz, recipegen, summarization");
  }

  @Test
  void tasksAreSerializable() throws Exception {
    CraftTask quiz = CraftTask.resolve("quiz", ConfigFactory.parseString(QUIZ));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(quiz);
    }
    try (java.io.ObjectInputStream in =
        new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(quiz);
    }
  }
}
