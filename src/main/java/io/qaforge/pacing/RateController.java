package io.qaforge.pacing;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.qaforge.llm.Attempt;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Decides when requests for one model alias may start, for the whole job. Spark-free and driven by
 * an injectable clock, so tests run it in simulated time. Not thread-safe: the {@link Coordinator}
 * serialises all calls.
 *
 * <h2>Request rate</h2>
 *
 * Requests are admitted on a schedule of evenly spaced <em>slots</em> (GCRA: a "theoretical arrival
 * time" that advances by 1/rate per slot and never lies in the past, so idle time does not pile up
 * into a burst), so the aggregate of all executors is paced exactly. Slots are booked only a little
 * ahead (10 ms for a pacer in this JVM, about one lease window for remote ones), so a lower rate
 * takes effect at once; a rate change re-spaces the next free slot from the last booked one. The
 * rate comes from, in priority:
 *
 * <ol>
 *   <li><b>CONFIGURED</b>: {@code requests-per-minute} of the alias; paced at exactly that rate.
 *   <li><b>LEARNED</b>: the server's {@code x-ratelimit-limit-requests} (per minute), paced at
 *       {@code headerSafety} (0.99) of it from the first answer that carries it.
 *   <li><b>ADAPTIVE</b>: neither known: AIMD on the request rate, starting at 64 req/s, in rounds
 *       of one smoothed round trip (latency of successful answers, clamped to [50 ms, 2 s]). The
 *       rate only grows in a round where at least 80 % of its slots were booked (no growth without
 *       demand) and nothing paused it:
 *       <ul>
 *         <li>slow start: ×2 per round until the first overload;
 *         <li>on an overload (429, or 503/529) for a request sent after the last decrease, at most
 *             once per round: remember the rate as W; cut it to (share of recent answers that got
 *             through) × 0.95, at least to half; after a slow-start doubling or a probe step, go
 *             back to the rate before that step instead when that is lower (it held for a round);
 *         <li>then each round close half the gap to 0.99·W (at least +0.5 req/s); hold there for 8
 *             rounds and 600 admitted requests; then probe above it with +0.5 % of the rate,
 *             doubling per round without overload (at most ×64).
 *       </ul>
 *       Against a server limited to C requests in flight (rate × latency = in flight) this settles
 *       0.5-1.5 % under C/latency with one 429 per probe cycle of a few seconds (see the
 *       simulations in the tests: ≥ 0.97 of capacity, about 0.1 % 429s).
 * </ol>
 *
 * Configured and learned limits are ceilings: an overload still lowers the rate below them, and it
 * climbs back the same way. When the provider refuses {@code pauseAfterRefusals} (3) requests in a
 * row and refusals are at least half of the recent answers (decayed over one round), a limit window
 * is exhausted: admission for the alias pauses until the latest Retry-After of those answers
 * (capped at {@code maxRetryAfter}). 429s among successes (a concurrency limit) only lower the
 * rate; each such request waits for its own Retry-After in the dispatcher.
 *
 * <h2>In-flight window</h2>
 *
 * In ADAPTIVE mode, while every caller reports its answers at once (pacers in the coordinator's
 * JVM; not while remote executors lease slots or send batched reports, which would make the count
 * lag), the controller also learns how many requests the server takes at once. It counts the
 * requests in flight (slots booked and not yet reported or given back). The first overload with at
 * least {@value #MIN_WINDOW} in flight sets the window to one less than were in flight then; a
 * later overload with the window at least {@value #WINDOW_FULL} full lowers it by one (once for
 * requests sent before the change) and leaves the rate alone, since the in-flight count explains
 * it; an overload with fewer in flight is the rate's (it decreases as above) and lowers the window
 * to that count. A learned window never goes under {@value #MIN_WINDOW} (one request is several
 * percent of a smaller one, and the rate is the finer control); an overload the minimum window
 * cannot absorb lowers the rate. While the window holds requests back the rate does not grow (it
 * would only bunch them), and after the plateau (8 rounds, and 25 requests per window slot up to
 * 600) the window probes one higher, doubling the step while probes hold. A window learned from a
 * count (the first overload, or one with the window not full) is not trusted yet: counts taken
 * while a JVM warms up run low, so it probes every round until a full window is refused, which
 * confirms it (one under the count then); a confirmed window loses one slot per refusal, however
 * low the count at that moment. After a decrease while answers were slow, the rate's target scales
 * with the shorter latency once a window paces the alias (a server that holds requests takes more
 * of them per second when each is quicker). While the window explains the refusals (the last one
 * after the first came with the window full), the rate's target is at least window / round trip, so
 * the rate never keeps the window from filling: a cold client that counts its answers late counts
 * far more in flight at the first refusal than its rate explains, and the rate cut then would
 * otherwise hold it under the server for a whole plateau (measured: 127 requests/s for 5 s against
 * a server that takes 320). A refusal with room in the window (a rate limit) ends that until a full
 * window is refused again. An answer that opens a full window wakes the caller waiting for it
 * ({@link LocalPacer}). Against a server with a concurrency capacity this keeps it full
 * (simulations: 0.99-1.0 of capacity with 2 % latency jitter, against 0.97 with the rate alone;
 * measured against a local server with capacity 64 and 200 ms latency: 0.97-0.98 of its nominal 320
 * requests/s after the first 10 s, against 0.92 before the window).
 *
 * <h2>Tokens</h2>
 *
 * With {@code tokens-per-minute} configured or learned from {@code x-ratelimit-limit-tokens}
 * (×0.99), a bucket4j token bucket (capacity {@code tokenBurst} of the limit, greedy refill) holds
 * the tokens: each slot reserves the request's estimated tokens (a request larger than the bucket
 * waits until it is full and leaves a debt), and the report corrects by the actual prompt +
 * completion tokens (refund or extra debt).
 */
