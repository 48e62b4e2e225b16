package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The cost ledger, {@code qaforge.ledger}: one row per (run, step, alias) with rows, cache hits,
 * calls, outcomes by status, 429s, tokens, cost and wall time. Spend counts only what this run paid
 * for (cache hits cost nothing), failed but billed attempts included.
 */
public final class Ledger {
  public static final String TABLE = "ledger";

  public static final StructType SCHEMA =
      new StructType()
          .add("run_id", DataTypes.StringType)
          .add("step", DataTypes.StringType)
          .add("alias", DataTypes.StringType)
          .add("backend", DataTypes.StringType)
          .add("rows", DataTypes.LongType)
          .add("cache_hits", DataTypes.LongType)
          .add("called", DataTypes.LongType)
          .add("ok", DataTypes.LongType)
          .add("failed", DataTypes.LongType)
          .add("invalid_output", DataTypes.LongType)
          .add("truncated", DataTypes.LongType)
          .add("refused", DataTypes.LongType)
          .add("skipped_budget", DataTypes.LongType)
          .add("attempts", DataTypes.LongType)
          .add("rate_limited", DataTypes.LongType)
          .add("prompt_tokens", DataTypes.LongType)
          .add("completion_tokens", DataTypes.LongType)
          .add("cost_usd", DataTypes.DoubleType)
          .add("wall_ms", DataTypes.LongType)
          .add("started_at", DataTypes.TimestampType)
          .add("finished_at", DataTypes.TimestampType);

  /** One ledger row, also printed in the run summary. */
  public record Entry(
      String runId,
      String step,
      String alias,
      String backend,
      long rows,
      long cacheHits,
      long called,
      long ok,
      long failed,
      long invalidOutput,
      long truncated,
      long refused,
      long skippedBudget,
      long attempts,
      long rateLimited,
      long promptTokens,
      long completionTokens,
      double costUsd,
      long wallMs,
      Instant startedAt,
      Instant finishedAt) {

    Row toRow() {
      return RowFactory.create(
          runId,
          step,
          alias,
          backend,
          rows,
          cacheHits,
          called,
          ok,
          failed,
          invalidOutput,
          truncated,
          refused,
          skippedBudget,
          attempts,
          rateLimited,
          promptTokens,
          completionTokens,
          costUsd,
          wallMs,
          Timestamp.from(startedAt),
          Timestamp.from(finishedAt));
    }
  }

  private Ledger() {}

  /** Aggregates the generated rows of one step (the output of {@link Generation#generate}). */
  static Entry measure(
      Dataset<Row> generated,
      String runId,
      String step,
      String alias,
      String backend,
      long rateLimited,
      Instant started) {
    Column fresh = col("cache_hit").unary_$bang();
    Row a =
        generated
            .agg(
                count(lit(1)),
                sum(when(col("cache_hit"), 1).otherwise(0)),
                sum(when(fresh, 1).otherwise(0)),
                status(fresh, "ok"),
                status(fresh, "failed"),
                status(fresh, "invalid_output"),
                status(fresh, "truncated"),
                status(fresh, "refused"),
                status(fresh, "skipped_budget"),
                sum(when(fresh, col("attempts")).otherwise(0)),
                sum(when(fresh, col("prompt_tokens")).otherwise(0)),
                sum(when(fresh, col("completion_tokens")).otherwise(0)),
                sum(when(fresh, col("cost_usd")).otherwise(0.0)))
            .first();
    Instant now = Instant.now();
    return new Entry(
        runId,
        step,
        alias,
        backend,
        a.getLong(0),
        l(a, 1),
        l(a, 2),
        l(a, 3),
        l(a, 4),
        l(a, 5),
        l(a, 6),
        l(a, 7),
        l(a, 8),
        l(a, 9),
        rateLimited,
        l(a, 10),
        l(a, 11),
        a.isNullAt(12) ? 0.0 : a.getDouble(12),
        Duration.between(started, now).toMillis(),
        started,
        now);
  }

  private static Column status(Column fresh, String status) {
    return sum(when(fresh.and(col("status").equalTo(status)), 1).otherwise(0));
  }

  private static long l(Row r, int i) {
    return r.isNullAt(i) ? 0 : r.getLong(i);
  }

  /** Appends entries to {@code qaforge.ledger}. */
  static void append(Lake lake, List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    Dataset<Row> rows =
        lake.spark().createDataFrame(entries.stream().map(Entry::toRow).toList(), SCHEMA);
    rows.write().format("delta").mode("append").save(lake.path(Generation.DATASET, TABLE));
    lake.register(Generation.DATASET, TABLE);
  }
}
