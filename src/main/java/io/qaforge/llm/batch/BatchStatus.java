package io.qaforge.llm.batch;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch as the API last described it. Timestamps are Unix seconds, null when not reached.
 *
 * @param status validating, in_progress, finalizing, completed, failed, expired, cancelling or
 *     cancelled (other values are kept as sent)
 * @param total requests in the batch (request_counts.total; 0 before validation)
 * @param completed requests that ran successfully so far
 * @param failed requests that failed so far
 * @param outputFileId the output file (successful lines), null until the batch ends or when no line
 *     succeeded
 * @param errorFileId the error file (failed and expired lines), null when there are none
 * @param errors batch-level errors (validation failures such as invalid lines), with the input line
 *     number when the API gives one
 * @param metadata the labels given at creation
 */
public record BatchStatus(
    String id,
    String status,
    String endpoint,
    String model,
    String inputFileId,
    String outputFileId,
    String errorFileId,
    long total,
    long completed,
    long failed,
    Long createdAt,
    Long inProgressAt,
    Long finalizingAt,
    Long completedAt,
    Long failedAt,
    Long expiredAt,
    Long expiresAt,
    Long cancellingAt,
    Long cancelledAt,
    List<BatchError> errors,
    Map<String, String> metadata) {

  public static final String VALIDATING = "validating";
  public static final String IN_PROGRESS = "in_progress";
  public static final String FINALIZING = "finalizing";
  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";
  public static final String EXPIRED = "expired";
  public static final String CANCELLING = "cancelling";
  public static final String CANCELLED = "cancelled";

  /** One batch-level error: code, message, the input line (1-based) and parameter it concerns. */
  public record BatchError(String code, String message, Integer line, String param) {}

  public BatchStatus {
    errors = errors == null ? List.of() : List.copyOf(errors);
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** No further change will happen: completed, failed, expired or cancelled. */
  public boolean terminal() {
    return COMPLETED.equals(status)
        || FAILED.equals(status)
        || EXPIRED.equals(status)
        || CANCELLED.equals(status);
  }

  /**
   * Every request has run and the API is writing the output files. Counts may already read 100%,
   * but there is nothing to download yet: show this as its own phase, not as done.
   */
  public boolean finalizing() {
    return FINALIZING.equals(status);
  }

  /**
   * There may be lines to read: completed, expired (the lines that ran before the window closed)
   * and cancelled batches keep their finished lines in the output and error files.
   */
  public boolean hasResultFiles() {
    return outputFileId != null || errorFileId != null;
  }

  /** A one-line progress text, e.g. "in_progress: 1,200 of 50,000 done (3 failed)". */
  public String describe() {
    StringBuilder out = new StringBuilder(id).append(' ').append(status);
    switch (status == null ? "" : status) {
      case VALIDATING:
        out.append(": checking the input file");
        break;
      case FINALIZING:
        out.append(
            String.format(
                ": all requests ran (%,d ok, %,d failed of %,d); the output files are being written",
                completed, failed, total));
        break;
      case FAILED:
        out.append(": the batch did not run");
        if (!errors.isEmpty()) {
          BatchError e = errors.get(0);
          out.append(" (")
              .append(e.code())
              .append(e.line() != null ? " at input line " + e.line() : "")
              .append(": ")
              .append(e.message())
              .append(errors.size() > 1 ? "; " + (errors.size() - 1) + " more" : "")
              .append(')');
        }
        break;
      default:
        if (total > 0) {
          out.append(
              String.format(": %,d of %,d done (%,d failed)", completed + failed, total, failed));
        }
    }
    return out.toString();
  }

  /** Reads a batch object as the API returns it (tolerant: missing fields become null/0). */
  static BatchStatus parse(JsonNode b) {
    JsonNode counts = b.path("request_counts");
    List<BatchError> errors = new ArrayList<>();
    JsonNode data = b.path("errors").path("data");
    if (data.isArray()) {
      for (JsonNode e : data) {
        errors.add(
            new BatchError(
                text(e, "code"),
                text(e, "message"),
                e.path("line").isNumber() ? e.path("line").intValue() : null,
                text(e, "param")));
      }
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    JsonNode md = b.path("metadata");
    if (md.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = md.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isNull()) {
          metadata.put(e.getKey(), e.getValue().asText());
        }
      }
    }
    return new BatchStatus(
        text(b, "id"),
        text(b, "status"),
        text(b, "endpoint"),
        text(b, "model"),
        text(b, "input_file_id"),
        text(b, "output_file_id"),
        text(b, "error_file_id"),
        counts.path("total").asLong(0),
        counts.path("completed").asLong(0),
        counts.path("failed").asLong(0),
        time(b, "created_at"),
        time(b, "in_progress_at"),
        time(b, "finalizing_at"),
        time(b, "completed_at"),
        time(b, "failed_at"),
        time(b, "expired_at"),
        time(b, "expires_at"),
        time(b, "cancelling_at"),
        time(b, "cancelled_at"),
        errors,
        metadata);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Long time(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || !v.isNumber() ? null : v.longValue();
  }
}
