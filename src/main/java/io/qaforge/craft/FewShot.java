package io.qaforge.craft;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One line of a CRAFT few-shot file: its 0-based position among the file's few-shots and its keys
 * in file order. The built-in tasks' lines hold {@code Text}, {@code Instruction} and {@code
 * Output} (strings); a custom task's line holds {@code Text} plus the task fields or an {@code
 * Output} with the task JSON (see {@link CraftTask}). A value that is not a JSON string in the file
 * (a list, an object, a number) is kept as its JSON text ({@link PyJson#dumps}).
 */
public record FewShot(int idx, LinkedHashMap<String, String> fields) implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String TEXT = "Text";
  public static final String INSTRUCTION = "Instruction";
  public static final String OUTPUT = "Output";

  public FewShot {
    if (idx < 0) {
      throw new IllegalArgumentException("few-shot idx must be >= 0, got " + idx);
    }
    fields = new LinkedHashMap<>(Objects.requireNonNull(fields, "fields"));
  }

  /** A copy of the keys and values in file order. */
  @Override
  public LinkedHashMap<String, String> fields() {
    return new LinkedHashMap<>(fields);
  }

  /** The value of {@code key}, or null if the line has no such key. */
  public String get(String key) {
    return fields.get(key);
  }

  public boolean has(String key) {
    return fields.containsKey(key);
  }

  /** The source-like document ({@code Text}). */
  public String text() {
    return fields.get(TEXT);
  }

  /** {@code Instruction}, or null if the line has none. */
  public String instruction() {
    return fields.get(INSTRUCTION);
  }

  /** {@code Output}, or null if the line has none. */
  public String output() {
    return fields.get(OUTPUT);
  }

  /**
   * The retrieval query of this few-shot as CRAFT renders it: {@code "{key}: {value}"} for every
   * key in file order, joined by a blank line ({@code "\n\n"}); values are not stripped.
   */
  public String queryString() {
    List<String> parts = new ArrayList<>(fields.size());
    for (Map.Entry<String, String> e : fields.entrySet()) {
      parts.add(e.getKey() + ": " + e.getValue());
    }
    return String.join("\n\n", parts);
  }
}
