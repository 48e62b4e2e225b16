package io.qaforge.pacing;

import io.qaforge.llm.ModelSpec;
import java.util.Map;
import java.util.function.LongSupplier;

/** Simulated time for single-threaded tests: sleeping advances the clock. */
final class SimClock implements LongSupplier, LocalPacer.Sleeper {
  static final long MS = 1_000_000L;
  static final long S = 1_000_000_000L;

  long now = 5_000 * S;

  @Override
  public long getAsLong() {
    return now;
  }

  @Override
  public void sleepUntil(long deadlineNanos) {
    now = Math.max(now, deadlineNanos);
  }

  void advance(long nanos) {
    now += nanos;
  }

  static ModelSpec spec(String alias, double rpm, double tpm, double inUsd, double outUsd) {
    return new ModelSpec(
        alias, "openai", alias, "chat", "", inUsd, outUsd, 0, "o200k_base", rpm, tpm, "");
  }

  Coordinator coordinator(PacingSettings s, ModelSpec... specs) {
    Map<String, ModelSpec> m = new java.util.HashMap<>();
    for (ModelSpec sp : specs) {
      m.put(sp.alias(), sp);
    }
    return new Coordinator(m, s, this);
  }
}
