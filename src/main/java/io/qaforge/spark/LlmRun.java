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

  @Override
  public void close() {}
}
