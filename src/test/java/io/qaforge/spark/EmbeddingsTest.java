package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import io.qaforge.QaforgeException;
import io.qaforge.craft.SampleSentences;
import io.qaforge.craft.SentenceEmbedder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The Spark job against the reference model: langchain4j's own all-MiniLM-L6-v2 (one text per ONNX
 * call, its own tokenizer settings), loaded from the same jar on the classpath, no network.
 */
class EmbeddingsTest {
  private static final String MODEL = "all-minilm-l6-v2";
  private static final StructType DOCS =
      new StructType().add("doc_id", DataTypes.StringType).add("text", DataTypes.StringType);

  private static Dataset<Row> docs(List<String> texts, int from) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      rows.add(RowFactory.create("d" + (from + i), texts.get(i)));
    }
    return SparkTestSession.get().createDataFrame(rows, DOCS).repartition(2);
  }

  private static Map<String, float[]> vectors(Dataset<Row> embedded) {
    Map<String, float[]> out = new HashMap<>();
    for (Row r : embedded.collectAsList()) {
      List<Float> v = r.getList(r.fieldIndex("vec"));
      float[] a = new float[v.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = v.get(i);
      }
      out.put(r.getString(0), a);
    }
    return out;
  }

  @Test
  void jobVectorsEqualTheReferenceModel() {
    List<String> texts = SampleSentences.ALL;
    Dataset<Row> embedded = Embeddings.embed(docs(texts, 0), "doc_id", "text", MODEL, 8);
    assertThat(embedded.schema().fieldNames())
        .containsExactly("doc_id", "vec", "model", "model_version");
    assertThat(embedded.schema().apply("vec").dataType())
        .isEqualTo(DataTypes.createArrayType(DataTypes.FloatType, false));
    Map<String, float[]> job = vectors(embedded);
    assertThat(job).hasSize(texts.size());

    List<Embedding> reference =
        new AllMiniLmL6V2EmbeddingModel()
            .embedAll(texts.stream().map(TextSegment::from).collect(Collectors.toList()))
            .content();
    for (int i = 0; i < texts.size(); i++) {
      float[] v = job.get("d" + i);
      assertThat(v).hasSize(384);
      assertThat(dot(v, v)).as("norm² of %d", i).isCloseTo(1.0, within(1e-5));
      assertThat(dot(v, reference.get(i).vector()))
          .as("cosine to the reference for sentence %d: %s", i, texts.get(i))
          .isGreaterThanOrEqualTo(0.9999);
    }
    assertThat(embedded.select("model", "model_version").distinct().collectAsList())
        .containsExactly(RowFactory.create(MODEL, SentenceEmbedder.version(MODEL)));
  }

  @Test
  void driverVectorsEqualJobVectors() {
    List<String> texts = SampleSentences.ALL.subList(0, 6);
    Map<String, float[]> job =
        vectors(Embeddings.embed(docs(texts, 0), "doc_id", "text", "all-MiniLM-L6-v2", 4));
    List<float[]> driver = Embeddings.embedOnDriver(texts, MODEL);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(dot(job.get("d" + i), driver.get(i))).isGreaterThan(0.99999);
    }
  }

  @Test
  void incrementalRunEmbedsOnlyNewIds() {
    List<String> texts = SampleSentences.ALL.subList(0, 12);
    Dataset<Row> first =
        Embeddings.newRows(docs(texts.subList(0, 8), 0), null, "doc_id", "text", MODEL, 4);
    assertThat(first.count()).isEqualTo(8);

    // an old model version of d8 does not count; a duplicate input id is embedded once
    Dataset<Row> stale =
        SparkTestSession.get()
            .createDataFrame(
                List.of(RowFactory.create("d8", new float[] {1f}, MODEL, "0.0.1+000000000000")),
                first.schema());
    Dataset<Row> existing = first.unionByName(stale);
    Dataset<Row> all = docs(texts, 0).unionByName(docs(texts.subList(9, 10), 9));

    Dataset<Row> added = Embeddings.newRows(all, existing, "doc_id", "text", MODEL, 4);
    assertThat(added.select("doc_id").as(org.apache.spark.sql.Encoders.STRING()).collectAsList())
        .containsExactlyInAnyOrder("d8", "d9", "d10", "d11");
    assertThat(Embeddings.pending(all, existing.unionByName(added), "doc_id", MODEL).count())
        .isZero();
  }

  @Test
  void nullTextGivesANullVectorAndKeepsTheRow() {
    Dataset<Row> in =
        SparkTestSession.get()
            .createDataFrame(
                List.of(RowFactory.create("a", "Some text."), RowFactory.create("b", null)), DOCS);
    Map<String, Row> out = new HashMap<>();
    Embeddings.embed(in, "doc_id", "text", MODEL, 2)
        .collectAsList()
        .forEach(r -> out.put(r.getString(0), r));
    assertThat(out.get("a").getList(1)).hasSize(384);
    assertThat(out.get("b").isNullAt(1)).isTrue();
  }

  @Test
  void unknownModelFailsOnTheDriver() {
    assertThatThrownBy(
            () -> Embeddings.embed(docs(List.of("x"), 0), "doc_id", "text", "e5-large", 8))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Unknown embedding model 'e5-large'");
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  private static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }
}
