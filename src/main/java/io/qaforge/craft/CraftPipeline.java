package io.qaforge.craft;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qaforge.Pipeline;
import io.qaforge.Plan;
import io.qaforge.QaforgeException;
import io.qaforge.RunSummary;
import io.qaforge.config.Settings;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.Message;
import io.qaforge.llm.ModelCall;
import io.qaforge.llm.ModelSpec;
import io.qaforge.prompt.PromptTemplate;
import io.qaforge.spark.Corpora;
import io.qaforge.spark.Embeddings;
import io.qaforge.spark.FuzzyDedup;
import io.qaforge.spark.Generation;
import io.qaforge.spark.Lake;
import io.qaforge.spark.LlmRun;
import io.qaforge.spark.OutputFiles;
import io.qaforge.spark.Retrieval;
import io.qaforge.spark.StepRun;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CRAFT (Ziegler et al., 2024): few-shot examples → retrieve similar human-written documents from
 * embedded corpora → rewrite each document into one task sample → validate → drop samples too close
 * to a few-shot or to each other → a final dataset of a named size plus the few-shots. The corpus
 * and its embeddings are shared by every task; every later table holds one slice per (task, size),
 * and a run replaces only its own slice.
 */
public final class CraftPipeline implements Pipeline {
  public static final String NAME = "craft";
  private static final Logger LOG = LoggerFactory.getLogger(CraftPipeline.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final LlmSettings llm;
  private final CraftSettings c;
  private final CraftTask task;
  private final List<FewShot> fewShots;
  private final CraftPrompt prompt;
  private final ModelCall call;

  public CraftPipeline(Settings settings) {
    this.llm = LlmSettings.from(settings);
    this.c = CraftSettings.from(settings, llm);
    this.task = CraftTask.resolve(c.task(), settings.config());
    this.fewShots = FewShots.load(Path.of(c.fewShots()), c.fewShotLimit(), task);
    if (fewShots.size() < c.shots()) {
      throw new QaforgeException(
          "craft.generation.shots = "
              + c.shots()
              + " but "
              + c.fewShots()
              + " has only "
              + fewShots.size()
              + " usable few-shot lines",
          "each prompt shows that many distinct few-shots",
          "lower craft.generation.shots, raise craft.few-shot-limit or add few-shot lines");
    }
    String dir = settings.string("prompts.dir");
    this.prompt =
        new CraftPrompt(
            PromptTemplate.load(NAME + "/shot", dir),
            PromptTemplate.load(NAME + "/document", dir),
            instructions(dir),
            task,
            fewShots,
            c.seed(),
            c.shots());
    this.call = c.generationFor(task.maxTokens());
  }

  /** Variants of the task instruction; each document gets one, chosen by a seeded draw. */
  private List<String> instructions(String dir) {
    if (task.kind() == CraftTask.Kind.CUSTOM) {
      return task.instructions().stream()
          .map(i -> i.strip() + "\n" + task.formatExample())
          .toList();
    }
    List<String> files =
        task.name().equals("csqa")
            ? List.of("csqa-question", "csqa-statement")
            : List.of(task.name());
    return files.stream()
        .map(
            f -> PromptTemplate.load(NAME + "/instructions/" + f, dir).renderText(Map.of()).strip())
        .toList();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "CRAFT: retrieve documents like the few-shots, rewrite them into task samples, clean";
  }

  private Map<String, String> slice() {
    return new java.util.TreeMap<>(Map.of("task", task.name(), "size", c.size()));
  }

  private Map<String, String> taskSlice() {
    return Map.of("task", task.name());
  }

  @Override
  public RunSummary run(Lake lake, boolean force) {
    Instant start = Instant.now();
    StepRun.announceDryRun(llm, Map.of("generations", call));
    try (LlmRun calls = LlmRun.start(lake.spark(), llm)) {
      StepRun r = new StepRun(NAME, lake, calls, llm, force);
      all(r);
      return new RunSummary(NAME, r.steps(), Duration.between(start, Instant.now()));
    }
  }

  @Override
  public Plan plan(Lake lake) {
    return StepRun.plan(
        NAME,
        lake,
        llm,
        dry -> {},
        (dry, calls) -> new StepRun(NAME, dry, calls, llm.asDryRun(), true),
        this::all);
  }

  private void all(StepRun r) {
    List<Runnable> steps =
        List.of(
            () -> corpus(r),
            () -> embeddings(r),
            () -> fewshots(r),
            () -> retrieved(r),
            () -> generations(r),
            () -> samples(r),
            () -> rejections(r),
            () -> clean(r),
            () -> finalSet(r),
            () -> export(r));
    int last =
        c.until().isEmpty()
            ? CraftSettings.STEPS.size() - 1
            : CraftSettings.STEPS.indexOf(c.until());
    for (int i = 0; i <= last; i++) {
      steps.get(i).run();
    }
  }

  // ------------------------------------------------------------------------------ 1. corpus

  private void corpus(StepRun r) {
    List<Corpora.Source> sources =
        c.corpora().stream()
            .map(k -> new Corpora.Source(k.name(), k.path(), k.format(), k.textField()))
            .toList();
    List<String> inputs = new ArrayList<>();
    for (Corpora.Source k : sources) {
      inputs.add(k + " files=" + Corpora.fingerprint(r.spark(), k));
    }
    inputs.add("chars=" + c.minChars() + ".." + c.maxChars());
    r.step(
        "corpus",
        inputs,
        () ->
            Corpora.withTextStatistics(
                Corpora.read(r.spark(), sources, c.minChars(), c.maxChars())));
  }

  // ------------------------------------------------------------------------------ 2. embeddings

  /**
   * Vectors of every corpus document for the configured model. Incremental: only documents without
   * a vector of this model and version are embedded; vectors of other models stay in the table.
   */
  private void embeddings(StepRun r) {
    String version = SentenceEmbedder.version(c.embeddingModel());
    r.step(
        "embeddings",
        List.of(r.fp("corpus"), "model=" + c.embeddingModel() + " version=" + version),
        () -> {
          Dataset<Row> docs =
              r.table("corpus")
                  .select("doc_id", "text")
                  .repartition(r.spark().sparkContext().defaultParallelism());
          Dataset<Row> existing =
              r.lake().exists(NAME, "embeddings")
                  ? r.table("embeddings")
                      .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK())
                  : null;
          Dataset<Row> fresh =
              Embeddings.newRows(
                      docs, existing, "doc_id", "text", c.embeddingModel(), c.embeddingBatchSize())
                  .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
          long added = fresh.count();
          long kept = existing == null ? 0 : existing.count();
          r.note(added + " documents embedded, " + kept + " vectors reused");
          return existing == null ? fresh : existing.unionByName(fresh);
        });
  }

