package io.qaforge;

/**
 * The one run-level error: something makes the whole run impossible (bad settings, unreadable or
 * malformed input, unreachable storage). Its message always states the problem, why it happened and
 * how to fix it. Per-row failures are never exceptions; they are data with a status column.
 */
public class QaforgeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String problem;
  private final String reason;
  private final String fix;

  public QaforgeException(String problem, String reason, String fix) {
    this(problem, reason, fix, null);
  }

  public QaforgeException(String problem, String reason, String fix, Throwable cause) {
    super(problem + "\n  cause: " + reason + "\n  fix:   " + fix, cause);
    this.problem = problem;
    this.reason = reason;
    this.fix = fix;
  }

  public String problem() {
    return problem;
  }

  public String reason() {
    return reason;
  }

  public String fix() {
    return fix;
  }
}
