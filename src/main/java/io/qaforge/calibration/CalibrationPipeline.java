package io.qaforge.calibration;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.transform;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.Hashing;
import io.qaforge.Pipeline;
import io.qaforge.Plan;
import io.qaforge.QaforgeException;
import io.qaforge.RunSummary;
import io.qaforge.config.Settings;
import io.qaforge.ingest.IngestPipeline;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelSpec;
import io.qaforge.prompt.PromptTemplate;
import io.qaforge.spark.Lake;
import io.qaforge.spark.LlmRun;
import io.qaforge.spark.StepRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linguistic Calibration (Band et al., ICML 2024) on the Generation operator: trivia questions →
 * open-ended queries → M samples per query → consensus summaries → SFT data; SFT-model paragraphs →
 * extracted answers → forecast probabilities → reward-model data; an evaluation (accuracy, ECE,
 * bootstrap intervals, reliability diagram); training files with a dataset card. Each step writes
 * {@code calibration.<step>} and is skipped when its fingerprint (settings, prompt versions, model
 * backends, upstream fingerprints) is unchanged; model answers come from the shared response cache,
 * so editing one prompt re-calls only that step.
 */
public final class CalibrationPipeline implements Pipeline {
  public static final String NAME = "calibration";
  private static final Logger LOG = LoggerFactory.getLogger(CalibrationPipeline.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final List<String> INPUT_COLUMNS =
      List.of("question_id", "question", "answer", "aliases", "split");

  private final Settings settings;
  private final LlmSettings llm;
  private final CalibrationSettings c;
  private final IngestPipeline ingest;
  private final Map<String, PromptTemplate> prompts = new LinkedHashMap<>();
  private final List<CalibrationParsing.QueryExample> queryExamples;
  private final List<CalibrationParsing.ParagraphExample> paragraphExamples;

  public CalibrationPipeline(Settings settings) {
    this(settings, LlmSettings.from(settings));
  }

  private CalibrationPipeline(Settings settings, LlmSettings llm) {
    this.settings = settings;
    this.llm = llm;
    this.c = CalibrationSettings.from(settings, llm);
    this.ingest =
        c.inputTable().equals(settings.string("ingest.dataset") + "." + IngestPipeline.STEP)
            ? new IngestPipeline(settings)
            : null;
    for (String name :
        List.of(
            "queries",
            "samples",
            "summaries",
            "sft_prompt",
            "extract_answers",
            "forecast_probs",
            "binary_correctness",
            "semantic_equivalence")) {
      prompts.put(name, PromptTemplate.load(NAME + "/" + name, settings.string("prompts.dir")));
    }
    this.queryExamples =
        c.precomputedQueryColumn().isEmpty()
            ? readExamples(
                "calibration.queries.examples",
                c.queryExamples(),
                c.queryShots(),
                n -> new CalibrationParsing.QueryExample(text(n, "question"), text(n, "query")))
            : List.of();
    this.paragraphExamples =
        readExamples(
            "calibration.samples.examples",
            c.paragraphExamples(),
            c.paragraphShots(),
            n -> new CalibrationParsing.ParagraphExample(text(n, "query"), text(n, "paragraph")));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Linguistic Calibration: queries, samples, summaries, SFT and reward-model data, eval";
  }

  // ------------------------------------------------------------------------------ run and plan

  /** One run of the steps, plus where the input table is read from. */
  private final class Run extends StepRun {
    Lake inputLake;

    Run(Lake lake, LlmRun calls, LlmSettings llm, boolean force) {
      super(NAME, lake, calls, llm, force);
    }
  }

  @Override
  public RunSummary run(Lake lake, boolean force) {
    Instant start = Instant.now();
    List<RunSummary.Step> steps = new ArrayList<>();
    if (ingest != null) {
      steps.addAll(ingest.run(lake, false).steps());
    }
    announce();
    try (LlmRun calls = LlmRun.start(lake.spark(), llm)) {
      Run r = new Run(lake, calls, llm, force);
      all(r);
      steps.addAll(r.steps());
    }
    return new RunSummary(NAME, steps, Duration.between(start, Instant.now()));
  }

  /** Every step in dry-run into a scratch lake: requests, tokens and cost per step and alias. */
  @Override
  public Plan plan(Lake lake) {
    boolean inputReady = lake.exists(inputDataset(), inputStep());
    return StepRun.plan(
        NAME,
        lake,
        llm,
        dry -> {
          if (ingest != null && !inputReady) {
            ingest.run(dry, false);
          }
        },
        (dry, calls) -> {
          Run r = new Run(dry, calls, llm.asDryRun(), true);
          r.inputLake = inputReady ? lake : dry;
          return r;
        },
        r -> all((Run) r));
  }

  /** The steps in order; a run stops after {@code calibration.until} when it is set. */
  static final List<String> STEPS =
      List.of(
          "queries",
          "samples",
          "summaries",
          "sft",
          "rm_paragraphs",
          "rm_extractions",
          "rm_forecasts",
          "reward_model",
          "eval_paragraphs",
          "eval_extractions",
          "eval_forecasts",
          "semantic_equivalence",
          "eval_results",
          "export");

  private void all(Run r) {
    List<Runnable> steps =
        List.of(
            () -> queries(r),
            () -> samples(r),
            () -> summaries(r),
            () -> sft(r),
            () -> rmParagraphs(r),
            () -> extractions(r, "rm_extractions", "rm_paragraphs"),
            () -> rmForecasts(r),
            () -> rewardModel(r),
            () -> evalParagraphs(r),
            () -> extractions(r, "eval_extractions", "eval_paragraphs"),
            () -> evalForecasts(r),
            () -> semanticEquivalence(r),
            () -> evalResults(r),
            () -> export(r));
    int last = c.until().isEmpty() ? STEPS.size() - 1 : STEPS.indexOf(c.until());
    for (int i = 0; i <= last; i++) {
      steps.get(i).run();
    }
  }

  /** Says loudly which aliases will not call a model. */
  private void announce() {
    StepRun.announceDryRun(llm, c.calls());
  }

  // ------------------------------------------------------------------------------ step runner

  private static Dataset<Row> union(Dataset<Row> generated, Dataset<Row> skipped) {
    return generated.unionByName(skipped, true);
  }

  /** The given columns followed by the {@link #StepRun.LINEAGE} columns. */
  private static Column[] lineage(String... keys) {
    return cols(with(List.of(keys), StepRun.LINEAGE.toArray(String[]::new)));
  }

  private static Column[] cols(List<String> names) {
    return names.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new);
  }

