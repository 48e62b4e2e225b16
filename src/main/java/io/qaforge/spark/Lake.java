package io.qaforge.spark;

import io.delta.tables.DeltaTable;
import io.qaforge.QaforgeException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * The step tables: every step writes one Delta table at {@code <output.root>/<dataset>/<step>} and
 * registers it as {@code <dataset>.<step>} in the session catalog. A table records the fingerprint
 * of its inputs and settings in its commit metadata, so a re-run skips steps that are up to date.
 */
public final class Lake {
  private static final Logger LOG = LoggerFactory.getLogger(Lake.class);
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");

  private final SparkSession spark;
  private final Path root;
  private final boolean catalog;

  public Lake(SparkSession spark, String root) {
    this(spark, root, true);
  }

  /**
   * A lake whose tables are not registered in the catalog (a scratch root: `qaforge plan` runs the
   * steps in dry-run there without re-pointing the real table names).
   */
  public static Lake unregistered(SparkSession spark, String root) {
    return new Lake(spark, root, false);
  }

  private Lake(SparkSession spark, String root, boolean catalog) {
    this.spark = spark;
    this.catalog = catalog;
    try {
      Path p = new Path(root);
      FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      this.root = fs.makeQualified(p);
    } catch (IOException | IllegalArgumentException e) {
      throw new QaforgeException(
          "Cannot use output.root " + root,
          e.toString(),
          "set output.root to a local folder or an s3a://bucket/prefix you can write");
    }
  }

  public SparkSession spark() {
    return spark;
  }

  public String root() {
    return root.toString();
  }

  public String path(String dataset, String step) {
    checkName(dataset);
    checkName(step);
    return new Path(new Path(root, dataset), step).toString();
  }

