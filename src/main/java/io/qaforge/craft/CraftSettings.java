package io.qaforge.craft;

import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelCall;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** The typed {@code craft.*} settings, validated eagerly (before any Spark job). */
public record CraftSettings(
    String task,
    String size,
    int retrieve,
    int finalSize,
    String fewShots,
    int fewShotLimit,
    List<Corpus> corpora,
    int minChars,
    int maxChars,
    String embeddingModel,
    int embeddingBatchSize,
    double percentile,
    ModelCall generation,
    int shots,
    int threshold,
    String cleanMode,
    int exactMaxSamples,
    long seed,
    String until)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The steps in order; a run stops after {@code craft.until} when it is set. */
  public static final List<String> STEPS =
      List.of(
          "corpus",
          "embeddings",
          "fewshots",
          "retrieved",
          "generations",
          "samples",
          "rejections",
          "clean",
          "final",
          "export");

  /** One configured corpus. */
  public record Corpus(String name, String path, String format, String textField)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  public static CraftSettings from(Settings s, LlmSettings llm) {
    String task = s.string("craft.task").strip();
    String size = s.string("craft.size").strip();
    if (!s.config().hasPath("craft.sizes." + size)) {
      throw s.invalid(
          "craft.size",
          "must be one of the sizes under craft.sizes: " + s.childKeys("craft.sizes"));
    }
    int retrieve = s.intAtLeast("craft.sizes." + size + ".retrieve", 1);
    int finalSize = s.intAtLeast("craft.sizes." + size + ".final", 1);
    List<Corpus> corpora = new ArrayList<>();
    var list = s.config().getConfigList("craft.corpora");
    if (list.isEmpty()) {
      throw s.invalid("craft.corpora", "must list at least one corpus");
    }
    for (int i = 0; i < list.size(); i++) {
      var c = list.get(i);
      String key = "craft.corpora[" + i + "]";
      if (!c.hasPath("path") || c.getString("path").isBlank()) {
        throw s.invalid(key + ".path", "every corpus needs a path (file or folder, local or s3a)");
      }
      String name = c.hasPath("name") ? c.getString("name") : "corpus" + i;
      if (!name.matches("[A-Za-z0-9_.-]+")) {
        throw s.invalid(key + ".name", "must be letters, digits, _ . -");
      }
      String format = c.hasPath("format") ? c.getString("format") : "auto";
      if (!List.of("auto", "jsonl", "parquet", "text").contains(format)) {
        throw s.invalid(key + ".format", "must be auto, jsonl, parquet or text");
      }
      corpora.add(
          new Corpus(
              name,
              c.getString("path"),
              format,
              c.hasPath("text-field") ? c.getString("text-field") : "text"));
    }
    int minChars = s.intAtLeast("craft.min-chars", 0);
    int maxChars = s.intAtLeast("craft.max-chars", 1);
    if (maxChars < minChars) {
      throw s.invalid("craft.max-chars", "must be at least craft.min-chars (" + minChars + ")");
    }
    double percentile = s.config().getDouble("craft.retrieval.percentile");
    if (!(percentile > 0 && percentile <= 1)) {
      throw s.invalid(
          "craft.retrieval.percentile", "must be in (0, 1] (the seed's top_p_percentile is 0.05)");
    }
    String model = s.string("craft.embedding.model").strip();
    SentenceEmbedder.canonicalName(model); // an unknown model fails now, naming the bundled ones
    int threshold = s.intAtLeast("craft.clean.threshold", 1);
    if (threshold > 100) {
      throw s.invalid("craft.clean.threshold", "must be between 1 and 100 (the seed uses 85)");
    }
    String until = s.string("craft.until").strip();
    if (!until.isEmpty() && !STEPS.contains(until)) {
      throw s.invalid(
          "craft.until", "must be empty (every step) or one of " + String.join(", ", STEPS));
    }
    return new CraftSettings(
        task,
        size,
        retrieve,
        finalSize,
        s.string("craft.few-shots"),
        s.intAtLeast("craft.few-shot-limit", 0),
        List.copyOf(corpora),
        minChars,
        maxChars,
        model,
        s.intAtLeast("craft.embedding.batch-size", 1),
        percentile,
        ModelCall.from(s, llm, "craft.generation", 0), // 0 = the task's default
        s.intAtLeast("craft.generation.shots", 0),
        threshold,
        s.oneOf("craft.clean.mode", List.of("auto", "exact", "lsh")),
        s.intAtLeast("craft.clean.exact-max-samples", 0),
        s.config().getLong("craft.seed"),
        until);
  }

  /** The model call with the task's default max tokens when none is configured. */
  public ModelCall generationFor(int taskMaxTokens) {
    return generation.maxTokens() > 0
        ? generation
        : new ModelCall(
            generation.alias(), generation.temperature(), generation.topP(), taskMaxTokens);
  }
}
