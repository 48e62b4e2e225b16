package io.qaforge.calibration;

import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/** The typed {@code calibration.*} settings, validated eagerly (before any Spark job). */
public record CalibrationSettings(
    String inputTable,
    String sftSplit,
    String rewardModelSplit,
    String evalSplit,
    int maxQuestionsPerSplit,
    Call queries,
    String queryExamples,
    int queryShots,
    String precomputedQueryColumn,
    Call samples,
    int samplesPerQuery,
    String paragraphExamples,
    int paragraphShots,
    boolean cutAtBlankLine,
    Call summaries,
    Call lcSft,
    Call factualitySft,
    Call extract,
    Call forecast,
    Call binary,
    Call evalParagraphs,
    Call judge,
    int judgeBatchSize,
    int bins,
    int bootstrapResamples,
    long seed,
    int sftEvalSize,
    int rmEvalSize,
    String until)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** How one step calls a model: alias and sampling parameters. */
  public record Call(String alias, double temperature, Double topP, int maxTokens)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  public static CalibrationSettings from(Settings s, LlmSettings llm) {
    String input = s.string("calibration.input").strip();
    if (!input.matches("[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*")) {
      throw s.invalid("calibration.input", "must be a table name <dataset>.<step>");
    }
    int m = s.intAtLeast("calibration.samples.count", 1);
    int batch = s.intAtLeast("calibration.eval.judge-batch-size", 1);
    if (batch > 50) {
      throw s.invalid("calibration.eval.judge-batch-size", "must be between 1 and 50");
    }
    CalibrationSettings c =
        new CalibrationSettings(
            input,
            split(s, "calibration.splits.sft"),
            split(s, "calibration.splits.reward-model"),
            split(s, "calibration.splits.eval"),
            s.intAtLeast("calibration.max-questions-per-split", 0),
            call(s, llm, "calibration.queries"),
            s.string("calibration.queries.examples"),
            s.intAtLeast("calibration.queries.shots", 0),
            s.string("calibration.queries.precomputed-column").strip(),
            call(s, llm, "calibration.samples"),
            m,
            s.string("calibration.samples.examples"),
            s.intAtLeast("calibration.samples.shots", 0),
            s.bool("calibration.samples.cut-at-blank-line"),
            call(s, llm, "calibration.summaries"),
            call(s, llm, "calibration.reward-model.lc-sft"),
            call(s, llm, "calibration.reward-model.factuality-sft"),
            call(s, llm, "calibration.reader.extract"),
            call(s, llm, "calibration.reader.forecast"),
            call(s, llm, "calibration.reader.binary"),
            call(s, llm, "calibration.eval.paragraphs"),
            call(s, llm, "calibration.eval.judge"),
            batch,
            s.intAtLeast("calibration.eval.bins", 1),
            s.intAtLeast("calibration.eval.bootstrap-resamples", 1),
            s.config().getLong("calibration.seed"),
            s.intAtLeast("calibration.export.sft-eval-questions", 0),
            s.intAtLeast("calibration.export.rm-eval-questions", 0),
            until(s));
    return c;
  }

  private static String until(Settings s) {
    String v = s.string("calibration.until").strip();
    if (!v.isEmpty() && !CalibrationPipeline.STEPS.contains(v)) {
      throw s.invalid(
          "calibration.until",
          "must be empty (every step) or one of " + String.join(", ", CalibrationPipeline.STEPS));
    }
    return v;
  }

  private static String split(Settings s, String key) {
    String v = s.string(key).strip();
    if (!v.matches("[A-Za-z0-9_]+")) {
      throw s.invalid(key, "must be a split name of the input table (letters, digits, _)");
    }
    return v;
  }

  private static Call call(Settings s, LlmSettings llm, String key) {
    String alias = s.string(key + ".alias").strip();
    llm.spec(alias); // unknown aliases fail now, naming the defined ones
    double t = s.config().getDouble(key + ".temperature");
    if (t < 0 || t > 2) {
      throw s.invalid(key + ".temperature", "must be between 0 and 2");
    }
    Double topP = null;
    if (s.config().hasPath(key + ".top-p")) {
      topP = s.config().getDouble(key + ".top-p");
      if (topP <= 0 || topP > 1) {
        throw s.invalid(key + ".top-p", "must be in (0, 1]");
      }
    }
    return new Call(alias, t, topP, s.intAtLeast(key + ".max-tokens", 1));
  }

  /** Every model call of the pipeline by step, for the run's announcement and fingerprints. */
  public Map<String, Call> calls() {
    Map<String, Call> out = new LinkedHashMap<>();
    out.put("queries", queries);
    out.put("samples", samples);
    out.put("summaries", summaries);
    out.put("rm_paragraphs lc_sft", lcSft);
    out.put("rm_paragraphs factuality_sft", factualitySft);
    out.put("extractions", extract);
    out.put("forecasts", forecast);
    out.put("binary correctness", binary);
    out.put("eval_paragraphs", evalParagraphs);
    out.put("semantic_equivalence", judge);
    return out;
  }
}
