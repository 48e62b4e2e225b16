package io.qaforge.llm;

import java.io.Serializable;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bounded retries: {@code maxAttempts} calls per request for retryable failures (429, 5xx,
 * timeouts, connection errors) with exponential backoff and full jitter, never shorter than the
 * server's Retry-After; {@code repairAttempts} extra calls for malformed or schema-invalid output.
 */
public record RetryPolicy(
    int maxAttempts, long backoffInitialMs, long backoffMaxMs, int repairAttempts)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Delay before attempt {@code attempt + 1}, given the attempt that just failed. */
  public long delayMs(int attempt, long retryAfterMs) {
    long exp = Math.min(backoffMaxMs, backoffInitialMs << Math.min(20, Math.max(0, attempt - 1)));
    long jittered = exp / 2 + ThreadLocalRandom.current().nextLong(exp / 2 + 1);
    if (retryAfterMs >= 0) {
      // the server said when: wait that long, plus a little jitter so retries do not synchronise
      return Math.min(backoffMaxMs, retryAfterMs) + ThreadLocalRandom.current().nextLong(50);
    }
    return jittered;
  }
}
