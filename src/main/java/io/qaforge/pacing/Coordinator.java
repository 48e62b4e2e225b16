package io.qaforge.pacing;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.Pacer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The job's single admission authority (lives on the driver): one {@link RateController} and one
 * {@link CircuitBreaker} per model alias, the run's {@link Budget}, and live counters for progress
 * ({@link #progress()}). Executors reach it through {@link CoordinatorServer} / {@link
 * RemotePacer}; a pacer in the same JVM uses {@link LocalPacer}. All methods are synchronized (a
 * few thousand calls per second at most: executors lease slots in batches).
 *
 * <p>A lease books slots on the alias's schedule. A {@link LocalPacer} books one slot at a time
 * within {@code localHorizon} (10 ms). A remote client may hold at most its share of the lease
 * window ({@code rate × window / clients active in the last second}, the window being {@code
 * leaseWindow} widened so a share is at least 4 slots, at most 2 s) ahead of now; it gets a batch
 * of at least the asked minimum when it has room, and otherwise WAIT until about half of its
 * holdings have passed. The shares together bound how far ahead the schedule is booked, so a
 * decrease takes effect within about one window.
 */
public final class Coordinator {
  /** How a lease request ended. */
  public enum Status {
    GRANTED,
    WAIT,
    REFUSED
  }

  /**
   * The answer to {@link #lease}. GRANTED: {@code count} slots, the first at {@code firstSlotNanos}
   * (coordinator clock), then every {@code intervalNanos}, with {@code tokens} and {@code costUsd}
   * reserved for them. WAIT: ask again at {@code retryAtNanos} ({@code budgetPending} when only
   * unsettled budget reservations are in the way). REFUSED: {@code refusal} and {@code reason}.
   */
  public record Lease(
      Status status,
      int count,
      long firstSlotNanos,
      long intervalNanos,
      long tokens,
      double costUsd,
      long retryAtNanos,
      boolean budgetPending,
      Pacer.Refusal refusal,
      String reason,
      double rate,
      int share) {
    static Lease granted(
        int n, long first, long interval, long tokens, double cost, double rate, int share) {
      return new Lease(
          Status.GRANTED, n, first, interval, tokens, cost, 0, false, null, null, rate, share);
    }

    static Lease waitUntil(long at, boolean budgetPending, double rate, int share) {
      return new Lease(Status.WAIT, 0, 0, 0, 0, 0, at, budgetPending, null, null, rate, share);
    }

    static Lease refused(Pacer.Refusal refusal, String reason) {
      return new Lease(Status.REFUSED, 0, 0, 0, 0, 0, 0, false, refusal, reason, 0, 0);
    }
  }

  /** Live counters of one alias. */
  public record AliasProgress(
      String alias,
      RateController.Mode mode,
      double rate,
      long started,
      Map<Attempt.Kind, Long> done,
      long rateLimited,
      long tokensIn,
      long tokensOut,
      double costUsd,
      long decreases,
      int window,
      boolean paused,
      String breakerReason) {
    public long finished() {
      return done.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** A snapshot for the driver's progress line. */
  public record Progress(
      List<AliasProgress> aliases,
      double spentUsd,
      double reservedUsd,
      long requests,
      double maxCostUsd,
      long maxRequests) {
    public String line() {
      StringBuilder b = new StringBuilder();
      for (AliasProgress a : aliases) {
        if (b.length() > 0) {
          b.append("; ");
        }
        b.append(
            String.format(
                Locale.ROOT,
                "%s: %d started, %d done (%d ok, %d rate-limited), %.1f req/s %s%s, tokens %d in /"
                    + " %d out, $%.4f%s",
                a.alias(),
                a.started(),
                a.finished(),
                a.done().getOrDefault(Attempt.Kind.OK, 0L),
                a.rateLimited(),
                a.rate(),
                a.mode().name().toLowerCase(Locale.ROOT),
                a.window() == RateController.NO_WINDOW
                    ? ""
                    : ", " + a.window() + " in flight at most",
                a.tokensIn(),
                a.tokensOut(),
                a.costUsd(),
                a.breakerReason() != null ? " [circuit open]" : a.paused() ? " [paused]" : ""));
      }
      if (maxCostUsd > 0) {
        b.append(String.format(Locale.ROOT, "; budget $%.4f of $%s", spentUsd, maxCostUsd));
      }
      if (maxRequests > 0) {
        b.append(String.format(Locale.ROOT, "; %d of %d requests", requests, maxRequests));
      }
      return b.toString();
    }
  }

  /** Clients that leased within this time count as active for the fair share. */
  private static final long ACTIVE_NANOS = 1_000_000_000L;

  /** Slots per active client a remote lease window should hold at least. */
  private static final int MIN_SHARE = 4;

  /** The widest remote lease window. */
  private static final long MAX_HORIZON_NANOS = 2_000_000_000L;

  /** How often a budget-pending acquire looks again. */
  private static final long BUDGET_POLL_NANOS = 50_000_000L;

  private final Map<String, ModelSpec> models;
  private final PacingSettings s;
  private final LongSupplier clock;
  private final Budget budget;
  private final Map<String, AliasState> aliases = new LinkedHashMap<>();

  private final class AliasState {
    final RateController ctl;
    final CircuitBreaker breaker;
    final long[] done = new long[Attempt.Kind.values().length];
    final Map<String, Long> clients = new HashMap<>();
    long started;
    long lastRemote;
    boolean remote;

    /** A remote executor leased or reported just now: the in-flight count would lag. */
    void remoteSeen(long now) {
      remote = true;
      lastRemote = now;
    }

    long rateLimited;
    long tokensIn;
    long tokensOut;
    double costUsd;

    AliasState(String alias) {
      ModelSpec m = models.get(alias);
      ctl =
          new RateController(
              alias,
              m == null ? 0 : m.requestsPerMinute(),
              m == null ? 0 : m.tokensPerMinute(),
              s,
              clock);
      breaker = new CircuitBreaker(alias, s.breakerMinFailures(), s.breakerOpenAfter().toNanos());
    }
  }

  public Coordinator(
      Map<String, ModelSpec> models, PacingSettings settings, LongSupplier nanoTime) {
    this.models = Map.copyOf(models);
    this.s = settings;
    this.clock = nanoTime;
    this.budget = new Budget(settings.maxCostUsd(), settings.maxRequests());
  }

  /** A coordinator on the real clock ({@link System#nanoTime()}). */
  public Coordinator(Map<String, ModelSpec> models, PacingSettings settings) {
    this(models, settings, System::nanoTime);
  }

  public PacingSettings settings() {
    return s;
  }

  public long now() {
    return clock.getAsLong();
  }

  private AliasState state(String alias) {
    return aliases.computeIfAbsent(alias, AliasState::new);
  }

  /**
   * Asks for up to {@code permits} request slots for {@code alias}, each estimated at {@code
   * tokensEach} tokens and {@code costEach} USD, for a remote client: slots are booked within the
   * lease window ({@code leaseWindow}, widened to hold 4 slots per active client, at most 2 s).
   */
  public Lease lease(String client, String alias, int permits, long tokensEach, double costEach) {
    return lease(client, alias, permits, 1, 0, tokensEach, costEach, -1);
  }

  /**
   * A remote client's lease: as {@link #lease(String, String, int, long, double)}, where the client
   * still {@code held} that many unused slots (its share is reduced by them, so one busy executor
   * cannot book the whole window), and gets a batch of at least {@code minPermits} slots when the
   * window has room, even if the batch reaches a few slots past it.
   */
  public Lease leaseBatch(
      String client,
      String alias,
      int permits,
      int minPermits,
      int held,
      long tokensEach,
      double costEach) {
    return lease(client, alias, permits, minPermits, Math.max(0, held), tokensEach, costEach, -1);
  }

  /**
   * As {@link #lease(String, String, int, long, double)}, booking slots at most {@code
   * horizonNanos} ahead (a pacer in this JVM uses a short horizon: it needs no batching, and fewer
   * slots booked ahead means a decrease takes effect sooner).
   */
  public Lease lease(
      String client,
      String alias,
      int permits,
      long tokensEach,
      double costEach,
      long horizonNanos) {
    return lease(client, alias, permits, 1, 0, tokensEach, costEach, horizonNanos);
  }

  private synchronized Lease lease(
      String client,
      String alias,
      int permits,
      int minPermits,
      int held,
      long tokensEach,
      double costEach,
      long horizonNanos) {
    long now = clock.getAsLong();
    AliasState st = state(alias);
    if (st.breaker.isOpen(now)) {
      return Lease.refused(Pacer.Refusal.CIRCUIT_OPEN, st.breaker.reason());
    }
    switch (budget.state(costEach)) {
      case EXHAUSTED:
        return Lease.refused(Pacer.Refusal.BUDGET, budget.exhaustedReason(costEach));
      case PENDING:
        return Lease.waitUntil(now + BUDGET_POLL_NANOS, true, st.ctl.rate(), 0);
      default:
        break;
    }
    int n = Math.min(Math.max(1, permits), budget.admissible(permits, costEach));
    st.clients.put(client, now);
    if (st.clients.size() > 1) {
      st.clients.values().removeIf(t -> now - t > ACTIVE_NANOS);
    }
    int clients = Math.max(1, st.clients.size());
    if (horizonNanos < 0) {
      st.remoteSeen(now);
    }
    // the in-flight window needs answers reported at once: not while remote executors lease slots
    // or reports arrive batched
    st.ctl.allowWindow(!st.remote || now - st.lastRemote > ACTIVE_NANOS);
    double rate = Math.max(st.ctl.rate(), 1e-3);
    long interval = (long) (1e9 / rate);
    RateController.Booking b;
    int share;
    if (horizonNanos >= 0) {
      // a pacer in this JVM: slots within the given horizon
      share = (int) Math.ceil(rate * horizonNanos / 1e9 / clients);
      b = st.ctl.book(Math.max(1, Math.min(n, share)), 1, tokensEach, horizonNanos);
    } else {
      // a remote client holds at most its share of the lease window (widened so that the share
      // is a few slots: with many executors or a low rate, leases stay batches); the shares
      // together bound how far ahead the schedule is booked
      long window =
          (long)
              Math.min(
                  MAX_HORIZON_NANOS,
                  Math.max(s.leaseWindow().toNanos(), MIN_SHARE * clients / rate * 1e9));
      share = (int) Math.ceil(rate * window / 1e9 / clients);
      int room = share - held;
      if (room < 1) {
        // it still holds its share: ask again when about half of it is used
        return Lease.waitUntil(
            now + Math.max(1, held / 2) * clients * interval, false, st.ctl.rate(), share);
      }
      n = Math.max(1, Math.min(n, room));
      b =
          st.ctl.book(
              n, Math.min(n, Math.max(1, minPermits)), tokensEach, window + share * interval);
    }
    if (!b.granted()) {
      return Lease.waitUntil(b.retryAtNanos(), false, st.ctl.rate(), share);
    }
    budget.reserve(b.count(), costEach);
    return Lease.granted(
        b.count(),
        b.firstSlotNanos(),
        b.intervalNanos(),
        b.tokens(),
        b.count() * Math.max(0, costEach),
        st.ctl.rate(),
        share);
  }

  /**
   * One finished attempt (any kind).
   *
   * @param ageNanos how long ago it finished (0 when reported at once)
   * @return whether a caller was kept waiting by the full in-flight window, which this answer
   *     opened: a pacer in this JVM wakes its waiting caller instead of letting the slot idle
   */
  public synchronized boolean report(
      String alias,
      Attempt a,
      long estimatedTokens,
      double estimatedCostUsd,
      double costUsd,
      long ageNanos) {
    long now = clock.getAsLong();
    AliasState st = state(alias);
    if (ageNanos > 0) {
      st.remoteSeen(now);
      st.ctl.allowWindow(false);
    }
    st.ctl.onAttempt(a, estimatedTokens, ageNanos);
    st.breaker.record(now - Math.max(0, ageNanos), a);
    budget.settle(estimatedCostUsd, costUsd);
    st.done[a.kind().ordinal()]++;
    if (a.kind() == Attempt.Kind.RATE_LIMITED || a.httpStatus() == 429) {
      st.rateLimited++;
    }
    st.tokensIn += Math.max(0, a.promptTokens());
    st.tokensOut += Math.max(0, a.completionTokens());
    st.costUsd += Math.max(0, costUsd);
    return st.ctl.windowBlocked();
  }

  /** Requests that really started (slots used), for the progress counters. */
  /** See {@link io.qaforge.llm.Pacer#usesTokenEstimates}. */
  public synchronized boolean usesTokenEstimates(String alias) {
    return budget.maxCostUsd() > 0 || state(alias).ctl.tokensPerMinute() > 0;
  }

  public synchronized void started(String alias, long n) {
    state(alias).started += n;
  }

  /**
   * Gives back {@code permits} unused slots (the first at {@code firstSlotNanos}, spaced {@code
   * intervalNanos}; 0 permits to give back only allowances) and unused token and cost reservations.
   */
  public synchronized void giveBack(
      String alias,
      int permits,
      long firstSlotNanos,
      long intervalNanos,
      long tokens,
      double costUsd) {
    state(alias).ctl.giveBack(permits, firstSlotNanos, intervalNanos, tokens);
    budget.release(permits, costUsd);
  }

  public synchronized Progress progress() {
    long now = clock.getAsLong();
    List<AliasProgress> list = new ArrayList<>();
    for (AliasState st : aliases.values()) {
      Map<Attempt.Kind, Long> done = new EnumMap<>(Attempt.Kind.class);
      for (Attempt.Kind k : Attempt.Kind.values()) {
        if (st.done[k.ordinal()] > 0) {
          done.put(k, st.done[k.ordinal()]);
        }
      }
      list.add(
          new AliasProgress(
              st.ctl.alias(),
              st.ctl.mode(),
              st.ctl.rate(),
              st.started,
              done,
              st.rateLimited,
              st.tokensIn,
              st.tokensOut,
              st.costUsd,
              st.ctl.decreases(),
              st.ctl.window(),
              st.ctl.pausedUntilNanos() > now,
              st.breaker.isOpen(now) ? st.breaker.reason() : null));
    }
    return new Progress(
        List.copyOf(list),
        budget.spentUsd(),
        budget.reservedUsd(),
        budget.used(),
        budget.maxCostUsd(),
        budget.maxRequests());
  }

  /** The controller of an alias (created on first use), for inspection and tests. */
  public synchronized RateController controller(String alias) {
    return state(alias).ctl;
  }

  public synchronized Budget budget() {
    return budget;
  }
}