public final class RateController {
  /** Where the request rate comes from. */
  public enum Mode {
    CONFIGURED,
    LEARNED,
    ADAPTIVE
  }

  /**
   * Slots handed out: {@code count} requests, the first at {@code firstSlotNanos}, then one every
   * {@code intervalNanos}; {@code tokens} reserved from the token bucket. {@code count == 0} means
   * nothing fits in the lease window: ask again at {@code retryAtNanos}.
   */
  public record Booking(
      int count, long firstSlotNanos, long intervalNanos, long tokens, long retryAtNanos) {
    public boolean granted() {
      return count > 0;
    }
  }

  /** Share of the offered slots that must have been booked in a round for the rate to grow. */
  static final double UTILIZED = 0.8;

  /** Fewest recent answers for their overload share to size a decrease. */
  private static final int MIN_ANSWERS_FOR_SHARE = 5;

  /** The decrease when too few answers came back recently to measure the overload share. */
  static final double SMALL_SAMPLE_DECREASE = 0.9;

  /**
   * How late a slot may be taken (GCRA burst tolerance): measured against a server with a 400
   * requests/s limit, pacing without it delivered 0.96 of the rate it paced, because callers that
   * came back a few ms late lost their slot for good.
   */
  static final long CATCH_UP_NANOS = 10_000_000L;

  /** {@link #window()} when no in-flight limit has been learned. */
  public static final int NO_WINDOW = Integer.MAX_VALUE;

  /**
   * An overload with at least this share of the window in flight is the window's: it shrinks, and
   * the rate stays. With fewer in flight, the rate was too high, and the rate decreases. (The count
   * includes requests on their way to and from the server, so a concurrency limit shows a little
   * under the window.)
   */
  static final double WINDOW_FULL = 0.9;

  /** The smallest in-flight window used; below it, the rate alone paces the alias. */
  static final int MIN_WINDOW = 32;

  /** Requests per in-flight slot admitted before the window probes higher (at most plateau). */
  private static final long REQUESTS_PER_WINDOW_SLOT = 25;

  /** The largest window probe step (requests). */
  private static final int MAX_WINDOW_STEP = 16;

  private final String alias;
  private final PacingSettings s;
  private final LongSupplier clock;
  private final double configuredRps;
  private final double configuredTpm;
  private double learnedRpm;
  private double learnedTpm;

