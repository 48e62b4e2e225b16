package io.qaforge.spark;

import io.qaforge.QaforgeException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.DeltaOperations;
import org.apache.spark.sql.delta.LastCheckpointInfo;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import scala.collection.JavaConverters;

/**
 * Appends rows to a Delta table without a Spark SQL job: a task writes its rows as one Parquet file
 * in the table's folder and returns a {@link Written}; the driver commits the files of a chunk as
 * one blind append. A chunk of the response cache costs no query planning, code generation or
 * write-job set-up, only the Delta commit. A task attempt that fails or loses to a speculative copy
 * leaves an unreferenced file behind (never part of the table; VACUUM removes it): only the results
 * of the attempts Spark keeps are committed, so no answer is committed twice.
 *
 * <p>Columns of type string, int, bigint, double and timestamp (the cache's), nullable, with the
 * Parquet types Spark reads back as these (timestamps as INT64 microseconds, UTC-adjusted, as Spark
 * writes them with {@code spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS}), the footer
 * metadata Spark writes, and the per-column dictionary settings of the Hadoop configuration.
 */
final class CacheFiles {
  /**
   * Table properties for a table appended to by {@link #commit}: Delta's own checkpoint every 10
   * commits would run inside a chunk commit, while calls are going out (a Spark job planned and
   * compiled from cold code: about 10 s of CPU in a calling phase, measured with bench generation
   * --timeline at 100,000 requests); {@link #checkpointIfDue} writes it after the step instead.
   */
  static final String PROPERTIES = "'delta.checkpointInterval' = '1000'";

