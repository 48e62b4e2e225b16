package io.qaforge.craft;

import io.qaforge.Hashing;
import io.qaforge.llm.Message;
import io.qaforge.prompt.PromptTemplate;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The task-sample prompt of one document, in the seed's multi-turn layout: for each of {@code k}
 * few-shots (a seeded draw per document) a user turn (instruction, then the few-shot's text) and an
 * assistant turn (its canonical sample JSON), then the user turn of the document. The instruction
 * is one of the task's variants, also drawn per document. Templates: {@code craft/shot} and {@code
 * craft/document}. Spark-free and serializable, so executors render it.
 */
public final class CraftPrompt implements Serializable {
  private static final long serialVersionUID = 1L;

  private final PromptTemplate shot;
  private final PromptTemplate document;
  private final List<String> instructions;
  private final List<String> texts;
  private final List<String> samples;
  private final long seed;
  private final int k;

  /** One document's prompt: the few-shots shown, the instruction variant, the messages. */
  public record Rendered(int[] shots, int variant, List<Message> messages) {}

  public CraftPrompt(
      PromptTemplate shot,
      PromptTemplate document,
      List<String> instructions,
      CraftTask task,
      List<FewShot> fewShots,
      long seed,
      int k) {
    if (instructions.isEmpty()) {
      throw new IllegalArgumentException("a task needs at least one instruction");
    }
    this.shot = shot;
    this.document = document;
    this.instructions = List.copyOf(instructions);
    this.texts = fewShots.stream().map(f -> f.text().strip()).toList();
    this.samples = fewShots.stream().map(f -> PyJson.dumps(task.toSample(f))).toList();
    this.seed = seed;
    this.k = k;
  }

  /** A hash of everything that shapes the prompts (part of every request id). */
  public String hash() {
    return Hashing.sha256Hex(
        shot.hash()
            + "\n"
            + document.hash()
            + "\n"
            + String.join("\n", instructions)
            + "\nshots="
            + k
            + "\nseed="
            + seed);
  }

  public Rendered render(String docId, String text) {
    int[] picks = FewShotSampler.pick(seed, docId, texts.size(), k);
    int variant =
        instructions.size() == 1 ? 0 : FewShotSampler.variant(seed, docId, instructions.size());
    String instruction = instructions.get(variant);
    List<Message> messages = new ArrayList<>();
    for (int i : picks) {
      messages.addAll(
          shot.render(
              Map.of(
                  "instruction", instruction,
                  "shot_text", texts.get(i),
                  "shot_sample", samples.get(i))));
    }
    messages.addAll(document.render(Map.of("instruction", instruction, "text", text.strip())));
    return new Rendered(picks, variant, messages);
  }
}
