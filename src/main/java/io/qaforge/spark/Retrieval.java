package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;

import io.qaforge.QaforgeException;
import io.qaforge.craft.MixedSelection;
import io.qaforge.craft.VectorBytes;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;

/**
 * CRAFT's "mixed" retrieval over an embeddings table ({@link MixedSelection} has the semantics and
 * how they differ from the seed's per-shard prefilter). Each partition scans its rows once against
 * the broadcast few-shots and keeps its own top lists; the small lists are merged with {@code
 * treeReduce}, so only top lists (never the corpus) reach the driver, which turns the merged lists
 * into the result rows (at most {@code 2 * int(k/2*1.2)}).
 *
 * <p>Vector columns: {@code array<float>} or {@code binary} (little-endian float32, or float16,
 * told by the length; see {@link VectorBytes}). Id columns: string, bigint or int, unique; ties in
 * similarity are broken by ascending id (Java {@code compareTo} order).
 */
public final class Retrieval {
  public static final String DOC_ID = "doc_id";
  public static final String CRITERION = "criterion";
  public static final String FEWSHOT_IDX = "fewshot_idx";
  public static final String SIMILARITY = "similarity";
  public static final String RANK = "rank";

  private Retrieval() {}

  /** The result schema for an id column of {@code idType}. */
  public static StructType schema(DataType idType) {
    return new StructType()
        .add(DOC_ID, idType, false)
        .add(CRITERION, DataTypes.StringType, false)
        .add(FEWSHOT_IDX, DataTypes.IntegerType, true)
        .add(SIMILARITY, DataTypes.FloatType, false)
        .add(RANK, DataTypes.IntegerType, false);
  }

  /**
   * One row per (document, list) selection: {@code doc_id} (the type of {@code idCol}), {@code
   * criterion} ("separate" or "mean"), {@code fewshot_idx} (null for "mean"), {@code similarity},
   * {@code rank} (1-based within its list). Ordered by criterion ("separate" first), few-shot
   * index, rank. Runs the scan when called.
   *
   * @param fewShots L2-normalised few-shot vectors, in few-shot file order
   * @param k the retrieval target ({@code num_samples_to_retrieve})
   * @param percentile the seed's {@code top_p_percentile} (0.05)
   */
  public static Dataset<Row> mixed(
      Dataset<Row> embeddings,
      String idCol,
      String vecCol,
      float[][] fewShots,
      int k,
      double percentile) {
    MixedSelection selection = new MixedSelection(fewShots, k, percentile);
    Dataset<Row> in = embeddings.select(col(idCol), col(vecCol));
    StructField id = in.schema().fields()[0];
    StructField vec = in.schema().fields()[1];
    return scan(in, idReader(id), vectorReader(vec, selection.dim()), selection, id.dataType());
  }

  /** The union of the selected documents: one row per distinct {@code doc_id}. */
  public static Dataset<Row> selectedIds(Dataset<Row> mixed) {
    return mixed.select(DOC_ID).distinct();
  }

  private static <I extends Comparable<? super I>> Dataset<Row> scan(
      Dataset<Row> in,
      IdReader<I> ids,
      VectorReader vectors,
      MixedSelection selection,
      DataType idType) {
    SparkSession spark = in.sparkSession();
    Broadcast<MixedSelection> shared =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(selection);
    MixedSelection.Accumulator<I> all;
    try {
      var rdd = in.queryExecution().toRdd().toJavaRDD();
      all =
          rdd.getNumPartitions() == 0
              ? selection.accumulator()
              : rdd.mapPartitions(new Scan<>(shared, ids, vectors))
                  .treeReduce((a, b) -> a.merge(b));
    } catch (Exception e) { // Scala rethrows the task failure as a checked SparkException
      throw runLevel(e);
    } finally {
      shared.destroy();
    }
    List<Row> rows = new ArrayList<>();
    for (MixedSelection.Selection<I> s : selection.select(all)) {
      rows.add(
          RowFactory.create(s.docId(), s.criterion(), s.fewShotIdx(), s.similarity(), s.rank()));
    }
    return spark.createDataFrame(rows, schema(idType));
  }

