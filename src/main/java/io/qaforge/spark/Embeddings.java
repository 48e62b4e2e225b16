package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.qaforge.craft.SentenceEmbedder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Sentence embeddings of a text column with the model of {@link SentenceEmbedder} (shipped in the
 * app jar, loaded once per executor JVM, never downloaded), in {@code mapPartitions}.
 *
 * <p>Output rows: the id column (name and type kept), {@code vec} array&lt;float&gt;
 * (L2-normalised, {@code dimension} floats; null when the text is null), {@code model}, {@code
 * model_version}.
 *
 * <p><b>Storage.</b> {@code vec} is a plain float array, not float16 bytes. Measured on 1,000
 * MiniLM vectors in one Parquet file (snappy, with a short string id): 1,541 bytes per row as
 * array&lt;float&gt;, 778 as float16 bytes. Half the size, but float16 costs a decode in every
 * retrieval scan, needs hand-written conversion on Java 17, and can reorder near-ties of the exact
 * top-k (pipelines/craft.md 12); at CRAFT's corpus sizes (10^6 documents: 1.5 GB vs 0.8 GB) exact
 * float32 is the better trade.
 *
 * <p><b>Parallelism.</b> One task embeds its partition with one ONNX intra-op thread per task CPU
 * ({@code spark.task.cpus}, default 1), so the cores are used by tasks: repartition the input to (a
 * multiple of) the executor cores first. Rows are taken {@value #WINDOW} batches at a time, sorted
 * by length inside that window and embedded {@code batchSize} per ONNX call.
 */
public final class Embeddings {
  public static final String VEC = "vec";
  public static final String MODEL = "model";
  public static final String MODEL_VERSION = "model_version";

  /** Batches per window of rows handed to the model (for length sorting). */
  static final int WINDOW = 8;

  private Embeddings() {}

  /**
   * Embeds every row of {@code docs}: one output row per input row (id, vec, model, model_version).
   * An unknown model fails here, on the driver, before any task starts.
   */
  public static Dataset<Row> embed(
      Dataset<Row> docs, String idCol, String textCol, String model, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1: " + batchSize);
    }
    String name = SentenceEmbedder.canonicalName(model);
    String version = SentenceEmbedder.version(name);
    Dataset<Row> in = docs.select(col(idCol), col(textCol).cast("string"));
    StructType schema =
        new StructType()
            .add(in.schema().fields()[0])
            .add(VEC, DataTypes.createArrayType(DataTypes.FloatType, false), true);
    return in.mapPartitions(new EmbedPartition(name, batchSize), Encoders.row(schema))
        .withColumn(MODEL, lit(name))
        .withColumn(MODEL_VERSION, lit(version));
  }

  /**
   * The rows of {@code docs} not yet in {@code existing} for this model and version (left anti join
   * on the id), at most one per id; all of {@code docs} (deduplicated) when {@code existing} is
   * null. Rows of an older model version count as missing.
   */
  public static Dataset<Row> pending(
      Dataset<Row> docs, Dataset<Row> existing, String idCol, String model) {
    Dataset<Row> unique = docs.dropDuplicates(idCol);
    if (existing == null) {
      return unique;
    }
    String name = SentenceEmbedder.canonicalName(model);
    Dataset<Row> done =
        existing
            .where(
                col(MODEL)
                    .equalTo(name)
                    .and(col(MODEL_VERSION).equalTo(SentenceEmbedder.version(name))))
            .select(idCol);
    return unique.join(done, new String[] {idCol}, "left_anti");
  }

  /**
   * Only the new rows for an incremental run: {@link #embed} of {@link #pending}. Append them to
   * the embeddings table (no row of the table is rewritten). Rows of an older version of the same
   * model stay in the table; readers filter on model and model_version.
   */
  public static Dataset<Row> newRows(
      Dataset<Row> docs,
      Dataset<Row> existing,
      String idCol,
      String textCol,
      String model,
      int batchSize) {
    return embed(pending(docs, existing, idCol, model), idCol, textCol, model, batchSize);
  }

  /**
   * Embeds a few texts on the driver (e.g. few-shot queries) with the same model instance the tasks
   * of this JVM use; the vectors equal those of {@link #embed}.
   */
  public static List<float[]> embedOnDriver(List<String> texts, String model) {
    return SentenceEmbedder.shared(model, 1).embed(texts);
  }

  /** (id, text) rows in, (id, vec) rows out, lazily, a window of rows at a time. */
  private static final class EmbedPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final String model;
    private final int batchSize;

    EmbedPartition(String model, int batchSize) {
      this.model = model;
      this.batchSize = batchSize;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      TaskContext task = TaskContext.get();
      int threads = task == null ? 1 : Math.max(1, task.cpus());
      SentenceEmbedder embedder = SentenceEmbedder.shared(model, threads);
      int window = batchSize * WINDOW;
      return new Iterator<>() {
        private Iterator<Row> out = List.<Row>of().iterator();

        @Override
        public boolean hasNext() {
          while (!out.hasNext() && rows.hasNext()) {
            out = next(window).iterator();
          }
          return out.hasNext();
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return out.next();
        }

        private List<Row> next(int size) {
          List<Row> in = new ArrayList<>(size);
          List<String> texts = new ArrayList<>(size);
          while (in.size() < size && rows.hasNext()) {
            Row r = rows.next();
            in.add(r);
            if (!r.isNullAt(1)) {
              texts.add(r.getString(1));
            }
          }
          Iterator<float[]> vectors = embedder.embed(texts, batchSize).iterator();
          List<Row> result = new ArrayList<>(in.size());
          for (Row r : in) {
            result.add(RowFactory.create(r.get(0), r.isNullAt(1) ? null : vectors.next()));
          }
          return result;
        }
      };
    }
  }
}
