package io.qaforge.spark;

import io.qaforge.craft.SentenceEmbedder;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Embedding throughput (sentences/s) of the Spark job ({@link Embeddings#embed}, materialised with
 * the {@code noop} sink) against raw model calls on the driver, with the same layout: {@code
 * threads} Spark partitions in {@code threads} task slots vs {@code threads} Java threads, each
 * embedding one contiguous slice of the sentences in the same windows and batches, one ONNX
 * intra-op thread per task or thread, the same model instance. Rounds alternate raw, job, raw, job
 * after a warm-up; the best round of each counts (other processes on the machine only ever slow a
 * round down). Sentences are synthetic, ~30 words each, from a fixed seed.
 *
 * <p>Run it in a session whose master has {@code threads} cores ({@code local[threads]}); the
 * result carries a {@code warning} otherwise.
 */
public final class EmbeddingBench {
  public static final String MODEL = "all-minilm-l6-v2";
  private static final int ROUNDS = 3;
  private static final String[] WORDS =
      ("the a patient protein cell river recipe oven minutes salt market price doctor treatment "
              + "study shows that with without under after before during small large quickly slowly "
              + "water heat city government announced new policy children school learned about history "
              + "energy light plants grow near forest animals migrate winter summer data model results "
              + "suggest increase decrease risk blood pressure heart enzyme reaction temperature mixture "
              + "stir bake golden brown served fresh bread butter garlic onion team won match season "
              + "players coach said reporters on monday because although while people often believe "
              + "rarely notice important difference between two methods experiment measured carefully "
              + "scientists discovered gene mutation disease symptoms include fever cough fatigue dose "
              + "daily tablet and or but is was are were in of to for")
          .split(" ");

  private EmbeddingBench() {}

  /** Deterministic synthetic sentences of 25–35 words. */
  public static List<String> sentences(int n, long seed) {
    Random random = new Random(seed);
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int words = 25 + random.nextInt(11);
      StringBuilder s = new StringBuilder();
      for (int w = 0; w < words; w++) {
        String word = WORDS[random.nextInt(WORDS.length)];
        if (w == 0) {
          s.append(Character.toUpperCase(word.charAt(0))).append(word, 1, word.length());
        } else {
          s.append(' ').append(word);
        }
      }
      out.add(s.append('.').toString());
    }
    return out;
  }

  /** {@link #run(SparkSession, int, int, int)} with the default batch size. */
  public static Map<String, Object> run(SparkSession spark, int sentences, int threads) {
    return run(spark, sentences, threads, SentenceEmbedder.DEFAULT_BATCH_SIZE);
  }

  /**
   * Measures and returns: model, model_version, sentences, threads, batch_size, spark_master,
   * spark_cores, raw_sentences_per_s, job_sentences_per_s, ratio (job/raw, wall clock, the target
   * is >= 0.9), raw_rounds_s, job_rounds_s, raw_cpu_ms_per_sentence, job_cpu_ms_per_sentence and
   * cpu_ratio (raw/job process CPU time per sentence: the job's overhead, robust against other load
   * on the machine), load_before, load_after (1-minute system load average), and warning if the
   * session does not have exactly {@code threads} cores.
   */
  public static Map<String, Object> run(
      SparkSession spark, int sentences, int threads, int batchSize) {
    if (sentences < threads || threads < 1 || batchSize < 1) {
      throw new IllegalArgumentException(
          "need threads >= 1, batchSize >= 1 and sentences >= threads");
    }
    double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    List<String> texts = sentences(sentences, 42);
    SentenceEmbedder embedder = SentenceEmbedder.shared(MODEL, 1);
    List<List<String>> slices = slices(texts, threads);
    // warm-up: model load, JIT, ONNX Runtime allocations; one window in every thread
    int window = batchSize * Embeddings.WINDOW;
    raw(
        embedder,
        slices.stream().map(s -> s.subList(0, Math.min(s.size(), window))).toList(),
        batchSize);

    StructType schema =
        new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType);
    List<Row> rows = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      rows.add(RowFactory.create((long) i, texts.get(i)));
    }
    // parallelize keeps contiguous equal slices, like the raw threads
    Dataset<Row> docs =
        spark.createDataFrame(
            JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, threads),
            schema);
    docs.cache().count();
    Embeddings.embed(docs.limit(threads * batchSize), "id", "text", MODEL, batchSize)
        .write()
        .format("noop")
        .mode("overwrite")
        .save();

    Round raw = new Round();
    Round job = new Round();
    for (int round = 0; round < ROUNDS; round++) {
      raw.time(() -> raw(embedder, slices, batchSize));
      job.time(
          () ->
              Embeddings.embed(docs, "id", "text", MODEL, batchSize)
                  .write()
                  .format("noop")
                  .mode("overwrite")
                  .save());
    }
    docs.unpersist();

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", MODEL);
    out.put("model_version", embedder.modelVersion());
    out.put("sentences", sentences);
    out.put("threads", threads);
    out.put("batch_size", batchSize);
    out.put("spark_master", spark.sparkContext().master());
    int cores = spark.sparkContext().defaultParallelism();
    out.put("spark_cores", cores);
    double rawRate = sentences / raw.bestSeconds();
    double jobRate = sentences / job.bestSeconds();
    out.put("raw_sentences_per_s", round1(rawRate));
    out.put("job_sentences_per_s", round1(jobRate));
    out.put("ratio", round3(jobRate / rawRate));
    out.put("raw_rounds_s", raw.seconds.stream().map(EmbeddingBench::round1).toList());
    out.put("job_rounds_s", job.seconds.stream().map(EmbeddingBench::round1).toList());
    double rawCpu = raw.bestCpuMs() / sentences;
    double jobCpu = job.bestCpuMs() / sentences;
    out.put("raw_cpu_ms_per_sentence", round1(rawCpu));
    out.put("job_cpu_ms_per_sentence", round1(jobCpu));
    out.put("cpu_ratio", round3(rawCpu / jobCpu));
    out.put("load_before", round1(loadBefore));
    out.put(
        "load_after", round1(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
    if (cores != threads) {
      out.put(
          "warning",
          "the session has "
              + cores
              + " cores but threads = "
              + threads
              + "; run in local["
              + threads
              + "] for a like-for-like ratio");
    }
    return out;
  }

  /** {@code threads} contiguous slices of (almost) equal size. */
  private static List<List<String>> slices(List<String> texts, int threads) {
    List<List<String>> out = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      out.add(
          texts.subList(
              (int) ((long) texts.size() * t / threads),
              (int) ((long) texts.size() * (t + 1) / threads)));
    }
    return out;
  }

  /** One thread per slice, each embedding its slice window by window, as a Spark task does. */
  private static void raw(SentenceEmbedder embedder, List<List<String>> slices, int batchSize) {
    ExecutorService pool = Executors.newFixedThreadPool(slices.size());
    try {
      List<Future<?>> done = new ArrayList<>();
      int window = batchSize * Embeddings.WINDOW;
      for (List<String> slice : slices) {
        done.add(
            pool.submit(
                () -> {
                  for (int from = 0; from < slice.size(); from += window) {
                    embedder.embed(
                        slice.subList(from, Math.min(slice.size(), from + window)), batchSize);
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("raw embedding failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static double round1(double d) {
    return Math.round(d * 10) / 10.0;
  }

  private static double round3(double d) {
    return Math.round(d * 1000) / 1000.0;
  }

  /** Wall seconds and process CPU milliseconds of each round of one side. */
  private static final class Round {
    private static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    final List<Double> seconds = new ArrayList<>();
    final List<Double> cpuMs = new ArrayList<>();

    void time(Runnable work) {
      long cpu0 = OS.getProcessCpuTime();
      long t0 = System.nanoTime();
      work.run();
      seconds.add((System.nanoTime() - t0) / 1e9);
      cpuMs.add((OS.getProcessCpuTime() - cpu0) / 1e6);
    }

    double bestSeconds() {
      return seconds.stream().mapToDouble(d -> d).min().orElseThrow();
    }

    double bestCpuMs() {
      return cpuMs.stream().mapToDouble(d -> d).min().orElseThrow();
    }
  }
}
