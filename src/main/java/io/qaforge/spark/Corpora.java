package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.trim;

import com.johnsnowlabs.nlp.DocumentAssembler;
import com.johnsnowlabs.nlp.annotators.Tokenizer;
import com.johnsnowlabs.nlp.annotators.sbd.pragmatic.SentenceDetector;
import io.qaforge.QaforgeException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Document corpora as users have them: JSON lines with a text field, Parquet with a text column, or
 * folders of plain-text files (one document per file), local or on s3a. Every document gets a
 * stable {@code doc_id} (SHA-256 of its text, so the same document read twice is one document) and
 * sentence and token counts from an offline Spark NLP pipeline.
 */
public final class Corpora {
  private Corpora() {}

  /** One configured corpus. */
  public record Source(String name, String path, String format, String textField) {}

  /** Output columns of {@link #read}. */
  public static final List<String> COLUMNS =
      List.of("doc_id", "corpus", "source", "text", "chars", "sentences", "tokens");

  /**
   * Reads every source into (doc_id, corpus, source, text, chars), keeping documents of {@code
   * minChars..maxChars} characters (after trimming); the same text twice is kept once (the first
   * corpus by name).
   */
  public static Dataset<Row> read(
      SparkSession spark, List<Source> sources, int minChars, int maxChars) {
    Dataset<Row> all = null;
    for (Source s : sources) {
      for (Map.Entry<String, List<String>> e : filesByFormat(spark, s).entrySet()) {
        Dataset<Row> part = readFormat(spark, s, e.getKey(), e.getValue());
        all = all == null ? part : all.unionByName(part);
      }
    }
    Dataset<Row> docs =
        all.withColumn("text", trim(col("text")))
            .withColumn("chars", length(col("text")))
            .filter(col("chars").between(minChars, maxChars))
            .withColumn("doc_id", sha2(col("text"), 256));
    // one row per text: the smallest (corpus, source) wins, deterministically
    Dataset<Row> firsts =
        docs.groupBy("doc_id")
            .agg(
                org.apache
                    .spark
                    .sql
                    .functions
                    .min(
                        org.apache.spark.sql.functions.struct(
                            col("corpus"), col("source"), col("text"), col("chars")))
                    .as("d"));
    return firsts.select(
        col("doc_id"), col("d.corpus"), col("d.source"), col("d.text"), col("d.chars"));
  }

  /** Adds {@code sentences} and {@code tokens} counts (Spark NLP, rule-based, offline). */
  public static Dataset<Row> withTextStatistics(Dataset<Row> docs) {
    DocumentAssembler document = new DocumentAssembler();
    document.setInputCol("text");
    document.setOutputCol("_document");
    SentenceDetector sentences = new SentenceDetector();
    sentences.setInputCols(new String[] {"_document"});
    sentences.setOutputCol("_sentence");
    Tokenizer tokens = new Tokenizer();
    tokens.setInputCols(new String[] {"_sentence"});
    tokens.setOutputCol("_token");
    Dataset<Row> annotated =
        new Pipeline()
            .setStages(new PipelineStage[] {document, sentences, tokens})
            .fit(docs)
            .transform(docs);
    return annotated
        .withColumn("sentences", size(col("_sentence")))
        .withColumn("tokens", size(col("_token")))
        .drop("_document", "_sentence", "_token");
  }

  private static Dataset<Row> readFormat(
      SparkSession spark, Source s, String format, List<String> files) {
    String[] paths = files.toArray(String[]::new);
    Dataset<Row> raw;
    String field = s.textField();
    switch (format) {
      case "jsonl" -> raw = checkedJson(spark, s, paths);
      case "parquet" -> raw = spark.read().parquet(paths);
      case "text" -> {
        raw = spark.read().option("wholetext", "true").text(paths);
        field = "value";
      }
      default -> throw new IllegalStateException(format);
    }
    if (!List.of(raw.columns()).contains(field)) {
      throw new QaforgeException(
          "Cannot read corpus '" + s.name() + "' from " + s.path() + ": no column '" + field + "'",
          "its " + format + " files have the columns " + List.of(raw.columns()),
          "set text-field of this corpus in craft.corpora to the column that holds the document"
              + " text");
    }
    return raw.select(
        col(field).cast("string").as("text"),
        lit(s.name()).as("corpus"),
        input_file_name().as("source"));
  }

