package io.qaforge.calibration;

import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelCall;
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
    ModelCall queries,
    String queryExamples,
    int queryShots,
    String precomputedQueryColumn,
    ModelCall samples,
    int samplesPerQuery,
    String paragraphExamples,
    int paragraphShots,
    boolean cutAtBlankLine,
    ModelCall summaries,
    ModelCall lcSft,
    ModelCall factualitySft,
    ModelCall extract,
    ModelCall forecast,
    ModelCall binary,
    ModelCall evalParagraphs,
    ModelCall judge,
    int judgeBatchSize,
    int bins,
    int bootstrapResamples,
    long seed,
    int sftEvalSize,
    int rmEvalSize,
    String until)
    implements Serializable {
  private static final long serialVersionUID = 1L;

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
            ModelCall.from(s, llm, "calibration.queries"),
            s.string("calibration.queries.examples"),
            s.intAtLeast("calibration.queries.shots", 0),
            s.string("calibration.queries.precomputed-column").strip(),
            ModelCall.from(s, llm, "calibration.samples"),
            m,
            s.string("calibration.samples.examples"),
            s.intAtLeast("calibration.samples.shots", 0),
            s.bool("calibration.samples.cut-at-blank-line"),
            ModelCall.from(s, llm, "calibration.summaries"),
            ModelCall.from(s, llm, "calibration.reward-model.lc-sft"),
            ModelCall.from(s, llm, "calibration.reward-model.factuality-sft"),
            ModelCall.from(s, llm, "calibration.reader.extract"),
            ModelCall.from(s, llm, "calibration.reader.forecast"),
            ModelCall.from(s, llm, "calibration.reader.binary"),
            ModelCall.from(s, llm, "calibration.eval.paragraphs"),
            ModelCall.from(s, llm, "calibration.eval.judge"),
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

  /** Every model call of the pipeline by step, for the run's announcement and fingerprints. */
  public Map<String, ModelCall> calls() {
    Map<String, ModelCall> out = new LinkedHashMap<>();
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