  private static List<String> with(List<String> a, String... more) {
    List<String> out = new ArrayList<>(a);
    out.addAll(List.of(more));
    return out;
  }

  // ------------------------------------------------------------------------------ 1. queries

  private String inputDataset() {
    return c.inputTable().substring(0, c.inputTable().indexOf('.'));
  }

  private String inputStep() {
    return c.inputTable().substring(c.inputTable().indexOf('.') + 1);
  }

  private Dataset<Row> questions(Run r) {
    Lake source = r.inputLake != null ? r.inputLake : r.lake();
    Dataset<Row> in = source.read(inputDataset(), inputStep());
    List<String> need = new ArrayList<>(INPUT_COLUMNS);
    if (!c.precomputedQueryColumn().isEmpty()) {
      need.add(c.precomputedQueryColumn());
    }
    List<String> have = List.of(in.columns());
    List<String> missing = need.stream().filter(n -> !have.contains(n)).toList();
    if (!missing.isEmpty()) {
      throw new QaforgeException(
          "Cannot read questions from " + c.inputTable() + ": missing column(s) " + missing,
          "the calibration pipeline needs " + need + "; the table has " + have,
          "point calibration.input at a table written by `qaforge run ingest`, or fix"
              + " calibration.queries.precomputed-column");
    }
    Dataset<Row> q =
        in.filter(col("split").isin(c.sftSplit(), c.rewardModelSplit(), c.evalSplit()));
    if (c.maxQuestionsPerSplit() > 0) {
      q =
          q.withColumn(
                  "_n",
                  row_number()
                      .over(
                          Window.partitionBy("split")
                              .orderBy(sha2(col("question_id"), 256), col("question_id"))))
              .filter(col("_n").leq(c.maxQuestionsPerSplit()))
              .drop("_n");
    }
    List<Column> out =
        new ArrayList<>(
            List.of(
                col("question_id"),
                col("question"),
                col("answer").as("ground_truth_top_answer"),
                col("aliases").as("ground_truth_answer_list"),
                lit(inputDataset()).as("dataset_name"),
                col("split").as("dataset_split")));
    if (!c.precomputedQueryColumn().isEmpty()) {
      out.add(col(c.precomputedQueryColumn()).as("paragraph_generation_prompt"));
    }
    return q.select(out.toArray(Column[]::new));
  }

