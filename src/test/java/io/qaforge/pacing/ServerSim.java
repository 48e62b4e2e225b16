package io.qaforge.pacing;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A tiny discrete-event model of producers, the coordinator and an LLM server, in simulated time.
 * Producers behave like {@link LocalPacer} callers with unlimited demand (each books one slot,
 * waits for it, sends, books the next); reports reach the coordinator at once, or batched like a
 * {@link RemotePacer} (every 150 ms, overloads at once).
 */
final class ServerSim {
  static final long MS = 1_000_000L;
  static final long S = 1_000_000_000L;
  static final String ALIAS = "m";

  /** What the server enforces. */
  enum Limit {
    CONCURRENCY,
    RPS,
    RPS_WITH_HEADERS
  }

  private record Ev(long t, long seq, Runnable r) {}

  private final PriorityQueue<Ev> events =
      new PriorityQueue<>(
          (a, b) -> a.t != b.t ? Long.compare(a.t, b.t) : Long.compare(a.seq, b.seq));
  private long seq;
  long now = 1_000 * S; // an arbitrary origin, like System.nanoTime()
  final long start = now;

  // server
  Limit limit = Limit.CONCURRENCY;
  int capacity = 64;
  double rps = 100;
  double burstSeconds = 0.1;
  long latency = 200 * MS;
  double jitter = 0;

  /**
   * A cold client: answers that reach it within the first {@code coldSeconds} are seen up to {@code
   * coldDelay} later (uniformly; a JVM still compiling its code), and their latency includes that.
   */
  double coldSeconds = 0;

  long coldDelay = 0;

  /**
   * With a cold client, whether the answers' latency stays the server's (the client times each call
   * correctly but counts its answers late: its consuming thread is busy) instead of including the
   * delay.
   */
  boolean coldLatencyHonest;

  /**
   * The most a request takes on its way to the server, and an answer back to the client (uniformly,
   * each way): the client counts such requests in flight, the server does not.
   */
  long transit = 0;

  long retryAfterMs = -1;
  private int inFlight;
  private double bucket;
  private long bucketAt;
  private final Random random = new Random(42);

  // clients
  int producers = 8;
  long horizon = 100 * MS;
  boolean batchedReports;
  boolean blind;
  long tokensEach = 100;
  double costEach = 0;

  final Coordinator coordinator;

  // measurements: per 100 ms bucket of send time
  final List<long[]> okByTenth = new ArrayList<>();
  final List<long[]> limitedByTenth = new ArrayList<>();
  final List<Double> rateByTenth = new ArrayList<>();
  private final List<Object[]> pending = new ArrayList<>();

  ServerSim(PacingSettings settings, double rpm, double tpm) {
    ModelSpec spec =
        new ModelSpec(ALIAS, "openai", ALIAS, "chat", "", 0, 0, 0, "o200k_base", rpm, tpm, "");
    coordinator = new Coordinator(Map.of(ALIAS, spec), settings, () -> now);
  }

  ServerSim(PacingSettings settings) {
    this(settings, 0, 0);
  }

  void at(long t, Runnable r) {
    events.add(new Ev(Math.max(t, now), seq++, r));
  }

  void run(long seconds) {
    for (int i = 0; i < producers; i++) {
      at(now, this::lease);
    }
    if (batchedReports) {
      at(now + 150 * MS, this::flushTick);
    }
    at(now, this::sample);
    long end = start + seconds * S;
    while (!events.isEmpty() && events.peek().t <= end) {
      Ev e = events.poll();
      now = e.t;
      e.r.run();
    }
  }

  private void sample() {
    rateByTenth.add(coordinator.controller(ALIAS).rate());
    at(now + 100 * MS, this::sample);
  }

  private void lease() {
    Coordinator.Lease l = coordinator.lease("p", ALIAS, 1, tokensEach, costEach, horizon);
    switch (l.status()) {
      case GRANTED ->
          at(
              l.firstSlotNanos(),
              () -> {
                send();
                lease();
              });
      case WAIT -> at(l.retryAtNanos(), this::lease);
      default -> {}
    }
  }

