package io.qaforge;

import java.util.List;

/** What a run would do, computed without writing tables or calling models. */
public record Plan(String pipeline, List<Step> steps) {

  /** One planned step with its expected output and model usage. */
  public record Step(
      String table,
      long rows,
      long llmRequests,
      long promptTokens,
      long completionTokens,
      double costUsd,
      boolean upToDate,
      String note) {}
}
