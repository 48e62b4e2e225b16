package io.qaforge.spark;

import io.qaforge.QaforgeException;
import io.qaforge.llm.Attempt;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.Pacer;
import io.qaforge.pacing.Coordinator;
import io.qaforge.pacing.CoordinatorServer;
import io.qaforge.pacing.LocalPacer;
import io.qaforge.pacing.PacingSettings;
import io.qaforge.pacing.RemotePacer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run's model-call context on the driver: the run id stamped on every cached answer and ledger
 * row, the job-wide {@link Coordinator} (rate limits, budget, circuit breaker, live counters) that
 * every task's pacer talks to, and the live progress line.
 *
 * <p>Tasks in the driver's JVM (local mode) use the coordinator directly; executors in other JVMs
 * reach it over HTTP ({@link CoordinatorServer} / {@link RemotePacer}). Closures carry only the run
 * id, host, port and token.
 */
public final class LlmRun implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LlmRun.class);

  /** Coordinators of the runs whose driver is this JVM, for tasks running in it. */
  private static final Map<String, LocalPacer> LOCAL = new ConcurrentHashMap<>();

  private final String id;
  private final Coordinator coordinator;
  private final CoordinatorServer server;
  private final Duration progressInterval;
  private final ScheduledExecutorService ticker;
  private final List<Ledger.Entry> entries = Collections.synchronizedList(new ArrayList<>());

  private LlmRun(String id, Coordinator coordinator, CoordinatorServer server, Duration interval) {
    this.id = id;
    this.coordinator = coordinator;
    this.server = server;
    this.progressInterval = interval;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "qaforge-progress");
              t.setDaemon(true);
              return t;
            });
    LOCAL.put(id, new LocalPacer(coordinator));
  }

  /** Starts the run's coordinator (and its HTTP endpoint when executors run in other JVMs). */
  public static LlmRun start(SparkSession spark, LlmSettings llm) {
    Coordinator coordinator =
        new Coordinator(
            llm.models(),
            PacingSettings.withBudget(llm.maxCostUsd(), llm.maxRequests())
                .breaker(llm.breakerOpenAfter(), llm.breakerMinFailures()));
    CoordinatorServer server = null;
    if (!spark.sparkContext().isLocal()) {
      String host = spark.sparkContext().getConf().get("spark.driver.host", "127.0.0.1");
      try {
        server = CoordinatorServer.start(coordinator, host, 0);
      } catch (IOException e) {
        throw new QaforgeException(
            "Cannot start the rate-limit coordinator on the driver (" + host + ")",
            e.toString(),
            "make sure executors can reach the driver host (spark.driver.host) on a free port");
      }
    }
    return new LlmRun(newId(), coordinator, server, llm.progressInterval());
  }

  /** A run with default pacing and no budget (tests). */
  public static LlmRun unpaced() {
    return new LlmRun(
        newId(), new Coordinator(Map.of(), PacingSettings.defaults()), null, Duration.ofSeconds(5));
  }

  static String newId() {
    return Instant.now().toString().replace(":", "").replace("-", "")
        + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  public String id() {
    return id;
  }

  public Coordinator coordinator() {
    return coordinator;
  }

  /** What tasks use to get their pacer: the local coordinator, else the driver's over HTTP. */
  Generation.SerializableSupplier<Pacer> pacerFactory() {
    String runId = id;
    String host = server == null ? null : server.host();
    int port = server == null ? 0 : server.port();
    String token = server == null ? null : server.token();
    return () -> {
      LocalPacer local = LOCAL.get(runId);
      if (local != null) {
        return local;
      }
      if (host == null) {
        throw new IllegalStateException(
            "run " + runId + " has no coordinator endpoint but tasks run outside the driver JVM");
      }
      return RemotePacer.shared(host, port, token);
    };
  }

  /** 429 answers seen for the alias in this run. */
  long rateLimited(String alias) {
    return coordinator.progress().aliases().stream()
        .filter(a -> a.alias().equals(alias))
        .mapToLong(Coordinator.AliasProgress::rateLimited)
        .sum();
  }

  /**
   * The breaker's reason if the alias's provider kept refusing and the run must stop, else null.
   */
  String breakerReason(String alias) {
    return coordinator.progress().aliases().stream()
        .filter(a -> a.alias().equals(alias))
        .map(Coordinator.AliasProgress::breakerReason)
        .filter(r -> r != null)
        .findFirst()
        .orElse(null);
  }

  /**
   * Prints a progress line every {@code llm.progress-interval} while a step calls models: answers
   * so far out of the calls to make, requests/s, tokens/s, cost, failures and 429s.
   */
  AutoCloseable progress(String step, long calls) {
    long[] last = {System.nanoTime(), 0, 0};
    ScheduledFuture<?> f =
        ticker.scheduleAtFixedRate(
            () -> {
              try {
                LOG.info(line(step, calls, last));
              } catch (RuntimeException e) {
                LOG.warn("progress line failed: {}", e.toString());
              }
            },
            progressInterval.toMillis(),
            progressInterval.toMillis(),
            TimeUnit.MILLISECONDS);
    return () -> f.cancel(false);
  }

  private String line(String step, long calls, long[] last) {
    Coordinator.Progress p = coordinator.progress();
    long ok = 0;
    long finished = 0;
    long failed = 0;
    long rateLimited = 0;
    long tokens = 0;
    for (Coordinator.AliasProgress a : p.aliases()) {
      ok += a.done().getOrDefault(Attempt.Kind.OK, 0L);
      finished += a.finished();
      rateLimited += a.rateLimited();
      tokens += a.tokensIn() + a.tokensOut();
      failed += a.finished() - a.done().getOrDefault(Attempt.Kind.OK, 0L) - a.rateLimited();
    }
    long now = System.nanoTime();
    double secs = Math.max(1e-3, (now - last[0]) / 1e9);
    double rps = (finished - last[1]) / secs;
    double tps = (tokens - last[2]) / secs;
    last[0] = now;
    last[1] = finished;
    last[2] = tokens;
    return String.format(
        Locale.ROOT,
        "[%s] %d/%d answered, %.1f req/s, %.0f tok/s, $%.4f so far, %d failed attempts, %d"
            + " rate-limited | %s",
        step,
        ok,
        calls,
        rps,
        tps,
        p.spentUsd(),
        failed,
        rateLimited,
        p.line());
  }

  void record(Ledger.Entry entry) {
    entries.add(entry);
  }

  /** The ledger entries of this run so far, in order. */
  public List<Ledger.Entry> entries() {
    return List.copyOf(entries);
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    LOCAL.remove(id);
    if (server != null) {
      server.close();
    }
  }
}
