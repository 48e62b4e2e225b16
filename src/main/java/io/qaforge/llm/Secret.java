package io.qaforge.llm;

import java.io.Serializable;

/** A secret value that never prints itself (toString is masked). */
public final class Secret implements Serializable {
  private static final long serialVersionUID = 1L;
  private final String value;

  public Secret(String value) {
    this.value = value == null ? "" : value;
  }

  public String reveal() {
    return value;
  }

  public boolean isEmpty() {
    return value.isEmpty();
  }

  @Override
  public String toString() {
    return value.isEmpty() ? "<empty>" : "<redacted>";
  }
}
