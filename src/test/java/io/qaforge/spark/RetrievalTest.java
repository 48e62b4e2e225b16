package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import io.qaforge.craft.MixedSelection;
import io.qaforge.craft.RetrievalReference;
import io.qaforge.craft.VectorBytes;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RetrievalTest {
  private static final int N = 3000;
  private static final int DIM = 48;

  enum Format {
    ARRAY,
    FLOAT32,
    FLOAT16
  }

  /**
   * The Spark job over several partitions returns exactly the brute-force lists (a sort of every
   * document) for each vector storage format, id type and list sizes, ties included.
   */
  @ParameterizedTest(name = "{0} {1} ids, F={2} k={3} p={4}, {5} partitions")
  @CsvSource({
    "ARRAY,   string, 4,  1000, 0.05, 4",
    "ARRAY,   long,   32, 5000, 0.05, 3",
    "ARRAY,   string, 3,  2000, 1.0,  5",
    "FLOAT32, string, 8,  1001, 1.0,  4",
    "FLOAT16, long,   4,  300,  0.05, 2",
    "FLOAT16, string, 32, 40,   0.05, 4",
  })
  void selectionsEqualTheBruteForceReference(
      Format format, String idType, int f, int k, double p, int partitions) {
    SplittableRandom rnd = new SplittableRandom(17L * f + k);
    float[][] docs = RetrievalReference.randomUnitVectors(rnd, N, DIM);
    for (int i = 0; i < N; i += 10) {
      docs[i] = docs[rnd.nextInt(N)].clone(); // duplicates: equal similarities, broken by id
    }
    List<Object> ids = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      long id = (i * 7919L) % N;
      ids.add(idType.equals("long") ? (Object) id : String.format("doc-%05d", id));
    }
    DataType vecType =
        format == Format.ARRAY
            ? DataTypes.createArrayType(DataTypes.FloatType)
            : DataTypes.BinaryType;
    List<Row> rows = new ArrayList<>();
    float[][] stored = new float[N][];
    for (int i = 0; i < N; i++) {
      Object vec;
      switch (format) {
        case ARRAY:
          vec = docs[i];
          stored[i] = docs[i];
          break;
        case FLOAT32:
          vec = VectorBytes.float32(docs[i]);
          stored[i] = docs[i];
          break;
        default:
          byte[] half = VectorBytes.float16(docs[i]);
          stored[i] = new float[DIM];
          VectorBytes.decode(half, stored[i]);
          vec = half;
      }
      rows.add(RowFactory.create(ids.get(i), vec));
    }
    DataType idSql = idType.equals("long") ? DataTypes.LongType : DataTypes.StringType;
    StructType schema = new StructType().add("id", idSql).add("vec", vecType);
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> embeddings = spark.createDataFrame(rows, schema).repartition(partitions);
    assertThat(embeddings.rdd().getNumPartitions()).isEqualTo(partitions);
    float[][] fewShots = new float[f][];
    for (int i = 0; i < f; i++) {
      fewShots[i] = stored[rnd.nextInt(N)].clone();
      renormalise(fewShots[i]);
    }

    Dataset<Row> got = Retrieval.mixed(embeddings, "id", "vec", fewShots, k, p);

    assertThat(got.schema()).isEqualTo(Retrieval.schema(idSql));
    List<MixedSelection.Selection<Object>> expected = reference(fewShots, k, p, stored, ids);
    assertThat(RetrievalReference.tiesWithinLists(expected)).isPositive();
    List<MixedSelection.Selection<Object>> actual =
        got.collectAsList().stream()
            .map(
                r ->
                    new MixedSelection.Selection<Object>(
                        r.get(0),
                        r.getString(1),
                        r.isNullAt(2) ? null : r.getInt(2),
                        r.getFloat(3),
                        r.getInt(4)))
            .collect(Collectors.toList());
    assertThat(actual).containsExactlyElementsOf(expected);
    assertThat(Retrieval.selectedIds(got).count())
        .isEqualTo(expected.stream().map(MixedSelection.Selection::docId).distinct().count());
  }

  @Test
  void aVectorOfAnotherLengthOrANullVectorNamesTheDocument() {
    SparkSession spark = SparkTestSession.get();
    float[][] q = RetrievalReference.randomUnitVectors(new SplittableRandom(1), 2, 4);
    StructType schema =
        new StructType()
            .add("doc_id", DataTypes.StringType)
            .add("vec", DataTypes.createArrayType(DataTypes.FloatType));
    Dataset<Row> wrong =
        spark.createDataFrame(
            List.of(RowFactory.create("a", q[0]), RowFactory.create("b", new float[] {1, 0, 0})),
            schema);
    assertThatThrownBy(() -> Retrieval.mixed(wrong, "doc_id", "vec", q, 10, 0.5))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("craft retrieval: document b has no valid 4-value vector")
        .hasMessageContaining("re-run the embeddings step");
    Dataset<Row> missing =
        spark.createDataFrame(
            List.of(RowFactory.create("a", q[0]), RowFactory.create("c", null)), schema);
    assertThatThrownBy(() -> Retrieval.mixed(missing, "doc_id", "vec", q, 10, 0.5))
        .hasMessageContaining("document c has no valid 4-value vector");
    Dataset<Row> doubles = spark.sql("SELECT 'a' AS doc_id, array(1.0D, 0.0D) AS vec");
    assertThatThrownBy(() -> Retrieval.mixed(doubles, "doc_id", "vec", q, 10, 0.5))
        .hasMessageContaining("cannot read vectors from column 'vec' of type array<double>");
  }

  @Test
  void anEmptyCorpusSelectsNothing() {
    SparkSession spark = SparkTestSession.get();
    float[][] q = RetrievalReference.randomUnitVectors(new SplittableRandom(1), 2, 4);
    Dataset<Row> none =
        spark.sql("SELECT 'a' AS doc_id, CAST(NULL AS BINARY) AS vec WHERE false").repartition(2);
    assertThat(Retrieval.mixed(none, "doc_id", "vec", q, 10, 0.05).count()).isZero();
  }

  /** Brute force on what the job reads (float16 decoded), with ids in their Spark types. */
  private static List<MixedSelection.Selection<Object>> reference(
      float[][] fewShots, int k, double p, float[][] stored, List<Object> ids) {
    MixedSelection s = new MixedSelection(fewShots, k, p);
    if (ids.get(0) instanceof Long) {
      List<Long> longs = ids.stream().map(Long.class::cast).collect(Collectors.toList());
      return widen(RetrievalReference.bruteForce(s, stored, longs));
    }
    List<String> strings = ids.stream().map(String.class::cast).collect(Collectors.toList());
    return widen(RetrievalReference.bruteForce(s, stored, strings));
  }

  private static <I> List<MixedSelection.Selection<Object>> widen(
      List<MixedSelection.Selection<I>> in) {
    List<MixedSelection.Selection<Object>> out = new ArrayList<>();
    for (MixedSelection.Selection<I> s : in) {
      out.add(
          new MixedSelection.Selection<>(
              s.docId(), s.criterion(), s.fewShotIdx(), s.similarity(), s.rank()));
    }
    return out;
  }

  private static void renormalise(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    for (int j = 0; j < v.length; j++) {
      v[j] = (float) (v[j] / Math.sqrt(n));
    }
  }
}
