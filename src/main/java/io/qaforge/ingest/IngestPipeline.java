package io.qaforge.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import io.qaforge.Plan;
import io.qaforge.QaforgeException;
import io.qaforge.RunSummary;
import io.qaforge.config.Settings;
import io.qaforge.spark.Lake;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code qaforge run ingest}: reads TriviaQA question files (original JSON, Hugging Face JSON Lines
 * or Parquet; local or s3a) and writes {@code <dataset>.questions} with a deterministic {@code
 * split} column. Every record is parsed and checked before anything is written: one malformed
 * record stops the run with its file, line and reason, and no table is created or changed.
 */
public final class IngestPipeline implements io.qaforge.Pipeline {
  public static final String NAME = "ingest";
  public static final String STEP = "questions";
  private static final Logger LOG = LoggerFactory.getLogger(IngestPipeline.class);
  private static final List<String> FORMATS =
      List.of("auto", "triviaqa-json", "hf-jsonl", "hf-parquet");
  private static final int MAX_ERRORS_SHOWN = 5;

  /**
   * Columns of the questions table, in order. Delta stores every column as nullable; the ingest
   * guarantees non-empty question_id, question, answer, source_split and split by validation.
   */
  public static final StructType SCHEMA =
      new StructType()
          .add("question_id", DataTypes.StringType)
          .add("question", DataTypes.StringType)
          .add("answer", DataTypes.StringType)
          .add("aliases", DataTypes.createArrayType(DataTypes.StringType))
          .add("normalized_aliases", DataTypes.createArrayType(DataTypes.StringType))
          .add("normalized_answer", DataTypes.StringType)
          .add("answer_type", DataTypes.StringType)
          .add("question_source", DataTypes.StringType)
          .add("source_split", DataTypes.StringType)
          .add("split", DataTypes.StringType)
          .add("source_file", DataTypes.StringType)
          .add("source_line", DataTypes.LongType);

  /** Parsed records before split assignment: SCHEMA without split, plus error (malformed). */
  static final StructType PARSED =
      new StructType(
              java.util.Arrays.stream(SCHEMA.fields())
                  .filter(f -> !f.name().equals("split"))
                  .toArray(org.apache.spark.sql.types.StructField[]::new))
          .add("error", DataTypes.StringType);

  private static final StructType FILES =
      new StructType()
          .add("path", DataTypes.StringType)
          .add("format", DataTypes.StringType)
          .add("split", DataTypes.StringType);

  /** One configured input. */
  record Input(String path, String format, String sourceSplit) {}

  /** One file to read, with its resolved format and (nullable) split override. */
  record InputFile(String path, String format, String split, long size, long modified) {}

  private final Settings settings;
  private final List<Input> inputs;
  private final String dataset;
  private final SplitPlan plan;

  public IngestPipeline(Settings settings) {
    this.settings = settings;
    this.inputs = readInputs(settings);
    this.dataset = settings.string("ingest.dataset");
    if (!dataset.matches("[a-z][a-z0-9_]*")) {
      throw settings.invalid("ingest.dataset", "must be a lower-case name such as triviaqa");
    }
    this.plan = SplitPlan.from(settings);
  }