  private double rate;
  private boolean slowStart;
  private double wMax;
  private int plateauRounds;
  private int probeSteps;
  private double rateBeforeProbe;
  private long roundStart;
  private long bookedInRound;
  private long bookedSinceDecrease;
  private double recentAnswers;
  private double recentOverloads;
  private long lastAnswerAt;
  private long lastDecrease;
  private boolean decreased;
  private double srttNanos = -1;
  private double srttAtDecrease = -1;
  private long tat;
  private long lastSlot = Long.MIN_VALUE;
  private long pausedUntil;
  private int overloadStreak;
  private long streakRetryUntil = Long.MIN_VALUE;

  private Bucket tokenBucket;
  private double bucketTpm;
  private long bucketCapacity;

  private long overloads;
  private long decreases;

  /** Slots booked and not yet reported back or returned: the requests in flight, job-wide. */
  private long outstanding;

  private boolean windowAllowed;
  private int window = NO_WINDOW;
  private boolean windowFullInRound;
  private int windowRounds;
  private int windowProbes;
  private long admittedSinceWindowChange;
  private long lastWindowChange;
  private boolean windowChanged;
  private boolean windowConfirmed;
  private boolean windowBlocked;
  private boolean rateRefused;

  public RateController(
      String alias,
      double requestsPerMinute,
      double tokensPerMinute,
      PacingSettings settings,
      LongSupplier nanoTime) {
    this.alias = alias;
    this.s = settings;
    this.clock = nanoTime;
    this.configuredRps = requestsPerMinute > 0 ? requestsPerMinute / 60.0 : 0;
    this.configuredTpm = tokensPerMinute > 0 ? tokensPerMinute : 0;
    long now = clock.getAsLong();
    this.roundStart = now;
    this.lastAnswerAt = now;
    this.tat = now;
    this.pausedUntil = now;
    if (configuredRps > 0) {
      rate = configuredRps;
      slowStart = false;
    } else {
      rate = s.initialRate();
      slowStart = true;
    }
    if (configuredTpm > 0) {
      setTokenLimit(configuredTpm);
    }
  }

  public String alias() {
    return alias;
  }

  /** The request rate being paced now, requests/s. */
  public double rate() {
    return rate;
  }

  public Mode mode() {
    if (configuredRps > 0) {
      return Mode.CONFIGURED;
    }
    return learnedRpm > 0 ? Mode.LEARNED : Mode.ADAPTIVE;
  }

  /** The highest rate allowed (configured, or learned × safety), or infinity when adaptive. */
  public double ceiling() {
    if (configuredRps > 0) {
      return configuredRps;
    }
    if (learnedRpm > 0) {
      return learnedRpm / 60.0 * s.headerSafety();
    }
    return Double.POSITIVE_INFINITY;
  }

  /** Tokens per minute paced (configured, or learned × safety), 0 when none. */
  public double tokensPerMinute() {
    return bucketTpm;
  }

  public boolean inSlowStart() {
    return slowStart;
  }

  /** Smoothed latency of successful answers in ms, or -1 before the first. */
  public double srttMs() {
    return srttNanos < 0 ? -1 : srttNanos / 1e6;
  }

  public long pausedUntilNanos() {
    return pausedUntil;
  }

  public long overloads() {
    return overloads;
  }

  public long decreases() {
    return decreases;
  }

  /** The learned in-flight limit, or {@link #NO_WINDOW}. */
  public int window() {
    return window;
  }

  /** Whether the last booking was refused because the in-flight window was full. */
  public boolean windowBlocked() {
    return windowBlocked;
  }

  /** Requests in flight (slots booked, not yet reported or given back). */
  public long outstanding() {
    return outstanding;
  }

  /**
   * Whether the in-flight window may be used: the {@link Coordinator} allows it while every caller
   * of the alias reports its answers at once (pacers in its own JVM), so the in-flight count is
   * exact. Batched reports from remote executors would make it lag.
   */
  public void allowWindow(boolean allowed) {
    this.windowAllowed = allowed;
  }

  private boolean windowLearning() {
    return windowAllowed && s.concurrencyWindow() && mode() == Mode.ADAPTIVE;
  }

