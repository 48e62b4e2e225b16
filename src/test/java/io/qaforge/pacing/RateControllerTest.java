package io.qaforge.pacing;

import static io.qaforge.pacing.SimClock.MS;
import static io.qaforge.pacing.SimClock.S;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Admission rates in simulated time, through {@link LocalPacer} with a simulated sleeper. */
class RateControllerTest {
  private static final Attempt OVERLOADED =
      Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, -1, "overloaded", 1);

  private final SimClock clock = new SimClock();

  /** Acquires greedily until {@code until}, reporting each attempt at once; returns start times. */
  private List<Long> greedy(
      LocalPacer pacer,
      String alias,
      long until,
      long est,
      java.util.function.LongFunction<Attempt> answer)
      throws InterruptedException {
    List<Long> starts = new ArrayList<>();
    while (true) {
      Pacer.Grant g = pacer.acquire(alias, est, 0);
      if (!g.granted() || clock.now >= until) {
        return starts;
      }
      starts.add(clock.now);
      pacer.report(alias, answer.apply(clock.now), est, 0, 0);
    }
  }

  private static Attempt ok(long tokens) {
    return Attempt.ok("x", "stop", tokens / 2, tokens - tokens / 2, "m", 200);
  }

  private static int maxInWindow(List<Long> starts, long window) {
    int best = 0;
    int j = 0;
    for (int i = 0; i < starts.size(); i++) {
      while (starts.get(i) - starts.get(j) >= window) {
        j++;
      }
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  @Test
  void configuredRpmIsPacedExactlyOverTenMinutesWithoutBursts() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults(), SimClock.spec("m", 600, 0, 0, 0));
    LocalPacer pacer = new LocalPacer(c, clock);
    long start = clock.now;
    List<Long> starts = greedy(pacer, "m", start + 600 * S, 10, t -> ok(10));

    assertThat(c.controller("m").mode()).isEqualTo(RateController.Mode.CONFIGURED);
    assertThat((double) starts.size()).isCloseTo(6000, within(60.0)); // 600 RPM for 10 min ±1 %
    assertThat(maxInWindow(starts, S)).isLessThanOrEqualTo(11);
    assertThat(maxInWindow(starts, 100 * MS)).isLessThanOrEqualTo(2);

    // after an idle minute nothing has piled up: the next 20 requests still take ~2 s
    clock.advance(60 * S);
    long resume = clock.now;
    List<Long> after = greedy(pacer, "m", resume + 2 * S, 10, t -> ok(10));
    assertThat(after).hasSizeBetween(19, 21);
    assertThat(maxInWindow(after, S)).isLessThanOrEqualTo(11);
  }

  @Test
  void learnedHeaderLimitIsPacedAt99PercentWithinOneSecond() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults());
    LocalPacer pacer = new LocalPacer(c, clock);
    assertThat(c.controller("m").mode()).isEqualTo(RateController.Mode.ADAPTIVE);
    assertThat(pacer.acquire("m", 10, 0).granted()).isTrue();
    pacer.report("m", ok(10).withLimits(24000, -1), 10, 0, 0); // 400 requests/s

    long learnedAt = clock.now;
    List<Long> starts =
        greedy(pacer, "m", learnedAt + 3 * S, 10, t -> ok(10).withLimits(24000, -1));

    RateController ctl = c.controller("m");
    assertThat(ctl.mode()).isEqualTo(RateController.Mode.LEARNED);
    assertThat(ctl.rate()).isCloseTo(396, within(0.01));
    long firstSecond = starts.stream().filter(t -> t < learnedAt + S).count();
    assertThat(firstSecond).isBetween(392L, 397L);
    assertThat(maxInWindow(starts, S)).isLessThanOrEqualTo(397);
  }

  @Test
  void tokenLimitIsReservedByEstimateAndCorrectedByActuals() throws Exception {
    // 60,000 tokens/min = 1,000 tokens/s; no request limit
    long[] actual = {500};
    Coordinator c =
        clock.coordinator(PacingSettings.defaults(), SimClock.spec("m", 0, 60_000, 0, 0));
    LocalPacer pacer = new LocalPacer(c, clock);

    // estimates of 1,000 tokens, actual 500: the refunds let ~2 requests/s through
    long t0 = clock.now;
    List<Long> over = greedy(pacer, "m", t0 + 60 * S, 1000, t -> ok(actual[0]));
    assertThat((double) over.size()).isCloseTo(120, within(6.0));

    // estimates of 250, actual 1,000: the extra 750 become debt, so ~1 request/s
    clock.advance(60 * S);
    long t1 = clock.now;
    actual[0] = 1000;
    List<Long> under = greedy(pacer, "m", t1 + 60 * S, 250, t -> ok(actual[0]));
    assertThat((double) under.size()).isCloseTo(60, within(4.0));
    Coordinator.AliasProgress p = c.progress().aliases().get(0);
    assertThat(p.tokensIn() + p.tokensOut()).isEqualTo(over.size() * 500L + under.size() * 1000L);
  }

  @Test
  void learnedTokenLimitPacesTokens() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults());
    LocalPacer pacer = new LocalPacer(c, clock);
    pacer.acquire("m", 100, 0);
    pacer.report("m", ok(100).withLimits(-1, 60_000), 100, 0, 0);
    assertThat(c.controller("m").tokensPerMinute()).isCloseTo(59_400, within(1.0));
    long t0 = clock.now;
    List<Long> starts = greedy(pacer, "m", t0 + 60 * S, 1000, t -> ok(1000));
    // 59,400 tokens/min at 1,000 a request, plus the bucket's initial second
    assertThat((double) starts.size()).isCloseTo(60.4, within(2.0));
  }

  private static Attempt limited(long retryAfterMs) {
    return Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, retryAfterMs, "slow down", 3);
  }

  @Test
  void retryAfterPausesTheAliasWhenRefusalsComeInARow() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults(), SimClock.spec("m", 6000, 0, 0, 0));
    LocalPacer pacer = new LocalPacer(c, clock);
    for (int i = 0; i < 3; i++) {
      assertThat(pacer.acquire("m", 10, 0).granted()).isTrue();
    }
    long at = clock.now;
    for (int i = 0; i < 3; i++) {
      pacer.report("m", limited(5000), 10, 0, 0); // a limit window is exhausted
    }
    assertThat(c.progress().aliases().get(0).paused()).isTrue();

    assertThat(pacer.acquire("m", 10, 0).granted()).isTrue();
    assertThat(clock.now - at).isGreaterThanOrEqualTo(5 * S);
    assertThat(clock.now - at).isLessThan(5 * S + 50 * MS);
    // other aliases are not paused
    long before = clock.now;
    pacer.acquire("other", 10, 0);
    assertThat(clock.now - before).isLessThan(MS);
  }

  @Test
  void aLone429AmongSuccessesLowersTheRateWithoutPausing() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults(), SimClock.spec("m", 6000, 0, 0, 0));
    LocalPacer pacer = new LocalPacer(c, clock);
    for (int i = 0; i < 20; i++) {
      pacer.acquire("m", 10, 0);
      pacer.report("m", i == 10 ? limited(1000) : ok(10), 10, 0, 0);
    }
    assertThat(c.progress().aliases().get(0).paused()).isFalse();
    assertThat(c.controller("m").rate()).isLessThan(100);
    long at = clock.now;
    pacer.acquire("m", 10, 0);
    assertThat(clock.now - at).isLessThan(100 * MS);
  }

  @Test
  void retryAfterIsCappedSoAProviderCannotStallTheRun() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.defaults());
    LocalPacer pacer = new LocalPacer(c, clock);
    pacer.acquire("m", 10, 0);
    long at = clock.now;
    for (int i = 0; i < 3; i++) {
      pacer.report("m", limited(3_600_000), 10, 0, 0);
    }
    pacer.acquire("m", 10, 0);
    assertThat(clock.now - at).isBetween(60 * S, 61 * S);
  }

  @Test
  void overloadsFromBeforeTheLastDecreaseCountOnce() {
    RateController ctl = new RateController("m", 0, 0, PacingSettings.defaults(), clock);
    double start = ctl.rate();
    // a burst of 429s for requests sent at the same time lowers the rate once
    for (int i = 0; i < 30; i++) {
      ctl.onAttempt(Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, -1, "", 1), 0, 0);
      clock.advance(MS);
    }
    assertThat(ctl.decreases()).isEqualTo(1);
    assertThat(ctl.rate()).isLessThan(start);
    assertThat(ctl.inSlowStart()).isFalse();
  }

  @Test
  void anOverloadTeachesTheInFlightWindowWhichThenBoundsAdmission() {
    RateController ctl = adaptiveWithInFlight(50);
    assertThat(ctl.outstanding()).isEqualTo(50);
    assertThat(ctl.window()).isEqualTo(RateController.NO_WINDOW);

    // refused with 50 in flight (this one included): the server takes at most 49 at once
    ctl.onAttempt(OVERLOADED, 0, 0);
    assertThat(ctl.window()).isEqualTo(49);
    assertThat(ctl.outstanding()).isEqualTo(49);
    RateController.Booking full = ctl.book(1, 0, 10 * S);
    assertThat(full.granted()).isFalse();
    assertThat(full.retryAtNanos() - clock.now).isBetween(1L, 20 * MS); // soon: an answer is due
    assertThat(ctl.windowBlocked()).isTrue(); // (a pacer in this JVM wakes its caller on answers)

    // one answer back: room for exactly one more
    ctl.onAttempt(ok(10), 0, 0);
    assertThat(ctl.book(1, 0, 10 * S).granted()).isTrue();
    assertThat(ctl.windowBlocked()).isFalse();
    assertThat(ctl.book(1, 0, 10 * S).granted()).isFalse();

    // refused again with the window full, for a request sent after the change: one less in
    // flight, and the rate is left alone (the window, not the rate, was the limit)
    double rate = ctl.rate();
    clock.advance(10 * MS);
    ctl.onAttempt(OVERLOADED, 0, 0);
    assertThat(ctl.window()).isEqualTo(48);
    assertThat(ctl.rate()).isEqualTo(rate);
  }

  /** An adaptive controller that may learn a window, with {@code n} slots booked (in flight). */
  private RateController adaptiveWithInFlight(int n) {
    RateController ctl = new RateController("m", 0, 0, PacingSettings.defaults(), clock);
    ctl.allowWindow(true);
    for (int i = 0; i < n; i++) {
      assertThat(ctl.book(1, 0, 10 * S).granted()).isTrue();
    }
    return ctl;
  }

  /** Books until the window refuses. */
  private static void fillWindow(RateController ctl) {
    while (ctl.book(1, 0, 10 * S).granted()) {
      // one more in flight
    }
  }

  /** One round trip: books until the window is full, then every request in flight is answered. */
  private void roundTrip(RateController ctl) {
    fillWindow(ctl);
    clock.advance(210 * MS);
    for (long n = ctl.outstanding(); n > 0; n--) {
      ctl.onAttempt(ok(10), 0, 0);
    }
  }

  @Test
  void aWindowLearnedFromACountProbesEveryRoundUntilTheServerRefusesItFull() {
    RateController ctl = adaptiveWithInFlight(50);
    ctl.onAttempt(OVERLOADED, 0, 0);
    // learned from a count (while the client warms up, counts can run low): not yet confirmed, so
    // it probes every round with doubling steps, not after the 8-round plateau
    List<Integer> windows = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      roundTrip(ctl);
      windows.add(ctl.window());
    }
    assertThat(windows).containsExactly(49, 50, 52, 56);

    // (a new round: one more probe, to 64) refused with the window full: confirmed one under the
    // count; then it holds for the plateau
    fillWindow(ctl);
    assertThat(ctl.outstanding()).isEqualTo(64);
    double rate = ctl.rate();
    clock.advance(10 * MS);
    ctl.onAttempt(OVERLOADED, 0, 0);
    assertThat(ctl.window()).isEqualTo(63);
    assertThat(ctl.rate()).isEqualTo(rate);
    for (int i = 0; i < 4; i++) {
      roundTrip(ctl);
    }
    assertThat(ctl.window()).isEqualTo(63);
    // a confirmed window loses one slot per refusal, however low the count at that moment
    fillWindow(ctl);
    for (int i = 0; i < 5; i++) {
      ctl.onAttempt(ok(10), 0, 0); // 58 of 63 still in flight: the window is 92 % full
    }
    clock.advance(10 * MS);
    ctl.onAttempt(OVERLOADED, 0, 0);
    assertThat(ctl.window()).isEqualTo(62);
  }

  @Test
  void noWindowForSmallCountsForAnnouncedLimitsOrWhenNotAllowed() {
    // fewer than 33 in flight at the overload: the rate alone paces
    RateController small = new RateController("m", 0, 0, PacingSettings.defaults(), clock);
    small.allowWindow(true);
    for (int i = 0; i < 20; i++) {
      small.book(1, 0, 10 * S);
    }
    small.onAttempt(Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, -1, "", 1), 0, 0);
    assertThat(small.window()).isEqualTo(RateController.NO_WINDOW);
    assertThat(small.decreases()).isEqualTo(1);

    // a configured limit, or a window not allowed (batched reports): no window either
    RateController configured = new RateController("m", 6000, 0, PacingSettings.defaults(), clock);
    RateController remote = new RateController("m", 0, 0, PacingSettings.defaults(), clock);
    RateController off =
        new RateController("m", 0, 0, PacingSettings.defaults().window(false), clock);
    configured.allowWindow(true);
    off.allowWindow(true);
    for (RateController ctl : List.of(configured, remote, off)) {
      for (int i = 0; i < 50; i++) {
        ctl.book(1, 0, 10 * S);
      }
      ctl.onAttempt(Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, -1, "", 1), 0, 0);
      assertThat(ctl.window()).isEqualTo(RateController.NO_WINDOW);
    }
  }

  @Test
  void aSlotMissedByAFewMillisecondsIsStillHandedOutButIdleTimeDoesNotPileUp() {
    RateController ctl = new RateController("m", 6000, 0, PacingSettings.defaults(), clock);
    long t0 = clock.now;
    assertThat(ctl.book(1, 0, 0).firstSlotNanos()).isEqualTo(t0);
    clock.advance(15 * MS); // the slot at t0 + 10 ms was not taken in time
    RateController.Booking late = ctl.book(1, 0, 0);
    assertThat(late.firstSlotNanos()).isEqualTo(t0 + 10 * MS); // taken 5 ms late, not lost
    assertThat(ctl.book(1, 0, 10 * MS).firstSlotNanos()).isEqualTo(t0 + 20 * MS);

    // after an idle second at most 10 ms of slots are made up: one slot, then the normal spacing
    clock.advance(S);
    long now = clock.now;
    assertThat(ctl.book(1, 0, 0).firstSlotNanos()).isEqualTo(now - 10 * MS);
    assertThat(ctl.book(1, 0, 10 * MS).firstSlotNanos()).isEqualTo(now);
  }
}
