package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import io.qaforge.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Corpora as users have them, and the errors a broken one gives. */
class CorporaTest {
  private static final String LONG =
      "This sentence is long enough to count as a document once it is repeated a few times. ";

  @Test
  void mixedFolderGivesStableIdsLengthFilterAndOneRowPerText() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path dir = SparkTestSession.newDir("corpus");
    Files.createDirectories(dir.resolve("notes"));
    Files.writeString(dir.resolve("notes/a.txt"), LONG.repeat(4));
    Files.writeString(
        dir.resolve("docs.jsonl"),
        "{\"body\": \""
            + LONG.repeat(3)
            + "\"}\n{\"body\": \"too short\"}\n"
            // the same text as the note: one document
            + "{\"body\": \""
            + LONG.repeat(4).strip()
            + "\"}\n");
    // and a Parquet file with the same text column
    spark
        .createDataset(List.of(LONG.repeat(6)), org.apache.spark.sql.Encoders.STRING())
        .toDF("body")
        .coalesce(1)
        .write()
        .parquet(dir.resolve("more").toString());
    List<Row> rows =
        Corpora.read(
                spark,
                List.of(new Corpora.Source("mine", dir.toString(), "auto", "body")),
                200,
                25_000)
            .orderBy("chars")
            .collectAsList();
    assertThat(rows).hasSize(3);
    assertThat(rows.get(2).<String>getAs("source")).endsWith(".parquet");
    assertThat(rows.get(0).<String>getAs("doc_id"))
        .isEqualTo(io.qaforge.Hashing.sha256Hex(LONG.repeat(3).strip()));
    assertThat(rows).allSatisfy(r -> assertThat(r.<String>getAs("corpus")).isEqualTo("mine"));
    assertThat(
            Corpora.withTextStatistics(
                    Corpora.read(
                        spark,
                        List.of(new Corpora.Source("mine", dir.toString(), "auto", "body")),
                        200,
                        25_000))
                .agg(org.apache.spark.sql.functions.min("sentences"))
                .first()
                .getInt(0))
        .isGreaterThanOrEqualTo(3);
    // the fingerprint follows the files
    String before =
        Corpora.fingerprint(spark, new Corpora.Source("mine", dir.toString(), "auto", "body"));
    Files.writeString(dir.resolve("notes/b.txt"), LONG.repeat(5));
    assertThat(
            Corpora.fingerprint(spark, new Corpora.Source("mine", dir.toString(), "auto", "body")))
        .isNotEqualTo(before);
  }

  @Test
  void brokenInputsNameTheProblemTheCauseAndTheFix() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path dir = SparkTestSession.newDir("broken");
    Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"fine\"}\n{\"text\": oops\n");
    assertThatThrownBy(
            () ->
                Corpora.read(
                    spark, List.of(new Corpora.Source("c", dir.toString(), "auto", "text")), 1, 9))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("1 malformed JSON line(s)")
        .hasMessageContaining("bad.jsonl")
        .hasMessageContaining("{\"text\": oops");
    assertThatThrownBy(
            () ->
                Corpora.read(
                    spark,
                    List.of(
                        new Corpora.Source(
                            "c",
                            TestPaths.samples("corpus/passages.jsonl").toString(),
                            "auto",
                            "body")),
                    1,
                    9))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("no column 'body'")
        .hasMessageContaining("text-field");
    assertThatThrownBy(
            () ->
                Corpora.read(
                    spark,
                    List.of(new Corpora.Source("c", "/no/such/corpus", "auto", "text")),
                    1,
                    9))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("/no/such/corpus does not exist");
  }
}