  private void send() {
    if (transit > 0) {
      long sent = now;
      at(now + Math.round(transit * random.nextDouble()), () -> arrive(sent));
    } else {
      arrive(now);
    }
  }

  private void arrive(long sent) {
    boolean ok;
    switch (limit) {
      case CONCURRENCY -> ok = inFlight < capacity;
      default -> {
        double cap = Math.max(1, rps * burstSeconds);
        bucket = Math.min(cap, bucket + (now - bucketAt) / 1e9 * rps);
        bucketAt = now;
        ok = bucket >= 1;
        if (ok) {
          bucket -= 1;
        }
      }
    }
    if (ok) {
      inFlight++;
      long lat = Math.max(1, Math.round(latency * (1 + jitter * (2 * random.nextDouble() - 1))));
      at(
          now + lat,
          () -> {
            inFlight--;
            Attempt a = Attempt.ok("x", "stop", tokensEach / 2, tokensEach / 2, ALIAS, lat / MS);
            if (limit == Limit.RPS_WITH_HEADERS) {
              a = a.withLimits(Math.round(rps * 60), -1);
            }
            count(okByTenth, sent);
            deliver(a, now);
          });
    } else {
      at(
          now + MS,
          () -> {
            Attempt a =
                Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, retryAfterMs, "too many", 1);
            if (limit == Limit.RPS_WITH_HEADERS) {
              a = a.withLimits(Math.round(rps * 60), -1);
            }
            count(limitedByTenth, sent);
            deliver(a, now);
          });
    }
  }

  private void deliver(Attempt a, long completedAt) {
    if (blind) {
      return;
    }
    long late = transit > 0 ? Math.round(transit * random.nextDouble()) : 0;
    if (now - start < coldSeconds * S && coldDelay > 0) {
      late += Math.round(coldDelay * random.nextDouble());
    }
    if (late > 0) {
      Attempt seen =
          new Attempt(
              a.kind(),
              a.content(),
              a.finishReason(),
              a.promptTokens(),
              a.completionTokens(),
              a.model(),
              a.httpStatus(),
              a.retryAfterMs(),
              a.limitRequestsPerMinute(),
              a.limitTokensPerMinute(),
              a.refusal(),
              a.error(),
              a.latencyMs() + (coldLatencyHonest ? 0 : late / MS));
      at(now + late, () -> seen(seen, now));
      return;
    }
    seen(a, completedAt);
  }

  private void seen(Attempt a, long completedAt) {
    if (!batchedReports || RateController.isOverload(a)) {
      if (batchedReports) {
        flush();
      }
      coordinator.report(ALIAS, a, tokensEach, costEach, 0, now - completedAt);
    } else {
      pending.add(new Object[] {a, completedAt});
    }
  }

  private void flushTick() {
    flush();
    at(now + 150 * MS, this::flushTick);
  }

  private void flush() {
    for (Object[] p : pending) {
      coordinator.report(ALIAS, (Attempt) p[0], tokensEach, costEach, 0, now - (long) p[1]);
    }
    pending.clear();
  }

  private void count(List<long[]> series, long sentAt) {
    int i = (int) ((sentAt - start) / (100 * MS));
    while (series.size() <= i) {
      series.add(new long[1]);
    }
    series.get(i)[0]++;
  }

  /** Answers of requests sent in [fromS, toS). */
  long sum(List<long[]> series, double fromS, double toS) {
    long n = 0;
    for (int i = (int) Math.round(fromS * 10); i < Math.round(toS * 10) && i < series.size(); i++) {
      n += series.get(i)[0];
    }
    return n;
  }

  long ok(double fromS, double toS) {
    return sum(okByTenth, fromS, toS);
  }

  long limited(double fromS, double toS) {
    return sum(limitedByTenth, fromS, toS);
  }
}