  /** The QaforgeException a task threw (so the CLI reports it as such), else the error as is. */
  private static RuntimeException runLevel(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof QaforgeException) {
        return (QaforgeException) t;
      }
    }
    return e instanceof RuntimeException
        ? (RuntimeException) e
        : new IllegalStateException(e.getMessage(), e);
  }

  /** Reads the id at ordinal 0 of a (id, vector) row. */
  interface IdReader<I extends Comparable<? super I>> extends Serializable {
    I read(InternalRow row);
  }

  /** Decodes the vector at ordinal 1 into {@code out}; false when it has the wrong length. */
  interface VectorReader extends Serializable {
    boolean read(InternalRow row, float[] out);
  }

  private static IdReader<?> idReader(StructField f) {
    DataType t = f.dataType();
    if (t.equals(DataTypes.StringType)) {
      return (IdReader<String>) r -> r.getUTF8String(0).toString();
    }
    if (t.equals(DataTypes.LongType)) {
      return (IdReader<Long>) r -> r.getLong(0);
    }
    if (t.equals(DataTypes.IntegerType)) {
      return (IdReader<Integer>) r -> r.getInt(0);
    }
    throw new QaforgeException(
        "craft retrieval cannot use id column '" + f.name() + "' of type " + t.simpleString(),
        "document ids must be string, bigint or int",
        "pass the embeddings table's doc_id column");
  }

  private static VectorReader vectorReader(StructField f, int dim) {
    DataType t = f.dataType();
    if (t.equals(DataTypes.BinaryType)) {
      return (r, out) -> VectorBytes.decode(r.getBinary(1), out);
    }
    if (t instanceof ArrayType && ((ArrayType) t).elementType().equals(DataTypes.FloatType)) {
      boolean nullable = ((ArrayType) t).containsNull();
      return (r, out) -> floats(r.getArray(1), out, nullable);
    }
    throw new QaforgeException(
        "craft retrieval cannot read vectors from column '"
            + f.name()
            + "' of type "
            + t.simpleString(),
        "vectors must be array<float> or binary (little-endian float32 or float16)",
        "pass the embeddings table's vector column");
  }

  /** Copies an array of floats into {@code out} without boxing (a memory copy for Spark's rows). */
  private static boolean floats(ArrayData a, float[] out, boolean nullable) {
    int n = a.numElements();
    if (n != out.length) {
      return false;
    }
    if (nullable) {
      for (int j = 0; j < n; j++) {
        if (a.isNullAt(j)) {
          return false;
        }
      }
    }
    if (a instanceof UnsafeArrayData) {
      UnsafeArrayData u = (UnsafeArrayData) a;
      Platform.copyMemory(
          u.getBaseObject(),
          u.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n),
          out,
          Platform.FLOAT_ARRAY_OFFSET,
          4L * n);
    } else {
      for (int j = 0; j < n; j++) {
        out[j] = a.getFloat(j);
      }
    }
    return true;
  }

  /** One partition: score every row, keep the local top lists. */
  private static final class Scan<I extends Comparable<? super I>>
      implements FlatMapFunction<Iterator<InternalRow>, MixedSelection.Accumulator<I>> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<MixedSelection> selection;
    private final IdReader<I> ids;
    private final VectorReader vectors;

    Scan(Broadcast<MixedSelection> selection, IdReader<I> ids, VectorReader vectors) {
      this.selection = selection;
      this.ids = ids;
      this.vectors = vectors;
    }

    @Override
    public Iterator<MixedSelection.Accumulator<I>> call(Iterator<InternalRow> rows) {
      MixedSelection s = selection.value();
      MixedSelection.Accumulator<I> acc = s.accumulator();
      float[] vec = new float[s.dim()];
      while (rows.hasNext()) {
        InternalRow row = rows.next();
        if (row.isNullAt(0) || row.isNullAt(1) || !vectors.read(row, vec)) {
          throw new QaforgeException(
              "craft retrieval: document "
                  + (row.isNullAt(0) ? "with a null id" : ids.read(row))
                  + " has no valid "
                  + s.dim()
                  + "-value vector",
              "the vector is null, has null values or another length than the few-shots' (another"
                  + " embedding model?)",
              "re-run the embeddings step so that every document and the few-shots use one model");
        }
        if (acc.score(vec)) {
          acc.add(ids.read(row));
        }
      }
      return List.of(acc).iterator();
    }
  }
}