  private void queries(Run r) {
    Lake source = r.inputLake != null ? r.inputLake : r.lake();
    String inputPrint =
        c.inputTable()
            + "="
            + source
                .fingerprint(inputDataset(), inputStep())
                .orElse(String.valueOf(source.describe(inputDataset(), inputStep()).version()))
            + " splits="
            + List.of(c.sftSplit(), c.rewardModelSplit(), c.evalSplit())
            + " max="
            + c.maxQuestionsPerSplit();
    if (!c.precomputedQueryColumn().isEmpty()) {
      r.step(
          "queries",
          List.of(inputPrint, "precomputed=" + c.precomputedQueryColumn()),
          () ->
              questions(r)
                  .withColumn("status", lit("ok"))
                  .withColumn("error", lit(null).cast("string"))
                  .persist());
      return;
    }
    PromptTemplate t = prompts.get("queries");
    String examples = CalibrationParsing.renderQueryExamples(queryExamples);
    r.step(
        "queries",
        List.of(inputPrint, r.callPrint(c.queries(), t), "examples=" + Hashing.sha256Hex(examples)),
        () -> {
          Dataset<Row> rows = questions(r).withColumn("examples", lit(examples));
          Dataset<Row> g = r.generate("queries", rows, t, c.queries(), t.schema(), 1);
          Column parsed = callUDF(udf(r, "cal_query"), col("content"));
          return g.withColumn("_q", parsed)
              .withColumn("paragraph_generation_prompt", col("_q.value"))
              .withColumn("parse_error", col("_q.error"))
              .select(
                  lineage(
                      "question_id",
                      "question",
                      "ground_truth_top_answer",
                      "ground_truth_answer_list",
                      "dataset_name",
                      "dataset_split",
                      "paragraph_generation_prompt",
                      "parse_error"));
        });
  }

  private Dataset<Row> usableQueries(Run r, String split) {
    return r.table("queries")
        .filter(col("dataset_split").equalTo(split))
        .filter(col("paragraph_generation_prompt").isNotNull())
        .select(
            "question_id",
            "question",
            "ground_truth_top_answer",
            "ground_truth_answer_list",
            "paragraph_generation_prompt");
  }

  // ------------------------------------------------------------------------------ 2. samples

  private void samples(Run r) {
    PromptTemplate t = prompts.get("samples");
    String examples = CalibrationParsing.renderParagraphExamples(paragraphExamples);
    r.step(
        "samples",
        List.of(
            r.fp("queries"),
            r.callPrint(c.samples(), t),
            "m=" + c.samplesPerQuery(),
            "cut=" + c.cutAtBlankLine(),
            "examples=" + Hashing.sha256Hex(examples)),
        () -> {
          Dataset<Row> rows =
              usableQueries(r, c.sftSplit())
                  .select("question_id", "paragraph_generation_prompt")
                  .withColumn("examples", lit(examples));
          Dataset<Row> g = r.generate("samples", rows, t, c.samples(), null, c.samplesPerQuery());
          Column text =
              c.cutAtBlankLine()
                  ? callUDF(udf(r, "cal_cut"), col("content"))
                  : trim(col("content"));
          return g.withColumn("unprocessed_generated_paragraph", col("content"))
              // a base model that runs on to max-tokens still gave its first paragraph (status
              // truncated stays visible)
              .withColumn("generated_paragraph", when(usable(), text))
              .select(
                  lineage(
                      "question_id",
                      "sample_idx",
                      "paragraph_generation_prompt",
                      "generated_paragraph",
                      "unprocessed_generated_paragraph"));
        });
  }

  // ------------------------------------------------------------------------------ 3. summaries

  private void summaries(Run r) {
    PromptTemplate t = prompts.get("summaries");
    r.step(
        "summaries",
        List.of(r.fp("samples"), r.callPrint(c.summaries(), t)),
        () -> {
          Dataset<Row> gathered =
              r.table("samples")
                  .filter(
                      col("generated_paragraph")
                          .isNotNull()
                          .and(trim(col("generated_paragraph")).notEqual("")))
                  .groupBy("question_id")
                  .agg(
                      sort_array(
                              collect_list(
                                  struct(
                                      col("sample_idx"),
                                      col("generated_paragraph"),
                                      col("request_id"))))
                          .as("_s"));
          Dataset<Row> rows =
              usableQueries(r, c.sftSplit())
                  .select("question_id", "paragraph_generation_prompt")
                  .join(gathered, seq("question_id"), "left")
                  .withColumn(
                      "sample_request_ids", transform(col("_s"), s -> s.getField("request_id")))
                  .withColumn(
                      "sample_count", when(col("_s").isNull(), 0).otherwise(size(col("_s"))))
                  .withColumn(
                      "formatted_paragraphs",
                      callUDF(
                          udf(r, "cal_thoughts"),
                          transform(col("_s"), s -> s.getField("generated_paragraph"))))
                  .drop("_s");
          Dataset<Row> usable = rows.filter(col("sample_count").gt(0));
          Dataset<Row> g = r.generate("summaries", usable, t, c.summaries(), null, 1);
          Dataset<Row> skipped =
              StepRun.notSent(
                  rows.filter(col("sample_count").leq(0)),
                  "not sent: no usable sample paragraph for this query");
          return union(g.withColumn("summary", trim(col("content"))), skipped)
              .select(
                  lineage(
                      "question_id",
                      "paragraph_generation_prompt",
                      "summary",
                      "sample_count",
                      "sample_request_ids"));
        });
  }