  private static List<Input> readInputs(Settings settings) {
    var list = settings.config().getConfigList("ingest.inputs");
    if (list.isEmpty()) {
      throw settings.invalid("ingest.inputs", "must name at least one input file or folder");
    }
    List<Input> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      var c = list.get(i);
      String key = "ingest.inputs." + i;
      if (!c.hasPath("path") || c.getString("path").isBlank()) {
        throw settings.invalid("ingest.inputs", "entry " + i + " needs a path");
      }
      String format = c.hasPath("format") ? c.getString("format").toLowerCase(Locale.ROOT) : "auto";
      if (!FORMATS.contains(format)) {
        throw Settings.invalid(
            key + ".format", c.getValue("format"), "must be one of " + String.join(", ", FORMATS));
      }
      String split =
          c.hasPath("source-split") ? c.getString("source-split").toLowerCase(Locale.ROOT) : "auto";
      if (!split.equals("auto") && TriviaQaReader.normalizeSplit(split) == null) {
        throw Settings.invalid(
            key + ".source-split",
            c.getValue("source-split"),
            "must be auto, train, validation or test");
      }
      out.add(new Input(c.getString("path"), format, split));
    }
    return out;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "TriviaQA files -> " + dataset + "." + STEP + " with deterministic splits";
  }

  @Override
  public RunSummary run(Lake lake, boolean force) {
    Instant start = Instant.now();
    List<InputFile> files = listFiles(lake.spark());
    String fingerprint = fingerprint(files);
    if (!force && lake.fingerprint(dataset, STEP).filter(fingerprint::equals).isPresent()) {
      lake.register(dataset, STEP);
      return new RunSummary(
          NAME,
          List.of(
              new RunSummary.Step(
                  STEP,
                  lake.describe(dataset, STEP),
                  true,
                  "up to date (same input files and settings)")),
          Duration.between(start, Instant.now()));
    }
    Dataset<Row> questions = questions(lake.spark(), files);
    try {
      var info = lake.write(dataset, STEP, questions, fingerprint);
      return new RunSummary(
          NAME,
          List.of(new RunSummary.Step(STEP, info, false, files.size() + " input file(s)")),
          Duration.between(start, Instant.now()));
    } finally {
      questions.unpersist();
    }
  }

  @Override
  public Plan plan(Lake lake) {
    List<InputFile> files = listFiles(lake.spark());
    Dataset<Row> questions = questions(lake.spark(), files);
    try {
      Map<String, Long> bySplit = new TreeMap<>();
      for (Row r : questions.groupBy("split").count().collectAsList()) {
        bySplit.put(r.getString(0), r.getLong(1));
      }
      long rows = bySplit.values().stream().mapToLong(Long::longValue).sum();
      boolean upToDate =
          lake.fingerprint(dataset, STEP).filter(fingerprint(files)::equals).isPresent();
      return new Plan(
          NAME,
          List.of(
              new Plan.Step(
                  dataset + "." + STEP,
                  rows,
                  0,
                  0,
                  0,
                  0.0,
                  upToDate,
                  files.size() + " file(s); splits " + bySplit + "; no model calls")));
    } finally {
      questions.unpersist();
    }
  }

  /** Parses, validates, de-duplicates and assigns splits; throws before anything is written. */
  Dataset<Row> questions(SparkSession spark, List<InputFile> files) {
    Dataset<Row> parsed = parse(spark, files).persist();
    Dataset<Row> bad = parsed.filter(col("error").isNotNull());
    List<Row> firstBad =
        bad.select("source_file", "source_line", "error").limit(MAX_ERRORS_SHOWN).collectAsList();
    if (!firstBad.isEmpty()) {
      long count = bad.count();
      parsed.unpersist();
      StringBuilder where = new StringBuilder();
      for (Row r : firstBad) {
        where
            .append("\n    ")
            .append(r.getString(0))
            .append(r.isNullAt(1) ? "" : ":" + r.getLong(1))
            .append(": ")
            .append(r.getString(2));
      }
      throw new QaforgeException(
          "Cannot ingest: " + count + " malformed record(s); nothing was written",
          (count > MAX_ERRORS_SHOWN
                  ? "the first " + MAX_ERRORS_SHOWN + " are:"
                  : "the malformed record(s):")
              + where,
          "correct or remove these records (or fix ingest.inputs) and run again");
    }
    Dataset<Row> good = parsed.drop("error");
    var firstById = Window.partitionBy("question_id").orderBy("source_file", "source_line");
    Dataset<Row> unique =
        good.withColumn("_n", row_number().over(firstById)).filter(col("_n").equalTo(1)).drop("_n");
    var byHash =
        Window.partitionBy("source_split")
            .orderBy(sha2(col("question_id"), 256), col("question_id"));
    Dataset<Row> ranked = unique.withColumn("_rank", row_number().over(byHash).minus(1));
    Dataset<Row> out =
        ranked
            .withColumn("split", splitColumn(plan, col("source_split"), col("_rank")))
            .drop("_rank")
            .select(
                java.util.Arrays.stream(SCHEMA.fieldNames())
                    .map(c -> col(c))
                    .toArray(Column[]::new));
    long duplicates = good.count() - unique.count();
    if (duplicates > 0) {
      LOG.warn(
          "{} duplicate question_id(s) in the inputs: kept the first occurrence of each (by file"
              + " and line)",
          duplicates);
    }
    return out;
  }

  /** The split plan as one Spark expression: CASE source_split/rank ranges → name. */
  static Column splitColumn(SplitPlan plan, Column sourceSplit, Column rank) {
    Column result = lit(plan.remainder());
    List<Map.Entry<String, List<SplitPlan.Target>>> sources =
        new ArrayList<>(plan.bySource().entrySet());
    for (int s = sources.size() - 1; s >= 0; s--) {
      var entry = sources.get(s);
      Column inner = lit(plan.remainder());
      long[] ends = new long[entry.getValue().size()];
      long end = 0;
      for (int i = 0; i < ends.length; i++) {
        end += entry.getValue().get(i).size();
        ends[i] = end;
      }
      for (int i = ends.length - 1; i >= 0; i--) {
        inner = when(rank.lt(ends[i]), lit(entry.getValue().get(i).name())).otherwise(inner);
      }
      result = when(sourceSplit.equalTo(entry.getKey()), inner).otherwise(result);
    }
    return result;
  }

  private Dataset<Row> parse(SparkSession spark, List<InputFile> files) {
    List<Row> textFiles = new ArrayList<>();
    Map<String, List<String>> parquetBySplit = new TreeMap<>();
    for (InputFile f : files) {
      if (f.format().equals("hf-parquet")) {
        String split = f.split() != null ? f.split() : TriviaQaReader.splitFromFileName(f.path());
        parquetBySplit
            .computeIfAbsent(split == null ? "" : split, k -> new ArrayList<>())
            .add(f.path());
      } else {
        textFiles.add(RowFactory.create(f.path(), f.format(), f.split()));
      }
    }
    Dataset<Row> result = spark.createDataFrame(List.of(), PARSED);
    if (!textFiles.isEmpty()) {
      Broadcast<SerializableConfiguration> conf =
          JavaSparkContext.fromSparkContext(spark.sparkContext())
              .broadcast(new SerializableConfiguration(spark.sparkContext().hadoopConfiguration()));
      result =
          spark
              .createDataFrame(textFiles, FILES)
              .repartition(Math.min(textFiles.size(), spark.sparkContext().defaultParallelism()))
              .mapPartitions(new ParseTextFiles(conf), Encoders.row(PARSED));
    }
    for (var e : parquetBySplit.entrySet()) {
      result = result.unionByName(parquet(spark, e.getValue(), e.getKey()));
    }
    return result;
  }

  private Dataset<Row> parquet(SparkSession spark, List<String> paths, String split) {
    Dataset<Row> raw = spark.read().parquet(paths.toArray(String[]::new));
    StructType schema = raw.schema();
    for (String required : List.of("question_id", "question", "answer")) {
      if (!java.util.Arrays.asList(schema.fieldNames()).contains(required)) {
        throw new QaforgeException(
            "Cannot ingest " + paths.get(0) + (paths.size() > 1 ? " (and others)" : ""),
            "the Parquet schema has no column '"
                + required
                + "' (found: "
                + schema.simpleString()
                + ")",
            "use Hugging Face trivia_qa Parquet files (question, question_id, answer{value, aliases,"
                + " ...}) or set the input's format");
      }
    }
    Dataset<Row> a = raw.select(col("answer.*"));
    for (String required : List.of("value", "aliases")) {
      if (!java.util.Arrays.asList(a.schema().fieldNames()).contains(required)) {
        throw new QaforgeException(
            "Cannot ingest " + paths.get(0),
            "the Parquet column 'answer' has no field '" + required + "'",
            "use Hugging Face trivia_qa Parquet files with answer{value, aliases, ...}");
      }
    }
    boolean hasNorm =
        java.util.Arrays.asList(a.schema().fieldNames()).contains("normalized_aliases");
    boolean hasSource = java.util.Arrays.asList(schema.fieldNames()).contains("question_source");
    Column emptyArray = org.apache.spark.sql.functions.array().cast("array<string>");
    Column q = trim(col("question"));
    Column error =
        when(
                col("question_id").isNull().or(trim(col("question_id")).equalTo("")),
                lit("missing or empty question_id"))
            .when(q.isNull().or(q.equalTo("")), lit("missing or empty question"))
            .when(
                col("answer.value").isNull().or(trim(col("answer.value")).equalTo("")),
                lit("missing or empty answer value"))
            .when(
                lit(split).equalTo(""),
                lit(
                    "cannot tell the source split from the file name; set source-split on this input"));
    return raw.select(
        col("question_id").cast("string").as("question_id"),
        q.as("question"),
        col("answer.value").as("answer"),
        org.apache.spark.sql.functions.coalesce(col("answer.aliases"), emptyArray).as("aliases"),
        (hasNorm
                ? org.apache.spark.sql.functions.coalesce(
                    col("answer.normalized_aliases"), emptyArray)
                : emptyArray)
            .as("normalized_aliases"),
        (java.util.Arrays.asList(a.schema().fieldNames()).contains("normalized_value")
                ? col("answer.normalized_value")
                : lit(null).cast("string"))
            .as("normalized_answer"),
        (java.util.Arrays.asList(a.schema().fieldNames()).contains("type")
                ? col("answer.type")
                : lit(null).cast("string"))
            .as("answer_type"),
        (hasSource ? col("question_source") : lit(null).cast("string")).as("question_source"),
        lit(split).as("source_split"),
        input_file_name().as("source_file"),
        lit(null).cast("long").as("source_line"),
        when(
                error.isNotNull(),
                org.apache.spark.sql.functions.concat(
                    lit("question "),
                    org.apache.spark.sql.functions.coalesce(
                        col("question_id").cast("string"), lit("?")),
                    lit(": "),
                    error))
            .as("error"));
  }

  /** Lists the input files (driver side); fails before any job if an input is missing or empty. */
  List<InputFile> listFiles(SparkSession spark) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<InputFile> files = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      String override =
          in.sourceSplit().equals("auto") ? null : TriviaQaReader.normalizeSplit(in.sourceSplit());
      List<InputFile> found = new ArrayList<>();
      try {
        Path p = new Path(in.path());
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
          throw new QaforgeException(
              "Cannot read ingest input " + in.path(),
              "no such file or folder (relative paths are resolved from "
                  + System.getProperty("user.dir")
                  + ")",
              "fix ingest.inputs." + i + ".path");
        }
        FileStatus st = fs.getFileStatus(p);
        if (st.isFile()) {
          addFile(found, st, in.format(), override, true);
        } else {
          RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
          while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            String name = f.getPath().getName();
            if (!name.startsWith(".") && !name.startsWith("_")) {
              addFile(found, f, in.format(), override, false);
            }
          }
        }
      } catch (IOException e) {
        throw new QaforgeException(
            "Cannot read ingest input " + in.path(),
            e.toString(),
            "check the path and, for s3a://, the s3.* settings and credentials");
      }
      if (found.isEmpty()) {
        throw new QaforgeException(
            "Cannot ingest " + in.path(),
            "the folder holds no .json, .jsonl or .parquet files (optionally .gz)",
            "point ingest.inputs." + i + ".path at TriviaQA files");
      }
      files.addAll(found);
    }
    files.sort((a, b) -> a.path().compareTo(b.path()));
    return files;
  }

  private static void addFile(
      List<InputFile> out, FileStatus f, String format, String split, boolean explicit) {
    String name = f.getPath().getName().toLowerCase(Locale.ROOT).replaceAll("\\.(gz|bz2)$", "");
    String resolved = format;
    if (format.equals("auto")) {
      if (name.endsWith(".jsonl")) {
        resolved = "hf-jsonl";
      } else if (name.endsWith(".json")) {
        resolved = "triviaqa-json";
      } else if (name.endsWith(".parquet")) {
        resolved = "hf-parquet";
      } else if (explicit) {
        throw new QaforgeException(
            "Cannot tell the format of " + f.getPath(),
            "format = auto needs a .json, .jsonl or .parquet name",
            "set format (triviaqa-json, hf-jsonl or hf-parquet) on this input");
      } else {
        return;
      }
    }
    out.add(
        new InputFile(
            f.getPath().toString(), resolved, split, f.getLen(), f.getModificationTime()));
  }

  private String fingerprint(List<InputFile> files) {
    StringBuilder sb = new StringBuilder("ingest/v1\n");
    // concise: values only, so moving a line in a conf file does not change the fingerprint
    sb.append(
            settings
                .config()
                .getValue("ingest")
                .render(com.typesafe.config.ConfigRenderOptions.concise()))
        .append('\n');
    for (InputFile f : files) {
      sb.append(f).append('\n');
    }
    return io.qaforge.Hashing.sha256Hex(sb.toString());
  }

  /** Streams each text file of the partition through {@link TriviaQaReader}. */
  static final class ParseTextFiles implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<SerializableConfiguration> conf;

    ParseTextFiles(Broadcast<SerializableConfiguration> conf) {
      this.conf = conf;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> files) throws IOException {
      List<Row> out = new ArrayList<>();
      Configuration hadoop = conf.value().value();
      CompressionCodecFactory codecs = new CompressionCodecFactory(hadoop);
      while (files.hasNext()) {
        Row f = files.next();
        Path path = new Path(f.getString(0));
        String format = f.getString(1);
        String split = f.getString(2);
        FileSystem fs = path.getFileSystem(hadoop);
        CompressionCodec codec = codecs.getCodec(path);
        try (InputStream raw = fs.open(path);
            InputStream in = codec == null ? raw : codec.createInputStream(raw)) {
          if (format.equals("triviaqa-json")) {
            TriviaQaReader.readJson(in, path.toString(), split, r -> out.add(toRow(r)));
          } else {
            TriviaQaReader.readJsonLines(in, path.toString(), split, r -> out.add(toRow(r)));
          }
        }
      }
      return out.iterator();
    }

    private static Row toRow(TriviaQaRecord r) {
      return RowFactory.create(
          r.questionId(),
          r.question(),
          r.answer(),
          r.aliases().toArray(String[]::new),
          r.normalizedAliases().toArray(String[]::new),
          r.normalizedAnswer(),
          r.answerType(),
          r.questionSource(),
          r.sourceSplit(),
          r.sourceFile(),
          r.sourceLine(),
          r.error());
    }
  }
}
