package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sha2;

import io.qaforge.craft.VectorBytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Retrieval benchmark (not a test): N synthetic 384-d unit vectors, generated inside the partitions
 * from a fixed seed, written as a Delta table like {@code craft.embeddings} ({@code doc_id} =
 * SHA-256 hex, {@code vec} in the chosen storage format), then timed: a plain read of the table,
 * {@link Retrieval#mixed} from the table (twice: the first includes JIT warm-up), and optionally
 * from a cached copy. Writing is reported separately.
 */
public final class RetrievalBench {
  public static final int DIM = 384;
  private static final long SEED = 20240902L;

  /** Storage format of the vector column. */
  public enum Format {
    /** {@code array<float>} */
    ARRAY,
    /** {@code binary}, little-endian float32 */
    FLOAT32,
    /** {@code binary}, IEEE float16 (the seed's HDF5 dtype) */
    FLOAT16
  }

  private RetrievalBench() {}

  /**
   * The recommended storage (binary float16 in Delta: the seed's dtype, half the bytes of float32,
   * the fastest to read and far faster to write than {@code array<float>} in this benchmark), no
   * cache, in a temporary folder deleted afterwards.
   */
  public static Map<String, Object> run(SparkSession spark, long corpusSize, int fewShots, int k) {
    return run(spark, corpusSize, fewShots, k, Format.FLOAT16);
  }

  /** One storage format, no cache, in a temporary folder deleted afterwards. */
  public static Map<String, Object> run(
      SparkSession spark, long corpusSize, int fewShots, int k, Format format) {
    Path dir = tempDir();
    try {
      return run(spark, corpusSize, fewShots, k, format, false, dir);
    } finally {
      delete(dir);
    }
  }

  /**
   * @param dir a scratch folder; the table is written to {@code dir/embeddings-<format>-<n>} and
   *     deleted afterwards
   * @param cached also time retrieval from a {@code MEMORY_AND_DISK} copy of the table
   */
  public static Map<String, Object> run(
      SparkSession spark,
      long corpusSize,
      int fewShots,
      int k,
      Format format,
      boolean cached,
      Path dir) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("corpus", corpusSize);
    out.put("few_shots", fewShots);
    out.put("k", k);
    out.put("format", format.name().toLowerCase(Locale.ROOT));
    out.put("master", spark.sparkContext().master());
    out.put("load_average_before", loadAverage());
    Path table = dir.resolve("embeddings-" + out.get("format") + "-" + corpusSize);
    int partitions = (int) Math.max(2, (corpusSize + 99_999) / 100_000);
    long t0 = System.nanoTime();
    vectors(spark, corpusSize, partitions, format)
        .write()
        .format("delta")
        .mode("overwrite")
        .save(table.toString());
    out.put("write_s", seconds(t0));
    out.put("table_bytes", bytes(table));
    try {
      Dataset<Row> embeddings = spark.read().format("delta").load(table.toString());
      out.put("read_partitions", embeddings.rdd().getNumPartitions());
      t0 = System.nanoTime();
      embeddings.write().format("noop").mode("overwrite").save();
      out.put("read_only_s", seconds(t0));
      float[][] queries = fewShots(fewShots);
      for (int run = 1; run <= 2; run++) {
        t0 = System.nanoTime();
        long cpu0 = cpuNanos();
        long rows = Retrieval.mixed(embeddings, "doc_id", "vec", queries, k, 0.05).count();
        out.put("retrieval_s_run" + run, seconds(t0));
        out.put("retrieval_cpu_s_run" + run, Math.round((cpuNanos() - cpu0) / 1e7) / 100.0);
        out.put("selected_rows", rows);
      }
      if (cached) {
        Dataset<Row> copy = embeddings.persist(StorageLevel.MEMORY_AND_DISK());
        t0 = System.nanoTime();
        copy.count();
        out.put("cache_fill_s", seconds(t0));
        t0 = System.nanoTime();
        Retrieval.mixed(copy, "doc_id", "vec", queries, k, 0.05).count();
        out.put("retrieval_cached_s", seconds(t0));
        copy.unpersist(true);
      }
      double best =
          Math.min((double) out.get("retrieval_s_run1"), (double) out.get("retrieval_s_run2"));
      out.put("docs_per_s", Math.round(corpusSize / best));
      out.put("load_average_after", loadAverage());
    } finally {
      delete(table);
    }
    return out;
  }

  /** F deterministic unit vectors (few-shot stand-ins). */
  public static float[][] fewShots(int n) {
    float[][] q = new float[n][];
    for (int i = 0; i < n; i++) {
      q[i] = unitVector(new SplittableRandom(SEED - 1 - i));
    }
    return q;
  }

  /** (doc_id, vec) for ids 0..n-1, generated in the partitions. */
  static Dataset<Row> vectors(SparkSession spark, long n, int partitions, Format format) {
    StructType schema =
        new StructType()
            .add("id", DataTypes.LongType, false)
            .add(
                "vec",
                format == Format.ARRAY
                    ? DataTypes.createArrayType(DataTypes.FloatType, false)
                    : DataTypes.BinaryType,
                false);
    MapFunction<Long, Row> gen =
        id -> {
          float[] v = unitVector(new SplittableRandom(SEED ^ (id * 0x9E3779B97F4A7C15L)));
          Object stored =
              format == Format.ARRAY
                  ? v
                  : format == Format.FLOAT32 ? VectorBytes.float32(v) : VectorBytes.float16(v);
          return RowFactory.create(id, stored);
        };
    return spark
        .range(0, n, 1, partitions)
        .as(Encoders.LONG())
        .map(gen, Encoders.row(schema))
        .select(sha2(col("id").cast("string"), 256).as("doc_id"), col("vec"));
  }

  private static float[] unitVector(SplittableRandom rnd) {
    float[] v = new float[DIM];
    double norm = 0;
    for (int j = 0; j < DIM; j++) {
      double x = rnd.nextDouble(-1, 1);
      v[j] = (float) x;
      norm += x * x;
    }
    double inv = 1 / Math.sqrt(norm);
    for (int j = 0; j < DIM; j++) {
      v[j] = (float) (v[j] * inv);
    }
    return v;
  }

  /** The 1-minute load average (other processes share the cores: read the timings with it). */
  private static double loadAverage() {
    return Math.round(
            java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()
                * 100)
        / 100.0;
  }

  /** CPU time of this JVM, all threads (in local mode: driver and executors). */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double seconds(long since) {
    return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("qaforge-retrieval-bench");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long bytes(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
