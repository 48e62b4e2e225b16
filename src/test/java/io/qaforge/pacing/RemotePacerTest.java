package io.qaforge.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.Pacer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A coordinator server and two remote pacers in one JVM, as if on two executors (real clock). */
class RemotePacerTest {
  private static final String HOST = "127.0.0.1";

  private static ModelSpec spec(double rpm) {
    return SimClock.spec("m", rpm, 0, 0, 0);
  }

  private static Attempt ok() {
    return Attempt.ok("x", "stop", 5, 5, "m", 1);
  }

  /** Runs {@code threads} acquire loops on each pacer until the deadline; returns grant times. */
  private static List<List<Long>> hammer(List<RemotePacer> pacers, int threads, long nanos)
      throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    List<ConcurrentLinkedQueue<Long>> queues = new ArrayList<>();
    List<Thread> all = new ArrayList<>();
    for (RemotePacer p : pacers) {
      ConcurrentLinkedQueue<Long> times = new ConcurrentLinkedQueue<>();
      queues.add(times);
      for (int i = 0; i < threads; i++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    while (true) {
                      Pacer.Grant g = p.acquire("m", 10, 0);
                      long now = System.nanoTime();
                      if (!g.granted() || now >= deadline) {
                        return;
                      }
                      times.add(now);
                      p.report("m", ok(), 10, 0, 0);
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
        t.start();
        all.add(t);
      }
    }
    for (Thread t : all) {
      t.join(30_000);
    }
    List<List<Long>> out = new ArrayList<>();
    for (ConcurrentLinkedQueue<Long> q : queues) {
      out.add(new ArrayList<>(q));
    }
    return out;
  }

  @Test
  void twoExecutorsTogetherKeepTheJobWideRate() throws Exception {
    Coordinator c = new Coordinator(Map.of("m", spec(3000)), PacingSettings.defaults());
    try (CoordinatorServer server = CoordinatorServer.start(c, HOST, 0)) {
      RemotePacer a =
          RemotePacer.connect(HOST, server.port(), server.token(), PacingSettings.defaults());
      RemotePacer b =
          RemotePacer.connect(HOST, server.port(), server.token(), PacingSettings.defaults());
      List<List<Long>> grants;
      try {
        grants = hammer(List.of(a, b), 4, 2_000_000_000L);
      } finally {
        // hands back unused slots and sends the last reports
        a.close();
        b.close();
      }
      int total = grants.get(0).size() + grants.get(1).size();
      System.out.printf(
          "two remote pacers at 50 requests/s for 2 s: %d + %d = %d grants, %d RPCs%n",
          grants.get(0).size(), grants.get(1).size(), total, server.calls());
      assertThat(total).isBetween(85, 115); // 50/s × 2 s ± 15 %
      assertThat(grants.get(0).size()).isGreaterThan(15);
      assertThat(grants.get(1).size()).isGreaterThan(15);
      List<Long> merged = new ArrayList<>(grants.get(0));
      merged.addAll(grants.get(1));
      merged.sort(null);
      // no burst: never more than 15 % over the rate in any half second (grant times are
      // measured after the thread wakes up, on a machine that may be busy)
      int j = 0;
      for (int i = 0; i < merged.size(); i++) {
        while (merged.get(i) - merged.get(j) >= 500_000_000L) {
          j++;
        }
        assertThat(i - j + 1).isLessThanOrEqualTo(29);
      }
      Coordinator.AliasProgress p = c.progress().aliases().get(0);
      assertThat(p.done().get(Attempt.Kind.OK)).isEqualTo(total);
      assertThat(p.started()).isBetween((long) total, total + 2L * 4); // + the last of each thread
    }
  }

  @Test
  void executorsCountTokensOnlyWhileTheCoordinatorUsesTheEstimates() throws Exception {
    Coordinator plain = new Coordinator(Map.of("m", spec(6000)), PacingSettings.defaults());
    Coordinator budget = new Coordinator(Map.of("m", spec(6000)), PacingSettings.withBudget(5, 0));
    try (CoordinatorServer s1 = CoordinatorServer.start(plain, HOST, 0);
        CoordinatorServer s2 = CoordinatorServer.start(budget, HOST, 0);
        RemotePacer p =
            RemotePacer.connect(HOST, s1.port(), s1.token(), PacingSettings.defaults());
        RemotePacer q =
            RemotePacer.connect(HOST, s2.port(), s2.token(), PacingSettings.defaults())) {
      // before the first lease nobody knows: count
      assertThat(p.usesTokenEstimates("m")).isTrue();
      assertThat(p.acquire("m", 10, 0).granted()).isTrue();
      assertThat(p.usesTokenEstimates("m")).isFalse();
      assertThat(q.acquire("m", 10, 0.001).granted()).isTrue();
      assertThat(q.usesTokenEstimates("m")).isTrue();
      // a token limit the server announces turns counting on at the next lease
      plain.report("m", ok().withLimits(-1, 60_000), 10, 0, 0, 0);
      for (int i = 0; i < 200 && !p.usesTokenEstimates("m"); i++) {
        p.acquire("m", 10, 0);
        p.report("m", ok(), 10, 0, 0);
      }
      assertThat(p.usesTokenEstimates("m")).isTrue();
    }
  }

