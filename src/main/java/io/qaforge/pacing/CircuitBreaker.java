package io.qaforge.pacing;

import io.qaforge.llm.Attempt;
import java.util.Locale;

/**
 * Stops an alias whose provider keeps refusing, instead of slowing down forever (the stall of Data
 * Designer #575).
 *
 * <p>The rule: a <em>refusal</em> is an attempt of kind RATE_LIMITED, SERVER_ERROR, IO_ERROR or
 * TIMEOUT; any other outcome (OK, CLIENT_ERROR, MALFORMED: the provider answered) ends the streak.
 * The breaker opens when the current streak of consecutive refusals counts at least {@code
 * minFailures} (default 20) attempts <em>and</em> its first refusal is at least {@code openAfter}
 * (default 60 s) old. It is checked on every report and on every acquire (so a long Retry-After
 * pause cannot hide it), and once open it stays open for the rest of the run: every acquire for the
 * alias is refused at once with {@link #reason()}, the rows end as failed, and a re-run retries
 * them. Not thread-safe: the {@link Coordinator} serialises calls.
 */
public final class CircuitBreaker {
  private final String alias;
  private final int minFailures;
  private final long openAfterNanos;
  private long streak;
  private long streakStart;
  private String last = "";
  private String reason;

  public CircuitBreaker(String alias, int minFailures, long openAfterNanos) {
    this.alias = alias;
    this.minFailures = Math.max(1, minFailures);
    this.openAfterNanos = Math.max(0, openAfterNanos);
  }

  public static boolean isRefusal(Attempt a) {
    return switch (a.kind()) {
      case RATE_LIMITED, SERVER_ERROR, IO_ERROR, TIMEOUT -> true;
      default -> false;
    };
  }

  public void record(long now, Attempt a) {
    if (reason != null) {
      return;
    }
    if (isRefusal(a)) {
      if (streak == 0) {
        streakStart = now;
      }
      streak++;
      last = describe(a);
      check(now);
    } else {
      streak = 0;
    }
  }

  /** Whether the breaker is open (evaluates the rule at {@code now}). */
  public boolean isOpen(long now) {
    if (reason == null) {
      check(now);
    }
    return reason != null;
  }

  private void check(long now) {
    if (streak >= minFailures && now - streakStart >= openAfterNanos) {
      reason =
          String.format(
              Locale.ROOT,
              "%s: provider refused %d requests in a row for %d s (last: %s); the run stops;"
                  + " re-run later to retry the failed rows",
              alias,
              streak,
              Math.round((now - streakStart) / 1e9),
              last);
    }
  }

  /** The refusal text once open, else null. */
  public String reason() {
    return reason;
  }

  public long streak() {
    return streak;
  }

  private static String describe(Attempt a) {
    String what =
        a.httpStatus() > 0
            ? String.valueOf(a.httpStatus())
            : a.kind().name().toLowerCase(Locale.ROOT).replace('_', ' ');
    String err = a.error() == null ? "" : a.error().strip();
    if (err.length() > 120) {
      err = err.substring(0, 117) + "...";
    }
    return err.isEmpty() ? what : what + " " + err;
  }
}