  private static void checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("Invalid table name part: " + name);
    }
  }

  public boolean exists(String dataset, String step) {
    return DeltaTable.isDeltaTable(spark, path(dataset, step));
  }

  public Dataset<Row> read(String dataset, String step) {
    if (!exists(dataset, step)) {
      throw new QaforgeException(
          "Cannot read " + dataset + "." + step,
          "no Delta table at " + path(dataset, step),
          "run the step that writes it first");
    }
    return spark.read().format("delta").load(path(dataset, step));
  }

  /** The input fingerprint stored with the latest version, if any. */
  public Optional<String> fingerprint(String dataset, String step) {
    if (!exists(dataset, step)) {
      return Optional.empty();
    }
    Row last = DeltaTable.forPath(spark, path(dataset, step)).history(1).first();
    int i = last.fieldIndex("userMetadata");
    return last.isNullAt(i) ? Optional.empty() : Optional.of(last.getString(i));
  }

  /** Overwrites the step table atomically (one Delta commit) and registers its name. */
  public TableInfo write(String dataset, String step, Dataset<Row> rows, String fingerprint) {
    String path = path(dataset, step);
    rows.write()
        .format("delta")
        .mode("overwrite")
        .option("overwriteSchema", "true")
        .option("userMetadata", fingerprint)
        .save(path);
    register(dataset, step);
    return describe(dataset, step);
  }

  /**
   * Replaces one slice of a step table (the rows where each {@code slice} column equals its value,
   * e.g. one task and size) in one Delta commit, leaving the other slices alone; new columns are
   * merged into the schema. The fingerprint of each slice is kept in the commit metadata.
   */
  public TableInfo writeSlice(
      String dataset, String step, Dataset<Row> rows, Map<String, String> slice, String fp) {
    String path = path(dataset, step);
    Map<String, String> prints = slicePrints(dataset, step);
    prints.put(sliceKey(slice), fp);
    String metadata;
    try {
      metadata = SLICE_JSON.writeValueAsString(Map.of("slices", prints));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    Dataset<Row> tagged = rows;
    for (var e : slice.entrySet()) {
      tagged = tagged.withColumn(e.getKey(), org.apache.spark.sql.functions.lit(e.getValue()));
    }
    var writer =
        tagged
            .write()
            .format("delta")
            .option("userMetadata", metadata)
            .option("mergeSchema", "true");
    if (exists(dataset, step)) {
      String where =
          slice.entrySet().stream()
              .map(e -> "`" + e.getKey() + "` = '" + sqlString(e.getValue()) + "'")
              .collect(java.util.stream.Collectors.joining(" AND "));
      writer.mode("overwrite").option("replaceWhere", where).save(path);
    } else {
      writer.mode("overwrite").save(path);
    }
    register(dataset, step);
    return describe(dataset, step);
  }

  /** The fingerprint stored for one slice of a step table, if any. */
  public Optional<String> fingerprint(String dataset, String step, Map<String, String> slice) {
    return Optional.ofNullable(slicePrints(dataset, step).get(sliceKey(slice)));
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper SLICE_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private Map<String, String> slicePrints(String dataset, String step) {
    Map<String, String> out = new java.util.TreeMap<>();
    Optional<String> meta = fingerprint(dataset, step);
    if (meta.isPresent() && meta.get().startsWith("{")) {
      try {
        var slices = SLICE_JSON.readTree(meta.get()).path("slices");
        slices.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        LOG.warn(
            "{}.{}: unreadable slice fingerprints, rebuilding: {}", dataset, step, e.toString());
      }
    }
    return out;
  }

  private static String sliceKey(Map<String, String> slice) {
    return new java.util.TreeMap<>(slice).toString();
  }

  /** Registers {@code dataset.step} for its location (re-pointing a stale name). */
  public void register(String dataset, String step) {
    if (!catalog) {
      return;
    }
    String location = path(dataset, step);
    spark.sql(
        "CREATE DATABASE IF NOT EXISTS `"
            + dataset
            + "` LOCATION '"
            + sqlString(new Path(root, dataset).toString())
            + "'");
    var catalog = spark.sessionState().catalog();
    TableIdentifier id = new TableIdentifier(step, Option.apply(dataset));
    if (catalog.tableExists(id)) {
      URI current;
      try {
        current = catalog.getTableMetadata(id).location();
      } catch (org.apache.spark.sql.catalyst.analysis.NoSuchDatabaseException
          | org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
        current = null;
      }
      if (current != null && new Path(current).equals(new Path(location))) {
        return;
      }
      LOG.warn("{}.{} now points at {} (was {})", dataset, step, location, current);
      spark.sql("DROP TABLE `" + dataset + "`.`" + step + "`"); // external: data stays
    }
    spark.sql(
        "CREATE TABLE IF NOT EXISTS `"
            + dataset
            + "`.`"
            + step
            + "` USING delta LOCATION '"
            + sqlString(location)
            + "'");
  }

  /** Every Delta table under the output root, as (dataset, step). */
  public List<String[]> scan() {
    List<String[]> found = new ArrayList<>();
    try {
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(root)) {
        return found;
      }
      for (FileStatus ds : fs.listStatus(root)) {
        String dataset = ds.getPath().getName();
        if (!ds.isDirectory() || !NAME.matcher(dataset).matches()) {
          continue;
        }
        for (FileStatus st : fs.listStatus(ds.getPath())) {
          String step = st.getPath().getName();
          if (st.isDirectory()
              && NAME.matcher(step).matches()
              && fs.exists(new Path(st.getPath(), "_delta_log"))) {
            found.add(new String[] {dataset, step});
          }
        }
      }
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot list the tables under " + root,
          e.toString(),
          "check that output.root exists and is readable (and the s3.* settings for s3a://)");
    }
    found.sort((a, b) -> (a[0] + "." + a[1]).compareTo(b[0] + "." + b[1]));
    return found;
  }

  /** Registers every table under the output root (cheap when the names already exist). */
  public List<String[]> registerAll() {
    List<String[]> tables = scan();
    for (String[] t : tables) {
      register(t[0], t[1]);
    }
    return tables;
  }

  /** Row count, version and last write of one table. */
  public TableInfo describe(String dataset, String step) {
    String path = path(dataset, step);
    Row last = DeltaTable.forPath(spark, path).history(1).first();
    OptionalLong written = rowsOfFullOverwrite(last);
    long rows =
        written.isPresent() ? written.getAsLong() : spark.read().format("delta").load(path).count();
    return new TableInfo(
        dataset + "." + step,
        path,
        rows,
        last.getLong(last.fieldIndex("version")),
        last.getTimestamp(last.fieldIndex("timestamp")).toInstant().toString(),
        last.getString(last.fieldIndex("operation")));
  }

  /**
   * The row count of a table whose latest commit replaced all of it (a plain, unpartitioned
   * overwrite, as {@link #write} makes): the commit's own numOutputRows, so describing a step does
   * not read the table again. Empty for any other commit (appends, replaceWhere slices, merges,
   * metrics turned off): those are counted.
   */
  static OptionalLong rowsOfFullOverwrite(Row commit) {
    if (!"WRITE".equals(commit.getAs("operation"))) {
      return OptionalLong.empty();
    }
    Map<String, String> params = stringMap(commit, "operationParameters");
    Map<String, String> metrics = stringMap(commit, "operationMetrics");
    boolean whole =
        "Overwrite".equals(params.get("mode"))
            && !params.containsKey("predicate")
            && "[]".equals(params.get("partitionBy"));
    String n = metrics.get("numOutputRows");
    if (!whole || n == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(n));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static Map<String, String> stringMap(Row r, String field) {
    int i = r.fieldIndex(field);
    return r.isNullAt(i) ? Map.of() : r.<String, String>getJavaMap(i);
  }

  private static String sqlString(String s) {
    return s.replace("\\", "\\\\").replace("'", "\\'");
  }

  /** What {@code qaforge tables} prints for one table. */
  public record TableInfo(
      String name, String path, long rows, long version, String lastWrite, String operation) {}
}