  // ------------------------------------------------------------------------------ 4. sft

  private void sft(Run r) {
    r.step(
        "sft",
        List.of(r.fp("summaries"), r.fp("samples")),
        () -> {
          Dataset<Row> icl =
              r.table("samples")
                  .filter(col("generated_paragraph").isNotNull())
                  .groupBy("question_id")
                  .agg(
                      sort_array(
                              collect_list(struct(col("sample_idx"), col("generated_paragraph"))))
                          .as("_p"))
                  .withColumn(
                      "icl_generated_paragraphs",
                      transform(col("_p"), p -> p.getField("generated_paragraph")))
                  .drop("_p");
          Dataset<Row> s = r.table("summaries");
          return s.join(icl, seq("question_id"), "left")
              .select(
                  col("question_id"),
                  col("paragraph_generation_prompt"),
                  when(col("status").equalTo("ok"), col("summary")).as("claude_summary"),
                  col("icl_generated_paragraphs"),
                  col("model_used").as("summary_model"),
                  col("request_id").as("summary_request_id"),
                  col("status").as("summary_status"),
                  col("error").as("summary_error"),
                  col("sample_request_ids"))
              .persist();
        });
  }

  // ------------------------------------------------------------------------------ 5. reward model

  private void rmParagraphs(Run r) {
    PromptTemplate t = prompts.get("sft_prompt");
    r.step(
        "rm_paragraphs",
        List.of(
            r.fp("queries"),
            "lc_sft " + r.callPrint(c.lcSft(), t),
            "factuality_sft " + r.callPrint(c.factualitySft(), t)),
        () -> {
          Dataset<Row> q = usableQueries(r, c.rewardModelSplit());
          Dataset<Row> lc =
              r.generate("rm_paragraphs:lc_sft", q, t, c.lcSft(), null, 1)
                  .withColumn("variant", lit("lc_sft"));
          Dataset<Row> fact =
              r.generate("rm_paragraphs:factuality_sft", q, t, c.factualitySft(), null, 1)
                  .withColumn("variant", lit("factuality_sft"));
          return paragraphs(lc.unionByName(fact));
        });
  }

  private void evalParagraphs(Run r) {
    PromptTemplate t = prompts.get("sft_prompt");
    r.step(
        "eval_paragraphs",
        List.of(r.fp("queries"), r.callPrint(c.evalParagraphs(), t)),
        () ->
            paragraphs(
                r.generate(
                        "eval_paragraphs",
                        usableQueries(r, c.evalSplit()),
                        t,
                        c.evalParagraphs(),
                        null,
                        1)
                    .withColumn("variant", lit("eval"))));
  }

  /** Paragraph answers that can be used: complete, or cut at max tokens. */
  private static Column usable() {
    return col("status").isin("ok", "truncated").and(trim(col("content")).notEqual(""));
  }

  private static Dataset<Row> paragraphs(Dataset<Row> g) {
    return g.withColumn("generated_paragraph", when(usable(), trim(col("content"))))
        .select(
            lineage(
                "question_id",
                "variant",
                "question",
                "ground_truth_top_answer",
                "ground_truth_answer_list",
                "paragraph_generation_prompt",
                "generated_paragraph"));
  }

  /** ExtractAnswers on the lc_sft / eval paragraphs. */
  private void extractions(Run r, String name, String from) {
    PromptTemplate t = prompts.get("extract_answers");
    r.step(
        name,
        List.of(r.fp(from), r.callPrint(c.extract(), t)),
        () -> {
          Dataset<Row> p =
              r.table(from)
                  .filter(col("variant").isin("lc_sft", "eval"))
                  .select(
                      col("question_id"),
                      col("question"),
                      col("ground_truth_top_answer"),
                      col("ground_truth_answer_list"),
                      col("generated_paragraph"),
                      col("request_id").as("paragraph_request_id"));
          Dataset<Row> ok = p.filter(col("generated_paragraph").isNotNull());
          Dataset<Row> g = r.generate(name, ok, t, c.extract(), t.schema(), 1);
          Dataset<Row> parsed =
              g.withColumn("_a", callUDF(udf(r, "cal_answers"), col("content")))
                  .withColumn("extracted_answers", col("_a.value"))
                  .withColumn("cot_reasoning_path__answer_extraction", col("_a.reasoning"))
                  .withColumn("parse_error", col("_a.error"))
                  .drop("_a");
          Dataset<Row> skipped =
              StepRun.notSent(
                  p.filter(col("generated_paragraph").isNull()),
                  "not sent: the paragraph step has no answer for this question");
          return union(parsed, skipped)
              .select(
                  lineage(
                      "question_id",
                      "question",
                      "ground_truth_top_answer",
                      "ground_truth_answer_list",
                      "generated_paragraph",
                      "paragraph_request_id",
                      "extracted_answers",
                      "cot_reasoning_path__answer_extraction",
                      "parse_error"));
        });
  }

