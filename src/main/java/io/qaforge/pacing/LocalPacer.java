package io.qaforge.pacing;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Pacer} in the coordinator's own JVM (Spark local mode, tests): every acquire books one
 * slot directly and parks until it. Per alias, callers queue on a fair lock, so only the head of
 * the queue talks to the coordinator and waits for room in the lease window; the others sleep (no
 * spinning, about two wake-ups per request). While the head waits for room in a full in-flight
 * window, an answer that opens it wakes the head at once, so the server's freed slot does not idle
 * until the next look.
 */
public final class LocalPacer implements Pacer {
  /** Waits until a time of the coordinator's clock. */
  @FunctionalInterface
  public interface Sleeper {
    void sleepUntil(long deadlineNanos) throws InterruptedException;

    /**
     * As {@link #sleepUntil}, but may return early when {@link LockSupport#unpark} wakes the thread
     * (the default waits for the deadline).
     */
    default void sleepUntilWoken(long deadlineNanos) throws InterruptedException {
      sleepUntil(deadlineNanos);
    }

    /** Parks the thread until {@code System.nanoTime()} reaches the deadline. */
    Sleeper SYSTEM =
        new Sleeper() {
          @Override
          public void sleepUntil(long deadline) throws InterruptedException {
            do {
              sleepUntilWoken(deadline); // a wake-up before the deadline parks again
            } while (deadline - System.nanoTime() > 0);
          }

          @Override
          public void sleepUntilWoken(long deadline) throws InterruptedException {
            long left = deadline - System.nanoTime();
            if (left > 0) {
              LockSupport.parkNanos(left);
            }
            if (Thread.interrupted()) {
              throw new InterruptedException();
            }
          }
        };
  }

  static final String CLIENT = "local";
  private static final long RECHECK_NANOS = 100_000_000L;

  private final Coordinator coordinator;
  private final Sleeper sleeper;
  private final ConcurrentHashMap<String, ReentrantLock> queues = new ConcurrentHashMap<>();
  // per alias, the caller at the head of the queue while it waits for room
  private final ConcurrentHashMap<String, Thread> heads = new ConcurrentHashMap<>();

  /** On the real clock: the coordinator must use {@link System#nanoTime()}. */
  public LocalPacer(Coordinator coordinator) {
    this(coordinator, Sleeper.SYSTEM);
  }

  /** With a sleeper matching the coordinator's clock (simulated time in tests). */
  public LocalPacer(Coordinator coordinator, Sleeper sleeper) {
    this.coordinator = coordinator;
    this.sleeper = sleeper;
  }

  public Coordinator coordinator() {
    return coordinator;
  }

  @Override
  public Grant acquire(String alias, long estimatedTokens, double estimatedCostUsd)
      throws InterruptedException {
    ReentrantLock queue = queues.computeIfAbsent(alias, a -> new ReentrantLock(true));
    Coordinator.Lease lease;
    queue.lockInterruptibly();
    // registered before the first look, so an answer between a look and the sleep still wakes it
    // (an unpark before the park makes the park return at once)
    heads.put(alias, Thread.currentThread());
    try {
      long pendingSince = Long.MIN_VALUE;
      while (true) {
        lease =
            coordinator.lease(
                CLIENT,
                alias,
                1,
                estimatedTokens,
                estimatedCostUsd,
                coordinator.settings().localHorizon().toNanos());
        if (lease.status() == Coordinator.Status.GRANTED) {
          break;
        }
        if (lease.status() == Coordinator.Status.REFUSED) {
          return Grant.refused(lease.refusal(), lease.reason());
        }
        long now = coordinator.now();
        if (lease.budgetPending()) {
          if (pendingSince == Long.MIN_VALUE) {
            pendingSince = now;
          } else if (now - pendingSince > coordinator.settings().budgetPendingMaxWait().toNanos()) {
            return Grant.refused(
                Refusal.BUDGET,
                "budget reached: in-flight requests did not settle within "
                    + coordinator.settings().budgetPendingMaxWait().toSeconds()
                    + " s (llm.budget.*)");
          }
        } else {
          pendingSince = Long.MIN_VALUE;
        }
        // wake at least every 100 ms: a breaker that opens or a budget that settles meanwhile must
        // answer this caller promptly, not after a long pause; an answer that opens a full
        // in-flight window wakes it at once (report)
        sleeper.sleepUntilWoken(Math.min(lease.retryAtNanos(), now + RECHECK_NANOS));
      }
    } finally {
      heads.remove(alias, Thread.currentThread());
      queue.unlock();
    }
    try {
      sleeper.sleepUntil(lease.firstSlotNanos());
    } catch (InterruptedException e) {
      coordinator.giveBack(
          alias,
          lease.count(),
          lease.firstSlotNanos(),
          lease.intervalNanos(),
          lease.tokens(),
          lease.costUsd());
      throw e;
    }
    coordinator.started(alias, 1);
    return Grant.OK;
  }

  @Override
  public boolean usesTokenEstimates(String alias) {
    return coordinator.usesTokenEstimates(alias);
  }

  @Override
  public void report(
      String alias,
      Attempt attempt,
      long estimatedTokens,
      double estimatedCostUsd,
      double costUsd) {
    if (coordinator.report(alias, attempt, estimatedTokens, estimatedCostUsd, costUsd, 0)) {
      Thread head = heads.get(alias);
      if (head != null) {
        LockSupport.unpark(head);
      }
    }
  }
}
