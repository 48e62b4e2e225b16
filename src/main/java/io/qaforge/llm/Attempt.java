package io.qaforge.llm;

/**
 * The outcome of exactly one call to a backend (no retries inside). The {@link Dispatcher} decides
 * on retries, pacing and the final row status from a sequence of attempts.
 *
 * @param kind what happened
 * @param content the generated text (OK only)
 * @param finishReason stop, length, content_filter, ... (OK only)
 * @param httpStatus the HTTP status for HTTP backends, 0 otherwise
 * @param retryAfterMs the server's Retry-After / retry-after-ms, or -1
 * @param limitRequestsPerMinute x-ratelimit-limit-requests when the server sent it, or -1
 * @param limitTokensPerMinute x-ratelimit-limit-tokens when the server sent it, or -1
 * @param error a short reason for non-OK kinds (never contains secrets)
 */
public record Attempt(
    Kind kind,
    String content,
    String finishReason,
    long promptTokens,
    long completionTokens,
    String model,
    int httpStatus,
    long retryAfterMs,
    long limitRequestsPerMinute,
    long limitTokensPerMinute,
    String refusal,
    String error,
    long latencyMs) {

  /** Classes of outcome; the dispatcher retries RATE_LIMITED, SERVER_ERROR, TIMEOUT, IO_ERROR. */
  public enum Kind {
    OK,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    IO_ERROR,
    CLIENT_ERROR,
    MALFORMED
  }

  public static Attempt ok(
      String content,
      String finishReason,
      long promptTokens,
      long completionTokens,
      String model,
      long latencyMs) {
    return new Attempt(
        Kind.OK,
        content,
        finishReason,
        promptTokens,
        completionTokens,
        model,
        200,
        -1,
        -1,
        -1,
        null,
        null,
        latencyMs);
  }

  public static Attempt failure(
      Kind kind, int httpStatus, long retryAfterMs, String error, long latencyMs) {
    return new Attempt(
        kind, null, null, 0, 0, null, httpStatus, retryAfterMs, -1, -1, null, error, latencyMs);
  }

  public Attempt withLimits(long requestsPerMinute, long tokensPerMinute) {
    return new Attempt(
        kind,
        content,
        finishReason,
        promptTokens,
        completionTokens,
        model,
        httpStatus,
        retryAfterMs,
        requestsPerMinute,
        tokensPerMinute,
        refusal,
        error,
        latencyMs);
  }

  public Attempt withRefusal(String refusalText) {
    return new Attempt(
        kind,
        content,
        finishReason,
        promptTokens,
        completionTokens,
        model,
        httpStatus,
        retryAfterMs,
        limitRequestsPerMinute,
        limitTokensPerMinute,
        refusalText,
        error,
        latencyMs);
  }

  public boolean retryable() {
    return kind == Kind.RATE_LIMITED
        || kind == Kind.SERVER_ERROR
        || kind == Kind.TIMEOUT
        || kind == Kind.IO_ERROR;
  }
}
