package io.qaforge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.llm.Attempt;
import io.qaforge.pacing.Coordinator;
import io.qaforge.pacing.PacingSettings;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The numbers `bench generation` reports, from the coordinator's counters on a simulated clock. */
class BenchTimelineTest {
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong();
  private final AtomicLong cpu = new AtomicLong();
  private final AtomicLong jit = new AtomicLong();
  private final Coordinator coordinator =
      new Coordinator(Map.of(), PacingSettings.defaults(), now::get);
  private final BenchCommand.Timeline timeline =
      new BenchCommand.Timeline(coordinator, now::get, cpu::get, jit::get);

  /** {@code n} requests started and answered ({@code refused} of them with 429). */
  private void answer(int n, int refused) {
    coordinator.started("m", n);
    for (int i = 0; i < n; i++) {
      coordinator.report(
          "m",
          i < refused
              ? Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, 100, "busy", 5)
              : Attempt.ok("hi", "stop", 1, 1, "m", 200),
          2,
          0,
          0,
          0);
    }
  }

  /** Moves both clocks on and takes a sample, as the bench's ticker does every 100 ms. */
  private void tick(long nanos, long cpuNanos) {
    tick(nanos, cpuNanos, 0);
  }

  /** As {@link #tick(long, long)}, with {@code jitNanos} of that CPU spent compiling. */
  private void tick(long nanos, long cpuNanos, long jitNanos) {
    now.addAndGet(nanos);
    cpu.addAndGet(cpuNanos);
    jit.addAndGet(jitNanos);
    timeline.sample();
  }

  @Test
  void ratesCountFromTheFirstAnswerAndTheFirstSecondsShowTheRamp() {
    tick(SECOND, SECOND); // Spark starting: no answer yet, not part of the steady rate
    answer(50, 0);
    tick(SECOND, 0); // 1 s after the first sample with answers
    answer(150, 10);
    tick(SECOND, 0);
    for (int s = 0; s < 10; s++) {
      answer(300, 1);
      tick(SECOND, 30_000_000L); // 0.1 ms CPU per answer
    }
    // from the first sample with an OK answer (50 ok) to the last: 140 + 10 x 299 ok in 11 s
    assertThat(timeline.steadyRate()).isCloseTo((140 + 2990) / 11.0, within(1e-9));
    // after the first 10 s of answers: the last 1 s (299 ok)
    assertThat(timeline.rateAfter(10)).isCloseTo(299, within(1e-9));
    assertThat(timeline.share429After(10)).isCloseTo(1 / 300.0, within(1e-9));
    assertThat(timeline.steadyCpuMsPerAnswer()).isCloseTo(300.0 / 3130, within(1e-9));
    assertThat(timeline.firstSeconds(3))
        .hasSize(3)
        .allSatisfy(s -> assertThat(s.split(" ")).hasSize(4))
        .extracting(s -> s.split(" ")[0])
        .containsExactly("140", "299", "299");
    assertThat(timeline.firstSeconds(3).get(0).split(" ")[2]).isEqualTo("-"); // no window learned
    assertThat(timeline.firstSeconds(3).get(0).split(" ")[3]).isEqualTo("0"); // none in flight
  }

  @Test
  void theCsvHasOneLinePerSampleCountedFromTheFirst() {
    tick(SECOND, 2_000_000L, 1_000_000L);
    answer(20, 3);
    tick(SECOND / 2, 5_000_000L, 500_000L);
    assertThat(timeline.csv().split("\n"))
        .containsExactly(
            "seconds,answers,rate_limited,ok,paced_rps,window,in_flight,cpu_ms,jit_ms",
            "0.000,0,0,0,0.000,0,0,0.0,0.0", // no alias seen yet
            "0.500,20,3,17,57.600,0,0,5.0,0.5"); // 64 req/s cut by 0.9 at a 429
  }

  @Test
  void theSecondHalfReportsItsCpuAndTheJitShareOfItPerAnswer() {
    answer(100, 0);
    tick(SECOND, 500_000_000L, 400_000_000L); // first half: 100 answers, JIT busy
    answer(100, 0);
    tick(SECOND, 60_000_000L, 20_000_000L); // reaches half of the final 300 (150)
    answer(100, 0);
    tick(SECOND, 40_000_000L, 10_000_000L);
    // from the sample with 200 ok (>= half of 300) to the last: 100 answers, 40 ms CPU, 10 of JIT
    assertThat(timeline.warmCpuMsPerAnswer()).isCloseTo(0.4, within(1e-9));
    assertThat(timeline.warmJitMsPerAnswer()).isCloseTo(0.1, within(1e-9));
  }

  @Test
  void aJvmWithoutCompilationTimeGivesNoJitShare() {
    BenchCommand.Timeline unmeasured =
        new BenchCommand.Timeline(coordinator, now::get, cpu::get, () -> -1);
    answer(10, 0);
    now.addAndGet(SECOND);
    unmeasured.sample();
    answer(10, 0);
    now.addAndGet(SECOND);
    cpu.addAndGet(SECOND);
    unmeasured.sample();
    assertThat(unmeasured.warmCpuMsPerAnswer()).isCloseTo(100, within(1e-9));
    assertThat(unmeasured.warmJitMsPerAnswer()).isNaN();
  }

  @Test
  void noAnswerGivesNoRatesInsteadOfAnError() {
    tick(SECOND, SECOND);
    assertThat(timeline.steadyRate()).isZero();
    assertThat(timeline.rateAfter(10)).isZero();
    assertThat(timeline.firstSeconds(10)).isEmpty();
  }

  @Test
  void clientCpuCountsTheJvmsFinishedChildProcesses() throws Exception {
    // a command name with spaces and a ')' of its own; cutime 7 and cstime 5 ticks of 10 ms
    String stat =
        "4242 (java (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 1500 300 7 5 20 0 90 0 1 2 3";
    assertThat(BenchCommand.Timeline.childrenCpuNanos(stat)).isEqualTo(120_000_000L);
    assertThat(BenchCommand.Timeline.childrenCpuNanos("")).isZero();
    assertThat(BenchCommand.Timeline.childrenCpuNanos("4242 (java) S 1 2")).isZero();

    java.nio.file.Path self = java.nio.file.Path.of("/proc/self/stat");
    if (java.nio.file.Files.isReadable(self)) {
      long before = BenchCommand.Timeline.clientCpuNanos();
      long childrenBefore =
          BenchCommand.Timeline.childrenCpuNanos(java.nio.file.Files.readString(self));
      // a child that burns CPU, waited for: its CPU shows up in the client's
      Process p =
          new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
              .start();
      assertThat(p.waitFor()).isZero();
      long child =
          BenchCommand.Timeline.childrenCpuNanos(java.nio.file.Files.readString(self))
              - childrenBefore;
      assertThat(child).isPositive();
      assertThat(BenchCommand.Timeline.clientCpuNanos() - before).isGreaterThanOrEqualTo(child);
    }
  }
}
