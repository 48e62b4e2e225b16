package io.qaforge.llm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Runs one stream of requests (a Spark partition) against a backend: many requests in flight, each
 * admitted by the job-wide {@link Pacer}, retried within the {@link RetryPolicy}, checked against
 * its JSON schema, and turned into exactly one {@link Result}. Results come out as they finish (not
 * in input order). All bookkeeping happens on the consuming thread (the sender thread only counts
 * attempts); the sender and backend callbacks hand requests and answers over through queues.
 *
 * <p>Admission and sending run on a sender thread of their own: the consuming thread queues up to
 * {@value #LOOKAHEAD} requests ahead (retries first), and the sender waits in the pacer and sends
 * them. So the consumer's own work between rows (a Spark task writing each row; its first row took
 * 250 ms in a cold JVM, a quarter of a second in which nothing was sent) does not stop the
 * requests. {@link #close()} stops the sender when the consumer gives up early; it also stops by
 * itself once every request has its result.
 */
public final class Dispatcher implements Iterator<Result>, AutoCloseable {
  /** Requests queued for the sender beyond those it is sending (at most max in flight). */
  static final int LOOKAHEAD = 64;

  /** The longest an answer waits for the consumer to look (see {@link #done}). */
  static final long NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private static final AtomicInteger SENDERS = new AtomicInteger();

  private static final String REPAIR =
      "Your previous answer could not be used: %s. Answer again with only a JSON value that"
          + " matches the required schema.";

  private final Iterator<ChatRequest> input;
  private final LlmClient client;
  private final Pacer pacer;
  private final Function<String, ModelSpec> specs;
  private final RetryPolicy policy;
  private final int maxInFlight;

  private final ArrayDeque<Result> ready = new ArrayDeque<>();
  private final PriorityQueue<Work> waiting =
      new PriorityQueue<>((a, b) -> Long.compare(a.notBeforeNanos, b.notBeforeNanos));
  // answers wait here until the consumer's next look (at most NAP_NANOS later): waking the consumer
  // for each one cost the HTTP event loop a tenth of its CPU (async-profiler, bench generation at
  // 400 req/s); rare events (top-up, refusal, sender failure) wake it at once
  private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
  private volatile Thread napping;
  // owned by the sender between start() and its Done
  private final LinkedBlockingDeque<Work> toSend = new LinkedBlockingDeque<>();
  private final int lookahead;
  private Thread sender;
  private volatile boolean closed;
  // queued for the sender or sent, without a Done handled yet
  private int inFlight;

  /** One request with its progress so far. */
  private static final class Work {
    final ChatRequest original;
    ChatRequest current;
    final ModelSpec spec;
    final long estimatedTokens;
    final double estimatedCost;
    int attempts;
    int repairs;
    long notBeforeNanos;
    double cost;
    long latencyMs;
    long promptTokens;
    long completionTokens;

    /**
     * @param exact count the prompt with the model's tokenizer (context window check, paced token
     *     rate or cost budget), else estimate it from its length
     */
    Work(ChatRequest r, ModelSpec spec, boolean exact) {
      this.original = r;
      this.current = r;
      this.spec = spec;
      long prompt =
          exact
              ? TokenCounter.countMessages(spec.tokenizer(), r.messages())
              : TokenCounter.roughCountMessages(r.messages());
      long completion = r.maxTokens() != null ? r.maxTokens() : 256;
      this.estimatedTokens = prompt + completion;
      this.estimatedCost = spec.cost(prompt, completion);
    }
  }

  /**
   * What became of a queued request: an attempt's answer, a refusal by the pacer ({@code refused}),
   * or a failure of the sender itself ({@code error}: the run is broken).
   */
  private record Done(
      Work work, Attempt attempt, double cost, Pacer.Grant refused, Throwable error) {}

  /** From the sender when it has taken half of a full lookahead: time to top it up. */
  private static final Done TOP_UP = new Done(null, null, 0, null, null);

  public Dispatcher(
      Iterator<ChatRequest> input,
      LlmClient client,
      Pacer pacer,
      Function<String, ModelSpec> specs,
      RetryPolicy policy,
      int maxInFlight) {
    this.input = input;
    this.client = client;
    this.pacer = pacer;
    this.specs = specs;
    this.policy = policy;
    this.maxInFlight = Math.max(1, maxInFlight);
    this.lookahead = Math.min(LOOKAHEAD, this.maxInFlight);
  }

  @Override
  public boolean hasNext() {
    try {
      pump();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IllegalStateException("interrupted while waiting for model answers", e);
    }
    return !ready.isEmpty();
  }

  @Override
  public Result next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return ready.poll();
  }

  private boolean moreWork() {
    return input.hasNext() || inFlight > 0 || !waiting.isEmpty();
  }

  private void pump() throws InterruptedException {
    while (ready.isEmpty() && moreWork()) {
      drainDone();
      if (!ready.isEmpty()) {
        return;
      }
      boolean room = inFlight < maxInFlight && toSend.size() < lookahead;
      Work next = room ? nextStartable() : null;
      if (next != null) {
        start(next);
        continue;
      }
      long waitNanos = TimeUnit.MILLISECONDS.toNanos(50);
      if (!waiting.isEmpty() && room) {
        waitNanos =
            Math.max(0, Math.min(waitNanos, waiting.peek().notBeforeNanos - System.nanoTime()));
      }
      napping = Thread.currentThread();
      if (done.isEmpty()) {
        LockSupport.parkNanos(this, Math.min(waitNanos, NAP_NANOS));
      }
      napping = null;
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
    if (!moreWork()) {
      close();
    }
  }

  /** Stops the sender thread (requests it has not sent yet are not sent). Idempotent. */
  @Override
  public void close() {
    closed = true;
    Thread t = sender;
    if (t != null) {
      t.interrupt();
    }
  }

  private void drainDone() {
    for (Done d = done.poll(); d != null; d = done.poll()) {
      handle(d);
    }
  }

  /** A retry that is due, else a new request; null if neither can start now. */
  private Work nextStartable() {
    if (!waiting.isEmpty() && waiting.peek().notBeforeNanos <= System.nanoTime()) {
      return waiting.poll();
    }
    if (input.hasNext()) {
      ChatRequest r = input.next();
      ModelSpec spec = specs.apply(r.alias());
      return new Work(r, spec, spec.contextWindow() > 0 || pacer.usesTokenEstimates(spec.alias()));
    }
    return null;
  }

  private void start(Work w) throws InterruptedException {
    if (w.current.messages().stream()
        .noneMatch(m -> "user".equals(m.role()) && m.content() != null && !m.content().isBlank())) {
      ready.add(finish(w, Result.FAILED, null, null, null, "empty prompt: nothing to send"));
      return;
    }
    if (w.spec.contextWindow() > 0 && w.estimatedTokens > w.spec.contextWindow()) {
      ready.add(
          finish(
              w,
              Result.FAILED,
              null,
              null,
              null,
              "prompt too long: about "
                  + w.estimatedTokens
                  + " tokens with max tokens, over the context window of "
                  + w.spec.alias()
                  + " ("
                  + w.spec.contextWindow()
                  + ")"));
      return;
    }
    if (closed) {
      throw new IllegalStateException("the dispatcher was closed while requests remained");
    }
    inFlight++;
    if (w.attempts > 0) {
      toSend.addFirst(w); // a retry that is due goes before new requests
    } else {
      toSend.addLast(w);
    }
    if (sender == null) {
      sender = new Thread(this::sendLoop, "qaforge-sender-" + SENDERS.incrementAndGet());
      sender.setDaemon(true);
      sender.start();
    }
  }

  /** The sender thread: admits each queued request through the pacer and sends it. */
  private void sendLoop() {
    Work w = null;
    try {
      while (!closed) {
        w = toSend.take();
        if (closed) {
          return; // the consumer gave up: nothing more is sent (nobody would see the answer)
        }
        if (toSend.size() == lookahead / 2) {
          wake(TOP_UP); // the consumer may be waiting for answers with the lookahead full
        }
        Pacer.Grant grant = pacer.acquire(w.spec.alias(), w.estimatedTokens, w.estimatedCost);
        if (!grant.granted()) {
          wake(new Done(w, null, 0, grant, null));
          continue;
        }
        w.attempts++;
        send(w);
      }
    } catch (InterruptedException e) {
      if (!closed) {
        wake(new Done(w, null, 0, null, e)); // nobody else interrupts it: the run is stopping
      }
    } catch (RuntimeException | Error e) {
      wake(new Done(w, null, 0, null, e));
    }
  }

  /** Queues an event the consumer must see now, and wakes it if it naps. */
  private void wake(Done d) {
    done.add(d);
    Thread t = napping;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  private void send(Work w) {
    client
        .send(w.current)
        .whenComplete(
            (a, t) -> {
              Attempt attempt =
                  a != null
                      ? a
                      : Attempt.failure(Attempt.Kind.IO_ERROR, 0, -1, String.valueOf(t), 0);
              double cost =
                  attempt.kind() == Attempt.Kind.OK
                      ? w.spec.cost(attempt.promptTokens(), attempt.completionTokens())
                      : 0;
              // reported right away, from the callback: the sender may be blocked in acquire()
              // waiting for exactly this settlement (budget reservations, breaker, pauses)
              pacer.report(w.spec.alias(), attempt, w.estimatedTokens, w.estimatedCost, cost);
              done.add(new Done(w, attempt, cost, null, null));
            });
  }

  private void handle(Done d) {
    if (d == TOP_UP) {
      return;
    }
    inFlight--;
    if (d.error() != null) {
      close();
      if (d.error() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("the request sender stopped: " + d.error(), d.error());
    }
    Work w = d.work();
    if (d.refused() != null) {
      Pacer.Grant grant = d.refused();
      String status =
          grant.refusal() == Pacer.Refusal.BUDGET ? Result.SKIPPED_BUDGET : Result.FAILED;
      ready.add(finish(w, status, null, null, null, grant.reason()));
      return;
    }
    Attempt a = d.attempt();
    double cost = d.cost();
    w.cost += cost;
    w.latencyMs += a.latencyMs();
    w.promptTokens += a.promptTokens();
    w.completionTokens += a.completionTokens();
    switch (a.kind()) {
      case OK:
        finishOk(w, a);
        return;
      case MALFORMED:
        if (w.repairs < policy.repairAttempts()) {
          w.repairs++;
          retryAt(w, 0);
        } else {
          ready.add(
              finish(
                  w, Result.INVALID_OUTPUT, null, null, null, "malformed response: " + a.error()));
        }
        return;
      default:
        if (a.retryable() && w.attempts - w.repairs < policy.maxAttempts()) {
          retryAt(w, policy.delayMs(w.attempts - w.repairs, a.retryAfterMs()));
        } else {
          String why =
              describe(a) + (a.retryable() ? " (gave up after " + w.attempts + " attempts)" : "");
          ready.add(finish(w, Result.FAILED, null, null, null, why));
        }
    }
  }

  /** The status of an answered call: refused, truncated, invalid output for its schema, or ok. */
  public record Classified(String status, String parsed, String error) {}

  /**
   * Classifies a successful call (Attempt kind OK). Shared by online calls and Batch API results so
   * both give the same statuses.
   */
  public static Classified classify(Attempt a, String jsonSchema, Integer maxTokens) {
    if (a.refusal() != null || "content_filter".equals(a.finishReason())) {
      return new Classified(
          Result.REFUSED,
          null,
          a.refusal() != null ? "refused: " + a.refusal() : "refused: content filter");
    }
    if ("length".equals(a.finishReason())) {
      return new Classified(Result.TRUNCATED, null, "cut at max tokens (" + maxTokens + ")");
    }
    if (jsonSchema == null) {
      return new Classified(Result.OK, null, null);
    }
    JsonOutput.Parsed parsed = JsonOutput.parse(a.content(), jsonSchema);
    return parsed.ok()
        ? new Classified(Result.OK, parsed.json(), null)
        : new Classified(
            Result.INVALID_OUTPUT, null, "output does not match the schema: " + parsed.error());
  }

  private void finishOk(Work w, Attempt a) {
    Classified c = classify(a, w.original.jsonSchema(), w.original.maxTokens());
    if (c.status().equals(Result.INVALID_OUTPUT) && w.repairs < policy.repairAttempts()) {
      w.repairs++;
      List<Message> repair = new ArrayList<>(w.original.messages());
      repair.add(new Message("assistant", a.content() == null ? "" : a.content()));
      repair.add(
          new Message(
              "user",
              String.format(
                  REPAIR, c.error().replaceFirst("^output does not match the schema: ", ""))));
      w.current = withMessages(w.original, repair);
      retryAt(w, 0);
      return;
    }
    ready.add(finish(w, c.status(), a.content(), c.parsed(), a, c.error()));
  }

  private static ChatRequest withMessages(ChatRequest r, List<Message> messages) {
    return new ChatRequest(
        r.requestId(),
        r.alias(),
        messages,
        r.temperature(),
        r.topP(),
        r.maxTokens(),
        r.seed(),
        r.stop(),
        r.jsonSchema(),
        r.logprobs(),
        r.sampleIdx());
  }

  private void retryAt(Work w, long delayMs) {
    w.notBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
    waiting.add(w);
  }

  private static String describe(Attempt a) {
    String what;
    switch (a.kind()) {
      case RATE_LIMITED:
        what = "rate limited (HTTP 429)";
        break;
      case SERVER_ERROR:
        what = "server error (HTTP " + a.httpStatus() + ")";
        break;
      case TIMEOUT:
        what = "timed out";
        break;
      case IO_ERROR:
        what = "connection failed";
        break;
      case CLIENT_ERROR:
        what = "request rejected (HTTP " + a.httpStatus() + ")";
        break;
      default:
        what = a.kind().name().toLowerCase(java.util.Locale.ROOT);
    }
    return a.error() == null || a.error().isBlank() ? what : what + ": " + a.error();
  }

  private Result finish(
      Work w, String status, String content, String parsed, Attempt last, String error) {
    return new Result(
        w.original.requestId(),
        w.original.sampleIdx(),
        content,
        parsed,
        status,
        error,
        w.attempts,
        last == null ? null : last.finishReason(),
        w.promptTokens,
        w.completionTokens,
        w.latencyMs,
        last == null ? null : last.model(),
        client.backend(),
        w.cost);
  }
}
