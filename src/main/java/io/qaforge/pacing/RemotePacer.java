package io.qaforge.pacing;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link Pacer} of an executor JVM: talks to the driver's {@link CoordinatorServer} and keeps
 * RPCs rare by <em>leasing</em> admission in batches.
 *
 * <ul>
 *   <li>A lease is a run of evenly spaced slots on the job-wide schedule, with the tokens and cost
 *       reserved for them. Its size follows this executor's demand (slots taken in the last {@code
 *       leaseWindow} × 1.5, at least the number of waiting threads) up to its <em>share</em>: the
 *       coordinator lets each active executor hold at most {@code rate × window / executors} slots
 *       ahead (window = 100 ms, widened so a share is at least 4 slots), so leases stay batches and
 *       no executor starves another. Each acquire takes the next slot and parks until its time, so
 *       requests leave at the job's pace, not in bursts.
 *   <li>While at least half a share is still ahead (taken by parked threads or not), the head of
 *       the queue waits instead of asking for crumbs; when less than half a lease is left, the next
 *       one is asked for on the background thread, so acquiring threads do not wait for RPCs.
 *   <li>Finished attempts are batched and sent every {@code reportFlush} (150 ms), or with the next
 *       lease request; a 429 or 503/529 is sent at once and this executor's untaken slots are given
 *       back, so the coordinator's decrease applies here immediately.
 *   <li>Slots not taken within {@code leaseStale} (25 ms) of their time are given back (their
 *       budget reservation with them), as is everything on {@link #close()}.
 *   <li>A refusal (budget, circuit open) is final for the alias: later acquires return it at once.
 * </ul>
 *
 * Per alias, acquiring threads queue on a fair lock, so only the head of the queue talks to the
 * coordinator or waits for a lease; the others sleep. Nothing spins. Coordinator times are turned
 * into local ones with the smallest recent (local receipt − coordinator now) offset, so JVMs need
 * no synchronised clocks. Build one per executor JVM with {@link #shared(String, int, String)} from
 * the host, port and token the driver hands the tasks (plain strings: safe to capture in a Spark
 * closure). If the coordinator cannot be reached after retries (~2 s), acquire throws {@link
 * IllegalStateException} (the driver is gone or the token is wrong: HTTP 403).
 */
public final class RemotePacer implements Pacer, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RemotePacer.class.getName());
  private static final ConcurrentHashMap<String, RemotePacer> SHARED = new ConcurrentHashMap<>();
  private static final double EPS = 1e-12;
  private static final long[] BACKOFF_MS = {100, 400, 1600};

  private final String key;
  private final URI uri;
  private final String token;
  private final PacingSettings s;
  private final String clientId = UUID.randomUUID().toString();
  private final HttpClient http;
  private final ScheduledExecutorService timer;
  private final ConcurrentHashMap<String, AliasLease> aliases = new ConcurrentHashMap<>();

  private final Object outLock = new Object();
  private List<PendingReport> reports = new ArrayList<>();
  private Map<String, Long> started = new LinkedHashMap<>();
  private List<Wire.Return> returns = new ArrayList<>();
  private volatile boolean closed;
  private volatile long lastWarning;
  private long bestOffset;
  private long offsetAt;

  private record PendingReport(Wire.Report report, long completedAt) {}

  private record Outbox(
      List<PendingReport> reports, Map<String, Long> started, List<Wire.Return> returns) {}

  private record Slot(long local, long coord, long interval) {}

  /** A run of slots from one lease. */
  private static final class Chunk {
    final long localFirst;
    final long coordFirst;
    final long interval;
    final int count;
    int next;

    Chunk(long localFirst, long coordFirst, long interval, int count) {
      this.localFirst = localFirst;
      this.coordFirst = coordFirst;
      this.interval = interval;
      this.count = count;
    }

    long local(int i) {
      return localFirst + i * interval;
    }

    long coord(int i) {
      return coordFirst + i * interval;
    }
  }

  /** This executor's lease for one alias; fields guarded by {@code this}. */
  private final class AliasLease {
    final String alias;
    final ReentrantLock queue = new ReentrantLock(true);
    final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    long tokens;
    double cost;
    boolean tokenLimited;
    // what the coordinator said at the last lease: does it use token and cost estimates?
    volatile boolean tokenEstimates = true;
    double rate = 1;
    long windowStart = System.nanoTime();
    long takenInWindow;
    double lastWindowTakes;
    double avgTokens;
    double avgCost;
    long noRenewBefore;
    int share;
    boolean renewing;
    volatile Grant refused;

    AliasLease(String alias) {
      this.alias = alias;
    }

    int remaining() {
      int n = 0;
      for (Chunk c : chunks) {
        n += c.count - c.next;
      }
      return n;
    }

    /**
     * When this executor holds half its share or more ahead of {@code now} (taken by waiting
     * threads or not), the time at which it will hold less; else 0.
     */
    long heldBelowAt(long now) {
      int target = Math.max(1, share / 2);
      int excess = held(now) - target;
      if (share <= 1 || excess < 0) {
        return 0;
      }
      // the (excess + 1)-th slot still ahead, in time order
      List<Long> ahead = new ArrayList<>();
      for (Chunk c : chunks) {
        for (int i = 0; i < c.count; i++) {
          if (c.local(i) > now) {
            ahead.add(c.local(i));
          }
        }
      }
      ahead.sort(null);
      return excess < ahead.size() ? ahead.get(excess) + 1 : 0;
    }

    /** Slots booked for this executor that are still ahead, taken or not. */
    int held(long now) {
      int n = 0;
      for (Chunk c : chunks) {
        long passed = now < c.localFirst ? 0 : (now - c.localFirst) / c.interval + 1;
        n += (int) Math.max(0, c.count - passed);
      }
      return n;
    }

    Slot take(long now, long est, double estCost) {
      expire(now);
      Chunk c = null;
      for (Chunk k : chunks) {
        if (k.next < k.count) {
          c = k;
          break;
        }
      }
      if (c == null || (tokenLimited && tokens < est) || cost < estCost - EPS) {
        return null;
      }
      Slot slot = new Slot(c.local(c.next), c.coord(c.next), c.interval);
      c.next++;
      if (tokenLimited) {
        tokens -= est;
      }
      cost = Math.max(0, cost - Math.max(0, estCost));
      long window = s.leaseWindow().toNanos();
      if (now - windowStart >= window) {
        lastWindowTakes = takenInWindow * (double) window / (now - windowStart);
        takenInWindow = 0;
        windowStart = now;
      }
      takenInWindow++;
      avgTokens = avgTokens == 0 ? est : 0.9 * avgTokens + 0.1 * est;
      avgCost = avgCost == 0 ? estCost : 0.9 * avgCost + 0.1 * estCost;
      return slot;
    }

    /** Slots to ask for: recent demand and waiting threads, at most the window's worth. */
    int ask() {
      int most =
          share > 0 ? share : (int) Math.max(1, Math.ceil(rate * s.leaseWindow().toNanos() / 1e9));
      int demand = (int) Math.max(queue.getQueueLength() + 1, Math.ceil(1.5 * lastWindowTakes));
      return Math.max(1, Math.min(most, demand));
    }

    /** Gives back slots whose time passed more than leaseStale ago. */
    void expire(long now) {
      long cutoff = now - s.leaseStale().toNanos();
      for (var it = chunks.iterator(); it.hasNext(); ) {
        Chunk c = it.next();
        int first = c.next;
        while (c.next < c.count && c.local(c.next) < cutoff) {
          c.next++;
        }
        if (c.next > first) {
          giveBackLater(new Wire.Return(alias, c.next - first, c.coord(first), c.interval, 0, 0));
        }
        if (c.next == c.count && c.local(c.count - 1) < now) {
          it.remove();
        }
      }
    }

    /** Gives back every unused slot and the unused token and cost reservations. */
    void dropAll() {
      giveBackUntaken();
      dropAllowances();
    }

    /** Gives back the slots no thread has taken yet. */
    void giveBackUntaken() {
      for (Chunk c : chunks) {
        if (c.next < c.count) {
          giveBackLater(
              new Wire.Return(alias, c.count - c.next, c.coord(c.next), c.interval, 0, 0));
          c.next = c.count;
        }
      }
    }

    void dropAllowances() {
      if (tokens > 0 || cost > 0) {
        giveBackLater(new Wire.Return(alias, 0, 0, 0, Math.max(0, tokens), cost));
      }
      tokens = 0;
      cost = 0;
    }

    void apply(Coordinator.Lease l, long offset) {
      rate = l.rate() > 0 ? l.rate() : rate;
      share = l.share() > 0 ? l.share() : share;
      if (l.status() != Coordinator.Status.GRANTED) {
        return;
      }
      chunks.addLast(
          new Chunk(l.firstSlotNanos() + offset, l.firstSlotNanos(), l.intervalNanos(), l.count()));
      if (l.tokens() > 0) {
        tokenLimited = true;
        tokens += l.tokens();
      } else if (tokenLimited) {
        tokenLimited = false;
        tokens = 0;
      }
      cost += l.costUsd();
    }
  }

  private RemotePacer(String key, String host, int port, String token, PacingSettings settings) {
    this.key = key;
    this.uri = URI.create("http://" + hostForUri(host) + ":" + port + Wire.PATH);
    this.token = token;
    this.s = settings;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "qaforge-pacing-flush");
              t.setDaemon(true);
              return t;
            });
    long every = Math.max(1, s.reportFlush().toMillis());
    timer.scheduleWithFixedDelay(this::flushQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  private static String hostForUri(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  /** The pacer of this JVM for the coordinator at host:port (one per JVM and coordinator). */
  public static RemotePacer shared(String host, int port, String token) {
    return shared(host, port, token, PacingSettings.defaults());
  }

  public static RemotePacer shared(String host, int port, String token, PacingSettings settings) {
    String key = host + ":" + port + "#" + token;
    return SHARED.compute(
        key,
        (k, v) -> v != null && !v.closed ? v : new RemotePacer(k, host, port, token, settings));
  }

  /** A pacer of its own (not shared), e.g. to act as a second executor in a test. */
  public static RemotePacer connect(String host, int port, String token, PacingSettings settings) {
    return new RemotePacer(
        host + ":" + port + "#" + token + "#" + UUID.randomUUID(), host, port, token, settings);
  }

  private AliasLease lease(String alias) {
    return aliases.computeIfAbsent(alias, AliasLease::new);
  }

  @Override
  public boolean usesTokenEstimates(String alias) {
    AliasLease a = aliases.get(alias);
    return a == null || a.tokenEstimates;
  }

  @Override
  public Grant acquire(String alias, long estimatedTokens, double estimatedCostUsd)
      throws InterruptedException {
    if (closed) {
      throw new IllegalStateException("the pacer for " + uri + " is closed");
    }
    AliasLease a = lease(alias);
    Grant refused = a.refused;
    if (refused != null) {
      return refused;
    }
    long est = Math.max(0, estimatedTokens);
    double estCost = Math.max(0, estimatedCostUsd);
    Slot slot;
    boolean asked = false;
    a.queue.lockInterruptibly();
    try {
      long pendingSince = Long.MIN_VALUE;
      while (true) {
        if ((refused = a.refused) != null) {
          return refused;
        }
        long now = System.nanoTime();
        long holdUntil;
        synchronized (a) {
          slot = a.take(now, est, estCost);
          // no slot left to take (not just too little token or cost allowance): maybe wait
          holdUntil = slot == null && a.remaining() == 0 ? a.heldBelowAt(now) : 0;
        }
        if (slot != null) {
          break;
        }
        if (holdUntil > now) {
          // other threads here still wait on half a share of this executor's slots: asking now
          // would only bring crumbs; wait until enough of them have passed
          LocalPacer.Sleeper.SYSTEM.sleepUntil(holdUntil);
          continue;
        }
        Coordinator.Lease l = askFor(a, est, estCost, false);
        asked = true;
        if (l.status() == Coordinator.Status.GRANTED) {
          continue;
        }
        if (l.status() == Coordinator.Status.REFUSED) {
          return refuse(a, l);
        }
        now = System.nanoTime();
        if (l.budgetPending()) {
          if (pendingSince == Long.MIN_VALUE) {
            pendingSince = now;
          } else if (now - pendingSince > s.budgetPendingMaxWait().toNanos()) {
            return Grant.refused(
                Refusal.BUDGET,
                "budget reached: in-flight requests did not settle within "
                    + s.budgetPendingMaxWait().toSeconds()
                    + " s (llm.budget.*)");
          }
        } else {
          pendingSince = Long.MIN_VALUE;
        }
        LocalPacer.Sleeper.SYSTEM.sleepUntil(a.noRenewBefore);
      }
      if (!asked) {
        renewAhead(a, est, estCost);
      }
    } finally {
      a.queue.unlock();
    }
    try {
      LocalPacer.Sleeper.SYSTEM.sleepUntil(slot.local());
    } catch (InterruptedException e) {
      giveBackLater(
          new Wire.Return(
              alias, 1, slot.coord(), slot.interval(), a.tokenLimited ? est : 0, estCost));
      throw e;
    }
    synchronized (outLock) {
      started.merge(alias, 1L, Long::sum);
    }
    return Grant.OK;
  }

  /**
   * When less than half a lease is left, asks for the next one on the flush thread, so acquiring
   * threads never wait for this RPC.
   */
  private void renewAhead(AliasLease a, long est, double estCost) {
    synchronized (a) {
      int ask = a.ask();
      long now = System.nanoTime();
      if (a.renewing
          || ask <= 1
          || a.remaining() * 2 >= ask
          || a.heldBelowAt(now) > 0
          || now < a.noRenewBefore) {
        return;
      }
      a.renewing = true;
    }
    try {
      timer.execute(
          () -> {
            try {
              Coordinator.Lease l = askFor(a, est, estCost, true);
              if (l.status() == Coordinator.Status.REFUSED) {
                refuse(a, l);
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
              warn("could not renew the lease for " + a.alias, e);
            } finally {
              synchronized (a) {
                a.renewing = false;
              }
            }
          });
    } catch (RuntimeException e) {
      synchronized (a) {
        a.renewing = false; // closing
      }
    }
  }

  private Grant refuse(AliasLease a, Coordinator.Lease l) {
    Grant g = Grant.refused(l.refusal(), l.reason());
    a.refused = g;
    synchronized (a) {
      a.dropAll();
    }
    return g;
  }

  /**
   * Local clock minus coordinator clock. Each answer gives an upper bound (it arrives after the
   * coordinator read its clock); the smallest recent one is the best estimate, so slots of
   * successive leases keep their spacing whatever the delay of each answer.
   */
  private synchronized long offset(long sample) {
    long now = System.nanoTime();
    if (offsetAt == 0 || sample <= bestOffset || now - offsetAt > 30_000_000_000L) {
      bestOffset = sample;
      offsetAt = now;
    }
    return bestOffset;
  }

  /** One lease RPC (with everything waiting to be sent); applies the answer to the lease. */
  private Coordinator.Lease askFor(AliasLease a, long est, double estCost, boolean ahead)
      throws InterruptedException {
    int permits;
    int held;
    long tokensEach;
    double costEach;
    synchronized (a) {
      permits = a.ask();
      held = a.held(System.nanoTime());
      tokensEach = Math.max(est, Math.round(a.avgTokens * 1.25));
      costEach = Math.max(estCost, a.avgCost * 1.25);
    }
    // a batch of at least half the ask, or wait until one fits: when executors compete for the
    // window, handing out single slots would cost one RPC per request
    int least = Math.max(1, (permits + 1) / 2);
    Wire.Response r = post(new Wire.Ask(a.alias, permits, least, held, tokensEach, costEach));
    long offset = offset(System.nanoTime() - r.serverNow());
    Coordinator.Lease l = r.lease();
    a.tokenEstimates = r.tokenEstimates();
    synchronized (a) {
      a.apply(l, offset);
      if (l.status() == Coordinator.Status.WAIT) {
        a.noRenewBefore = l.retryAtNanos() + offset;
      }
    }
    return l;
  }

  @Override
  public void report(
      String alias,
      Attempt attempt,
      long estimatedTokens,
      double estimatedCostUsd,
      double costUsd) {
    long now = System.nanoTime();
    Wire.Report r = Wire.Report.of(alias, attempt, estimatedTokens, estimatedCostUsd, costUsd, 0);
    synchronized (outLock) {
      reports.add(new PendingReport(r, now));
    }
    if (RateController.isOverload(attempt)) {
      AliasLease a = aliases.get(alias);
      if (a != null) {
        synchronized (a) {
          a.giveBackUntaken();
        }
      }
      if (!closed) {
        try {
          timer.execute(this::flushQuietly);
        } catch (RuntimeException ignored) {
          // closing
        }
      }
    }
  }

  private void giveBackLater(Wire.Return g) {
    synchronized (outLock) {
      returns.add(g);
    }
  }

  private Outbox drain() {
    synchronized (outLock) {
      Outbox o = new Outbox(reports, started, returns);
      reports = new ArrayList<>();
      started = new LinkedHashMap<>();
      returns = new ArrayList<>();
      return o;
    }
  }

  private void restore(Outbox o) {
    synchronized (outLock) {
      reports.addAll(0, o.reports());
      o.started().forEach((k, v) -> started.merge(k, v, Long::sum));
      returns.addAll(0, o.returns());
    }
  }

  /** Sends everything waiting plus {@code ask} (may be null); retries transient failures. */
  private Wire.Response post(Wire.Ask ask) throws InterruptedException {
    Outbox o = drain();
    long now = System.nanoTime();
    List<Wire.Report> rs = new ArrayList<>(o.reports().size());
    for (PendingReport p : o.reports()) {
      rs.add(p.report().aged(Math.max(0, now - p.completedAt())));
    }
    List<Wire.Started> st = new ArrayList<>();
    o.started().forEach((k, v) -> st.add(new Wire.Started(k, v)));
    byte[] body = Wire.encode(new Wire.Request(clientId, rs, st, o.returns(), ask));
    HttpRequest req =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header(Wire.TOKEN_HEADER, token)
            .header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    Exception last = null;
    for (int attempt = 0; ; attempt++) {
      try {
        HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() == 403) {
          throw new IllegalStateException(
              "the pacing coordinator at "
                  + uri
                  + " refused this executor's token (HTTP 403): use the token of the"
                  + " CoordinatorServer the driver started for this job");
        }
        if (resp.statusCode() != 200) {
          throw new IOException(
              "HTTP "
                  + resp.statusCode()
                  + ": "
                  + new String(resp.body(), StandardCharsets.UTF_8).strip());
        }
        return Wire.decodeResponse(resp.body());
      } catch (IOException e) {
        last = e;
      } catch (InterruptedException e) {
        restore(o);
        throw e;
      }
      if (attempt >= BACKOFF_MS.length) {
        break;
      }
      Thread.sleep(BACKOFF_MS[attempt]);
    }
    restore(o);
    throw new IllegalStateException(
        "the pacing coordinator at " + uri + " cannot be reached: " + last, last);
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      warn("could not send pacing reports", e);
    }
  }

  /** Gives back stale slots and idle reservations, then sends what is waiting. */
  void flush() throws InterruptedException {
    long now = System.nanoTime();
    for (AliasLease a : aliases.values()) {
      synchronized (a) {
        a.expire(now);
        if (a.remaining() == 0 && !a.queue.isLocked()) {
          a.dropAllowances();
        }
      }
    }
    if (!outboxEmpty()) {
      post(null);
    }
  }

  private void warn(String what, Exception e) {
    long now = System.nanoTime();
    if (now - lastWarning > 10_000_000_000L) {
      lastWarning = now;
      LOG.log(System.Logger.Level.WARNING, what + ": " + e.getMessage());
    }
  }

  /** Gives back every unused slot and reservation, sends the last reports, stops the flusher. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    SHARED.remove(key, this);
    timer.shutdownNow();
    for (AliasLease a : aliases.values()) {
      synchronized (a) {
        a.dropAll();
      }
    }
    try {
      if (!outboxEmpty()) {
        post(null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      warn("could not give back the unused pacing leases", e);
    }
  }

  private boolean outboxEmpty() {
    synchronized (outLock) {
      return reports.isEmpty() && started.isEmpty() && returns.isEmpty();
    }
  }

  /** Closes every shared pacer of this JVM (tests; executors keep theirs for the JVM's life). */
  public static void closeShared() {
    for (RemotePacer p : List.copyOf(SHARED.values())) {
      p.close();
    }
  }
}