  /** The vectors of the configured model for the current corpus. */
  private Dataset<Row> vectors(StepRun r) {
    return r.table("embeddings")
        .filter(
            col(Embeddings.MODEL)
                .equalTo(SentenceEmbedder.canonicalName(c.embeddingModel()))
                .and(
                    col(Embeddings.MODEL_VERSION)
                        .equalTo(SentenceEmbedder.version(c.embeddingModel()))))
        .join(r.table("corpus").select("doc_id"), "doc_id");
  }

  // ------------------------------------------------------------------------------ 3. fewshots

  private static final StructType FEWSHOTS =
      new StructType()
          .add("idx", DataTypes.IntegerType, false)
          .add("text", DataTypes.StringType)
          .add("instruction", DataTypes.StringType)
          .add("output", DataTypes.StringType)
          .add("sample_json", DataTypes.StringType)
          .add("query", DataTypes.StringType)
          .add("vec", DataTypes.createArrayType(DataTypes.FloatType, false));

  private void fewshots(StepRun r) {
    String content =
        io.qaforge.Hashing.sha256Hex(
            fewShots.stream().map(f -> f.fields().toString()).reduce("", String::concat));
    r.sliceStep(
        "fewshots",
        taskSlice(),
        List.of("fewshots=" + content, "model=" + c.embeddingModel(), "task=" + task),
        () -> {
          List<String> queries = fewShots.stream().map(FewShot::queryString).toList();
          List<float[]> vecs = Embeddings.embedOnDriver(queries, c.embeddingModel());
          List<Row> rows = new ArrayList<>();
          for (int i = 0; i < fewShots.size(); i++) {
            FewShot f = fewShots.get(i);
            float[] v = vecs.get(i);
            List<Float> boxed = new ArrayList<>(v.length);
            for (float x : v) {
              boxed.add(x);
            }
            rows.add(
                RowFactory.create(
                    f.idx(),
                    f.text(),
                    f.has(FewShot.INSTRUCTION) ? f.instruction() : null,
                    f.has(FewShot.OUTPUT) ? f.output() : null,
                    PyJson.dumps(task.toSample(f)),
                    queries.get(i),
                    boxed));
          }
          return r.spark().createDataFrame(rows, FEWSHOTS);
        });
  }

