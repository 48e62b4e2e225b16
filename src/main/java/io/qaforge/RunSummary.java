package io.qaforge;

import io.qaforge.spark.Lake.TableInfo;
import java.time.Duration;
import java.util.List;

/** What a pipeline run did: one entry per step, in order. */
public record RunSummary(String pipeline, List<Step> steps, Duration elapsed) {

  /** One step's outcome; {@code skipped} when its table was already up to date. */
  public record Step(String name, TableInfo table, boolean skipped, String note) {}
}