  private boolean windowActive() {
    return window != NO_WINDOW && windowLearning();
  }

  /** When to look again for room in a full window: about half the time one answer takes. */
  private long windowRecheckNanos() {
    double rtt = srttNanos < 0 ? s.initialRtt().toNanos() : srttNanos;
    return (long) Math.max(500_000, Math.min(20_000_000, rtt / Math.max(1, window) / 2));
  }

  private double floorRate() {
    return Math.min(s.minRate(), ceiling());
  }

  private long roundNanos() {
    double r = srttNanos < 0 ? s.initialRtt().toNanos() : srttNanos;
    return (long)
        Math.max(s.minRound().toNanos(), Math.min(s.maxRound().toNanos(), Math.max(1, r)));
  }

  private long intervalNanos() {
    return Math.max(1, Math.round(1e9 / rate));
  }

  private double tokensPerNano() {
    return bucketTpm / 60e9;
  }

  /**
   * Books up to {@code permits} slots within {@code horizonNanos} from now, each reserving {@code
   * tokensEach} tokens. Slots may start in the future: the caller waits for each.
   */
  public Booking book(int permits, long tokensEach, long horizonNanos) {
    return book(permits, 1, tokensEach, horizonNanos);
  }

  /**
   * As {@link #book(int, long, long)}, but hands out nothing unless at least {@code minPermits}
   * slots fit in the window (a client that still holds slots asks for a worthwhile batch, not
   * crumbs).
   */
  public Booking book(int permits, int minPermits, long tokensEach, long horizonNanos) {
    long now = clock.getAsLong();
    advance(now);
    windowBlocked = false; // until this booking finds the window full
    long horizon = Math.max(0, horizonNanos);
    long limit = now + horizon;
    // a slot missed by at most CATCH_UP (its caller came a little late) is still handed out, so
    // callers that are busy for a moment (writing a row, a GC pause) do not lose the rate
    // (with an in-flight window, answers pace the callers: no catching up, no bunching)
    long catchUp = windowActive() ? 0 : CATCH_UP_NANOS;
    long first = Math.max(tat, Math.max(now - catchUp, pausedUntil));
    long tokEach = Math.max(0, tokensEach);
    if (tokenBucket != null && tokEach > 0) {
      long need = Math.min(tokEach, bucketCapacity);
      long available = tokenBucket.getAvailableTokens();
      if (available < need) {
        first = Math.max(first, now + (long) Math.ceil((need - available) / tokensPerNano()));
      }
    }
    long interval = intervalNanos();
    int want = Math.max(1, permits);
    long room = Long.MAX_VALUE;
    if (windowActive()) {
      room = window - outstanding;
      if (room <= 0) {
        // the window is full: look again when an answer has probably come back
        windowFullInRound = true;
        windowBlocked = true;
        return new Booking(0, 0, 0, 0, now + windowRecheckNanos());
      }
      if (room < want) {
        windowFullInRound = true; // the window held some back
        want = (int) room;
      }
    }
    if (first > limit) {
      // come back when the next free slot enters the window
      return new Booking(0, 0, 0, 0, Math.max(now + 1, first - horizon));
    }
    // as many slots as fit in the window, but at least the batch asked for (it may reach a few
    // slots past the window): a client that asks for a batch gets one instead of a WAIT
    long least = Math.max(1, Math.min(Math.min(minPermits, want), horizon / interval));
    int k = (int) Math.min(want, Math.max(least, 1 + (limit - first) / interval));
    long tokens = 0;
    if (tokenBucket != null && tokEach > 0) {
      double byLimit = tokenBucket.getAvailableTokens() + (limit - now) * tokensPerNano();
      k = (int) Math.max(1, Math.min(k, (long) Math.floor(byLimit / tokEach)));
      tokens = k * tokEach;
      tokenBucket.consumeIgnoringRateLimits(tokens);
    }
    tat = first + k * interval;
    lastSlot = tat - interval;
    bookedInRound += k;
    bookedSinceDecrease += k;
    outstanding += k;
    admittedSinceWindowChange += k;
    return new Booking(k, first, interval, tokens, 0);
  }

