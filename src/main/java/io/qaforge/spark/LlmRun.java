package io.qaforge.spark;

import io.qaforge.llm.Pacer;
import java.time.Instant;
import java.util.UUID;

/**
 * One run's model-call context on the driver: the run id stamped on every cached answer and ledger
 * row, and the job-wide pacer that executors use.
 */
public final class LlmRun implements AutoCloseable {
  private final String id;
  private final Generation.SerializableSupplier<Pacer> pacer;

  LlmRun(String id, Generation.SerializableSupplier<Pacer> pacer) {
    this.id = id;
    this.pacer = pacer;
  }

  /** A run without admission control (dry-run, tests). */
  public static LlmRun unpaced() {
    return new LlmRun(newId(), () -> Pacer.UNLIMITED);
  }

  static String newId() {
    return Instant.now().toString().replace(":", "").replace("-", "")
        + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  public String id() {
    return id;
  }

  Generation.SerializableSupplier<Pacer> pacerFactory() {
    return pacer;
  }

  private final java.util.List<Ledger.Entry> entries =
      java.util.Collections.synchronizedList(new java.util.ArrayList<>());

  /** 429 answers seen for the alias in this run (from the pacer's counters), or 0. */
  long rateLimited(String alias) {
    return 0;
  }

  void record(Ledger.Entry entry) {
    entries.add(entry);
  }

  /** The ledger entries of this run so far, in order. */
  public java.util.List<Ledger.Entry> entries() {
    return java.util.List.copyOf(entries);
  }

  @Override
  public void close() {}
}
