package io.qaforge;

import io.qaforge.spark.Lake;

/**
 * One paper's recipe (or the ingest job). Construction reads and validates its settings, before any
 * Spark job; {@link #run} writes one Delta table per step and skips steps that are up to date;
 * {@link #plan} says what a run would do without writing or calling any model.
 */
public interface Pipeline {
  String name();

  String description();

  RunSummary run(Lake lake, boolean force);

  Plan plan(Lake lake);
}