  /**
   * ForecastProbs for the ground truth (rank 0) and each extracted answer of the lc_sft paragraphs;
   * binary correctness for the factuality_sft paragraphs.
   */
  private void rmForecasts(Run r) {
    PromptTemplate fp = prompts.get("forecast_probs");
    PromptTemplate bin = prompts.get("binary_correctness");
    r.step(
        "rm_forecasts",
        List.of(
            r.fp("rm_extractions"),
            r.fp("rm_paragraphs"),
            r.callPrint(c.forecast(), fp),
            r.callPrint(c.binary(), bin)),
        () -> {
          Dataset<Row> candidates =
              r.table("rm_extractions")
                  .filter(col("generated_paragraph").isNotNull())
                  .withColumn(
                      "_c",
                      when(
                              col("extracted_answers").isNotNull(),
                              concat(
                                  array(col("ground_truth_top_answer")), col("extracted_answers")))
                          .otherwise(array(col("ground_truth_top_answer"))))
                  .select(
                      col("question_id"),
                      col("question"),
                      col("generated_paragraph"),
                      col("paragraph_request_id"),
                      posexplode(col("_c")).as(seq("candidate_rank", "candidate_answer")));
          Dataset<Row> lc =
              forecast(r, "rm_forecasts", candidates, fp).withColumn("variant", lit("lc_sft"));
          Dataset<Row> facts =
              r.table("rm_paragraphs")
                  .filter(col("variant").equalTo("factuality_sft"))
                  .filter(col("generated_paragraph").isNotNull())
                  .select(
                      col("question_id"),
                      col("question"),
                      col("ground_truth_top_answer"),
                      col("generated_paragraph"),
                      col("request_id").as("paragraph_request_id"));
          Dataset<Row> b =
              r.generate("rm_forecasts:binary", facts, bin, c.binary(), bin.schema(), 1)
                  .withColumn("_b", callUDF(udf(r, "cal_binary"), col("content")))
                  .withColumn("candidate_rank", lit(0))
                  .withColumn("candidate_answer", col("ground_truth_top_answer"))
                  .withColumn("forecast_probability", col("_b.value").cast("double"))
                  .withColumn("cot_reasoning_path__forecast_probs", col("_b.reasoning"))
                  .withColumn("parse_error", col("_b.error"))
                  .withColumn("variant", lit("factuality_sft"))
                  .drop("_b");
          return lc.unionByName(b, true).select(cols(FORECAST_COLUMNS));
        });
  }

  private static final List<String> FORECAST_COLUMNS =
      with(
          List.of(
              "question_id",
              "variant",
              "candidate_rank",
              "candidate_answer",
              "question",
              "generated_paragraph",
              "paragraph_request_id",
              "forecast_probability",
              "cot_reasoning_path__forecast_probs",
              "parse_error"),
          StepRun.LINEAGE.toArray(String[]::new));

  private Dataset<Row> forecast(Run r, String step, Dataset<Row> candidates, PromptTemplate t) {
    return r.generate(step, candidates, t, c.forecast(), t.schema(), 1)
        .withColumn("_f", callUDF(udf(r, "cal_prob"), col("content")))
        .withColumn("forecast_probability", col("_f.value"))
        .withColumn("cot_reasoning_path__forecast_probs", col("_f.reasoning"))
        .withColumn("parse_error", col("_f.error"))
        .drop("_f");
  }