  @Test
  void budgetIsExactAcrossExecutors() throws Exception {
    Coordinator c = new Coordinator(Map.of("m", spec(0)), PacingSettings.withBudget(0, 30));
    try (CoordinatorServer server = CoordinatorServer.start(c, HOST, 0);
        RemotePacer a =
            RemotePacer.connect(HOST, server.port(), server.token(), PacingSettings.defaults());
        RemotePacer b =
            RemotePacer.connect(HOST, server.port(), server.token(), PacingSettings.defaults())) {
      AtomicInteger granted = new AtomicInteger();
      ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      for (RemotePacer p : List.of(a, b)) {
        for (int i = 0; i < 3; i++) {
          Thread t =
              new Thread(
                  () -> {
                    try {
                      while (true) {
                        Pacer.Grant g = p.acquire("m", 10, 0.001);
                        if (!g.granted()) {
                          refusals.add(g.refusal() + ": " + g.reason());
                          return;
                        }
                        granted.incrementAndGet();
                        p.report("m", ok(), 10, 0.001, 0.001);
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
          t.start();
          threads.add(t);
        }
      }
      for (Thread t : threads) {
        t.join(30_000);
      }
      assertThat(granted.get()).isEqualTo(30);
      assertThat(refusals)
          .hasSize(6)
          .allMatch(
              r ->
                  r.equals(
                      "BUDGET: budget reached: 30 requests made of 30"
                          + " (llm.budget.max-requests = 30)"));
    }
  }

  @Test
  void aBadTokenIsRejectedAndChangesNothing() throws Exception {
    Coordinator c = new Coordinator(Map.of("m", spec(600)), PacingSettings.defaults());
    try (CoordinatorServer server = CoordinatorServer.start(c, HOST, 0);
        RemotePacer bad =
            RemotePacer.connect(HOST, server.port(), "0".repeat(64), PacingSettings.defaults())) {
      assertThat(server.token()).hasSize(64).isNotEqualTo("0".repeat(64));
      assertThatThrownBy(() -> bad.acquire("m", 10, 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("refused this executor's token (HTTP 403)");

      HttpClient http = HttpClient.newHttpClient();
      URI uri = URI.create("http://" + HOST + ":" + server.port() + "/pace");
      HttpResponse<String> none =
          http.send(
              HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(none.statusCode()).isEqualTo(403);
      HttpResponse<String> garbage =
          http.send(
              HttpRequest.newBuilder(uri)
                  .header("X-Qaforge-Token", server.token())
                  .POST(HttpRequest.BodyPublishers.ofString("not a message"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(garbage.statusCode()).isEqualTo(400);
      assertThat(c.progress().aliases()).isEmpty();
    }
  }

  @Test
  void sharedPacerIsOnePerJvmAndCoordinator() throws Exception {
    Coordinator c = new Coordinator(Map.of("m", spec(6000)), PacingSettings.defaults());
    try (CoordinatorServer server = CoordinatorServer.start(c, HOST, 0)) {
      RemotePacer p1 = RemotePacer.shared(HOST, server.port(), server.token());
      RemotePacer p2 = RemotePacer.shared(HOST, server.port(), server.token());
      assertThat(p1).isSameAs(p2);
      assertThat(p1.acquire("m", 10, 0).granted()).isTrue();
      // three refusals in a row with Retry-After: a limit window is exhausted
      for (int i = 0; i < 3; i++) {
        p1.report(
            "m", Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, 2000, "slow down", 1), 10, 0, 0);
      }
      // 429s go out at once, not with the next batch
      long until = System.nanoTime() + 100_000_000L;
      while (c.progress().aliases().get(0).rateLimited() < 3 && System.nanoTime() < until) {
        Thread.sleep(2);
      }
      assertThat(c.progress().aliases().get(0).rateLimited()).isEqualTo(3);
      assertThat(c.progress().aliases().get(0).paused()).isTrue();
      RemotePacer.closeShared();
      assertThat(RemotePacer.shared(HOST, server.port(), server.token())).isNotSameAs(p1);
      RemotePacer.closeShared();
    }
  }
}
