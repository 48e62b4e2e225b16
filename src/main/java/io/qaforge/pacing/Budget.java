package io.qaforge.pacing;

import java.util.Locale;

/**
 * The run's budget across the whole job: {@code max-cost-usd} and {@code max-requests} (0 =
 * unlimited). Admission reserves one request and the estimated cost per slot; each finished attempt
 * settles its reservation with what it really cost (failed calls that were billed count: whatever
 * cost the report carries); slots never used are released.
 *
 * <p>Exactness: a slot is admitted only if {@code spent + reserved + estimate <= max} (and {@code
 * used + reserved + 1 <= max-requests}), so the requests never exceed max-requests and the cost
 * exceeds max-cost only by what in-flight requests cost above their estimates. When only pending
 * reservations stand in the way the answer is {@link State#PENDING} (wait: they may settle lower or
 * be released); when even a settled budget cannot pay for the request it is {@link State#EXHAUSTED}
 * (refuse). Not thread-safe: the {@link Coordinator} serialises calls.
 */
public final class Budget {
  /** The answer for one more request. */
  public enum State {
    OPEN,
    PENDING,
    EXHAUSTED
  }

  private static final double EPS = 1e-9;

  private final double maxCostUsd;
  private final long maxRequests;
  private double spentUsd;
  private double reservedUsd;
  private long used;
  private long reservedRequests;

  public Budget(double maxCostUsd, long maxRequests) {
    this.maxCostUsd = Math.max(0, maxCostUsd);
    this.maxRequests = Math.max(0, maxRequests);
  }

  /** How many of {@code permits} slots costing {@code costEach} fit now (0..permits). */
  public int admissible(int permits, double costEach) {
    long k = Math.max(0, permits);
    if (maxRequests > 0) {
      k = Math.min(k, maxRequests - used - reservedRequests);
    }
    if (maxCostUsd > 0) {
      double left = maxCostUsd - spentUsd - reservedUsd;
      if (costEach > 0) {
        k = Math.min(k, (long) Math.floor((left + EPS) / costEach));
      } else if (spentUsd >= maxCostUsd - EPS) {
        k = 0;
      }
    }
    return (int) Math.max(0, k);
  }

  /** OPEN when one request costing {@code costEach} fits, else PENDING or EXHAUSTED. */
  public State state(double costEach) {
    if (admissible(1, costEach) > 0) {
      return State.OPEN;
    }
    boolean requestsGone = maxRequests > 0 && used >= maxRequests;
    boolean moneyGone =
        maxCostUsd > 0 && spentUsd + Math.max(0, costEach) > maxCostUsd + EPS
            || maxCostUsd > 0 && costEach <= 0 && spentUsd >= maxCostUsd - EPS;
    return requestsGone || moneyGone ? State.EXHAUSTED : State.PENDING;
  }

  public void reserve(int permits, double costEach) {
    reservedRequests += permits;
    reservedUsd += permits * Math.max(0, costEach);
  }

  /** One finished attempt: release its reservation, count what it cost. */
  public void settle(double estimatedCostUsd, double costUsd) {
    reservedRequests = Math.max(0, reservedRequests - 1);
    reservedUsd = Math.max(0, reservedUsd - Math.max(0, estimatedCostUsd));
    used++;
    spentUsd += Math.max(0, costUsd);
  }

  /** Slots that were never used. */
  public void release(int permits, double costUsd) {
    reservedRequests = Math.max(0, reservedRequests - permits);
    reservedUsd = Math.max(0, reservedUsd - Math.max(0, costUsd));
  }

  /** The reason text of a refusal (names the setting that was reached). */
  public String exhaustedReason(double costEach) {
    if (maxRequests > 0 && used + reservedRequests >= maxRequests) {
      return String.format(
          Locale.ROOT,
          "budget reached: %d requests made of %d (llm.budget.max-requests = %d)",
          used,
          maxRequests,
          maxRequests);
    }
    return String.format(
        Locale.ROOT,
        "budget reached: $%.4f spent of $%s, the next request would cost about $%.4f"
            + " (llm.budget.max-cost-usd = %s)",
        spentUsd,
        plain(maxCostUsd),
        Math.max(0, costEach),
        plain(maxCostUsd));
  }

  private static String plain(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  public double maxCostUsd() {
    return maxCostUsd;
  }

  public long maxRequests() {
    return maxRequests;
  }

  public double spentUsd() {
    return spentUsd;
  }

  public double reservedUsd() {
    return reservedUsd;
  }

  public long used() {
    return used;
  }

  public long reservedRequests() {
    return reservedRequests;
  }
}