  private void rewardModel(Run r) {
    r.step(
        "reward_model",
        List.of(r.fp("rm_forecasts"), r.fp("rm_paragraphs")),
        () -> {
          Dataset<Row> f = r.table("rm_forecasts");
          Dataset<Row> lc =
              f.filter(col("variant").equalTo("lc_sft"))
                  .groupBy("question_id")
                  .agg(
                      sort_array(
                              collect_list(
                                  struct(
                                      col("candidate_rank"),
                                      col("candidate_answer"),
                                      col("forecast_probability"),
                                      col("request_id"))))
                          .as("_c"),
                      first("generated_paragraph").as("lc_sft_generated_paragraph"))
                  .select(
                      col("question_id"),
                      col("lc_sft_generated_paragraph"),
                      transform(col("_c"), x -> x.getField("candidate_answer"))
                          .as("lc_sft_ground_truth_and_extracted_answers"),
                      transform(col("_c"), x -> x.getField("forecast_probability"))
                          .as("lc_sft_forecasted_probs"),
                      transform(col("_c"), x -> x.getField("request_id"))
                          .as("lc_sft_forecast_request_ids"));
          Dataset<Row> fact =
              f.filter(col("variant").equalTo("factuality_sft"))
                  .select(
                      col("question_id"),
                      col("generated_paragraph").as("factuality_sft_generated_paragraph"),
                      col("forecast_probability")
                          .cast("int")
                          .as("factuality_sft_binary_correctness"),
                      col("request_id").as("factuality_sft_correctness_request_id"));
          Dataset<Row> ids = r.table("rm_paragraphs").select("question_id").distinct();
          return ids.join(lc, seq("question_id"), "left")
              .join(fact, seq("question_id"), "left")
              .withColumn(
                  "lc_sft_complete",
                  coalesce(
                      org.apache.spark.sql.functions.forall(
                          col("lc_sft_forecasted_probs"), x -> x.isNotNull()),
                      lit(false)))
              .persist();
        });
  }

  // ------------------------------------------------------------------------------ 6. eval

  private void evalForecasts(Run r) {
    PromptTemplate t = prompts.get("forecast_probs");
    r.step(
        "eval_forecasts",
        List.of(r.fp("eval_extractions"), r.callPrint(c.forecast(), t)),
        () -> {
          // only the extracted answers (rank 1..n): the metrics use the most probable of them
          Dataset<Row> candidates =
              r.table("eval_extractions")
                  .filter(col("extracted_answers").isNotNull())
                  .select(
                      col("question_id"),
                      col("question"),
                      col("generated_paragraph"),
                      col("paragraph_request_id"),
                      posexplode(col("extracted_answers")).as(seq("_i", "candidate_answer")))
                  .withColumn("candidate_rank", col("_i").plus(1))
                  .drop("_i");
          return forecast(r, "eval_forecasts", candidates, t)
              .withColumn("variant", lit("eval"))
              .select(cols(FORECAST_COLUMNS));
        });
  }