  // ------------------------------------------------------------------------------ 4. retrieved

  private void retrieved(StepRun r) {
    r.sliceStep(
        "retrieved",
        slice(),
        List.of(
            r.fp("embeddings"),
            r.fp("fewshots"),
            "k=" + c.retrieve() + " percentile=" + c.percentile()),
        () -> {
          List<Row> fs = r.slice("fewshots").orderBy("idx").select("vec").collectAsList();
          float[][] q = new float[fs.size()][];
          for (int i = 0; i < q.length; i++) {
            List<Float> v = fs.get(i).getList(0);
            q[i] = new float[v.size()];
            for (int j = 0; j < q[i].length; j++) {
              q[i][j] = v.get(j);
            }
          }
          Dataset<Row> picks =
              Retrieval.mixed(vectors(r), "doc_id", "vec", q, c.retrieve(), c.percentile());
          Dataset<Row> perDoc =
              picks
                  .groupBy("doc_id")
                  .agg(
                      org.apache
                          .spark
                          .sql
                          .functions
                          .collect_list(
                              org.apache.spark.sql.functions.struct(
                                  "criterion", "fewshot_idx", "similarity", "rank"))
                          .as("selections"),
                      org.apache.spark.sql.functions.max("similarity").as("similarity"));
          return perDoc
              .join(r.table("corpus").select("doc_id", "corpus", "text"), "doc_id")
              .select("doc_id", "corpus", "similarity", "selections", "text");
        });
  }

  // ------------------------------------------------------------------------------ 5. generations

  private void generations(StepRun r) {
    String promptHash = prompt.hash();
    r.sliceStep(
        "generations",
        slice(),
        List.of(
            r.fp("retrieved"),
            r.fp("fewshots"),
            "call=" + r.callPrint(call, promptHash),
            "prompts=" + promptHash,
            "schema=" + task.jsonSchema(),
            "seed=" + c.seed()),
        () -> {
          Dataset<Row> docs = r.slice("retrieved").select("doc_id", "text");
          Dataset<Row> withMessages =
              docs.withColumn("_p", callUDF(promptUdf(r), col("doc_id"), col("text")))
                  .withColumn("shot_indices", col("_p.shot_indices"))
                  .withColumn("instruction_variant", col("_p.instruction_variant"))
                  .withColumn("messages", col("_p.messages"))
                  .drop("_p");
          Dataset<Row> g =
              r.generateRendered(
                  "generations", withMessages, promptHash, call, task.jsonSchema(), 1, c.seed());
          return g.select(
              cols(
                  with(
                      List.of("doc_id", "shot_indices", "instruction_variant", "content"),
                      StepRun.LINEAGE)));
        });
  }

  private static final StructType PROMPT =
      new StructType()
          .add("shot_indices", DataTypes.createArrayType(DataTypes.IntegerType, false))
          .add("instruction_variant", DataTypes.IntegerType)
          .add("messages", Generation.MESSAGES);

  /**
   * Per document: the few-shots (a seeded draw per doc_id, so any partitioning gives the same
   * prompts), the instruction variant, and the messages: one user/assistant turn per few-shot, then
   * the document's turn.
   */
  private String promptUdf(StepRun r) {
    String name = "craft_prompt";
    CraftPrompt p = prompt;
    r.spark()
        .udf()
        .register(
            name,
            (UDF2<String, String, Row>)
                (docId, text) -> {
                  CraftPrompt.Rendered out = p.render(docId, text);
                  List<Integer> shots = new ArrayList<>();
                  for (int i : out.shots()) {
                    shots.add(i);
                  }
                  List<Row> messages = new ArrayList<>();
                  for (Message m : out.messages()) {
                    messages.add(RowFactory.create(m.role(), m.content()));
                  }
                  return RowFactory.create(shots, out.variant(), messages);
                },
            PROMPT);
    return name;
  }

