package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Cache chunks written as Parquet by a task and committed by the driver read back as written. */
class CacheFilesTest {
  private static Row row(String id, int sample, String content, Timestamp at) {
    return RowFactory.create(
        id, sample, content, null, "ok", null, 1, "stop", 12L, null, 200L, "m", "openai", 0.5,
        "alias", "step", "run-1", at);
  }

  private static String emptyCache(SparkSession spark) {
    String path = SparkTestSession.lake(SparkTestSession.settings("")).path("qaforge", "responses");
    spark
        .createDataFrame(List.of(), Generation.CACHE_SCHEMA)
        .write()
        .format("delta")
        .mode("append")
        .save(path);
    return path;
  }

  private static List<CacheFiles.Written> write(String path, List<Row> rows) {
    Configuration conf = SparkTestSession.get().sessionState().newHadoopConf();
    return CacheFiles.write(rows.iterator(), Generation.CACHE_SCHEMA, path, conf);
  }

  @Test
  void committedChunksReadBackWithTheCacheSchemaNullsAndMicroseconds() {
    SparkSession spark = SparkTestSession.get();
    String path = emptyCache(spark);
    Timestamp at = Timestamp.valueOf("2026-11-23 17:30:01.123456");
    Row full =
        RowFactory.create(
            "r1",
            0,
            "an answer ü",
            "{\"a\":1}",
            "ok",
            null,
            2,
            "stop",
            12L,
            5L,
            200L,
            "m",
            "openai",
            0.25,
            "alias",
            "step",
            "run-1",
            at);
    Row sparse = RowFactory.create(new Object[Generation.CACHE_SCHEMA.size()]);
    List<CacheFiles.Written> files = write(path, List.of(full, sparse));
    assertThat(files).hasSize(1);
    assertThat(files.get(0).rows).isEqualTo(2);
    CacheFiles.commit(spark, path, files, "a test chunk");

    var table = spark.read().format("delta").load(path);
    assertThat(table.schema()).isEqualTo(Generation.CACHE_SCHEMA);
    List<Row> back = new ArrayList<>(table.collectAsList());
    back.sort((a, b) -> a.isNullAt(0) ? 1 : b.isNullAt(0) ? -1 : 0);
    assertThat(back).containsExactly(full, sparse);
    assertThat(back.get(0).getTimestamp(17).getNanos()).isEqualTo(123_456_000);
    // a blind append with its row count, like Spark's own writes
    Row last = DeltaTable.forPath(spark, path).history(1).first();
    assertThat(last.<String>getAs("operation")).isEqualTo("WRITE");
    assertThat(
            last.<scala.collection.Map<String, String>>getAs("operationParameters")
                .get("mode")
                .get())
        .contains("Append");
    // counts answered from the files' numRecords agree with the rows
    assertThat(spark.sql("select count(*) from delta.`" + path + "`").first().getLong(0))
        .isEqualTo(2);
  }

  @Test
  void filesOfLostAttemptsAreNeverPartOfTheTableAndConcurrentChunksBothLand() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String path = emptyCache(spark);
    Timestamp at = new Timestamp(System.currentTimeMillis());
    // an attempt that wrote its file and then lost (failed, or beaten by a speculative copy)
    write(path, List.of(row("lost", 0, "paid once, not committed", at)));
    List<CacheFiles.Written> a = write(path, List.of(row("a", 0, "x", at), row("a", 1, "y", at)));
    List<CacheFiles.Written> b = write(path, List.of(row("b", 0, "z", at)));
    CompletableFuture<Void> first =
        CompletableFuture.runAsync(() -> CacheFiles.commit(spark, path, a, "chunk a"));
    CompletableFuture<Void> second =
        CompletableFuture.runAsync(() -> CacheFiles.commit(spark, path, b, "chunk b"));
    first.get();
    second.get();
    List<String> ids =
        spark
            .read()
            .format("delta")
            .load(path)
            .select("request_id")
            .as(org.apache.spark.sql.Encoders.STRING())
            .collectAsList();
    assertThat(ids).containsExactlyInAnyOrder("a", "a", "b");
    // nothing to write: no file, no commit
    assertThat(write(path, List.of())).isEmpty();
  }

  @Test
  void checkpointsWaitForTheEndOfTheStepAndComeEveryTenCommits() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String path = emptyCache(spark);
    spark.sql("ALTER TABLE delta.`" + path + "` SET TBLPROPERTIES (" + CacheFiles.PROPERTIES + ")");
    java.nio.file.Path log = java.nio.file.Path.of(java.net.URI.create(path)).resolve("_delta_log");
    Timestamp at = new Timestamp(System.currentTimeMillis());
    for (int i = 0; i < 12; i++) {
      CacheFiles.commit(spark, path, write(path, List.of(row("c" + i, 0, "x", at))), "chunk");
    }
    // versions 0-13: Delta's own interval (10) would have checkpointed version 10 by now
    assertThat(checkpoints(log)).isEmpty();
    assertThat(CacheFiles.checkpointIfDue(spark, path)).isTrue();
    assertThat(checkpoints(log)).containsExactly("00000000000000000013.checkpoint.parquet");
    assertThat(CacheFiles.checkpointIfDue(spark, path)).isFalse();
    CacheFiles.commit(spark, path, write(path, List.of(row("d", 0, "x", at))), "chunk");
    assertThat(CacheFiles.checkpointIfDue(spark, path)).isFalse();
    assertThat(spark.read().format("delta").load(path).count()).isEqualTo(13);
  }

  private static List<String> checkpoints(java.nio.file.Path log) throws java.io.IOException {
    try (var files = java.nio.file.Files.list(log)) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.contains(".checkpoint") && !n.startsWith("."))
          .sorted()
          .toList();
    }
  }

  @Test
  void typesTheCacheDoesNotUseAreRefusedBeforeAnyFileIsWritten() {
    StructType odd = new StructType().add("flag", DataTypes.BooleanType);
    assertThatThrownBy(() -> CacheFiles.parquetSchema(odd))
        .hasMessageContaining("flag")
        .hasMessageContaining("boolean");
  }
}
