package io.qaforge.craft;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One field of a CRAFT task sample and the rule its value must satisfy. The vocabulary, shared by
 * the built-in tasks and tasks defined in configuration ({@link CraftTask#fromConfig}):
 *
 * <ul>
 *   <li>{@link Type#STRING}: a JSON string, stripped; at least {@code min} code points ({@code min
 *       >= 1}, so never empty). CRAFT's "longer than 15 characters" is {@code min = 16}.
 *   <li>{@link Type#LIST}: a JSON array of strings; items are stripped and blank items dropped;
 *       then exactly {@code count} items ({@code count > 0}) or at least {@code min} items.
 *   <li>{@link Type#LETTER}: a JSON string whose first character after stripping is one of {@code
 *       letters}; the sample keeps only that letter ({@code "B. No"} gives {@code B}).
 * </ul>
 *
 * <p>{@code aliases} are other keys accepted in place of {@code name} when {@code name} is absent
 * (csqa's {@code statement}); the sample always uses {@code name}. {@code description} is the
 * field's meaning for the JSON schema and the format example; {@code example}, if set (a string or
 * a list of strings), is shown in the format example instead of a placeholder.
 *
 * <p>Failures: {@code invalid} is the error of the value rule (too short, wrong item count, not a
 * letter), {@code notList} the error of a list field whose value is not an array. Other type errors
 * are {@link CraftParsing#WRONG_TYPE}. Defaults are derived from the name ({@code
 * <name>_too_short}, {@code <name>_count} / {@code no_<name>}, {@code <name>_letter}, {@code
 * <name>_not_list}); the built-in tasks replace them with the seed's categories and messages.
 */
public record FieldRule(
    String name,
    Type type,
    List<String> aliases,
    int min,
    int count,
    String letters,
    String description,
    Object example,
    Problem invalid,
    Problem notList)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The JSON type and rule family of a field. */
  public enum Type {
    STRING,
    LIST,
    LETTER
  }

  /** A validation failure: a stable snake_case category and a human message. */
  public record Problem(String category, String message) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Problem {
      Objects.requireNonNull(category, "category");
      Objects.requireNonNull(message, "message");
    }
  }

  public FieldRule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    aliases = List.copyOf(aliases == null ? List.of() : aliases);
    if (example instanceof List) {
      example = List.copyOf((List<?>) example);
    }
    if (invalid == null) {
      invalid = defaultInvalid(name, type, min, count, letters);
    }
    if (notList == null && type == Type.LIST) {
      notList = new Problem(name + "_not_list", "'" + name + "' is not a list.");
    }
  }

  /** A string field of at least {@code minLength} code points after stripping. */
  public static FieldRule string(String name, int minLength) {
    return new FieldRule(name, Type.STRING, List.of(), minLength, 0, null, null, null, null, null);
  }

  /** A list of exactly {@code count} non-blank strings. */
  public static FieldRule listOf(String name, int count) {
    return new FieldRule(name, Type.LIST, List.of(), 0, count, null, null, null, null, null);
  }

  /** A list of at least {@code minItems} non-blank strings. */
  public static FieldRule listAtLeast(String name, int minItems) {
    return new FieldRule(name, Type.LIST, List.of(), minItems, 0, null, null, null, null, null);
  }

  /** A letter field: the first character of the stripped value must be one of {@code letters}. */
  public static FieldRule letter(String name, String letters) {
    return new FieldRule(name, Type.LETTER, List.of(), 0, 0, letters, null, null, null, null);
  }

  public FieldRule withAliases(String... names) {
    return new FieldRule(
        name, type, List.of(names), min, count, letters, description, example, invalid, notList);
  }

  public FieldRule withDescription(String text, Object exampleValue) {
    return new FieldRule(
        name, type, aliases, min, count, letters, text, exampleValue, invalid, notList);
  }

  /** The same rule with another category and message for a failed value rule. */
  public FieldRule withInvalid(String category, String message) {
    return withProblems(new Problem(category, message), notList);
  }

  /** The same list rule with another category and message for a value that is not a list. */
  public FieldRule withNotList(String category, String message) {
    return withProblems(invalid, new Problem(category, message));
  }

  private FieldRule withProblems(Problem newInvalid, Problem newNotList) {
    return new FieldRule(
        name, type, aliases, min, count, letters, description, example, newInvalid, newNotList);
  }

  /** The keys this field may be given under: {@code name}, then the aliases. */
  public List<String> keys() {
    List<String> keys = new ArrayList<>(aliases.size() + 1);
    keys.add(name);
    keys.addAll(aliases);
    return keys;
  }

  /** The error categories this field can produce (besides missing_key and wrong_type). */
  public List<String> categories() {
    return notList == null
        ? List.of(invalid.category())
        : List.of(notList.category(), invalid.category());
  }

  /** The letters as a readable list: {@code A, B, C, D}. */
  String letterList() {
    return letterList(letters);
  }

  private static String letterList(String letters) {
    return String.join(
        ", ", (letters == null ? "" : letters).codePoints().mapToObj(Character::toString).toList());
  }

  private static Problem defaultInvalid(
      String name, Type type, int min, int count, String letters) {
    String q = "'" + name + "'";
    switch (type) {
      case STRING:
        return new Problem(
            name + "_too_short",
            min <= 1 ? q + " is empty." : q + " is empty or shorter than " + min + " characters.");
      case LIST:
        return count > 0
            ? new Problem(
                name + "_count",
                q
                    + " must have exactly "
                    + count
                    + " non-empty item"
                    + (count == 1 ? "" : "s")
                    + ".")
            : new Problem(
                "no_" + name,
                q + " must have at least " + min + " non-empty item" + (min == 1 ? "" : "s") + ".");
      default:
        return new Problem(
            name + "_letter", q + " does not start with one of " + letterList(letters) + ".");
    }
  }
}
