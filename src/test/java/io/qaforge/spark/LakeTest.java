package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.delta.tables.DeltaTable;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Row counts of {@link Lake#describe}: from the commit of a full overwrite, else counted. */
class LakeTest {
  private static Dataset<Row> ids(SparkSession spark, long n, String kind) {
    return spark.range(n).toDF("id").withColumn("kind", org.apache.spark.sql.functions.lit(kind));
  }

  @Test
  void describeCountsRowsOfOverwritesSlicesAndAppends() {
    SparkSession spark = SparkTestSession.get();
    Lake lake = SparkTestSession.lake(SparkTestSession.settings(""));
    String path = lake.path("laketest", "rows");

    // a full overwrite: the count comes from the commit itself
    assertThat(lake.write("laketest", "rows", ids(spark, 7, "a"), "fp1").rows()).isEqualTo(7);
    Row first = DeltaTable.forPath(spark, path).history(1).first();
    assertThat(Lake.rowsOfFullOverwrite(first)).hasValue(7);
    assertThat(lake.write("laketest", "rows", ids(spark, 3, "a"), "fp2").rows()).isEqualTo(3);
    assertThat(lake.describe("laketest", "rows").rows()).isEqualTo(3);

    // an empty overwrite
    assertThat(lake.write("laketest", "rows", ids(spark, 0, "a"), "fp3").rows()).isZero();

    // an append (not a full overwrite): counted
    ids(spark, 4, "b").write().format("delta").mode("append").save(path);
    Row append = DeltaTable.forPath(spark, path).history(1).first();
    assertThat(Lake.rowsOfFullOverwrite(append)).isEmpty();
    assertThat(lake.describe("laketest", "rows").rows()).isEqualTo(4);

    // a replaceWhere slice keeps the other rows: counted, not the slice's numOutputRows
    String sliced = lake.path("laketest", "slices");
    Lake.TableInfo one =
        lake.writeSlice(
            "laketest", "slices", ids(spark, 5, "x").drop("kind"), Map.of("kind", "a"), "s1");
    assertThat(one.rows()).isEqualTo(5);
    Lake.TableInfo two =
        lake.writeSlice(
            "laketest", "slices", ids(spark, 2, "x").drop("kind"), Map.of("kind", "b"), "s2");
    assertThat(Lake.rowsOfFullOverwrite(DeltaTable.forPath(spark, sliced).history(1).first()))
        .isEmpty();
    assertThat(two.rows()).isEqualTo(7);
    assertThat(lake.read("laketest", "slices").filter(col("kind").equalTo("a")).count())
        .isEqualTo(5);
  }
}