  /**
   * Slots that were booked but not used: when they are the last ones booked, the schedule is
   * rewound so nobody loses them; their tokens go back to the bucket.
   */
  public void giveBack(int permits, long firstSlotNanos, long intervalNanos, long tokens) {
    long now = clock.getAsLong();
    if (permits > 0 && intervalNanos > 0) {
      long end = firstSlotNanos + permits * intervalNanos;
      if (Math.abs(end - tat) <= intervalNanos / 2) {
        tat = Math.max(now, firstSlotNanos);
        lastSlot = tat - intervalNanos;
      }
      bookedInRound = Math.max(0, bookedInRound - permits);
    }
    outstanding = Math.max(0, outstanding - Math.max(0, permits));
    if (tokenBucket != null && tokens > 0) {
      tokenBucket.addTokens(tokens);
    }
  }

  /**
   * One finished attempt: latency, limits from headers, token correction, overload reaction.
   *
   * @param ageNanos how long ago the attempt finished (reports from executors arrive batched)
   */
  public void onAttempt(Attempt a, long estimatedTokens, long ageNanos) {
    long now = clock.getAsLong();
    long completedAt = now - Math.max(0, ageNanos);
    long inFlight = outstanding; // including this attempt
    outstanding = Math.max(0, outstanding - 1);
    double decay = Math.exp(-Math.max(0, now - lastAnswerAt) / (double) roundNanos());
    lastAnswerAt = now;
    recentAnswers = recentAnswers * decay + 1;
    recentOverloads = recentOverloads * decay + (isOverload(a) ? 1 : 0);
    if (a.kind() == Attempt.Kind.OK && a.latencyMs() >= 0) {
      double x = a.latencyMs() * 1e6;
      srttNanos = srttNanos < 0 ? x : 0.875 * srttNanos + 0.125 * x;
    }
    if (a.limitRequestsPerMinute() > 0) {
      learnRequests(a.limitRequestsPerMinute());
    }
    if (a.limitTokensPerMinute() > 0) {
      learnTokens(a.limitTokensPerMinute());
    }
    if (tokenBucket != null) {
      long delta = a.promptTokens() + a.completionTokens() - Math.max(0, estimatedTokens);
      if (delta > 0) {
        tokenBucket.consumeIgnoringRateLimits(delta);
      } else if (delta < 0) {
        tokenBucket.addTokens(-delta);
      }
    }
    if (isOverload(a)) {
      overload(now, completedAt, a, inFlight);
    } else {
      overloadStreak = 0;
      streakRetryUntil = Long.MIN_VALUE;
    }
  }

  /** 429, or 503/529 (overloaded): the signals that lower the rate. */
  public static boolean isOverload(Attempt a) {
    return a.kind() == Attempt.Kind.RATE_LIMITED
        || a.httpStatus() == 429
        || (a.kind() == Attempt.Kind.SERVER_ERROR
            && (a.httpStatus() == 503 || a.httpStatus() == 529));
  }

