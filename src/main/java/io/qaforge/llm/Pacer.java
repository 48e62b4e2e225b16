package io.qaforge.llm;

/**
 * Job-wide admission control, as seen from one executor: request and token rates per model alias
 * (configured, learned from rate-limit headers, adapted on 429/overload), the run's budget and the
 * circuit breaker. Implementations share one state across all tasks of all executors (the driver
 * coordinates); {@link #UNLIMITED} admits everything (tests, dry-run).
 */
public interface Pacer {
  /**
   * Blocks until one request for {@code alias} may be sent, or returns a refusal when the run's
   * budget is spent or the breaker for the alias is open. Estimates are reserved against the token
   * rate and the budget and corrected by {@link #report}.
   */
  Grant acquire(String alias, long estimatedTokens, double estimatedCostUsd)
      throws InterruptedException;

  /** Reports one finished attempt (any kind) with its actual cost (0 when not billed). */
  void report(
      String alias, Attempt attempt, long estimatedTokens, double estimatedCostUsd, double costUsd);

  /**
   * Whether {@link #acquire} uses the token and cost estimates of {@code alias} now: a token rate
   * is paced (configured or learned from rate-limit headers) or the run has a cost budget. When
   * not, callers may pass a rough estimate instead of counting every prompt with the tokenizer.
   * Implementations that cannot tell say true.
   */
  default boolean usesTokenEstimates(String alias) {
    return true;
  }

  /** The answer to {@link #acquire}: granted, or refused with a reason for the row's error. */
  record Grant(boolean granted, Refusal refusal, String reason) {
    public static final Grant OK = new Grant(true, null, null);

    public static Grant refused(Refusal refusal, String reason) {
      return new Grant(false, refusal, reason);
    }
  }

  /** Why a request was not admitted. */
  enum Refusal {
    /** max-cost-usd or max-requests reached: the row ends as skipped_budget. */
    BUDGET,
    /** the provider kept refusing; the breaker stops the run cleanly: the row ends as failed. */
    CIRCUIT_OPEN
  }

  Pacer UNLIMITED =
      new Pacer() {
        @Override
        public Grant acquire(String alias, long estimatedTokens, double estimatedCostUsd) {
          return Grant.OK;
        }

        @Override
        public boolean usesTokenEstimates(String alias) {
          return false;
        }

        @Override
        public void report(
            String alias,
            Attempt attempt,
            long estimatedTokens,
            double estimatedCostUsd,
            double costUsd) {}
      };
}