  private void semanticEquivalence(Run r) {
    PromptTemplate t = prompts.get("semantic_equivalence");
    r.step(
        "semantic_equivalence",
        List.of(
            r.fp("eval_forecasts"),
            r.fp("eval_extractions"),
            r.callPrint(c.judge(), t),
            "batch=" + c.judgeBatchSize()),
        () -> {
          Dataset<Row> best =
              r.table("eval_forecasts")
                  .filter(col("forecast_probability").isNotNull())
                  .groupBy("question_id")
                  .agg(
                      collect_list(
                              struct(
                                  col("candidate_rank"),
                                  col("candidate_answer"),
                                  col("forecast_probability")))
                          .as("_c"))
                  .withColumn("_best", callUDF(udf(r, "cal_argmax"), col("_c")))
                  .select(
                      col("question_id"),
                      col("_best.answer").as("argmax_answer"),
                      col("_best.probability").as("confidence"));
          Dataset<Row> q =
              r.table("eval_extractions")
                  .select(
                      "question_id",
                      "question",
                      "ground_truth_top_answer",
                      "ground_truth_answer_list",
                      "extracted_answers")
                  .join(best, seq("question_id"), "left");
          Dataset<Row> judged = q.filter(col("argmax_answer").isNotNull());
          // batches of judge-batch-size questions in question_id order
          Dataset<Row> numbered =
              judged
                  .withColumn(
                      "_n",
                      // one ordered numbering over the eval split (thousands of rows)
                      row_number()
                          .over(Window.partitionBy(lit(0)).orderBy(col("question_id")))
                          .minus(1))
                  .withColumn("batch_id", floor(col("_n").divide(c.judgeBatchSize())).cast("int"))
                  .withColumn("batch_position", col("_n").mod(c.judgeBatchSize()).cast("int"))
                  .drop("_n");
          Dataset<Row> batches =
              numbered
                  .groupBy("batch_id")
                  .agg(
                      sort_array(
                              collect_list(
                                  struct(
                                      col("batch_position"),
                                      col("question"),
                                      col("ground_truth_top_answer"),
                                      col("argmax_answer"))))
                          .as("_items"))
                  .withColumn("items", callUDF(udf(r, "cal_items"), col("_items")))
                  .withColumn("batch_size", size(col("_items")))
                  .drop("_items")
                  .persist();
          List<Integer> sizes =
              batches.select("batch_size").distinct().collectAsList().stream()
                  .map(x -> x.getInt(0))
                  .sorted()
                  .toList();
          Dataset<Row> verdicts = null;
          for (int n : sizes) {
            Dataset<Row> g =
                r.generate(
                        "semantic_equivalence:" + n,
                        batches.filter(col("batch_size").equalTo(n)),
                        t,
                        c.judge(),
                        verdictSchema(t.schema(), n),
                        1)
                    .withColumn("_v", callUDF(udf(r, "cal_verdicts"), col("content"), lit(n)));
            verdicts = verdicts == null ? g : verdicts.unionByName(g);
          }
          Dataset<Row> perQuestion;
          if (verdicts == null) {
            perQuestion =
                numbered
                    .withColumn("verdict", lit(null).cast("string"))
                    .withColumn("batch_request_id", lit(null).cast("string"))
                    .withColumn("judge_error", lit(null).cast("string"));
          } else {
            Dataset<Row> v =
                verdicts.select(
                    col("batch_id"),
                    col("request_id").as("batch_request_id"),
                    col("_v.value").as("_verdicts"),
                    when(col("status").notEqual("ok"), col("error"))
                        .otherwise(col("_v.error"))
                        .as("judge_error"));
            perQuestion =
                numbered
                    .join(v, seq("batch_id"), "left")
                    .withColumn(
                        "verdict", element_at(col("_verdicts"), col("batch_position").plus(1)))
                    .drop("_verdicts");
          }
          Dataset<Row> notJudged =
              q.filter(col("argmax_answer").isNull())
                  .withColumn(
                      "judge_error",
                      lit("not judged: no extracted answer with a probability (counts as wrong)"));
          Dataset<Row> all = perQuestion.unionByName(notJudged, true);
          batches.unpersist(false);
          return all.withColumn("correct", coalesce(col("verdict").equalTo("Yes"), lit(false)))
              // no extracted answer: confidence 1 and incorrect (the seed's rule)
              .withColumn("confidence", coalesce(col("confidence"), lit(1.0)))
              .select(
                  "question_id",
                  "question",
                  "ground_truth_top_answer",
                  "ground_truth_answer_list",
                  "argmax_answer",
                  "confidence",
                  "verdict",
                  "correct",
                  "batch_id",
                  "batch_request_id",
                  "judge_error")
              .persist();
        });
  }

  /** The judge's schema with exactly {@code n} verdicts. */
  static String verdictSchema(String schema, int n) {
    try {
      var node = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(schema);
      var verdicts =
          (com.fasterxml.jackson.databind.node.ObjectNode) node.path("properties").path("verdicts");
      verdicts.put("minItems", n);
      verdicts.put("maxItems", n);
      return JSON.writeValueAsString(node);
    } catch (IOException e) {
      throw new IllegalStateException("the semantic_equivalence schema is not JSON", e);
    }
  }

  private void evalResults(Run r) {
    r.step(
        "eval_results",
        List.of(
            r.fp("semantic_equivalence"),
            "bins=" + c.bins(),
            "resamples=" + c.bootstrapResamples(),
            "seed=" + c.seed()),
        () -> {
          List<Row> rows =
              r.table("semantic_equivalence")
                  .orderBy("question_id")
                  .select("confidence", "correct")
                  .collectAsList();
          double[] conf = new double[rows.size()];
          boolean[] correct = new boolean[rows.size()];
          for (int i = 0; i < rows.size(); i++) {
            conf[i] = rows.get(i).getDouble(0);
            correct[i] = rows.get(i).getBoolean(1);
          }
          String method = c.evalParagraphs().alias();
          String dataset = inputDataset() + ":" + c.evalSplit();
          Row out;
          if (rows.isEmpty()) {
            out =
                org.apache.spark.sql.RowFactory.create(
                    method, dataset, 0L, null, null, null, null, null, null);
          } else {
            CalibrationMetrics.Result m =
                CalibrationMetrics.evaluate(
                    conf, correct, c.bins(), c.bootstrapResamples(), c.seed());
            out =
                org.apache.spark.sql.RowFactory.create(
                    method,
                    dataset,
                    (long) rows.size(),
                    m.accuracy(),
                    m.ciLower(),
                    m.ciUpper(),
                    m.ece(),
                    m.eceLower(),
                    m.eceUpper());
            writeDiagram(r, conf, correct, m, method, dataset);
            r.note(
                String.format(
                    Locale.ROOT,
                    "%s on %s: accuracy %.3f [%.3f, %.3f], ECE %.3f [%.3f, %.3f] (n=%d)",
                    method,
                    dataset,
                    m.accuracy(),
                    m.ciLower(),
                    m.ciUpper(),
                    m.ece(),
                    m.eceLower(),
                    m.eceUpper(),
                    rows.size()));
          }
          return r.spark().createDataFrame(List.of(out), EVAL_SCHEMA);
        });
  }

