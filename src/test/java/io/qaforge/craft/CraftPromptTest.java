package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import io.qaforge.TestPaths;
import io.qaforge.config.Settings;
import io.qaforge.llm.Message;
import io.qaforge.prompt.PromptTemplate;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The task-sample prompts on the real CRAFT few-shot files, and the pipeline's eager checks. */
class CraftPromptTest {
  private static Path fixture(String task) {
    return TestPaths.project()
        .resolve("../shared/fixtures/seeds/CRAFT/assets/" + task + "/few_shot/corpus-task-32.jsonl")
        .normalize();
  }

  private static List<String> instructions(String task) {
    List<String> files =
        task.equals("csqa") ? List.of("csqa-question", "csqa-statement") : List.of(task);
    return files.stream()
        .map(f -> PromptTemplate.load("craft/instructions/" + f).renderText(Map.of()))
        .toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"bioqa", "csqa", "medqa", "recipegen", "summarization"})
  void theSeedFewShotFilesRenderIntoThreeShotConversations(String name) {
    CraftTask task = CraftTask.builtIn(name);
    List<FewShot> shots = FewShots.load(fixture(name), 0, task);
    assertThat(shots).hasSize(32);
    assertThat(FewShots.load(fixture(name), 8, task)).isEqualTo(shots.subList(0, 8));
    CraftPrompt prompt =
        new CraftPrompt(
            PromptTemplate.load("craft/shot"),
            PromptTemplate.load("craft/document"),
            instructions(name),
            task,
            shots,
            42,
            3);

    CraftPrompt.Rendered r = prompt.render("doc-1", "  A document about something.\n");
    List<Message> m = r.messages();
    assertThat(m)
        .extracting(Message::role)
        .containsExactly("user", "assistant", "user", "assistant", "user", "assistant", "user");
    assertThat(r.shots()).hasSize(3).doesNotHaveDuplicates();
    String instruction = instructions(name).get(r.variant());
    for (int i = 0; i < 3; i++) {
      FewShot f = shots.get(r.shots()[i]);
      assertThat(m.get(2 * i).content())
          .isEqualTo(instruction.strip() + "\n\n___________\nText: " + f.text().strip());
      // the assistant turn is the canonical sample JSON, serialised as Python's json.dumps
      assertThat(m.get(2 * i + 1).content()).isEqualTo(PyJson.dumps(task.toSample(f)));
    }
    assertThat(m.get(6).content()).endsWith("___________\nText: A document about something.");
    assertThat(m.get(6).content()).contains("Reply with a JSON object and nothing else");

    // reproducible per document, whatever the partitioning; other documents draw other shots
    assertThat(prompt.render("doc-1", "A document about something.").messages()).isEqualTo(m);
    long distinct =
        java.util.stream.IntStream.range(0, 20)
            .mapToObj(i -> java.util.Arrays.toString(prompt.render("doc-" + i, "x").shots()))
            .distinct()
            .count();
    assertThat(distinct).isGreaterThan(15);
  }

  @Test
  void csqaDrawsBothInstructionVariants() {
    CraftTask task = CraftTask.builtIn("csqa");
    CraftPrompt prompt =
        new CraftPrompt(
            PromptTemplate.load("craft/shot"),
            PromptTemplate.load("craft/document"),
            instructions("csqa"),
            task,
            FewShots.load(fixture("csqa"), 0, task),
            42,
            3);
    assertThat(
            java.util.stream.IntStream.range(0, 40)
                .map(i -> prompt.render("doc-" + i, "x").variant())
                .distinct()
                .sorted()
                .toArray())
        .containsExactly(0, 1);
  }

  private static Settings settings(String extra) {
    return Settings.fromString(
        "craft.few-shots = \"" + TestPaths.samples("craft/bioqa/few_shot.jsonl") + "\"\n" + extra,
        Map.of());
  }

  @Test
  void badSettingsFailBeforeAnyJobNamingProblemCauseAndFix() {
    assertThat(new CraftPipeline(settings("")).name()).isEqualTo("craft");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.task = quiz\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Unknown craft task 'quiz'")
        .hasMessageContaining("craft.tasks");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.few-shots = \"/nope.jsonl\"\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("/nope.jsonl");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.generation.shots = 9\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("craft.generation.shots = 9")
        .hasMessageContaining("only 8");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.size = XXL\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("craft.size");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.embedding.model = bert-huge\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("bert-huge")
        .hasMessageContaining("all-minilm-l6-v2");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.until = cleaning\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("craft.until");
    assertThatThrownBy(() -> new CraftPipeline(settings("craft.generation.alias = nobody\n")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("nobody");
  }
}
