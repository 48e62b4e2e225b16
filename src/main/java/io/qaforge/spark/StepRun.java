package io.qaforge.spark;

import static org.apache.spark.sql.functions.lit;

import io.qaforge.Hashing;
import io.qaforge.Plan;
import io.qaforge.QaforgeException;
import io.qaforge.RunSummary;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelCall;
import io.qaforge.llm.ModelSpec;
import io.qaforge.prompt.PromptTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a pipeline's steps: where its tables go, the model-call context, and the fingerprints
 * so far. {@link #step} writes one step table ({@code <dataset>.<step>}) unless the stored
 * fingerprint (its settings, prompt versions, model backends, upstream fingerprints) is unchanged;
 * {@link #generate} is every step's model call through {@link Generation}. A pipeline's {@code
 * plan} runs the same steps through {@link #plan} in dry-run into a scratch lake.
 */
public class StepRun {
  private static final Logger LOG = LoggerFactory.getLogger(StepRun.class);

  /** Response columns every generated step keeps (besides its own parsed columns). */
  public static final List<String> LINEAGE =
      List.of(
          "request_id",
          "status",
          "error",
          "attempts",
          "finish_reason",
          "prompt_tokens",
          "completion_tokens",
          "cost_usd",
          "model_used",
          "backend",
          "cache_hit");

  private final String dataset;
  private final Lake lake;
  private final LlmRun calls;
  private final LlmSettings llm;
  private final boolean force;
  private final List<RunSummary.Step> steps = new ArrayList<>();
  private final Map<String, String> fingerprints = new LinkedHashMap<>();
  private final Map<String, Map<String, String>> slices = new LinkedHashMap<>();

  /**
   * The persisted answers {@link Generation#generate} returned while building the current step:
   * released once the step's table is written. Left cached, every one stays in Spark's cache
   * manager for the rest of the JVM, with its plan (the Delta reads of the cache and the inputs),
   * and every later query is matched against all of them: the steps of a run get slower one after
   * the other.
   */
  private final List<Dataset<Row>> generated = new ArrayList<>();

  private String note;

  public StepRun(String dataset, Lake lake, LlmRun calls, LlmSettings llm, boolean force) {
    this.dataset = dataset;
    this.lake = lake;
    this.calls = calls;
    this.llm = llm;
    this.force = force;
  }

  public SparkSession spark() {
    return lake.spark();
  }

  public Lake lake() {
    return lake;
  }

  public LlmSettings llm() {
    return llm;
  }

  public LlmRun calls() {
    return calls;
  }

  public List<RunSummary.Step> steps() {
    return steps;
  }

  /** Adds a remark to the current step's line of the run summary. */
  public void note(String text) {
    note = note == null ? text : note + "; " + text;
  }

  /**
   * Writes {@code <dataset>.<name>} from {@code build} unless its stored fingerprint equals the
   * hash of {@code inputs} (then the step is skipped). Returns the fingerprint.
   */
  public String step(String name, List<String> inputs, Supplier<Dataset<Row>> build) {
    return write(name, null, inputs, build);
  }

  /**
   * Like {@link #step} for one slice of a shared table (e.g. {@code task=bioqa, size=S}): only the
   * slice's rows are replaced, and only when the slice's fingerprint changed. {@code build} returns
   * the rows without the slice columns; they are added.
   */
  public String sliceStep(
      String name, Map<String, String> slice, List<String> inputs, Supplier<Dataset<Row>> build) {
    slices.put(name, slice);
    return write(name, slice, inputs, build);
  }

  private String write(
      String name, Map<String, String> slice, List<String> inputs, Supplier<Dataset<Row>> build) {
    String fp =
        Hashing.sha256Hex(
            dataset
                + "/"
                + name
                // sorted: Map.of's iteration order changes from one JVM to the next
                + (slice == null ? "" : new java.util.TreeMap<>(slice))
                + "\n"
                + String.join("\n", inputs));
    fingerprints.put(name, fp);
    if (!force && upToDateIn(lake, name)) {
      lake.register(dataset, name);
      steps.add(
          new RunSummary.Step(
              name,
              lake.describe(dataset, name),
              true,
              slice == null ? "up to date" : "up to date (" + slice + ")"));
      note = null;
      return fp;
    }
    Instant t0 = Instant.now();
    Dataset<Row> rows = null;
    Lake.TableInfo info;
    try {
      rows = build.get();
      info =
          slice == null
              ? lake.write(dataset, name, rows, fp)
              : lake.writeSlice(dataset, name, rows, slice, fp);
    } finally {
      if (rows != null) {
        rows.unpersist(false);
      }
      releaseGenerated();
    }
    String line =
        String.format(
            Locale.ROOT, "%.1f s", Duration.between(t0, Instant.now()).toMillis() / 1000.0);
    if (slice != null) {
      line = line + ", slice " + slice;
    }
    if (note != null) {
      line = line + "; " + note;
      note = null;
    }
    steps.add(new RunSummary.Step(name, info, false, line));
    return fp;
  }

  /** The rows of one slice of a slice table (without the slice columns' filter applied twice). */
  public Dataset<Row> slice(String step) {
    Map<String, String> slice = slices.get(step);
    Dataset<Row> t = table(step);
    if (slice == null) {
      return t;
    }
    for (var e : slice.entrySet()) {
      t = t.filter(org.apache.spark.sql.functions.col(e.getKey()).equalTo(e.getValue()));
    }
    return t;
  }

  /** {@code step=fingerprint} of a step that ran (or was skipped) earlier in this run. */
  public String fp(String step) {
    String f = fingerprints.get(step);
    if (f == null) {
      throw new IllegalStateException("step " + step + " has not run yet");
    }
    return step + "=" + f;
  }

  /** Whether the table of {@code step} is up to date in {@code other} (by this run's print). */
  public boolean upToDateIn(Lake other, String step) {
    String f = fingerprints.get(step);
    Map<String, String> slice = slices.get(step);
    return f != null
        && (slice == null
                ? other.fingerprint(dataset, step)
                : other.fingerprint(dataset, step, slice))
            .filter(f::equals)
            .isPresent();
  }

  public Dataset<Row> table(String step) {
    return lake.read(dataset, step);
  }

  /** The fingerprint input of a model call: alias, model, effective backend, parameters, prompt. */
  public String callPrint(ModelCall call, PromptTemplate t) {
    return callPrint(call, t.hash());
  }

  /** As {@link #callPrint(ModelCall, PromptTemplate)} for prompts built from several templates. */
  public String callPrint(ModelCall call, String promptHash) {
    ModelSpec m = llm.spec(call.alias());
    return call
        + " model="
        + m.model()
        + " style="
        + m.style()
        + " backend="
        + llm.effectiveBackend(call.alias())
        + " prompt="
        + promptHash;
  }

  /** {@link #generate(String, Dataset, PromptTemplate, ModelCall, String, int, Long)} unseeded. */
  public Dataset<Row> generate(
      String step,
      Dataset<Row> rows,
      PromptTemplate template,
      ModelCall call,
      String schema,
      int samples) {
    return generate(step, rows, template, call, schema, samples, null);
  }

  /**
   * Model answers for the rows (one row per sample, with the response columns): the template is
   * rendered per row into messages, checked against the rows' columns first.
   */
  public Dataset<Row> generate(
      String step,
      Dataset<Row> rows,
      PromptTemplate template,
      ModelCall call,
      String schema,
      int samples,
      Long seed) {
    Dataset<Row> withMessages =
        Prompts.render(rows, template, "the rows of " + dataset + "." + step);
    return generateRendered(step, withMessages, template.hash(), call, schema, samples, seed);
  }

  /**
   * Model answers for rows that already carry a {@code messages} column ({@link
   * Generation#MESSAGES}); {@code promptHash} stands for the templates that rendered them (it is
   * part of every request id).
   */
  public Dataset<Row> generateRendered(
      String step,
      Dataset<Row> withMessages,
      String promptHash,
      ModelCall call,
      String schema,
      int samples,
      Long seed) {
    Generation.Spec spec =
        new Generation.Spec(
            step,
            call.alias(),
            call.temperature(),
            call.topP(),
            call.maxTokens(),
            seed,
            List.of(),
            samples,
            schema,
            false,
            promptHash);
    if (llm.effectiveBackend(call.alias()).equals("dry-run")) {
      note("DRY-RUN answers (no endpoint for " + call.alias() + ")");
    }
    Dataset<Row> out = new Generation(lake, llm, calls).generate(withMessages, spec);
    generated.add(out);
    return out.drop("messages");
  }

  /** Unpersists the answers generated for the step just written (its table holds them now). */
  private void releaseGenerated() {
    for (Dataset<Row> d : generated) {
      d.unpersist(false);
    }
    generated.clear();
  }

  /**
   * Rows that are not sent (their input is missing or unusable): the columns of generated rows,
   * status failed and the reason, so no row disappears.
   */
  public static Dataset<Row> notSent(Dataset<Row> rows, String reason) {
    return rows.withColumn("status", lit("failed"))
        .withColumn("error", lit(reason))
        .withColumn("cache_hit", lit(false))
        .withColumn("sample_idx", lit(0));
  }

  /** Says loudly which steps' aliases will not call a model. */
  public static void announceDryRun(LlmSettings llm, Map<String, ModelCall> calls) {
    Map<String, String> dry = new LinkedHashMap<>();
    for (var e : calls.entrySet()) {
      if (llm.effectiveBackend(e.getValue().alias()).equals("dry-run")) {
        dry.put(e.getKey(), e.getValue().alias());
      }
    }
    if (!dry.isEmpty()) {
      LOG.warn(
          "DRY-RUN: no model is called for {} (no endpoint configured: set OPENAI_BASE_URL /"
              + " llm.base-url, or give the alias backend = llama-cpp with a model-path). Answers"
              + " are placeholders; token counts and costs are estimates.",
          dry);
    }
  }

  /**
   * A plan: runs every step in dry-run into a scratch folder (tables not registered), so request
   * counts are real (later steps depend on earlier outputs); prompt tokens are counted with the
   * alias's tokenizer, completion tokens at their max-tokens bound, cost from the alias prices.
   * {@code prepare} may fill the scratch lake with inputs; {@code steps} runs the pipeline's steps.
   */
  public static Plan plan(
      String dataset,
      Lake lake,
      LlmSettings llm,
      Consumer<Lake> prepare,
      java.util.function.BiFunction<Lake, LlmRun, StepRun> start,
      Consumer<StepRun> steps) {
    java.nio.file.Path scratch;
    try {
      scratch = Files.createTempDirectory("qaforge-plan");
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot plan " + dataset, e.toString(), "make sure the temp folder is writable");
    }
    Lake dry = Lake.unregistered(lake.spark(), scratch.resolve("lake").toString());
    prepare.accept(dry);
    List<Plan.Step> out = new ArrayList<>();
    try (LlmRun calls = LlmRun.start(lake.spark(), llm.asDryRun())) {
      StepRun r = start.apply(dry, calls);
      steps.accept(r);
      Map<String, Ledger.Entry> byStep = new LinkedHashMap<>();
      for (Ledger.Entry e : calls.entries()) {
        byStep.merge(e.step(), e, StepRun::add);
      }
      for (RunSummary.Step s : r.steps) {
        String step = s.table().name().substring(dataset.length() + 1);
        List<Ledger.Entry> entries =
            byStep.entrySet().stream()
                .filter(e -> e.getKey().equals(step) || e.getKey().startsWith(step + ":"))
                .map(Map.Entry::getValue)
                .toList();
        String aliases =
            String.join(
                ", ", entries.stream().map(e -> e.alias() + " (" + e.called() + ")").toList());
        out.add(
            new Plan.Step(
                dataset + "." + step,
                s.table().rows(),
                entries.stream().mapToLong(Ledger.Entry::called).sum(),
                entries.stream().mapToLong(Ledger.Entry::promptTokens).sum(),
                entries.stream().mapToLong(Ledger.Entry::completionTokens).sum(),
                entries.stream().mapToDouble(Ledger.Entry::costUsd).sum(),
                r.upToDateIn(lake, step),
                entries.isEmpty() ? "no model calls" : "requests by alias: " + aliases));
      }
    } finally {
      deleteQuietly(scratch);
    }
    return new Plan(dataset, out);
  }

  private static Ledger.Entry add(Ledger.Entry a, Ledger.Entry b) {
    return new Ledger.Entry(
        a.runId(),
        a.step(),
        a.alias().equals(b.alias()) ? a.alias() : a.alias() + "+" + b.alias(),
        a.backend(),
        a.rows() + b.rows(),
        a.cacheHits() + b.cacheHits(),
        a.called() + b.called(),
        a.ok() + b.ok(),
        a.failed() + b.failed(),
        a.invalidOutput() + b.invalidOutput(),
        a.truncated() + b.truncated(),
        a.refused() + b.refused(),
        a.skippedBudget() + b.skippedBudget(),
        a.attempts() + b.attempts(),
        a.rateLimited() + b.rateLimited(),
        a.promptTokens() + b.promptTokens(),
        a.completionTokens() + b.completionTokens(),
        a.costUsd() + b.costUsd(),
        a.wallMs() + b.wallMs(),
        a.startedAt(),
        b.finishedAt());
  }

  private static void deleteQuietly(java.nio.file.Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.debug("could not delete {}: {}", dir, e.toString());
    }
  }
}