  static final StructType EVAL_SCHEMA =
      new StructType()
          .add("method", DataTypes.StringType)
          .add("dataset", DataTypes.StringType)
          .add("n", DataTypes.LongType)
          .add("accuracy", DataTypes.DoubleType)
          .add("ci_lower", DataTypes.DoubleType)
          .add("ci_upper", DataTypes.DoubleType)
          .add("ece", DataTypes.DoubleType)
          .add("ece_lower", DataTypes.DoubleType)
          .add("ece_upper", DataTypes.DoubleType);

  /** The reliability diagram, as {@code <output.root>/calibration/eval_results.png}. */
  private void writeDiagram(
      Run r,
      double[] conf,
      boolean[] correct,
      CalibrationMetrics.Result m,
      String method,
      String dataset) {
    try {
      java.nio.file.Path tmp = Files.createTempFile("reliability", ".png");
      ReliabilityDiagram.write(
          tmp,
          method + " on " + dataset,
          CalibrationMetrics.reliability(conf, correct, c.bins()),
          m.ece());
      TrainingFiles.copy(r.spark(), tmp, r.lake().path(NAME, "eval_results") + ".png");
      Files.deleteIfExists(tmp);
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot write the reliability diagram next to calibration.eval_results",
          e.toString(),
          "check that output.root is writable");
    }
  }

  // ------------------------------------------------------------------------------ 7. export

  private void export(Run r) {
    r.step(
        "export",
        List.of(
            r.fp("sft"),
            r.fp("reward_model"),
            r.fp("rm_forecasts"),
            "sft-eval=" + c.sftEvalSize(),
            "rm-eval=" + c.rmEvalSize(),
            "seed=" + c.seed()),
        () ->
            new TrainingFiles(r.lake(), NAME, c, prompts.get("sft_prompt"))
                .write(
                    r.table("sft"),
                    r.table("reward_model"),
                    r.table("rm_forecasts"),
                    modelCard(r)));
  }

  private Map<String, String> modelCard(Run r) {
    Map<String, String> models = new LinkedHashMap<>();
    for (var e : c.calls().entrySet()) {
      ModelSpec m = r.llm().spec(e.getValue().alias());
      models.put(
          e.getKey(),
          e.getValue().alias()
              + " = "
              + m.model()
              + " ("
              + r.llm().effectiveBackend(e.getValue().alias())
              + ", temperature "
              + e.getValue().temperature()
              + (e.getValue().topP() == null ? "" : ", top_p " + e.getValue().topP())
              + ", max tokens "
              + e.getValue().maxTokens()
              + ")");
    }
    for (String t : STEPS.subList(0, STEPS.indexOf("export"))) {
      models.put("table " + NAME + "." + t, "version " + r.lake().describe(NAME, t).version());
    }
    return models;
  }

  // ------------------------------------------------------------------------------ helpers

  private static scala.collection.immutable.Seq<String> seq(String... names) {
    return scala.collection.JavaConverters.asScalaBuffer(List.of(names)).toList();
  }

  interface Reader<T> {
    T read(JsonNode n);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new IllegalArgumentException("needs a non-empty \"" + field + "\" string");
    }
    return v.asText();
  }

  private static <T> List<T> readExamples(String key, String path, int shots, Reader<T> reader) {
    java.nio.file.Path p = java.nio.file.Path.of(path);
    List<String> lines;
    try {
      lines = Files.readAllLines(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot read " + key + ": " + path,
          e.toString(),
          "set " + key + " to a JSON-lines file (relative paths start at the working folder)");
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < lines.size() && out.size() < shots; i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      try {
        out.add(reader.read(JSON.readTree(lines.get(i))));
      } catch (IOException | IllegalArgumentException e) {
        throw new QaforgeException(
            "Invalid example in " + path + ":" + (i + 1),
            e.getMessage(),
            "fix that line of " + key + " (one JSON object per line)");
      }
    }
    if (out.size() < shots) {
      LOG.warn("{} has {} example(s); {} requested", key, out.size(), shots);
    }
    return out;
  }

  /** Registers the parsing UDFs on this session once; returns the name. */
  private static String udf(Run r, String name) {
    CalibrationUdfs.register(r.spark());
    return name;
  }
}