  private void overload(long now, long completedAt, Attempt a, long inFlight) {
    overloads++;
    overloadStreak++;
    long maxPause = s.maxRetryAfter().toNanos();
    if (a.retryAfterMs() > 0 && maxPause > 0) {
      long pause = Math.min(maxPause, a.retryAfterMs() * 1_000_000L);
      streakRetryUntil = Math.max(streakRetryUntil, completedAt + pause);
    }
    if (overloadStreak >= s.pauseAfterRefusals()
        && recentOverloads >= 0.5 * recentAnswers
        && streakRetryUntil != Long.MIN_VALUE) {
      // refused several times in a row, and most recent answers are refusals: a limit window is
      // exhausted, so wait as told; 429s among successes (a concurrency limit) only lower the rate
      pausedUntil = Math.max(pausedUntil, streakRetryUntil);
    }
    long sentAt = completedAt - Math.max(0, a.latencyMs()) * 1_000_000L;
    if (windowLearning()) {
      // a request sent after the last change that was still refused: the window is still too big
      boolean fresh = !windowChanged || sentAt >= lastWindowChange;
      boolean first = window == NO_WINDOW;
      boolean full = !first && inFlight >= WINDOW_FULL * window;
      boolean shrunk = false;
      if (fresh) {
        // refused with this many in flight: the server takes at most one less at once. With the
        // window well above what was in flight, the window was wrong (learned while the rate was
        // still growing, or the server limits the rate): it is learned again from this refusal,
        // and the rate reacts too
        // (a confirmed window shrinks by one per fresh refusal: the count is a little noisy, and
        // one low count must not take several slots off a window the server has confirmed)
        long next =
            !full ? inFlight - 1 : windowConfirmed ? window - 1L : Math.min(window, inFlight) - 1;
        int before = window;
        if (first) {
          // a small window is a coarse control (one request is several percent of it): the rate
          // keeps such servers busy more evenly
          window = next < MIN_WINDOW ? NO_WINDOW : (int) next;
        } else {
          // a learned window stays (a count taken in a noisy moment must not drop it): at least
          // the minimum, where a window too big for the server lets the rate do the pacing
          window = (int) Math.max(MIN_WINDOW, next);
        }
        shrunk = window < before;
        // a full window refused: the server's limit is about here. Otherwise the window was
        // (re)learned from a count that may be low: it probes without a plateau until confirmed
        windowConfirmed = full;
        if (window != before) {
          windowChanged = true;
          lastWindowChange = now;
          windowRounds = 0;
          windowProbes = 0;
          admittedSinceWindowChange = 0;
        }
      }
      if (!first) {
        // refused with room in the window: the server limits the rate, not the requests in flight
        rateRefused = !full;
      }
      if (full && (shrunk || !fresh)) {
        // the in-flight count, not the rate, explains this refusal: the rate stays (unless the
        // window is at its minimum and cannot take it)
        return;
      }
    }
    if (decreased && (sentAt < lastDecrease || now - lastDecrease < roundNanos())) {
      return; // caused by the rate before the last decrease, or already reacted this round
    }
    double next;
    if (recentAnswers < MIN_ANSWERS_FOR_SHARE) {
      next = rate * SMALL_SAMPLE_DECREASE;
    } else {
      // cut to the share that got through, and a little more (at most to half)
      double passed = 1 - recentOverloads / recentAnswers;
      next = rate * Math.max(0.5, passed * s.decreaseFactor());
    }
    if ((slowStart || probeSteps > 0) && rateBeforeProbe > 0 && s.probeFallback()) {
      // the last probe step found the limit: go back to the level before it, which held
      next = Math.min(next, rateBeforeProbe);
    }
    wMax = rate;
    srttAtDecrease = srttNanos;
    slowStart = false;
    setRate(Math.max(floorRate(), next));
    lastDecrease = now;
    decreased = true;
    bookedSinceDecrease = 0;
    plateauRounds = 0;
    probeSteps = 0;
    decreases++;
    newRound(now);
  }

  private void newRound(long now) {
    roundStart = now;
    bookedInRound = 0;
  }

  /** Ends a round when one round trip has passed: grows the rate if it was used. */
  private void advance(long now) {
    if (now - roundStart < roundNanos()) {
      return;
    }
    double offered = rate * (now - roundStart) / 1e9;
    boolean utilized = bookedInRound >= UTILIZED * offered;
    boolean paused = pausedUntil > roundStart;
    boolean windowLimited = windowActive() && windowFullInRound;
    if (utilized && !paused && !windowLimited) {
      increase(); // (while the window is the limit, a higher rate would only bunch requests)
    }
    if (windowActive() && windowFullInRound && !paused) {
      // the window was the limit all round and held: after the plateau, probe one more in flight,
      // doubling the step while probes hold
      windowRounds++;
      long hold = Math.min(s.plateauRequests(), REQUESTS_PER_WINDOW_SLOT * window);
      boolean plateauHeld = windowRounds > s.plateauRounds() && admittedSinceWindowChange >= hold;
      if (plateauHeld || !windowConfirmed) {
        long step = Math.min(MAX_WINDOW_STEP, 1L << Math.min(windowProbes, 4));
        window = (int) Math.min(NO_WINDOW - 1L, window + step);
        windowProbes++;
      }
    }
    windowFullInRound = false;
    newRound(now);
  }

