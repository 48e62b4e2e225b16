package io.qaforge.llm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class DispatcherTest {
  private static final ScheduledExecutorService TIMER = Executors.newScheduledThreadPool(4);
  private static final ModelSpec SPEC =
      new ModelSpec("m", "openai", "model-x", "chat", "", 1.0, 2.0, 8000, "o200k_base", 0, 0, "");
  private static final RetryPolicy POLICY = new RetryPolicy(3, 5, 100, 2);
  private static final String SCHEMA =
      "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},\"required\":[\"answer\"]}";

  @AfterAll
  static void stop() {
    TIMER.shutdownNow();
  }

  /** Answers each call after 2 ms with what the script says for (request, attempt number). */
  static final class ScriptedClient implements LlmClient {
    final BiFunction<ChatRequest, Integer, Attempt> script;
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    final List<ChatRequest> sent = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger peak = new AtomicInteger();

    ScriptedClient(BiFunction<ChatRequest, Integer, Attempt> script) {
      this.script = script;
    }

    @Override
    public String backend() {
      return "scripted";
    }

    @Override
    public CompletableFuture<Attempt> send(ChatRequest r) {
      int n = calls.computeIfAbsent(r.requestId(), k -> new AtomicInteger()).incrementAndGet();
      sent.add(r);
      peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      CompletableFuture<Attempt> f = new CompletableFuture<>();
      TIMER.schedule(
          () -> {
            inFlight.decrementAndGet();
            f.complete(script.apply(r, n));
          },
          2,
          TimeUnit.MILLISECONDS);
      return f;
    }

    @Override
    public void close() {}
  }

  static ChatRequest request(String id, String text, String schema) {
    return new ChatRequest(
        id, "m", List.of(new Message("user", text)), 0.7, null, 50, null, null, schema, false, 0);
  }

  static Map<String, Result> run(
      List<ChatRequest> requests, LlmClient client, Pacer pacer, int inFlight) {
    Dispatcher d = new Dispatcher(requests.iterator(), client, pacer, a -> SPEC, POLICY, inFlight);
    Map<String, Result> out = new HashMap<>();
    d.forEachRemaining(
        r -> assertThat(out.put(r.requestId(), r)).as("one result per request").isNull());
    return out;
  }

  static Attempt ok(String content) {
    return Attempt.ok(content, "stop", 10, 5, "model-x", 3);
  }

  @Test
  void everyRequestEndsWithExactlyOneResultUnderMixedFailures() {
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      requests.add(request("r" + i, "q" + i, null));
    }
    ScriptedClient client =
        new ScriptedClient(
            (r, n) -> {
              int i = Integer.parseInt(r.requestId().substring(1));
              switch (i % 6) {
                case 0:
                  return n < 2
                      ? Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, 5, "slow down", 1)
                      : ok("a");
                case 1:
                  return Attempt.failure(Attempt.Kind.SERVER_ERROR, 500, -1, "boom", 1);
                case 2:
                  return Attempt.failure(Attempt.Kind.CLIENT_ERROR, 400, -1, "context too long", 1);
                case 3:
                  return Attempt.failure(Attempt.Kind.TIMEOUT, 0, -1, "read timeout", 1);
                default:
                  return ok("a");
              }
            });
    Map<String, Result> results = run(requests, client, Pacer.UNLIMITED, 64);
    assertThat(results).hasSize(600);
    assertThat(client.peak.get()).isLessThanOrEqualTo(64);
    for (int i = 0; i < 600; i++) {
      Result r = results.get("r" + i);
      switch (i % 6) {
        case 0:
          assertThat(r.status()).isEqualTo("ok");
          assertThat(r.attempts()).isEqualTo(2);
          break;
        case 1:
          assertThat(r.status()).isEqualTo("failed");
          assertThat(r.attempts()).isEqualTo(3);
          assertThat(r.error())
              .isEqualTo("server error (HTTP 500): boom (gave up after 3 attempts)");
          break;
        case 2:
          assertThat(r.status()).isEqualTo("failed");
          assertThat(r.attempts()).isEqualTo(1); // other 4xx are not retried
          assertThat(r.error()).contains("HTTP 400").contains("context too long");
          break;
        case 3:
          assertThat(r.status()).isEqualTo("failed");
          assertThat(r.attempts()).isEqualTo(3);
          assertThat(r.error()).startsWith("timed out");
          break;
        default:
          assertThat(r.status()).isEqualTo("ok");
          assertThat(r.content()).isEqualTo("a");
          assertThat(r.costUsd()).isEqualTo((10 * 1.0 + 5 * 2.0) / 1e6);
      }
    }
  }

  @Test
  void retryAfterIsHonoured() {
    ScriptedClient client =
        new ScriptedClient(
            (r, n) ->
                n == 1 ? Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, 80, "wait", 1) : ok("x"));
    long start = System.nanoTime();
    Map<String, Result> results = run(List.of(request("a", "q", null)), client, Pacer.UNLIMITED, 4);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(80);
    assertThat(results.get("a").status()).isEqualTo("ok");
  }

  @Test
  void schemaOutputIsParsedAndRepairedWithinBounds() {
    ScriptedClient client =
        new ScriptedClient(
            (r, n) -> {
              if (r.requestId().equals("good")) {
                return ok("Sure! ```json\n{'answer': 'Paris',}\n```");
              }
              if (r.requestId().equals("fixed")) {
                return n == 1 ? ok("{\"wrong\": 1}") : ok("{\"answer\": \"Rome\"}");
              }
              return ok("no json here");
            });
    Map<String, Result> results =
        run(
            List.of(
                request("good", "q", SCHEMA),
                request("fixed", "q", SCHEMA),
                request("never", "q", SCHEMA)),
            client,
            Pacer.UNLIMITED,
            4);
    assertThat(results.get("good").status()).isEqualTo("ok");
    assertThat(results.get("good").parsed()).isEqualTo("{\"answer\":\"Paris\"}");
    assertThat(results.get("fixed").status()).isEqualTo("ok");
    assertThat(results.get("fixed").attempts()).isEqualTo(2);
    ChatRequest repair =
        client.sent.stream()
            .filter(r -> r.requestId().equals("fixed"))
            .skip(1)
            .findFirst()
            .orElseThrow();
    assertThat(repair.messages()).hasSize(3);
    assertThat(repair.messages().get(2).content()).contains("$.answer is missing");
    assertThat(results.get("never").status()).isEqualTo("invalid_output");
    assertThat(results.get("never").attempts()).isEqualTo(3); // 1 + repair-attempts
    assertThat(results.get("never").error()).contains("output is not JSON");
  }

  @Test
  void malformedBodiesAreRetriedThenInvalid() {
    ScriptedClient client =
        new ScriptedClient(
            (r, n) -> Attempt.failure(Attempt.Kind.MALFORMED, 200, -1, "not JSON", 1));
    Result r = run(List.of(request("m", "q", null)), client, Pacer.UNLIMITED, 4).get("m");
    assertThat(r.status()).isEqualTo("invalid_output");
    assertThat(r.attempts()).isEqualTo(3);
  }

  @Test
  void truncatedAndRefusedAreTheirOwnStatuses() {
    ScriptedClient client =
        new ScriptedClient(
            (r, n) ->
                r.requestId().equals("t")
                    ? Attempt.ok("cut", "length", 10, 50, "model-x", 1)
                    : ok(null).withRefusal("I can't help with that"));
    Map<String, Result> results =
        run(List.of(request("t", "q", null), request("x", "q", null)), client, Pacer.UNLIMITED, 4);
    assertThat(results.get("t").status()).isEqualTo("truncated");
    assertThat(results.get("t").content()).isEqualTo("cut");
    assertThat(results.get("x").status()).isEqualTo("refused");
    assertThat(results.get("x").error()).contains("I can't help with that");
  }

  @Test
  void pacerRefusalsBecomeRowStatusesWithoutCalls() {
    AtomicInteger granted = new AtomicInteger();
    Pacer budgetOfTwo =
        new Pacer() {
          @Override
          public Grant acquire(String alias, long tokens, double cost) {
            return granted.incrementAndGet() <= 2
                ? Grant.OK
                : Grant.refused(Refusal.BUDGET, "budget reached: 2 requests");
          }

          @Override
          public void report(String alias, Attempt a, long t, double e, double c) {}
        };
    ScriptedClient client = new ScriptedClient((r, n) -> ok("x"));
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      requests.add(request("b" + i, "q", null));
    }
    Map<String, Result> results = run(requests, client, budgetOfTwo, 1);
    assertThat(results.values().stream().filter(r -> r.status().equals("ok")).count()).isEqualTo(2);
    assertThat(results.values().stream().filter(r -> r.status().equals("skipped_budget")))
        .hasSize(3)
        .allMatch(r -> r.attempts() == 0 && r.error().equals("budget reached: 2 requests"));
    assertThat(client.sent).hasSize(2);
  }

  @Test
  void promptsAreCountedWithTheTokenizerOnlyWhenTheEstimateIsUsed() {
    // no context window on this alias: only the pacer decides
    ModelSpec open =
        new ModelSpec("m", "openai", "model-x", "chat", "", 1.0, 2.0, 0, "o200k_base", 0, 0, "");
    // digits and commas are a token each: far more tokens than characters / 4
    String text = "1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0";
    List<Message> msgs = List.of(new Message("user", text));
    long exact = TokenCounter.countMessages("o200k_base", msgs) + 50;
    long rough = TokenCounter.roughCountMessages(msgs) + 50;
    assertThat(exact).isNotEqualTo(rough);
    for (boolean uses : new boolean[] {true, false}) {
      List<Long> seen = java.util.Collections.synchronizedList(new ArrayList<>());
      Pacer recording =
          new Pacer() {
            @Override
            public Grant acquire(String alias, long tokens, double cost) {
              seen.add(tokens);
              return Grant.OK;
            }

            @Override
            public boolean usesTokenEstimates(String alias) {
              return uses;
            }

            @Override
            public void report(String alias, Attempt a, long t, double e, double c) {}
          };
      Dispatcher d =
          new Dispatcher(
              List.of(request("t", text, null)).iterator(),
              new ScriptedClient((r, n) -> ok("x")),
              recording,
              a -> open,
              POLICY,
              4);
      d.forEachRemaining(r -> assertThat(r.status()).isEqualTo("ok"));
      assertThat(seen).containsExactly(uses ? exact : rough);
    }
    // a context window is checked with the exact count whatever the pacer says (the rough one
    // would fit)
    assertThat(rough).isLessThan(exact);
    ModelSpec small =
        new ModelSpec(
            "m",
            "openai",
            "model-x",
            "chat",
            "",
            1.0,
            2.0,
            (int) exact - 1,
            "o200k_base",
            0,
            0,
            "");
    Dispatcher d =
        new Dispatcher(
            List.of(request("w", text, null)).iterator(),
            new ScriptedClient((r, n) -> ok("x")),
            Pacer.UNLIMITED,
            a -> small,
            POLICY,
            4);
    assertThat(d.next().error()).contains("about " + exact + " tokens");
  }

  @Test
  void emptyPromptsFailWithoutACall() {
    ScriptedClient client = new ScriptedClient((r, n) -> ok("x"));
    Result r = run(List.of(request("e", "  ", null)), client, Pacer.UNLIMITED, 4).get("e");
    assertThat(r.status()).isEqualTo("failed");
    assertThat(r.error()).contains("empty prompt");
    assertThat(client.sent).isEmpty();
  }

  /** Admits one request every {@code everyMs} ms (sleeping in acquire, as a paced pacer does). */
  static Pacer pacedEvery(long everyMs) {
    return new Pacer() {
      private long next;

      @Override
      public synchronized Grant acquire(String alias, long tokens, double cost)
          throws InterruptedException {
        long now = System.nanoTime();
        if (next > now) {
          TimeUnit.NANOSECONDS.sleep(next - now);
        }
        next = Math.max(now, next) + TimeUnit.MILLISECONDS.toNanos(everyMs);
        return Grant.OK;
      }

      @Override
      public void report(String alias, Attempt a, long t, double e, double c) {}
    };
  }

  @Test
  void requestsKeepGoingOutWhileTheConsumerIsBusyWithARow() throws Exception {
    // a Spark task writes each result row before it asks for the next; a slow row (the first one
    // in a cold JVM took 250 ms) must not stop the requests that the pacer admits meanwhile
    ScriptedClient client = new ScriptedClient((r, n) -> ok("x"));
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      requests.add(request("s" + i, "q" + i, null));
    }
    try (Dispatcher d =
        new Dispatcher(requests.iterator(), client, pacedEvery(5), a -> SPEC, POLICY, 512)) {
      assertThat(d.hasNext()).isTrue();
      d.next();
      int before = client.sent.size();
      Thread.sleep(300); // the consumer writes its first row
      int during = client.sent.size() - before;
      // the pacer admits up to 60 in 300 ms; a consuming thread that also sends sent none (a
      // loaded CI machine sent 23)
      assertThat(during).as("requests sent while the consumer was busy").isGreaterThanOrEqualTo(10);
      int rest = 0;
      while (d.hasNext()) {
        assertThat(d.next().status()).isEqualTo("ok");
        rest++;
      }
      assertThat(rest).isEqualTo(59);
    }
    assertThat(client.sent).hasSize(60);
  }

  @Test
  void aRetryThatIsDueGoesBeforeQueuedNewRequests() {
    // r0 is refused once (retry after 1 ms); the other 99 are new. The retry must not wait for the
    // whole queue ahead of it
    ScriptedClient client =
        new ScriptedClient(
            (r, n) ->
                r.requestId().equals("r0") && n == 1
                    ? Attempt.failure(Attempt.Kind.RATE_LIMITED, 429, 5, "slow down", 1)
                    : ok("x"));
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      requests.add(request("r" + i, "q" + i, null));
    }
    Map<String, Result> results = run(requests, client, pacedEvery(2), 512);
    assertThat(results.get("r0").status()).isEqualTo("ok");
    assertThat(results.get("r0").attempts()).isEqualTo(2);
    int second = -1;
    for (int i = 0; i < client.sent.size(); i++) {
      if (client.sent.get(i).requestId().equals("r0")) {
        second = i;
      }
    }
    // sent a few requests after the first attempt (its answer takes 2 ms; the pacer sends one
    // every 2 ms), long before the 64 new requests queued ahead of it would be (at about 66)
    assertThat(second).isBetween(2, 40);
  }

  @Test
  void aBrokenPacerStopsTheRunWithItsOwnError() {
    Pacer broken =
        new Pacer() {
          @Override
          public Grant acquire(String alias, long tokens, double cost) {
            throw new IllegalStateException("coordinator unreachable: check the driver");
          }

          @Override
          public void report(String alias, Attempt a, long t, double e, double c) {}
        };
    ScriptedClient client = new ScriptedClient((r, n) -> ok("x"));
    Dispatcher d =
        new Dispatcher(
            List.of(request("a", "q", null), request("b", "q", null)).iterator(),
            client,
            broken,
            a -> SPEC,
            POLICY,
            4);
    org.assertj.core.api.Assertions.assertThatThrownBy(d::hasNext)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("coordinator unreachable: check the driver");
    assertThat(client.sent).isEmpty();
  }

  @Test
  void closingAnAbandonedDispatcherStopsItsSenderThread() throws Exception {
    ScriptedClient client = new ScriptedClient((r, n) -> ok("x"));
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      requests.add(request("c" + i, "q" + i, null));
    }
    java.util.Set<Thread> before = senderThreads();
    Dispatcher d =
        new Dispatcher(requests.iterator(), client, pacedEvery(20), a -> SPEC, POLICY, 8);
    assertThat(d.hasNext()).isTrue();
    java.util.Set<Thread> senders = senderThreads();
    senders.removeAll(before); // only this Dispatcher's sender, not one another test left running
    assertThat(senders).isNotEmpty();
    d.close(); // a failed Spark task gives up with requests left
    for (Thread t : senders) {
      t.join(2000);
    }
    assertThat(senders).noneMatch(Thread::isAlive);
    int sent = client.sent.size();
    Thread.sleep(100);
    assertThat(client.sent).as("nothing sent after close").hasSize(sent);
  }

  @Test
  void aFinishedDispatcherLeavesNoSenderThreadBehind() throws Exception {
    ScriptedClient client = new ScriptedClient((r, n) -> ok("x"));
    List<ChatRequest> requests = List.of(request("f1", "q", null), request("f2", "q", null));
    java.util.Set<Thread> before = senderThreads();
    Dispatcher d =
        new Dispatcher(requests.iterator(), client, Pacer.UNLIMITED, a -> SPEC, POLICY, 4);
    d.next();
    java.util.Set<Thread> senders = senderThreads();
    senders.removeAll(before);
    d.next();
    assertThat(d.hasNext()).isFalse();
    for (Thread t : senders) {
      t.join(2000);
    }
    assertThat(senders).noneMatch(Thread::isAlive);
  }

  private static java.util.Set<Thread> senderThreads() {
    java.util.Set<Thread> out = new java.util.HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("qaforge-sender-")) {
        out.add(t);
      }
    }
    return out;
  }
}
