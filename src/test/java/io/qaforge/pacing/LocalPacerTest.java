package io.qaforge.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The same-JVM pacer on the real clock: rate, parking instead of spinning, cheap per request. */
class LocalPacerTest {
  @Test
  void manyThreadsShareTheRateAndBurnNoCpuWaiting() throws Exception {
    // 400 requests/s configured, 16 threads competing for 1.5 s
    Coordinator c =
        new Coordinator(
            Map.of("m", SimClock.spec("m", 24_000, 0, 0, 0)), PacingSettings.defaults());
    LocalPacer pacer = new LocalPacer(c);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    AtomicInteger granted = new AtomicInteger();
    AtomicLong cpu = new AtomicLong();
    long deadline = System.nanoTime() + 1_500_000_000L;
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      Thread t =
          new Thread(
              () -> {
                long cpu0 = mx.getCurrentThreadCpuTime();
                try {
                  while (true) {
                    Pacer.Grant g = pacer.acquire("m", 100, 0);
                    if (!g.granted() || System.nanoTime() >= deadline) {
                      break;
                    }
                    granted.incrementAndGet();
                    pacer.report("m", Attempt.ok("x", "stop", 50, 50, "m", 200), 100, 0, 0);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                cpu.addAndGet(mx.getCurrentThreadCpuTime() - cpu0);
              });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join(10_000);
    }
    double perRequestUs = cpu.get() / 1e3 / Math.max(1, granted.get());
    System.out.printf(
        "local pacer, 16 threads, 400 requests/s for 1.5 s: %d grants, %.1f µs CPU per request%n",
        granted.get(), perRequestUs);
    assertThat(granted.get()).isBetween(570, 610);
    // waiting threads park: the CPU spent is a small fraction of one core
    assertThat(cpu.get()).isLessThan(300_000_000L);
  }

  @Test
  void anAnswerThatOpensAFullWindowWakesTheWaitingCaller() throws Exception {
    Coordinator c =
        new Coordinator(Map.of("m", SimClock.spec("m", 0, 0, 0, 0)), PacingSettings.defaults());
    // a caller that waits for room in the full in-flight window sleeps until it is woken: with
    // this sleeper only an unpark wakes it then (no deadline), so it is granted only if the answer
    // wakes it. (Waits for the rate's next slot keep their deadline.)
    LocalPacer.Sleeper untilWoken =
        new LocalPacer.Sleeper() {
          @Override
          public void sleepUntil(long deadline) throws InterruptedException {
            LocalPacer.Sleeper.SYSTEM.sleepUntil(deadline);
          }

          @Override
          public void sleepUntilWoken(long deadline) throws InterruptedException {
            if (c.controller("m").windowBlocked()) {
              java.util.concurrent.locks.LockSupport.park();
            } else {
              sleepUntil(deadline);
            }
          }
        };
    LocalPacer pacer = new LocalPacer(c, untilWoken);
    for (int i = 0; i < 40; i++) {
      assertThat(pacer.acquire("m", 10, 0).granted()).isTrue();
    }
    // refused with 40 in flight: the server takes 39 at once, and 39 are still in flight
    pacer.report("m", Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, -1, "busy", 1), 10, 0, 0);
    assertThat(c.controller("m").window()).isEqualTo(39);
    AtomicInteger granted = new AtomicInteger();
    Thread waiter =
        new Thread(
            () -> {
              try {
                if (pacer.acquire("m", 10, 0).granted()) {
                  granted.incrementAndGet();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    waiter.setDaemon(true); // (parked for good if the wake-up is missing)
    waiter.start();
    long until = System.nanoTime() + 5_000_000_000L;
    while (!c.controller("m").windowBlocked() && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(c.controller("m").windowBlocked()).isTrue();
    assertThat(granted.get()).isZero();

    pacer.report("m", Attempt.ok("x", "stop", 5, 5, "m", 200), 10, 0, 0); // one answer back
    waiter.join(5_000);
    assertThat(waiter.isAlive()).isFalse();
    assertThat(granted.get()).isEqualTo(1);
  }

  @Test
  void tokenEstimatesAreUsedOnlyWithATokenRateOrACostBudget() {
    LocalPacer plain =
        new LocalPacer(
            new Coordinator(
                Map.of("m", SimClock.spec("m", 600, 0, 1, 2)), PacingSettings.defaults()));
    assertThat(plain.usesTokenEstimates("m")).isFalse();
    // a token limit learned from the server's headers turns them on
    plain.report("m", Attempt.ok("x", "stop", 10, 5, "m", 3).withLimits(-1, 90_000), 20, 0, 0);
    assertThat(plain.usesTokenEstimates("m")).isTrue();
    LocalPacer configured =
        new LocalPacer(
            new Coordinator(
                Map.of("m", SimClock.spec("m", 600, 90_000, 1, 2)), PacingSettings.defaults()));
    assertThat(configured.usesTokenEstimates("m")).isTrue();
    LocalPacer budget =
        new LocalPacer(
            new Coordinator(
                Map.of("m", SimClock.spec("m", 600, 0, 1, 2)), PacingSettings.withBudget(5, 0)));
    assertThat(budget.usesTokenEstimates("m")).isTrue();
  }

  @Test
  void interruptedAcquireGivesItsSlotBack() throws Exception {
    Coordinator c =
        new Coordinator(
            Map.of("m", SimClock.spec("m", 6, 0, 0, 0)), PacingSettings.withBudget(0, 2));
    LocalPacer pacer = new LocalPacer(c);
    assertThat(pacer.acquire("m", 1, 0).granted()).isTrue(); // the first slot is now
    Thread t =
        new Thread(
            () -> {
              try {
                pacer.acquire("m", 1, 0); // the next slot is 10 s away
              } catch (InterruptedException expected) {
                // given back
              }
            });
    t.start();
    Thread.sleep(200);
    t.interrupt();
    t.join(5_000);
    assertThat(c.budget().reservedRequests()).isEqualTo(1); // only the first one is still out
  }
}
