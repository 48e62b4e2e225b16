package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.qaforge.Hashing;
import io.qaforge.QaforgeException;
import io.qaforge.TestPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class FewShotsTest {
  @TempDir Path dir;

  static Path seedFile(String task) {
    return TestPaths.project()
        .resolve("../shared/fixtures/seeds/CRAFT/assets/" + task + "/few_shot/corpus-task-32.jsonl")
        .normalize();
  }

  private Path write(String content) throws IOException {
    Path f = dir.resolve("few_shot.jsonl");
    Files.writeString(f, content, StandardCharsets.UTF_8);
    return f;
  }

  // sha256 over the 32 query strings joined by U+0000, computed with Python 3.11 from the same
  // files as "\n\n".join(f"{k}: {v}" for k, v in line.items()) (craft.md section 4, step 1)
  static Stream<Arguments> seedFiles() {
    return Stream.of(
        arguments("bioqa", "21cb142d5279711393c0dcf8c8156af844449ef6cf284ecfd981369ed1f15b42"),
        arguments("csqa", "1ad74b626a84124bf9a83ecad9f1e63e0575f6f2ea8738ffcfb295b3c828de4a"),
        arguments("medqa", "38b2d342cf26b746eede47d2fce36056c274c93b9148bce8f97cfe59004eddbe"),
        arguments("recipegen", "ab7b173c20b33f5c3ffa692f9250ec1dfd643e21c00f9c61614e62981455dba0"),
        arguments(
            "summarization", "01e595dded645a4edf6a74866ced8e27c31b0ec53d0b556682f8410499e53936"));
  }

  @ParameterizedTest
  @MethodSource("seedFiles")
  void seedFilesLoadWithKeysInFileOrderAndPythonQueryStrings(String task, String queryHash) {
    List<FewShot> all = FewShots.load(seedFile(task), 0, CraftTask.builtIn(task));

    assertThat(all).hasSize(32);
    assertThat(all).extracting(FewShot::idx).containsExactlyElementsOf(range(32));
    assertThat(all)
        .allSatisfy(
            fs -> {
              assertThat(fs.fields().keySet()).containsExactly("Text", "Instruction", "Output");
              assertThat(fs.text()).isNotBlank();
              assertThat(fs.queryString())
                  .startsWith("Text: " + fs.text() + "\n\nInstruction: " + fs.instruction());
            });
    String joined = all.stream().map(FewShot::queryString).collect(Collectors.joining("\u0000"));
    assertThat(Hashing.sha256Hex(joined)).isEqualTo(queryHash);
  }

  @ParameterizedTest
  @ValueSource(strings = {"bioqa", "csqa", "medqa", "recipegen", "summarization"})
  void eightShotVariantIsTheFirstEightLines(String task) {
    List<FewShot> all = FewShots.load(seedFile(task), 0);
    List<FewShot> eight = FewShots.load(seedFile(task), 8);

    assertThat(eight).hasSize(8).containsExactlyElementsOf(all.subList(0, 8));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bioqa", "csqa", "medqa", "recipegen", "summarization"})
  void projectSamplesLoad(String task) {
    List<FewShot> fs =
        FewShots.load(
            TestPaths.samples("craft/" + task + "/few_shot.jsonl"), 0, CraftTask.builtIn(task));
    assertThat(fs).hasSize(8);
  }

  @Test
  void blankLinesAreSkippedAndErrorsNameThePhysicalLine() throws IOException {
    Path f = write("\uFEFF{\"Text\": \"a\"}\n\n   \n{\"Text\": \"b\"}\n{\"Text\": 3}");

    assertThatThrownBy(() -> FewShots.load(f, 0))
        .isInstanceOf(QaforgeException.class)
        .hasMessageStartingWith("craft few-shot file " + f + " line 5: 'Text' is not a string");
    List<FewShot> two = FewShots.load(f, 2);
    assertThat(two).extracting(FewShot::idx).containsExactly(0, 1);
    assertThat(two).extracting(FewShot::text).containsExactly("a", "b");
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        arguments(
            "{\"Text\": \"a\"}\n{\"Text\": \"b\",}\n",
            "line 2 is not valid JSON",
            "every line must be one JSON object"),
        arguments("{\"Text\": \"a\"} trailing\n", "line 1 is not valid JSON", "fix the file"),
        arguments("[{\"Text\": \"a\"}]\n", "line 1 is not a JSON object", "it is a JSON array"),
        arguments(
            "{\"Instruction\": \"q\", \"Output\": \"A.\"}\n",
            "line 1: missing key 'Text'",
            "every few-shot needs Text"),
        arguments("{\"Text\": \"  \"}\n", "line 1: 'Text' is empty", "non-empty string"),
        arguments("", "has no few-shots", "the file is empty or holds only blank lines"),
        arguments("\n  \n", "has no few-shots", "the file is empty or holds only blank lines"));
  }

  @ParameterizedTest
  @MethodSource("malformed")
  void malformedFilesFailWithFileLineCauseAndFix(String content, String problem, String cause)
      throws IOException {
    Path f = write(content);
    assertThatThrownBy(() -> FewShots.load(f, 0))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("craft few-shot file " + f)
        .hasMessageContaining(problem)
        .hasMessageContaining(cause)
        .hasMessageContaining("fix:");
  }

  @Test
  void askingForMoreFewShotsThanTheFileHasFails() throws IOException {
    Path f = write("{\"Text\": \"a\"}\n{\"Text\": \"b\"}\n");
    assertThatThrownBy(() -> FewShots.load(f, 8))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("has 2 few-shots, 8 were asked for")
        .hasMessageContaining("ask for at most 2 few-shots (0 = all)");
    assertThatThrownBy(() -> FewShots.load(f, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void missingFileFails() {
    Path f = dir.resolve("nope.jsonl");
    assertThatThrownBy(() -> FewShots.load(f, 0))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Cannot read craft few-shot file " + f)
        .hasMessageContaining("NoSuchFileException");
  }

  @Test
  void nonStringValuesAreKeptAsTheirJsonText() throws IOException {
    Path f =
        write(
            "{\"Text\": \"doc\", \"options\": [\"A. x\", \"B. \\u00e9\"], \"n\": 2.0, \"z\": null}");
    FewShot fs = FewShots.load(f, 0).get(0);

    assertThat(fs.fields())
        .containsExactly(
            org.assertj.core.api.Assertions.entry("Text", "doc"),
            org.assertj.core.api.Assertions.entry("options", "[\"A. x\", \"B. \\u00e9\"]"),
            org.assertj.core.api.Assertions.entry("n", "2.0"),
            org.assertj.core.api.Assertions.entry("z", "null"));
    assertThat(fs.queryString())
        .isEqualTo("Text: doc\n\noptions: [\"A. x\", \"B. \\u00e9\"]\n\nn: 2.0\n\nz: null");
    assertThat(fs.instruction()).isNull();
  }

  @Test
  void taskAwareLoadNamesTheLineThatCannotBeConverted() throws IOException {
    Path f =
        write(
            "{\"Text\": \"t\", \"Instruction\": \"Make soup for me today.\", \"Output\": \"Ingredients:\\n* a\\n\\nSteps:\\n1. b\"}\n"
                + "{\"Text\": \"t\", \"Instruction\": \"Make soup for me today.\", \"Output\": \"Ingredients:\\n* a\"}\n");
    assertThatThrownBy(() -> FewShots.load(f, 0, CraftTask.builtIn("recipegen")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("line 2 is not a recipegen few-shot")
        .hasMessageContaining("few-shot 1: Output has no 'Steps:' line")
        .hasMessageContaining("a 'Steps:' line and one step per line");
  }

  private static List<Integer> range(int n) {
    return java.util.stream.IntStream.range(0, n).boxed().toList();
  }
}
