package io.qaforge.cli;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import io.qaforge.bench.OpenAiStub;
import io.qaforge.config.Settings;
import io.qaforge.llm.Attempt;
import io.qaforge.llm.LlmSettings;
import io.qaforge.pacing.Coordinator;
import io.qaforge.pacing.RateController;
import io.qaforge.spark.Generation;
import io.qaforge.spark.Lake;
import io.qaforge.spark.LlmRun;
import io.qaforge.spark.Sessions;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Benchmarks (not tests): numbers you can rerun, printed for humans and as one JSON line. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks: `bench generation` (model-call throughput), `bench craft` (embedding and"
            + " retrieval throughput) and `bench stub` (a local server).",
    subcommands = {
      BenchCommand.GenerationBench.class,
      BenchCommand.CraftBench.class,
      OpenAiStub.Cli.class
    })
public final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "Missing benchmark: use `bench generation`, `bench craft` or `bench stub`");
  }

  @Command(
      name = "generation",
      mixinStandardHelpOptions = true,
      description = {
        "Run N requests through the Generation operator with the normal settings (so OPENAI_BASE_URL"
            + " / llm.base-url points it at any server) and default pacing, then the same N again"
            + " from the cache. Prints a summary and, as the last line, JSON with requests, ok,"
            + " failed, seconds, requests_per_s, steady_requests_per_s, ceiling, ratio, share_429,"
            + " share_429_after_10s, steady_after_10s_requests_per_s, ratio_after_10s,"
            + " cpu_ms_per_request, steady_cpu_ms_per_request, warm_cpu_ms_per_request,"
            + " warm_jit_ms_per_request, cached_rerun_seconds, cached_rerun_calls. CPU = this"
            + " JVM's plus its finished child processes'; warm = the second half of the answers"
            + " (after JIT warm-up); warm_jit = the JIT compilation time within it.",
        "Tables go to a fresh temporary output root, so your cache is neither used nor changed."
      })
  public static final class GenerationBench implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--requests", required = true, description = "How many requests.")
    long requests;

    @Option(names = "--alias", description = "Model alias (default: llm.default-alias).")
    String alias;

    @Option(
        names = "--ceiling",
        defaultValue = "0",
        description =
            "What the server can take, in requests/s (its limit or capacity), for the ratio.")
    double ceiling;

    @Option(names = "--max-tokens", defaultValue = "16", description = "max tokens per answer.")
    int maxTokens;

    @Option(names = "--no-rerun", description = "Skip the cached rerun.")
    boolean noRerun;

    @Option(
        names = "--timeline",
        paramLabel = "FILE",
        description =
            "Also write the run's samples (every 100 ms: seconds, answers, 429s, ok, paced req/s,"
                + " in-flight window, in flight, process CPU ms, JIT ms) to this CSV file.")
    Path timelineFile;

    @Mixin SettingsOptions options;

    @Override
    public Integer call() throws IOException {
      if (requests < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--requests must be >= 1");
      }
      Settings settings = scratchSettings(options, "qaforge-bench");
      LlmSettings llm = LlmSettings.from(settings);
      String a = alias == null ? llm.defaultAlias() : alias;
      String backend = llm.effectiveBackend(a);
      PrintWriter out = spec.commandLine().getOut();
      if (backend.equals("dry-run")) {
        out.println(
            "WARNING: no endpoint configured (set OPENAI_BASE_URL or llm.base-url): this"
                + " measures the dry-run backend, not a server.");
      }
      SparkSession spark = Sessions.start(settings, "qaforge bench generation");
      Lake lake = new Lake(spark, settings.string("output.root"));
      String salt = UUID.randomUUID().toString().substring(0, 8);
      Dataset<Row> rows =
          spark
              .range(requests)
              .select(
                  concat(lit("bench " + salt + " #"), col("id").cast("string"), lit(": say hi."))
                      .as("prompt"))
              .withColumn("messages", Generation.messages(null, col("prompt")));
      Generation.Spec gen =
          new Generation.Spec(
              "bench", a, 0.0, null, maxTokens, null, List.of(), 1, null, false, "bench");
      Map<String, Long> byStatus = new TreeMap<>();
      double seconds;
      double cpuMs;
      double steady;
      long total429;
      double share429After10;
      long answers;
      double steadyCpu;
      double warmCpu;
      double warmJit;
      double rateAfter10;
      List<String> firstSeconds;
      Map<Attempt.Kind, Long> attempts = new EnumMap<>(Attempt.Kind.class);
      try (LlmRun run = LlmRun.start(spark, llm)) {
        Timeline timeline = new Timeline(run.coordinator());
        long cpu0 = Timeline.clientCpuNanos();
        long t0 = System.nanoTime();
        timeline.start();
        for (Row r :
            new Generation(lake, llm, run)
                .generate(rows, gen)
                .groupBy("status")
                .count()
                .collectAsList()) {
          byStatus.put(r.getString(0), r.getLong(1));
        }
        seconds = (System.nanoTime() - t0) / 1e9;
        cpuMs = (Timeline.clientCpuNanos() - cpu0) / 1e6;
        timeline.stop();
        steady = timeline.steadyRate();
        total429 = timeline.last()[2];
        answers = timeline.last()[1];
        share429After10 = timeline.share429After(10);
        steadyCpu = timeline.steadyCpuMsPerAnswer();
        warmCpu = timeline.warmCpuMsPerAnswer();
        warmJit = timeline.warmJitMsPerAnswer();
        rateAfter10 = timeline.rateAfter(10);
        firstSeconds = timeline.firstSeconds(10);
        if (timelineFile != null) {
          Files.writeString(timelineFile, timeline.csv());
        }
        for (Coordinator.AliasProgress p : run.coordinator().progress().aliases()) {
          p.done().forEach((k, n) -> attempts.merge(k, n, Long::sum));
        }
      }
      double cachedSeconds = -1;
      long cachedCalls = -1;
      if (!noRerun) {
        try (LlmRun run = LlmRun.start(spark, llm)) {
          long t0 = System.nanoTime();
          long n = new Generation(lake, llm, run).generate(rows, gen).filter("cache_hit").count();
          cachedSeconds = (System.nanoTime() - t0) / 1e9;
          cachedCalls =
              run.coordinator().progress().aliases().stream()
                  .mapToLong(Coordinator.AliasProgress::started)
                  .sum();
          if (n != requests) {
            out.println("WARNING: only " + n + " of " + requests + " rows came from the cache");
          }
        }
      }
      long ok = byStatus.getOrDefault("ok", 0L);
      long failed = requests - ok;
      double rps = ok / seconds;
      double ratio = ceiling > 0 ? steady / ceiling : Double.NaN;
      double ratioAfter10 = ceiling > 0 && rateAfter10 > 0 ? rateAfter10 / ceiling : Double.NaN;
      double share429 = answers == 0 ? 0 : (double) total429 / answers;
      out.printf(
          Locale.ROOT,
          "bench generation: %d requests to %s (%s, alias %s)%n",
          requests,
          llm.baseUrl().isEmpty() ? "dry-run" : llm.baseUrl(),
          backend,
          a);
      out.printf(Locale.ROOT, "  statuses: %s; attempts: %s%n", byStatus, attempts);
      out.printf(
          Locale.ROOT,
          "  wall %.1f s end to end: %.1f ok/s; steady %.1f req/s (first to last answer)%s%n",
          seconds,
          rps,
          steady,
          ceiling > 0
              ? String.format(Locale.ROOT, " = %.3f of the %.0f req/s ceiling", ratio, ceiling)
              : "");
      if (rateAfter10 > 0) {
        out.printf(
            Locale.ROOT,
            "  after the first 10 s of answers: %.1f req/s%s%n",
            rateAfter10,
            ceiling > 0 ? String.format(Locale.ROOT, " = %.3f of the ceiling", ratioAfter10) : "");
      }
      if (!firstSeconds.isEmpty()) {
        out.printf(
            Locale.ROOT,
            "  first seconds of answers (ok/s, paced req/s, in-flight window, in flight): %s%n",
            String.join("; ", firstSeconds));
      }
      out.printf(
          Locale.ROOT,
          "  429 answers: %d of %d (%.2f%%), after the first 10 s: %.2f%%%n",
          total429,
          answers,
          100 * share429,
          100 * share429After10);
      out.printf(
          Locale.ROOT,
          "  process CPU (with child processes): %.3f ms per request overall (Spark start-up and Delta commits included),"
              + " %.3f ms per answer in steady state, %.3f ms in the second half of the answers"
              + " (after JIT warm-up), of which the JIT still compiling %.3f ms%n",
          cpuMs / requests,
          steadyCpu,
          warmCpu,
          warmJit);
      if (!noRerun) {
        out.printf(Locale.ROOT, "  cached rerun: %.1f s, %d calls%n", cachedSeconds, cachedCalls);
      }
      out.printf(
          Locale.ROOT,
          "{\"requests\":%d,\"ok\":%d,\"failed\":%d,\"seconds\":%.3f,\"requests_per_s\":%.2f,\"steady_requests_per_s\":%.2f,"
              + "\"ceiling\":%.2f,\"ratio\":%s,\"share_429\":%.5f,\"share_429_after_10s\":%.5f,"
              + "\"steady_after_10s_requests_per_s\":%.2f,\"ratio_after_10s\":%s,\"cpu_ms_per_request\":%.4f,"
              + "\"steady_cpu_ms_per_request\":%.4f,\"warm_cpu_ms_per_request\":%.4f,\"warm_jit_ms_per_request\":%s,"
              + "\"cached_rerun_seconds\":%.3f,\"cached_rerun_calls\":%d}%n",
          requests,
          ok,
          failed,
          seconds,
          rps,
          steady,
          ceiling,
          Double.isNaN(ratio) ? "null" : String.format(Locale.ROOT, "%.4f", ratio),
          share429,
          share429After10,
          rateAfter10,
          Double.isNaN(ratioAfter10) ? "null" : String.format(Locale.ROOT, "%.4f", ratioAfter10),
          cpuMs / requests,
          steadyCpu,
          warmCpu,
          Double.isNaN(warmJit) ? "null" : String.format(Locale.ROOT, "%.4f", warmJit),
          cachedSeconds,
          cachedCalls);
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "craft",
      mixinStandardHelpOptions = true,
      description = {
        "CRAFT's two offline hot spots on synthetic data, in the Spark master of the settings"
            + " (submit/local.sh: local[*]):",
        "(1) sentence embeddings: the Spark job against the raw ONNX model called from the same"
            + " number of threads with the same batches (ratio = job / raw);",
        "(2) exact mixed retrieval over N x 384 float vectors in a Delta table with 32 few-shots,"
            + " for each --corpus size (the table write is timed separately).",
        "Prints a summary and, as the last line, JSON with both results."
      })
  public static final class CraftBench implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--sentences",
        defaultValue = "2000",
        description = "Sentences to embed (0 = skip).")
    int sentences;

    @Option(
        names = "--corpus",
        split = ",",
        defaultValue = "100000,1000000",
        description = "Corpus sizes for retrieval, comma-separated (0 = skip retrieval).")
    List<Long> corpus;

    @Option(names = "--few-shots", defaultValue = "32", description = "Few-shot vectors.")
    int fewShots;

    @Option(
        names = "--k",
        defaultValue = "50000",
        description = "Documents to retrieve (the XL size: 50,000).")
    int k;

    @Mixin SettingsOptions options;

    @Override
    public Integer call() throws IOException {
      Settings settings = scratchSettings(options, "qaforge-bench-craft");
      SparkSession spark = Sessions.start(settings, "qaforge bench craft");
      int threads = spark.sparkContext().defaultParallelism();
      PrintWriter out = spec.commandLine().getOut();
      Map<String, Object> result = new java.util.LinkedHashMap<>();
      result.put("threads", threads);
      result.put(
          "load_1m_before", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      if (sentences > 0) {
        Map<String, Object> e = io.qaforge.spark.EmbeddingBench.run(spark, sentences, threads);
        result.put("embedding", e);
        out.printf(
            Locale.ROOT,
            "bench craft: embeddings of %d sentences, %d threads%n",
            sentences,
            threads);
        e.forEach((key, v) -> out.printf(Locale.ROOT, "  %-28s %s%n", key, v));
      }
      List<Map<String, Object>> retrieval = new ArrayList<>();
      for (long n : corpus) {
        if (n <= 0) {
          continue; // --corpus 0: embeddings only
        }
        // array<float>: how craft.embeddings stores vectors
        Map<String, Object> r =
            io.qaforge.spark.RetrievalBench.run(
                spark, n, fewShots, k, io.qaforge.spark.RetrievalBench.Format.ARRAY);
        retrieval.add(r);
        out.printf(
            Locale.ROOT,
            "bench craft: retrieval over %d x 384 vectors, %d few-shots, k %d%n",
            n,
            fewShots,
            k);
        r.forEach((key, v) -> out.printf(Locale.ROOT, "  %-28s %s%n", key, v));
      }
      result.put("retrieval", retrieval);
      result.put(
          "load_1m_after", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      out.println(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(result));
      out.flush();
      return 0;
    }
  }

  /**
   * The user's settings with tables in a fresh temporary output root and an in-memory catalog, so a
   * benchmark neither uses nor changes the user's cache and tables.
   */
  static Settings scratchSettings(SettingsOptions options, String prefix) throws IOException {
    Path root = Files.createTempDirectory(prefix);
    List<String> sets = new ArrayList<>(options.sets);
    sets.add("output.root=" + root.resolve("lake"));
    sets.add("catalog.type=memory");
    sets.add("catalog.dir=" + root.resolve("catalog"));
    return Settings.load(options.confFiles, sets);
  }

  /**
   * Samples the coordinator's counters every 100 ms: (t, answered attempts, 429s, ok, process CPU,
   * paced rate in milli-requests/s, in-flight window, requests in flight, JIT compilation time).
   */
  static final class Timeline {
    private static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Coordinator coordinator;
    private final List<long[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();

    private final LongSupplier clock;
    private final LongSupplier cpu;
    private final LongSupplier jit;

    Timeline(Coordinator coordinator) {
      this(coordinator, System::nanoTime, Timeline::clientCpuNanos, jitClock());
    }

    /**
     * CPU of this JVM plus that of its finished child processes, in ns. On the local file system
     * without Hadoop's native library, Hadoop runs {@code chmod} and {@code readlink} as processes
     * for the files Spark and Delta create and rename (dozens per Delta commit); their CPU is the
     * client's too. Children are read from {@code /proc/self/stat} (Linux; 0 elsewhere).
     */
    static long clientCpuNanos() {
      return OS.getProcessCpuTime() + childrenCpuNanos(readProcSelfStat());
    }

    private static String readProcSelfStat() {
      try {
        return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
      } catch (java.io.IOException | RuntimeException e) {
        return "";
      }
    }

    /**
     * cutime + cstime of a {@code /proc/<pid>/stat} line in ns (clock ticks of 10 ms, Linux's
     * USER_HZ), or 0 when the line cannot be read. The command name may contain spaces and
     * parentheses, so fields are counted from its last ')'.
     */
    static long childrenCpuNanos(String stat) {
      int end = stat.lastIndexOf(')');
      if (end < 0) {
        return 0;
      }
      String[] f = stat.substring(end + 1).trim().split("\\s+");
      if (f.length < 15) {
        return 0;
      }
      try {
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10_000_000L;
      } catch (NumberFormatException e) {
        return 0;
      }
    }

    /**
     * On given clocks (nanoseconds of wall time, of process CPU and of JIT compilation; a JIT clock
     * below 0 means the JVM does not measure it), for tests.
     */
    Timeline(Coordinator coordinator, LongSupplier clock, LongSupplier cpu, LongSupplier jit) {
      this.coordinator = coordinator;
      this.clock = clock;
      this.cpu = cpu;
      this.jit = jit;
    }

    /**
     * The JVM's accumulated JIT compilation time in ns ({@link CompilationMXBean}: the time its
     * compiler threads spent compiling, which is CPU they take from the run), or -1 when unknown.
     */
    private static LongSupplier jitClock() {
      CompilationMXBean c = ManagementFactory.getCompilationMXBean();
      if (c == null || !c.isCompilationTimeMonitoringSupported()) {
        return () -> -1;
      }
      return () -> c.getTotalCompilationTime() * 1_000_000L;
    }

    void start() {
      ticker.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
    }

    /** Stops the ticker, waits for a sample in progress (the lists are read next), samples once. */
    void stop() {
      ticker.shutdownNow();
      try {
        if (!ticker.awaitTermination(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the bench's sampler did not stop within 10 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping the bench's sampler", e);
      }
      sample();
    }

    void sample() {
      long finished = 0;
      long r429 = 0;
      long ok = 0;
      double rate = 0;
      long window = 0;
      long inFlight = 0;
      for (Coordinator.AliasProgress a : coordinator.progress().aliases()) {
        finished += a.finished();
        r429 += a.rateLimited();
        ok += a.done().getOrDefault(Attempt.Kind.OK, 0L);
        rate += a.rate();
        window = a.window() == RateController.NO_WINDOW ? window : window + a.window();
        inFlight += a.started() - a.finished();
      }
      samples.add(
          new long[] {
            clock.getAsLong(),
            finished,
            r429,
            ok,
            cpu.getAsLong(),
            Math.round(rate * 1000),
            window,
            inFlight,
            jit.getAsLong()
          });
    }

    long[] last() {
      return samples.get(samples.size() - 1);
    }

    /** Every sample as CSV with a header: times from the first sample, CPU and JIT in ms. */
    String csv() {
      StringBuilder b =
          new StringBuilder(
              "seconds,answers,rate_limited,ok,paced_rps,window,in_flight,cpu_ms,jit_ms\n");
      long[] first = samples.isEmpty() ? null : samples.get(0);
      for (long[] s : samples) {
        b.append(
            String.format(
                Locale.ROOT,
                "%.3f,%d,%d,%d,%.3f,%d,%d,%.1f,%.1f\n",
                (s[0] - first[0]) / 1e9,
                s[1],
                s[2],
                s[3],
                s[5] / 1000.0,
                s[6],
                s[7],
                (s[4] - first[4]) / 1e6,
                s[8] < 0 ? -1.0 : (s[8] - first[8]) / 1e6));
      }
      return b.toString();
    }

    /**
     * For each of the first {@code seconds} seconds after the first OK answer: OK answers in that
     * second, and at its end the paced rate, the in-flight window ("-" without one) and the
     * requests in flight. Shows how a run started (a cold client, a window learned late).
     */
    List<String> firstSeconds(int seconds) {
      long[] first = firstOk();
      List<String> out = new ArrayList<>();
      if (first == null) {
        return out;
      }
      long[] prev = first;
      int second = 1;
      for (long[] s : samples) {
        if (second > seconds) {
          break;
        }
        if (s[0] - first[0] >= second * 1_000_000_000L) {
          out.add(
              String.format(
                  Locale.ROOT,
                  "%d %.0f %s %d",
                  s[3] - prev[3],
                  s[5] / 1000.0,
                  s[6] == 0 ? "-" : Long.toString(s[6]),
                  s[7]));
          prev = s;
          second++;
        }
      }
      return out;
    }

    /** OK answers per second between the first and the last OK answer. */
    double steadyRate() {
      return rate(firstOk(), lastOk());
    }

    /** OK answers per second from {@code seconds} after the first OK answer to the last one. */
    double rateAfter(double seconds) {
      long[] first = firstOk();
      long[] from = null;
      for (long[] s : samples) {
        if (first != null && (s[0] - first[0]) / 1e9 >= seconds) {
          from = s;
          break;
        }
      }
      return rate(from, lastOk());
    }

    /** Process CPU ms per OK answer between the first and the last OK answer (steady state). */
    double steadyCpuMsPerAnswer() {
      return msPerAnswer(firstOk(), lastOk(), 4);
    }

    /**
     * Process CPU ms per OK answer over the second half of the OK answers: the per-request cost
     * once the JIT has compiled the hot paths.
     */
    double warmCpuMsPerAnswer() {
      return msPerAnswer(secondHalf(), lastOk(), 4);
    }

    /**
     * JIT compilation ms per OK answer over the second half of the OK answers: the part of {@link
     * #warmCpuMsPerAnswer} that is the JVM still compiling (Spark's driver code of each new chunk
     * job and commit, and deoptimised methods). NaN when the JVM does not measure it.
     */
    double warmJitMsPerAnswer() {
      long[] from = secondHalf();
      return from == null || from[8] < 0 ? Double.NaN : msPerAnswer(from, lastOk(), 8);
    }

    /** The first sample with at least half of the final OK answers, or null. */
    private long[] secondHalf() {
      long[] end = lastOk();
      for (long[] s : samples) {
        if (end != null && s[3] * 2 >= end[3]) {
          return s;
        }
      }
      return null;
    }

    /** The first sample with an OK answer, or null. */
    private long[] firstOk() {
      for (long[] s : samples) {
        if (s[3] > 0) {
          return s;
        }
      }
      return null;
    }

    /** The first sample with the final count of OK answers, or null when there is none. */
    private long[] lastOk() {
      long[] end = null;
      for (long[] s : samples) {
        if (end == null || s[3] > end[3]) {
          end = s;
        }
      }
      return end == null || end[3] == 0 ? null : end;
    }

    /** OK answers per second between two samples (0 when they do not span any time). */
    private static double rate(long[] from, long[] to) {
      if (from == null || to == null || to[0] <= from[0]) {
        return 0;
      }
      return (to[3] - from[3]) / ((to[0] - from[0]) / 1e9);
    }

    /**
     * Ms of the nanosecond clock in sample field {@code field} per OK answer between two samples
     * (NaN when no answer came between).
     */
    private static double msPerAnswer(long[] from, long[] to, int field) {
      if (from == null || to == null || to[3] <= from[3]) {
        return Double.NaN;
      }
      return (to[field] - from[field]) / 1e6 / (to[3] - from[3]);
    }

    /** Share of answers that were 429 after the first {@code seconds} of answers. */
    double share429After(double seconds) {
      long[] from = null;
      long[] first = null;
      for (long[] s : samples) {
        if (first == null && s[1] > 0) {
          first = s;
        }
        if (first != null && from == null && (s[0] - first[0]) / 1e9 >= seconds) {
          from = s;
        }
      }
      long[] end = last();
      if (from == null || end[1] == from[1]) {
        return 0;
      }
      return (double) (end[2] - from[2]) / (end[1] - from[1]);
    }
  }
}
