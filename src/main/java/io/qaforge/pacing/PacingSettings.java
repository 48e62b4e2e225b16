package io.qaforge.pacing;

import java.io.Serializable;
import java.time.Duration;

/**
 * Knobs of the job-wide admission control. The defaults are meant to be left alone: they were
 * chosen with the discrete-event simulations in the tests (server with 200 ms latency limited by
 * concurrency, by requests per second, or announcing its limit in headers). Only the budget is a
 * user setting ({@code llm.budget.*}).
 *
 * @param initialRate requests/s an alias starts at when no limit is configured or announced yet
 *     (64: about 13 requests in flight at 200 ms latency, gentle for a small server; slow start
 *     then reaches hundreds of requests/s within 2-3 round trips. 16 cost about 130 requests of
 *     throughput in the first second against a 320 requests/s server, 1.3 % of a 10,000-request
 *     run)
 * @param minRate floor of the adaptive rate in requests/s (1; or the configured limit when lower):
 *     under sustained refusals the rate stays at one probe per second, so the circuit breaker sees
 *     enough attempts to decide instead of the run stalling at a crawl
 * @param slowStartFactor multiplicative increase per round trip until the first overload (2)
 * @param additiveStep smallest increase per round trip after slow start, requests/s (0.5)
 * @param approachFraction share of the gap to the target rate closed per round trip after a
 *     decrease (0.5: the gap halves each round trip, so the rate is back within 3 % of the target
 *     after 3-4 round trips)
 * @param plateauFraction target after an overload, as a fraction of the rate at which the overload
 *     happened (0.99): the rate settles just under the capacity found
 * @param probeStep first step above the plateau, as a fraction of the rate (0.005), doubled on each
 *     further round trip without overload, so a grown capacity is found again within seconds
 * @param plateauRounds round trips spent at the plateau before probing above it (8) ...
 * @param plateauRequests ... and requests admitted since the last decrease (600): each probe that
 *     finds the limit costs about one 429, so a cycle of at least this many requests keeps the
 *     share of 429s well under 1 % even for small servers
 * @param probeFallback when an overload follows a probe step (or a slow-start doubling), return to
 *     the rate before that step, which held for a whole round trip, instead of cutting further
 *     (true); this keeps the oscillation around the limit to about 1 %
 * @param decreaseFactor multiplicative decrease on an overload, applied to the share of recent
 *     answers that got through (0.95): a lone 429 among 60 answers cuts to 0.95 × 59/60 ≈ 0.93,
 *     half the answers refused cuts to 0.475 (never below 0.5); at most once per round trip, and
 *     only for requests sent after the previous decrease
 * @param headerSafety fraction of a limit learned from x-ratelimit-limit-* headers that is paced
 *     (0.99)
 * @param initialRtt round-trip estimate before the first successful answer (500 ms)
 * @param minRound shortest adaptation round (50 ms)
 * @param maxRound longest adaptation round (2 s; long generations still adapt every 2 s)
 * @param maxRetryAfter the longest Retry-After honoured as an alias-wide pause (60 s); 0 disables
 *     alias-wide pauses (each retry still waits for its own Retry-After in the dispatcher)
 * @param pauseAfterRefusals overloads in a row (no success between them), when they are also at
 *     least half of the recent answers, after which the alias pauses until their Retry-After (3): a
 *     limit window is exhausted. 429s among successes (a concurrency limit, which may also send
 *     Retry-After) lowers the rate instead: pausing the whole alias for it would idle the server
 *     (measured: 0.71 of capacity with Retry-After: 1 on every 429, against 0.97 without the pause)
 * @param leaseWindow how far ahead admission slots are booked (100 ms): a remote executor leases
 *     about this much of the current rate per RPC, and a lower rate takes effect within this time
 * @param localHorizon how far ahead a {@link LocalPacer} (same JVM, no RPC to save) books its slots
 *     (10 ms): few slots booked ahead, so a decrease takes effect at once
 * @param leaseStale a leased slot not used this long after its time is given back (25 ms), so late
 *     slots never add up to a burst
 * @param reportFlush how often a remote executor sends finished attempts (150 ms; at once for 429
 *     and 503/529)
 * @param tokenBurst capacity of the token-per-minute bucket, in seconds of the limit (1 s)
 * @param breakerOpenAfter the circuit breaker opens when refusals have lasted this long (60 s) ...
 * @param breakerMinFailures ... and at least this many attempts in a row were refused (20)
 * @param maxCostUsd run budget in USD across the job; 0 = unlimited
 * @param maxRequests run budget in requests (attempts, retries included); 0 = unlimited
 * @param budgetPendingMaxWait the longest an acquire waits for in-flight reservations to settle
 *     when only they stand between the request and the budget (120 s); then it is refused
 * @param concurrencyWindow learn an in-flight limit from the overloads of an alias with no known
 *     request limit, while all its callers report at once (pacers in the driver's JVM) (true): the
 *     number of requests in flight when a 429 came back bounds what the server takes at once, and
 *     keeping exactly that many in flight uses such a server fully, where a rate has to stay a few
 *     percent under it to absorb latency jitter. See {@link RateController}.
 */