  private void increase() {
    double before = rate;
    double ceil = ceiling();
    if (slowStart) {
      rateBeforeProbe = rate;
      rate *= s.slowStartFactor();
    } else {
      double target = wMax > 0 ? Math.min(ceil, wMax * s.plateauFraction()) : ceil;
      if (windowActive() && srttAtDecrease > srttNanos) {
        // the server holds a number of requests (the window), not a rate: a rate that overloaded
        // it while answers were slow (a client or server still warming up) fits it again at the
        // shorter latency, scaled by it
        target = Math.min(ceil, target * srttAtDecrease / srttNanos);
      }
      if (windowActive() && !rateRefused && srttNanos > 0) {
        // while the window explains the refusals, it is the server's measure, and the rate must
        // not keep it from filling: a cut taken from a count that ran high (a cold client counts
        // its answers late) would otherwise hold the rate far under the server for a plateau
        target = Math.max(target, Math.min(ceil, window * 1e9 / srttNanos));
      }
      if (rate < target) {
        rate =
            Math.min(
                target, rate + Math.max(s.additiveStep(), (target - rate) * s.approachFraction()));
      } else if (rate < ceil) {
        // hold the plateau for a while, then probe above it with doubling steps
        plateauRounds++;
        boolean held =
            wMax <= 0
                || plateauRounds > s.plateauRounds() && bookedSinceDecrease >= s.plateauRequests();
        if (held) {
          rateBeforeProbe = rate;
          rate +=
              Math.max(s.additiveStep(), rate * s.probeStep() * (1L << Math.min(probeSteps, 6)));
          probeSteps++;
        }
      }
    }
    double after = Math.min(rate, ceil);
    rate = before;
    setRate(after);
  }

  /** Changes the rate; the next free slot follows the last booked one at the new spacing. */
  private void setRate(double r) {
    if (r == rate) {
      return;
    }
    rate = r;
    if (lastSlot != Long.MIN_VALUE) {
      tat = lastSlot + intervalNanos();
    }
  }

  private void learnRequests(long rpm) {
    if (rpm == learnedRpm) {
      return;
    }
    boolean first = learnedRpm <= 0;
    learnedRpm = rpm;
    if (configuredRps > 0) {
      return;
    }
    double ceil = ceiling();
    if (first || rate > ceil) {
      setRate(ceil);
      slowStart = false;
      wMax = 0;
      plateauRounds = 0;
      probeSteps = 0;
    }
  }

  private void learnTokens(long tpm) {
    if (configuredTpm > 0 || tpm == learnedTpm) {
      return;
    }
    learnedTpm = tpm;
    setTokenLimit(tpm * s.headerSafety());
  }

  private void setTokenLimit(double tpm) {
    bucketTpm = tpm;
    bucketCapacity = Math.max(1, Math.round(tpm / 60.0 * s.tokenBurst().toNanos() / 1e9));
    Bandwidth bw =
        Bandwidth.builder()
            .capacity(bucketCapacity)
            .refillGreedy(Math.max(1, Math.round(tpm)), Duration.ofMinutes(1))
            .initialTokens(bucketCapacity)
            .build();
    if (tokenBucket == null) {
      long origin = clock.getAsLong();
      TimeMeter meter =
          new TimeMeter() {
            @Override
            public long currentTimeNanos() {
              return clock.getAsLong() - origin;
            }

            @Override
            public boolean isWallClockBased() {
              return false;
            }
          };
      tokenBucket = Bucket.builder().addLimit(bw).withCustomTimePrecision(meter).build();
    } else {
      tokenBucket.replaceConfiguration(
          BucketConfiguration.builder().addLimit(bw).build(), TokensInheritanceStrategy.AS_IS);
    }
  }

  /** Tokens in the bucket now (negative = debt), or Long.MAX_VALUE without a token limit. */
  public long availableTokens() {
    return tokenBucket == null ? Long.MAX_VALUE : tokenBucket.getAvailableTokens();
  }
}
