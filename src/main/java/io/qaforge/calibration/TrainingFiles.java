package io.qaforge.calibration;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qaforge.prompt.PromptTemplate;
import io.qaforge.spark.Lake;
import io.qaforge.spark.OutputFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The export step: training files a fine-tuning framework reads directly, under {@code
 * <output.root>/calibration/training_files/}: chat-style JSONL ({@code {"messages": [user,
 * assistant]}}) and Parquet for the LC SFT and Factuality SFT data, JSONL and Parquet for the
 * ForecastProbs and binary-correctness reward models, each row with {@code split} = train or eval
 * (held-out question ids: the lowest SHA-256 of seed and question_id, so any machine picks the same
 * ones), and a dataset card (README.md). Returns the manifest rows (one per file).
 */
final class TrainingFiles {
  static final StructType MANIFEST =
      new StructType()
          .add("file", DataTypes.StringType)
          .add("format", DataTypes.StringType)
          .add("dataset", DataTypes.StringType)
          .add("rows", DataTypes.LongType)
          .add("train_rows", DataTypes.LongType)
          .add("eval_rows", DataTypes.LongType);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Lake lake;
  private final CalibrationSettings c;
  private final PromptTemplate sftPrompt;
  private final Path dir;

  TrainingFiles(Lake lake, String pipeline, CalibrationSettings c, PromptTemplate sftPrompt) {
    this.lake = lake;
    this.c = c;
    this.sftPrompt = sftPrompt;
    this.dir = new Path(new Path(lake.root(), pipeline), "training_files");
  }

  Dataset<Row> write(
      Dataset<Row> sft,
      Dataset<Row> rewardModel,
      Dataset<Row> forecasts,
      Map<String, String> card) {
    SparkSession spark = lake.spark();
    List<Row> manifest = new ArrayList<>();
    Dataset<Row> lc =
        withSplit(
            sft.filter(col("claude_summary").isNotNull())
                .select(
                    col("question_id"),
                    col("paragraph_generation_prompt").as("prompt"),
                    col("claude_summary").as("completion")),
            c.sftEvalSize());
    manifest.addAll(chatFiles("lc_sft", lc));
    Dataset<Row> fact =
        withSplit(
            sft.filter(element_at(col("icl_generated_paragraphs"), 1).isNotNull())
                .select(
                    col("question_id"),
                    col("paragraph_generation_prompt").as("prompt"),
                    element_at(col("icl_generated_paragraphs"), 1).as("completion")),
            c.sftEvalSize());
    manifest.addAll(chatFiles("factuality_sft", fact));
    Dataset<Row> probs =
        withSplit(
            forecasts
                .filter(col("variant").equalTo("lc_sft"))
                .filter(col("forecast_probability").isNotNull())
                .select(
                    col("question_id"),
                    col("question"),
                    // the seed truncates the paragraph to 2,000 characters for the reward model
                    substring(col("generated_paragraph"), 1, 2000).as("paragraph"),
                    col("candidate_rank"),
                    col("candidate_answer").as("answer"),
                    col("forecast_probability").as("reward")),
            c.rmEvalSize());
    manifest.addAll(tableFiles("reward_model_forecastprobs", probs));
    Dataset<Row> binary =
        withSplit(
            rewardModel
                .filter(col("factuality_sft_binary_correctness").isin(0, 1))
                .select(
                    col("question_id"),
                    substring(col("factuality_sft_generated_paragraph"), 1, 2000).as("paragraph"),
                    col("factuality_sft_binary_correctness").cast("double").as("reward")),
            c.rmEvalSize());
    manifest.addAll(tableFiles("reward_model_binary", binary));
    writeCard(manifest, card);
    return spark.createDataFrame(manifest, MANIFEST);
  }

  /** Adds split = eval for the {@code evalQuestions} lowest hashes of seed:question_id. */
  private Dataset<Row> withSplit(Dataset<Row> rows, int evalQuestions) {
    Dataset<Row> ids = rows.select("question_id").distinct();
    // at most a fifth of the questions, so small runs keep training rows
    int heldOut = (int) Math.min(evalQuestions, ids.count() / 5);
    List<String> held =
        ids
            .orderBy(sha2(concat(lit(c.seed() + ":"), col("question_id")), 256))
            .limit(heldOut)
            .collectAsList()
            .stream()
            .map(r -> r.getString(0))
            .toList();
    return rows.withColumn(
            "split", when(col("question_id").isin(held.toArray()), "eval").otherwise("train"))
        .orderBy("question_id")
        .persist();
  }

