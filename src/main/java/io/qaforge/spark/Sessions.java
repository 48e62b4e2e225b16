package io.qaforge.spark;

import io.qaforge.QaforgeException;
import io.qaforge.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the one SparkSession of a qaforge process. The master comes from spark-submit (or defaults
 * to {@code local[*]} for direct launches); Delta is always enabled; the table catalog follows
 * {@code catalog.type}. S3 credentials are put into the Hadoop configuration at run time from the
 * environment, so they never appear in the Spark conf, the UI or event logs.
 */
public final class Sessions {
  private static final Logger LOG = LoggerFactory.getLogger(Sessions.class);
  static final String DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
  static final String DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog";

  /**
   * Columns whose values are almost all distinct (ids, answers, parsed answers, timestamps):
   * Parquet's dictionary encoding hashes and compares every value only to fall back to plain
   * encoding once the dictionary grows. Writing them plain cut the Parquet share of the write tasks
   * in half (async-profiler, bench generation at 400 req/s: 130 to 65 samples per 10 s). Other
   * columns (status, alias, model) keep their dictionaries. An explicit setting wins.
   */
  static final List<String> PLAIN_COLUMNS =
      List.of("request_id", "content", "parsed", "created_at");

  private Sessions() {}

  /** The catalog actually used by this process (after resolving auto and lock fallback). */
  public enum CatalogMode {
    EMBEDDED,
    SPARK,
    MEMORY
  }

  public static SparkSession start(Settings settings, String appName) {
    SparkConf conf = new SparkConf(); // picks up spark.* system properties set by spark-submit
    SparkSession.Builder builder = SparkSession.builder().appName(appName);
    String master = conf.get("spark.master", "local[*]");
    if (!conf.contains("spark.master")) {
      builder.master(master);
    }
    String extensions = conf.get("spark.sql.extensions", "");
    if (!extensions.contains(DELTA_EXTENSION)) {
      builder.config(
          "spark.sql.extensions",
          extensions.isEmpty() ? DELTA_EXTENSION : extensions + "," + DELTA_EXTENSION);
    }
    if (!conf.contains("spark.sql.catalog.spark_catalog")) {
      builder.config("spark.sql.catalog.spark_catalog", DELTA_CATALOG);
    }
    for (String column : PLAIN_COLUMNS) {
      String key = "spark.hadoop.parquet.enable.dictionary#" + column;
      if (!conf.contains(key)) {
        builder.config(key, "false");
      }
    }
    CatalogMode mode = catalogMode(settings, master, conf);
    Path dir = Paths.get(settings.string("catalog.dir")).toAbsolutePath().normalize();
    if (mode == CatalogMode.EMBEDDED) {
      createDirectories(dir);
      if (System.getProperty("derby.stream.error.file") == null) {
        // before Derby starts (also for the lock probe), or it writes derby.log into the working
        // dir
        System.setProperty("derby.stream.error.file", dir.resolve("derby.log").toString());
      }
      if (metastoreLocked(dir)) {
        LOG.warn(
            "The embedded catalog in {} is in use by another process (Derby allows one). Tables"
                + " are registered for this process only; they stay readable by path.",
            dir);
        mode = CatalogMode.MEMORY;
      } else {
        builder
            .enableHiveSupport()
            .config(
                "spark.hadoop.javax.jdo.option.ConnectionURL",
                "jdbc:derby:;databaseName=" + dir.resolve("metastore_db") + ";create=true")
            .config("spark.hadoop.hive.downloaded.resources.dir", dir.resolve("tmp").toString())
            .config("spark.hadoop.hive.exec.local.scratchdir", dir.resolve("tmp").toString())
            .config("spark.sql.warehouse.dir", dir.resolve("warehouse").toUri().toString());
      }
    }
    if (mode == CatalogMode.MEMORY && !conf.contains("spark.sql.warehouse.dir")) {
      // keep Spark from creating ./spark-warehouse in the working directory
      builder.config("spark.sql.warehouse.dir", dir.resolve("warehouse").toUri().toString());
    }
    SparkSession spark = builder.getOrCreate();
    S3.configure(spark.sparkContext().hadoopConfiguration(), settings);
    LOG.info("Spark {} master={} catalog={}", spark.version(), master, mode);
    return spark;
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new QaforgeException(
          "Cannot create the catalog folder " + dir,
          e.toString(),
          "set catalog.dir to a writable local folder");
    }
  }

  static CatalogMode catalogMode(Settings settings, String master, SparkConf conf) {
    String type = settings.oneOf("catalog.type", List.of("auto", "embedded", "spark", "memory"));
    switch (type) {
      case "embedded":
        return CatalogMode.EMBEDDED;
      case "spark":
        return CatalogMode.SPARK;
      case "memory":
        return CatalogMode.MEMORY;
      default:
        boolean local = master.equals("local") || master.startsWith("local[");
        boolean userCatalog = conf.contains("spark.sql.catalogImplementation");
        return local && !userCatalog ? CatalogMode.EMBEDDED : CatalogMode.SPARK;
    }
  }

  /**
   * True when another live process holds the Derby database (fails fast instead of Hive's 30 s).
   */
  static boolean metastoreLocked(Path dir) {
    Path db = dir.resolve("metastore_db");
    if (!Files.isDirectory(db)) {
      return false;
    }
    try (Connection c = DriverManager.getConnection("jdbc:derby:" + db)) {
      return false;
    } catch (SQLException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof SQLException && "XSDB6".equals(((SQLException) t).getSQLState())) {
          return true;
        }
      }
      for (SQLException n = e.getNextException(); n != null; n = n.getNextException()) {
        if ("XSDB6".equals(n.getSQLState())) {
          return true;
        }
      }
      throw new QaforgeException(
          "Cannot open the embedded catalog " + db,
          e.getMessage(),
          "delete "
              + db
              + " to start an empty catalog (tables stay on disk and are re-registered),"
              + " or set catalog.type=memory");
    }
  }
}
