package io.qaforge.llm;

import java.io.Serializable;

/** One chat message: role (system, user, assistant) and text. */
public record Message(String role, String content) implements Serializable {
  private static final long serialVersionUID = 1L;
}