  private List<Row> chatFiles(String name, Dataset<Row> rows) {
    List<Row> out = new ArrayList<>();
    long[] counts = new long[2];
    Path jsonl = new Path(dir, name + ".jsonl");
    writeLines(
        jsonl,
        rows.toLocalIterator(),
        r -> {
          ObjectNode o = JSON.createObjectNode();
          ArrayNode messages = o.putArray("messages");
          messages.addObject().put("role", "user").put("content", r.getString(1));
          messages.addObject().put("role", "assistant").put("content", r.getString(2));
          o.put("question_id", r.getString(0));
          o.put("split", r.getString(3));
          counts[r.getString(3).equals("eval") ? 1 : 0]++;
          return o;
        });
    out.add(manifest(jsonl, "jsonl", name + " (chat messages)", counts));
    String wrapper = sftPrompt.renderText(Map.of("paragraph_generation_prompt", "\u0000"));
    int at = wrapper.indexOf('\u0000');
    Dataset<Row> withPrompt =
        rows.withColumn(
            "text_prompt",
            concat(lit(wrapper.substring(0, at)), col("prompt"), lit(wrapper.substring(at + 1))));
    out.add(parquet(name, withPrompt, counts));
    rows.unpersist(false);
    return out;
  }

  private List<Row> tableFiles(String name, Dataset<Row> rows) {
    List<Row> out = new ArrayList<>();
    long[] counts = new long[2];
    String[] names = rows.columns();
    Path jsonl = new Path(dir, name + ".jsonl");
    writeLines(
        jsonl,
        rows.toLocalIterator(),
        r -> {
          ObjectNode o = JSON.createObjectNode();
          for (int i = 0; i < names.length; i++) {
            Object v = r.get(i);
            if (v == null) {
              o.putNull(names[i]);
            } else if (v instanceof Number n) {
              o.put(names[i], n.doubleValue());
              if (v instanceof Integer || v instanceof Long) {
                o.put(names[i], n.longValue());
              }
            } else {
              o.put(names[i], v.toString());
            }
          }
          counts[r.getString(r.fieldIndex("split")).equals("eval") ? 1 : 0]++;
          return o;
        });
    out.add(manifest(jsonl, "jsonl", name, counts));
    out.add(parquet(name, rows, counts));
    rows.unpersist(false);
    return out;
  }

  private Row parquet(String name, Dataset<Row> rows, long[] counts) {
    Path p = new Path(dir, name + ".parquet");
    rows.coalesce(1).write().mode("overwrite").parquet(p.toString());
    return manifest(p, "parquet", name, counts);
  }

  private static Row manifest(Path p, String format, String dataset, long[] counts) {
    return RowFactory.create(
        p.toString(), format, dataset, counts[0] + counts[1], counts[0], counts[1]);
  }

  interface Line {
    ObjectNode json(Row r);
  }

  private void writeLines(Path p, Iterator<Row> rows, Line line) {
    OutputFiles.jsonLines(lake.spark(), p, rows, line::json);
  }

  private void writeCard(List<Row> manifest, Map<String, String> card) {
    StringBuilder md = new StringBuilder();
    md.append("# Linguistic Calibration training data (qaforge)\n\n");
    md.append(
            "Generated by `qaforge run calibration`. SFT files hold chat messages (user = query,"
                + " assistant = target); reward-model files hold (paragraph, answer, reward) rows."
                + " Rows with `split = eval` are the held-out questions (at most a fifth of all, else ")
        .append(c.sftEvalSize())
        .append(" for SFT, ")
        .append(c.rmEvalSize())
        .append(" for reward models; lowest SHA-256 of `")
        .append(c.seed())
        .append(
            ":question_id`).\n\n## Files\n\n| file | format | rows | train | eval |\n|---|---|---|---|---|\n");
    for (Row r : manifest) {
      String file = r.getString(0);
      md.append("| ")
          .append(file.substring(file.lastIndexOf('/') + 1))
          .append(" | ")
          .append(r.getString(1))
          .append(" | ")
          .append(r.getLong(3))
          .append(" | ")
          .append(r.getLong(4))
          .append(" | ")
          .append(r.getLong(5))
          .append(" |\n");
    }
    md.append("\n## Models, parameters and source tables\n\n");
    for (Map.Entry<String, String> e : new LinkedHashMap<>(card).entrySet()) {
      md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    md.append(
            "\nSFT prompt wrapper for completion-style training (`text_prompt` in Parquet):\n\n```\n")
        .append(sftPrompt.renderText(Map.of("paragraph_generation_prompt", "<query>")))
        .append("\n```\n");
    OutputFiles.text(lake.spark(), new Path(dir, "README.md"), md.toString());
  }

  /** Copies a local file to a Hadoop path (local or s3a). */
  static void copy(SparkSession spark, java.nio.file.Path local, String target) throws IOException {
    Path p = new Path(target);
    FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    fs.copyFromLocalFile(false, true, new Path(local.toUri()), p);
  }
}
