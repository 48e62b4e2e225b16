package io.qaforge.pacing;

import static io.qaforge.pacing.SimClock.MS;
import static io.qaforge.pacing.SimClock.S;
import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final SimClock clock = new SimClock();

  private static Attempt limited() {
    return Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, -1, "Rate limit reached", 2);
  }

  @Test
  void opensUnderSustained429sAndThenRefusesAtOnce() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults());
    LocalPacer pacer = new LocalPacer(c, clock);
    long start = clock.now;
    Pacer.Grant g;
    int attempts = 0;
    while ((g = pacer.acquire("gpt", 100, 0)).granted()) {
      attempts++;
      clock.advance(2 * MS);
      pacer.report("gpt", limited(), 100, 0, 0);
      assertThat(clock.now - start).isLessThan(120 * S);
    }
    // the adaptive rate fell to its floor (1/s) instead of stalling; the breaker decided
    assertThat(g.refusal()).isEqualTo(Pacer.Refusal.CIRCUIT_OPEN);
    assertThat(clock.now - start).isBetween(60 * S, 62 * S);
    assertThat(attempts).isGreaterThanOrEqualTo(20);
    assertThat(g.reason())
        .startsWith("gpt: provider refused ")
        .containsPattern("requests in a row for 6[01] s \\(last: 429 Rate limit reached\\)")
        .endsWith("; the run stops; re-run later to retry the failed rows");

    // every later acquire is refused immediately, without waiting
    long t = clock.now;
    for (int i = 0; i < 100; i++) {
      assertThat(pacer.acquire("gpt", 100, 0).refusal()).isEqualTo(Pacer.Refusal.CIRCUIT_OPEN);
    }
    assertThat(clock.now).isEqualTo(t);
    // other aliases are unaffected
    assertThat(pacer.acquire("other", 100, 0).granted()).isTrue();
    assertThat(c.progress().line()).contains("[circuit open]");
  }

  @Test
  void sporadic429sWithSuccessesInBetweenNeverOpen() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults());
    LocalPacer pacer = new LocalPacer(c, clock);
    long start = clock.now;
    int i = 0;
    while (clock.now - start < 600 * S) {
      Pacer.Grant g = pacer.acquire("gpt", 100, 0);
      assertThat(g.granted()).as("refused: %s", g.reason()).isTrue();
      clock.advance(MS);
      // 19 of 20 refused: a long streak, but a success every 20 keeps it alive
      Attempt a = ++i % 20 == 0 ? Attempt.ok("x", "stop", 1, 1, "m", 200) : limited();
      pacer.report("gpt", a, 100, 0, 0);
    }
  }

  @Test
  void streakMustLastOpenAfterNotJustCountFailures() {
    CircuitBreaker b = new CircuitBreaker("m", 20, 60 * S);
    long t = clock.now;
    // 500 failures within 10 s: many in a row, but not for 60 s yet
    for (int i = 0; i < 500; i++) {
      b.record(t + i * 20 * MS, limited());
    }
    assertThat(b.isOpen(t + 10 * S)).isFalse();
    // an idle minute after a success does not count as refusals
    b.record(t + 11 * S, Attempt.ok("x", "stop", 1, 1, "m", 200));
    for (int i = 0; i < 19; i++) {
      b.record(t + 200 * S + i * MS, limited());
    }
    assertThat(b.isOpen(t + 400 * S)).isFalse(); // 19 < 20
    b.record(t + 400 * S, Attempt.failure(Attempt.Kind.TIMEOUT, 0, -1, "", 120_000));
    assertThat(b.isOpen(t + 400 * S)).isTrue();
    assertThat(b.reason()).contains("refused 20 requests in a row for 200 s (last: timeout)");
  }

  @Test
  void clientErrorsEndTheStreak() {
    CircuitBreaker b = new CircuitBreaker("m", 3, 0);
    b.record(0, limited());
    b.record(1, limited());
    b.record(2, Attempt.failure(Attempt.Kind.CLIENT_ERROR, 400, -1, "bad request", 1));
    b.record(3, limited());
    assertThat(b.isOpen(3)).isFalse();
    b.record(4, Attempt.failure(Attempt.Kind.SERVER_ERROR, 503, -1, "overloaded", 1));
    b.record(5, Attempt.failure(Attempt.Kind.IO_ERROR, 0, -1, "connection reset", 1));
    assertThat(b.isOpen(5)).isTrue();
    assertThat(b.reason()).contains("(last: io error connection reset)");
  }
}