  // ------------------------------------------------------------------------------ 6. samples

  private static final StructType PARSED =
      new StructType()
          .add("sample_json", DataTypes.StringType)
          .add("error_category", DataTypes.StringType)
          .add("error_message", DataTypes.StringType);

  private String parseUdf(StepRun r) {
    CraftTask t = task;
    String name = "craft_parse_" + t.name().replace('-', '_');
    r.spark()
        .udf()
        .register(
            name,
            (UDF1<String, Row>)
                content -> {
                  CraftParsing.Parsed p = CraftParsing.parse(t, content == null ? "" : content);
                  return p.ok()
                      ? RowFactory.create(p.canonicalJson(), null, null)
                      : RowFactory.create(null, p.errorCategory(), p.error());
                },
            PARSED);
    return name;
  }

  /** Generated rows with parse results: usable answers parsed, failed calls classified. */
  private Dataset<Row> parsed(StepRun r) {
    Dataset<Row> g = r.slice("generations");
    // invalid_output answers (not matching the schema after repairs) still get the seed's
    // category from the parser
    Column answered =
        col("status").isin("ok", "truncated", "invalid_output").and(col("content").isNotNull());
    return g.withColumn("_p", when(answered, callUDF(parseUdf(r), col("content"))))
        .withColumn("sample_json", col("_p.sample_json"))
        .withColumn(
            "error_category",
            when(answered, col("_p.error_category"))
                .otherwise(
                    when(col("error").startsWith("prompt too long"), lit("prompt_too_long"))
                        .otherwise(concat(lit("generation_"), col("status")))))
        .withColumn(
            "error_message", when(answered, col("_p.error_message")).otherwise(col("error")))
        .drop("_p");
  }

  private StructType taskSchema() {
    StructType t = new StructType();
    for (FieldRule f : task.fields()) {
      t =
          t.add(
              f.name(),
              f.type() == FieldRule.Type.LIST
                  ? DataTypes.createArrayType(DataTypes.StringType)
                  : DataTypes.StringType);
    }
    return t;
  }

  private void samples(StepRun r) {
    r.sliceStep(
        "samples",
        slice(),
        List.of(r.fp("generations"), "task=" + task),
        () -> {
          Dataset<Row> ok = parsed(r).filter(col("sample_json").isNotNull());
          Dataset<Row> typed = ok.withColumn("_s", from_json(col("sample_json"), taskSchema()));
          List<Column> out = new ArrayList<>(List.of(col("doc_id"), col("request_id")));
          for (FieldRule f : task.fields()) {
            out.add(col("_s." + f.name()).as(f.name()));
          }
          out.add(col("sample_json"));
          out.add(col("shot_indices"));
          return typed.select(out.toArray(Column[]::new));
        });
  }

  private void rejections(StepRun r) {
    r.sliceStep(
        "rejections",
        slice(),
        List.of(r.fp("generations"), "task=" + task),
        () ->
            parsed(r)
                .filter(col("sample_json").isNull())
                .select(
                    col("doc_id"),
                    col("request_id"),
                    col("status"),
                    col("error_category"),
                    col("error_message").as("error"),
                    col("content")));
  }

  // ------------------------------------------------------------------------------ 7. clean