public record PacingSettings(
    double initialRate,
    double minRate,
    double slowStartFactor,
    double additiveStep,
    double approachFraction,
    double plateauFraction,
    double probeStep,
    int plateauRounds,
    long plateauRequests,
    boolean probeFallback,
    double decreaseFactor,
    double headerSafety,
    Duration initialRtt,
    Duration minRound,
    Duration maxRound,
    Duration maxRetryAfter,
    int pauseAfterRefusals,
    Duration leaseWindow,
    Duration localHorizon,
    Duration leaseStale,
    Duration reportFlush,
    Duration tokenBurst,
    Duration breakerOpenAfter,
    int breakerMinFailures,
    double maxCostUsd,
    long maxRequests,
    Duration budgetPendingMaxWait,
    boolean concurrencyWindow)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public PacingSettings {
    if (!(initialRate > 0) || !(minRate > 0)) {
      throw new IllegalArgumentException("initialRate and minRate must be > 0");
    }
    if (!(slowStartFactor > 1) || !(decreaseFactor > 0 && decreaseFactor < 1)) {
      throw new IllegalArgumentException("slowStartFactor must be > 1, decreaseFactor in (0, 1)");
    }
    if (!(headerSafety > 0 && headerSafety <= 1)) {
      throw new IllegalArgumentException("headerSafety must be in (0, 1]");
    }
    if (maxCostUsd < 0 || maxRequests < 0) {
      throw new IllegalArgumentException("budgets must be >= 0 (0 = unlimited)");
    }
    if (breakerMinFailures < 1) {
      throw new IllegalArgumentException("breakerMinFailures must be >= 1");
    }
  }

  public static PacingSettings defaults() {
    return new PacingSettings(
        64,
        1,
        2,
        0.5,
        0.5,
        0.99,
        0.005,
        8,
        600,
        true,
        0.95,
        0.99,
        Duration.ofMillis(500),
        Duration.ofMillis(50),
        Duration.ofSeconds(2),
        Duration.ofSeconds(60),
        3,
        Duration.ofMillis(100),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(150),
        Duration.ofSeconds(1),
        Duration.ofSeconds(60),
        20,
        0,
        0,
        Duration.ofSeconds(120),
        true);
  }

  /** The defaults with the run's budget ({@code llm.budget.max-cost-usd}, {@code max-requests}). */
  public static PacingSettings withBudget(double maxCostUsd, long maxRequests) {
    return defaults().budget(maxCostUsd, maxRequests);
  }

  public PacingSettings budget(double maxCostUsd, long maxRequests) {
    return with(
        initialRate,
        slowStartFactor,
        decreaseFactor,
        probeStep,
        plateauRounds,
        plateauRequests,
        probeFallback,
        breakerOpenAfter,
        breakerMinFailures,
        maxCostUsd,
        maxRequests,
        concurrencyWindow);
  }

  public PacingSettings breaker(Duration openAfter, int minFailures) {
    return with(
        initialRate,
        slowStartFactor,
        decreaseFactor,
        probeStep,
        plateauRounds,
        plateauRequests,
        probeFallback,
        openAfter,
        minFailures,
        maxCostUsd,
        maxRequests,
        concurrencyWindow);
  }

  /** These settings with the learned in-flight window on or off. */
  public PacingSettings window(boolean on) {
    return with(
        initialRate,
        slowStartFactor,
        decreaseFactor,
        probeStep,
        plateauRounds,
        plateauRequests,
        probeFallback,
        breakerOpenAfter,
        breakerMinFailures,
        maxCostUsd,
        maxRequests,
        on);
  }

  public PacingSettings aimd(
      double initialRate,
      double slowStartFactor,
      double decreaseFactor,
      double probeStep,
      int plateauRounds,
      long plateauRequests,
      boolean probeFallback) {
    return with(
        initialRate,
        slowStartFactor,
        decreaseFactor,
        probeStep,
        plateauRounds,
        plateauRequests,
        probeFallback,
        breakerOpenAfter,
        breakerMinFailures,
        maxCostUsd,
        maxRequests,
        concurrencyWindow);
  }

  /** A copy with the values the withers change; everything else as in these settings. */
  private PacingSettings with(
      double initialRate,
      double slowStartFactor,
      double decreaseFactor,
      double probeStep,
      int plateauRounds,
      long plateauRequests,
      boolean probeFallback,
      Duration breakerOpenAfter,
      int breakerMinFailures,
      double maxCostUsd,
      long maxRequests,
      boolean concurrencyWindow) {
    return new PacingSettings(
        initialRate,
        minRate,
        slowStartFactor,
        additiveStep,
        approachFraction,
        plateauFraction,
        probeStep,
        plateauRounds,
        plateauRequests,
        probeFallback,
        decreaseFactor,
        headerSafety,
        initialRtt,
        minRound,
        maxRound,
        maxRetryAfter,
        pauseAfterRefusals,
        leaseWindow,
        localHorizon,
        leaseStale,
        reportFlush,
        tokenBurst,
        breakerOpenAfter,
        breakerMinFailures,
        maxCostUsd,
        maxRequests,
        budgetPendingMaxWait,
        concurrencyWindow);
  }
}