  /**
   * A hash of the names, sizes and modification times of a source's readable files (listed, not
   * read): a changed, added or removed file changes it.
   */
  public static String fingerprint(SparkSession spark, Source s) {
    List<String> files = new ArrayList<>();
    list(spark, s, (p, st) -> files.add(p + ":" + st.getLen() + ":" + st.getModificationTime()));
    files.sort(null);
    return io.qaforge.Hashing.sha256Hex(String.join("\n", files));
  }

  /** JSON lines, or an error naming the first malformed line's file and its start. */
  private static Dataset<Row> checkedJson(SparkSession spark, Source s, String[] paths) {
    Dataset<Row> raw = spark.read().json(paths);
    if (!List.of(raw.columns()).contains("_corrupt_record")) {
      return raw;
    }
    // Spark answers queries on the corrupt-record column only from a cached copy
    Dataset<Row> cached = raw.withColumn("_file", input_file_name()).cache();
    Row bad =
        cached
            .filter(col("_corrupt_record").isNotNull())
            .select("_file", "_corrupt_record")
            .first();
    long count = cached.filter(col("_corrupt_record").isNotNull()).count();
    cached.unpersist();
    String line = bad.getString(1).strip();
    throw new QaforgeException(
        "Corpus '"
            + s.name()
            + "': "
            + count
            + " malformed JSON line(s), the first in "
            + bad.getString(0),
        "that line is not a JSON object: "
            + (line.length() > 80 ? line.substring(0, 80) + "…" : line),
        "fix or remove the malformed lines (one JSON object per line), then run again; nothing"
            + " was written");
  }

  /** The files of a source by format (jsonl, parquet, text), listed without reading them. */
  static Map<String, List<String>> filesByFormat(SparkSession spark, Source s) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    list(
        spark,
        s,
        (p, st) ->
            out.computeIfAbsent(format(s, p.getName()), k -> new ArrayList<>()).add(p.toString()));
    return out;
  }

  private static void list(
      SparkSession spark,
      Source s,
      java.util.function.BiConsumer<Path, org.apache.hadoop.fs.FileStatus> file) {
    int[] found = {0};
    Path root = new Path(s.path());
    try {
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(root)) {
        throw new QaforgeException(
            "Cannot read corpus '" + s.name() + "': " + s.path() + " does not exist",
            "craft.corpora names a path that is not there (relative paths start at the folder"
                + " qaforge runs in)",
            "fix the path in craft.corpora or run from the project root");
      }
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        LocatedFileStatus status = it.next();
        Path p = status.getPath();
        String name = p.getName();
        if (name.startsWith(".") || name.startsWith("_")) {
          continue;
        }
        if (format(s, name) != null) {
          file.accept(p, status);
          found[0]++;
        }
      }
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot list corpus '" + s.name() + "' at " + s.path(),
          e.toString(),
          "check the path and, for s3a://, the s3.* settings");
    }
    if (found[0] == 0) {
      throw new QaforgeException(
          "Corpus '" + s.name() + "' at " + s.path() + " has no readable files",
          "format "
              + s.format()
              + " reads "
              + (s.format().equals("auto")
                  ? ".jsonl/.json/.jsonl.gz/.json.gz, .parquet and .txt files"
                  : s.format() + " files"),
          "point craft.corpora at a file or folder of documents, or set its format");
    }
  }

  private static String format(Source s, String fileName) {
    String n = fileName.toLowerCase(Locale.ROOT);
    String byExtension =
        n.endsWith(".jsonl")
                || n.endsWith(".json")
                || n.endsWith(".jsonl.gz")
                || n.endsWith(".json.gz")
            ? "jsonl"
            : n.endsWith(".parquet") ? "parquet" : n.endsWith(".txt") ? "text" : null;
    if (s.format().equals("auto")) {
      return byExtension;
    }
    return s.format().equals(byExtension) ? byExtension : null;
  }
}