  private void clean(StepRun r) {
    r.sliceStep(
        "clean",
        slice(),
        List.of(
            r.fp("samples"),
            r.fp("retrieved"),
            r.fp("fewshots"),
            "threshold=" + c.threshold() + " mode=" + c.cleanMode() + "/" + c.exactMaxSamples()),
        () -> {
          // greedy order: the documents most similar to the few-shots first (the seed's order,
          // the corpus order of its shards, is arbitrary); ties by doc id
          Dataset<Row> ordered =
              r.slice("samples")
                  .join(r.slice("retrieved").select("doc_id", "similarity"), "doc_id")
                  .withColumn(
                      "clean_order",
                      org.apache
                          .spark
                          .sql
                          .functions
                          .row_number()
                          .over(
                              org.apache.spark.sql.expressions.Window.orderBy(
                                  col("similarity").desc(), col("doc_id")))
                          .cast("long"));
          List<String> few = fewShots.stream().map(f -> PyJson.dumps(task.toSample(f))).toList();
          FuzzyDedup.Options o =
              FuzzyDedup.Options.defaults()
                  .withMode(
                      FuzzyDedup.Mode.valueOf(c.cleanMode().toUpperCase(java.util.Locale.ROOT)),
                      c.exactMaxSamples())
                  .withThreshold(c.threshold());
          return FuzzyDedup.clean(ordered, "request_id", "clean_order", "sample_json", few, o);
        });
  }

  // ------------------------------------------------------------------------------ 8. final

  private void finalSet(StepRun r) {
    r.sliceStep(
        "final",
        slice(),
        List.of(r.fp("clean"), r.fp("fewshots"), "final=" + c.finalSize(), "seed=" + c.seed()),
        () -> {
          int want = Math.max(0, c.finalSize() - fewShots.size());
          Dataset<Row> kept = r.slice("clean").filter(col("clean_status").equalTo("kept"));
          Dataset<Row> chosen =
              kept.orderBy(sha2(concat(lit(c.seed() + ":"), col("request_id")), 256)).limit(want);
          long got = chosen.count();
          if (got < want) {
            r.note(
                "only "
                    + got
                    + " clean samples for "
                    + want
                    + " wanted (size "
                    + c.size()
                    + "): retrieve more documents (a larger size or corpus)");
            LOG.warn(
                "craft {} size {}: only {} clean samples, {} wanted",
                task.name(),
                c.size(),
                got,
                want);
          }
          List<Column> cols = new ArrayList<>();
          for (String f : task.columns()) {
            cols.add(col(f));
          }
          cols.add(lit(0L).as(CraftTask.IS_FEW_SHOT));
          cols.add(col("doc_id"));
          cols.add(col("request_id"));
          Dataset<Row> synthetic = chosen.select(cols.toArray(Column[]::new));
          Dataset<Row> few =
              r.slice("fewshots")
                  .withColumn("_s", from_json(col("sample_json"), taskSchema()))
                  .select(fewShotCols());
          return synthetic.unionByName(few);
        });
  }

  private Column[] fewShotCols() {
    List<Column> cols = new ArrayList<>();
    for (String f : task.columns()) {
      cols.add(col("_s." + f).as(f));
    }
    cols.add(lit(1L).as(CraftTask.IS_FEW_SHOT));
    cols.add(lit(null).cast("string").as("doc_id"));
    cols.add(lit(null).cast("string").as("request_id"));
    return cols.toArray(Column[]::new);
  }

  // ------------------------------------------------------------------------------ 9. export

  private static final StructType MANIFEST =
      new StructType()
          .add("file", DataTypes.StringType)
          .add("format", DataTypes.StringType)
          .add("rows", DataTypes.LongType)
          .add("few_shots", DataTypes.LongType);

  private void export(StepRun r) {
    r.sliceStep(
        "export",
        slice(),
        List.of(r.fp("final")),
        () -> {
          org.apache.hadoop.fs.Path dir =
              new org.apache.hadoop.fs.Path(
                  new org.apache.hadoop.fs.Path(
                      new org.apache.hadoop.fs.Path(r.lake().root(), NAME), "training_files"),
                  task.name() + "/" + c.size());
          List<String> columns = task.finalColumns();
          Dataset<Row> rows =
              r.slice("final")
                  .orderBy(col(CraftTask.IS_FEW_SHOT).desc(), col("request_id"))
                  .select(
                      columns.stream()
                          .map(org.apache.spark.sql.functions::col)
                          .toArray(Column[]::new))
                  .persist();
          long n = rows.count();
          long few = rows.filter(col(CraftTask.IS_FEW_SHOT).equalTo(1L)).count();
          org.apache.hadoop.fs.Path jsonl = new org.apache.hadoop.fs.Path(dir, "train.jsonl");
          OutputFiles.jsonLines(
              r.spark(), jsonl, rows.toLocalIterator(), row -> json(row, columns));
          org.apache.hadoop.fs.Path parquet = new org.apache.hadoop.fs.Path(dir, "train.parquet");
          rows.coalesce(1).write().mode("overwrite").parquet(parquet.toString());
          rows.unpersist();
          OutputFiles.text(
              r.spark(), new org.apache.hadoop.fs.Path(dir, "README.md"), card(r, n, few));
          return r.spark()
              .createDataFrame(
                  List.of(
                      RowFactory.create(jsonl.toString(), "jsonl", n, few),
                      RowFactory.create(parquet.toString(), "parquet", n, few)),
                  MANIFEST);
        });
  }

