package io.qaforge.spark;

import io.qaforge.config.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of the test JVM (local[2], fast settings, an embedded catalog in a temp
 * folder), started through the production {@link Sessions#start}. Spark's shutdown hook stops it.
 */
public final class SparkTestSession {
  private static SparkSession spark;
  private static Path base;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (spark == null) {
      try {
        base = Files.createTempDirectory("qaforge-tests");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Map.of(
              "spark.master", "local[2]",
              "spark.sql.shuffle.partitions", "2",
              "spark.default.parallelism", "2",
              "spark.ui.enabled", "false",
              "spark.ui.showConsoleProgress", "false",
              "spark.driver.host", "127.0.0.1",
              "spark.driver.bindAddress", "127.0.0.1",
              "spark.databricks.delta.snapshotPartitions", "2",
              "spark.sql.sources.parallelPartitionDiscovery.parallelism", "2",
              "spark.sql.adaptive.enabled", "false")
          .forEach(System::setProperty);
      // as conf/spark-defaults.conf: broadcasts and shuffles go through Kryo
      System.setProperty("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
      spark = Sessions.start(settings(""), "qaforge-tests");
    }
    return spark;
  }

  /** Settings with a fresh output root and the shared test catalog, plus extra HOCON lines. */
  public static Settings settings(String hocon) {
    Path root = newDir("lake");
    return Settings.fromString(
        "output.root = \""
            + root
            + "\"\ncatalog.dir = \""
            + base.resolve("catalog")
            + "\"\ningest.inputs = [{ path = \""
            + io.qaforge.TestPaths.samples("triviaqa/json")
            + "\" }]\n"
            + hocon,
        Map.of());
  }

  /** A new empty folder below the test base folder. */
  public static synchronized Path newDir(String prefix) {
    try {
      if (base == null) {
        base = Files.createTempDirectory("qaforge-tests");
      }
      return Files.createTempDirectory(base, prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Lake lake(Settings settings) {
    return new Lake(get(), settings.string("output.root"));
  }
}
