package io.qaforge.llm;

/**
 * The final outcome of one request (one sample), after retries: what the generation columns hold.
 *
 * @param status ok, truncated, refused, invalid_output, failed or skipped_budget
 * @param parsed the output as compact JSON when a schema was requested and it matched
 * @param error why the row is not ok (null when ok)
 * @param costUsd what the calls for this row cost (billed failed attempts included)
 */
public record Result(
    String requestId,
    int sampleIdx,
    String content,
    String parsed,
    String status,
    String error,
    int attempts,
    String finishReason,
    long promptTokens,
    long completionTokens,
    long latencyMs,
    String modelUsed,
    String backend,
    double costUsd) {

  public static final String OK = "ok";
  public static final String FAILED = "failed";
  public static final String INVALID_OUTPUT = "invalid_output";
  public static final String TRUNCATED = "truncated";
  public static final String REFUSED = "refused";
  public static final String SKIPPED_BUDGET = "skipped_budget";
}