  private static ObjectNode json(Row row, List<String> columns) {
    ObjectNode o = JSON.createObjectNode();
    for (int i = 0; i < columns.size(); i++) {
      Object v = row.get(i);
      if (v instanceof scala.collection.Seq<?> seq) {
        var arr = o.putArray(columns.get(i));
        for (Object x : scala.collection.JavaConverters.seqAsJavaList(seq)) {
          arr.add(String.valueOf(x));
        }
      } else if (v instanceof Long l) {
        o.put(columns.get(i), l);
      } else {
        o.put(columns.get(i), v == null ? null : v.toString());
      }
    }
    return o;
  }

  private String card(StepRun r, long n, long few) {
    ModelSpec m = r.llm().spec(call.alias());
    StringBuilder md = new StringBuilder();
    md.append("# CRAFT ")
        .append(task.name())
        .append(", size ")
        .append(c.size())
        .append(" (qaforge)\n\n");
    md.append("Generated by `qaforge run craft --set craft.task=")
        .append(task.name())
        .append(" --set craft.size=")
        .append(c.size())
        .append("`: documents retrieved from the corpora by similarity to the few-shots, each")
        .append(" rewritten into one task sample, validated, and cleaned of samples too close to a")
        .append(" few-shot or to each other (token-set ratio >= ")
        .append(c.threshold())
        .append(").\n\n");
    md.append("| file | rows | synthetic | few-shots |\n|---|---|---|---|\n");
    for (String f : List.of("train.jsonl", "train.parquet")) {
      md.append("| ")
          .append(f)
          .append(" | ")
          .append(n)
          .append(" | ")
          .append(n - few)
          .append(" | ")
          .append(few)
          .append(" |\n");
    }
    md.append("\nColumns: ").append(String.join(", ", task.finalColumns())).append(".\n\n");
    md.append("## Settings\n\n");
    md.append("- few-shots: ")
        .append(c.fewShots())
        .append(" (")
        .append(fewShots.size())
        .append(" lines)\n");
    md.append("- corpora: ").append(c.corpora()).append('\n');
    md.append("- embedding model: ").append(c.embeddingModel()).append('\n');
    md.append("- retrieve: ")
        .append(c.retrieve())
        .append(" documents (percentile ")
        .append(c.percentile())
        .append("), final: ")
        .append(c.finalSize())
        .append(" rows incl. few-shots, seed ")
        .append(c.seed())
        .append('\n');
    md.append("- generator: ")
        .append(call.alias())
        .append(" = ")
        .append(m.model())
        .append(" (")
        .append(r.llm().effectiveBackend(call.alias()))
        .append(", temperature ")
        .append(call.temperature())
        .append(call.topP() == null ? "" : ", top_p " + call.topP())
        .append(", max tokens ")
        .append(call.maxTokens())
        .append(", ")
        .append(c.shots())
        .append(" few-shots per prompt)\n");
    md.append("\n## Source tables\n\n");
    for (String t : CraftSettings.STEPS.subList(0, CraftSettings.STEPS.indexOf("export"))) {
      md.append("- craft.")
          .append(t)
          .append(": version ")
          .append(r.lake().describe(NAME, t).version())
          .append('\n');
    }
    return md.toString();
  }

  // ------------------------------------------------------------------------------ helpers

  private static Column[] cols(List<String> names) {
    return names.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new);
  }

  private static List<String> with(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