  /** Commits after which {@link #checkpointIfDue} writes a checkpoint (Delta's default). */
  static final int CHECKPOINT_EVERY = 10;

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CacheFiles.class);

  private CacheFiles() {}

  /** A Parquet file written by a task: its name in the table folder, bytes and rows. */
  static final class Written implements Serializable {
    private static final long serialVersionUID = 1L;
    String name;
    long bytes;
    long rows;
    long modifiedAt;

    Written() {}

    Written(String name, long bytes, long rows, long modifiedAt) {
      this.name = name;
      this.bytes = bytes;
      this.rows = rows;
      this.modifiedAt = modifiedAt;
    }
  }

  /** The Parquet schema Spark would write for {@code schema}. */
  static MessageType parquetSchema(StructType schema) {
    Types.MessageTypeBuilder b = Types.buildMessage();
    for (StructField f : schema.fields()) {
      switch (kind(f)) {
        case 's' ->
            b.optional(PrimitiveTypeName.BINARY)
                .as(LogicalTypeAnnotation.stringType())
                .named(f.name());
        case 'i' -> b.optional(PrimitiveTypeName.INT32).named(f.name());
        case 'l' -> b.optional(PrimitiveTypeName.INT64).named(f.name());
        case 'd' -> b.optional(PrimitiveTypeName.DOUBLE).named(f.name());
        default ->
            b.optional(PrimitiveTypeName.INT64)
                .as(
                    LogicalTypeAnnotation.timestampType(
                        true, LogicalTypeAnnotation.TimeUnit.MICROS))
                .named(f.name());
      }
    }
    return b.named("spark_schema");
  }

  /**
   * Writes {@code rows} (of {@code schema}) as one Parquet file in {@code table}; an empty iterator
   * writes nothing and returns an empty list.
   */
  static List<Written> write(
      Iterator<Row> rows, StructType schema, String table, Configuration conf) {
    if (!rows.hasNext()) {
      return List.of();
    }
    MessageType type = parquetSchema(schema);
    SimpleGroupFactory groups = new SimpleGroupFactory(type);
    String name = "part-00000-" + UUID.randomUUID() + "-c000.snappy.parquet";
    Path path = new Path(table, name);
    long n = 0;
    char[] types = new char[schema.size()];
    for (int i = 0; i < types.length; i++) {
      types[i] = kind(schema.fields()[i]);
    }
    ExampleParquetWriter.Builder builder = ExampleParquetWriter.builder(path);
    // per-column dictionary settings as Spark's writer reads them (Sessions.PLAIN_COLUMNS)
    boolean dictionary = conf.getBoolean("parquet.enable.dictionary", true);
    for (StructField f : schema.fields()) {
      builder.withDictionaryEncoding(
          f.name(), conf.getBoolean("parquet.enable.dictionary#" + f.name(), dictionary));
    }
    try {
      try (ParquetWriter<Group> w =
          builder
              .withType(type)
              .withConf(conf)
              .withCompressionCodec(CompressionCodecName.SNAPPY)
              .withWriteMode(ParquetFileWriter.Mode.CREATE)
              .withExtraMetaData(
                  Map.of(
                      "org.apache.spark.version",
                      org.apache.spark.package$.MODULE$.SPARK_VERSION_SHORT(),
                      "org.apache.spark.sql.parquet.row.metadata",
                      schema.json()))
              .build()) {
        while (rows.hasNext()) {
          w.write(group(groups.newGroup(), rows.next(), types));
          n++;
        }
      }
      long bytes = path.getFileSystem(conf).getFileStatus(path).getLen();
      return List.of(new Written(name, bytes, n, System.currentTimeMillis()));
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + path + ": " + e.getMessage(), e);
    }
  }

  /** The column's type as one letter: string, int, long, double or timestamp; else refused. */
  private static char kind(StructField f) {
    DataType t = f.dataType();
    if (t.equals(DataTypes.StringType)) {
      return 's';
    } else if (t.equals(DataTypes.IntegerType)) {
      return 'i';
    } else if (t.equals(DataTypes.LongType)) {
      return 'l';
    } else if (t.equals(DataTypes.DoubleType)) {
      return 'd';
    } else if (t.equals(DataTypes.TimestampType)) {
      return 't';
    }
    throw new IllegalArgumentException(
        "CacheFiles cannot write column " + f.name() + " of type " + t.simpleString());
  }

  private static Group group(Group g, Row r, char[] types) {
    for (int i = 0; i < types.length; i++) {
      if (r.isNullAt(i)) {
        continue;
      }
      switch (types[i]) {
        case 's' -> g.add(i, r.getString(i));
        case 'i' -> g.add(i, r.getInt(i));
        case 'l' -> g.add(i, r.getLong(i));
        case 'd' -> g.add(i, r.getDouble(i));
        default -> g.add(i, micros(r.getTimestamp(i)));
      }
    }
    return g;
  }

  static long micros(Timestamp t) {
    return Math.addExact(
        Math.multiplyExact(Math.floorDiv(t.getTime(), 1000L), 1_000_000L), t.getNanos() / 1000L);
  }

  /**
   * Writes a Delta checkpoint of {@code table} when {@link #CHECKPOINT_EVERY} or more commits came
   * after the last one. A checkpoint only speeds up reading the log, so a failure is logged, not
   * thrown: the committed answers are safe either way.
   *
   * @return whether a checkpoint was written
   */
  static boolean checkpointIfDue(SparkSession spark, String table) {
    try {
      DeltaLog log = DeltaLog.forTable(spark, table);
      long version = log.update(false, Option.empty(), Option.empty()).version();
      Option<LastCheckpointInfo> last = log.readLastCheckpointFile();
      long since = version - (last.isDefined() ? last.get().version() : -1);
      if (since < CHECKPOINT_EVERY) {
        return false;
      }
      log.checkpoint();
      return true;
    } catch (RuntimeException e) {
      LOG.warn(
          "Could not write a Delta checkpoint of {} ({}): reading it stays correct but replays"
              + " more of its log; the next step tries again",
          table,
          e.toString());
      return false;
    }
  }

  /**
   * Commits the files as one blind append to the Delta table at {@code table} (which must exist).
   * Concurrent appends to the same table do not conflict.
   */
  static void commit(SparkSession spark, String table, List<Written> files, String what) {
    if (files.isEmpty()) {
      return;
    }
    List<Action> adds = new ArrayList<>(files.size());
    for (Written f : files) {
      adds.add(
          new AddFile(
              f.name,
              scala.collection.immutable.Map$.MODULE$.empty(),
              f.bytes,
              f.modifiedAt,
              true,
              "{\"numRecords\":" + f.rows + "}",
              null,
              null,
              Option.empty(),
              Option.empty(),
              Option.empty()));
    }
    try {
      DeltaLog.forTable(spark, table)
          .startTransaction()
          .commit(
              JavaConverters.asScalaBuffer(adds).toSeq(),
              new DeltaOperations.Write(
                  SaveMode.Append, Option.empty(), Option.empty(), Option.empty()));
    } catch (RuntimeException e) {
      throw new QaforgeException(
          "Cannot commit " + what + " to " + table,
          String.valueOf(e.getMessage()),
          "check that the folder is writable and not changed by another program; the answers of"
              + " this chunk are not saved and will be called again by the next run",
          e);
    }
  }
}
