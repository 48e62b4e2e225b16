package io.qaforge.ingest;

import io.qaforge.config.Settings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Deterministic split assignment. Within each source split (train / validation / test), questions
 * are ranked by {@code sha256(question_id)} (hex, ties broken by the id) and the ranks are handed
 * out to the target splits in the configured order with exact sizes; ranks beyond the total get the
 * remainder split. The result depends only on the set of question ids, never on file order,
 * partitioning or machine.
 */
public record SplitPlan(Map<String, List<Target>> bySource, String remainder) {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");
  public static final List<String> SOURCE_SPLITS = List.of("train", "validation", "test");

  /** A target split and how many questions it receives. */
  public record Target(String name, long size) {}

  public static SplitPlan from(Settings settings) {
    Map<String, List<Target>> bySource = new LinkedHashMap<>();
    for (String source : settings.childKeys("ingest.splits")) {
      if (!SOURCE_SPLITS.contains(source)) {
        throw settings.invalid(
            "ingest.splits." + source, "names a source split; use one of train, validation, test");
      }
      List<Target> targets = new ArrayList<>();
      var list = settings.config().getConfigList("ingest.splits." + source);
      for (int i = 0; i < list.size(); i++) {
        String key = "ingest.splits." + source + "." + i;
        var c = list.get(i);
        if (!c.hasPath("name") || !NAME.matcher(c.getString("name")).matches()) {
          throw Settings.invalid(
              key + ".name",
              c.hasPath("name") ? c.getValue("name") : null,
              "must be a lower-case name such as sft or reward_model");
        }
        long size;
        try {
          size = c.getLong("size");
        } catch (com.typesafe.config.ConfigException e) {
          throw Settings.invalid(
              key + ".size",
              c.hasPath("size") ? c.getValue("size") : null,
              "must be a whole number >= 0");
        }
        if (size < 0) {
          throw Settings.invalid(key + ".size", c.getValue("size"), "must be a whole number >= 0");
        }
        targets.add(new Target(c.getString("name"), size));
      }
      bySource.put(source, List.copyOf(targets));
    }
    String remainder = settings.string("ingest.remainder");
    if (!NAME.matcher(remainder).matches()) {
      throw settings.invalid("ingest.remainder", "must be a lower-case name such as unassigned");
    }
    return new SplitPlan(bySource, remainder);
  }

  /** The split of the question with the given 0-based rank inside its source split. */
  public String assign(String sourceSplit, long rank) {
    long end = 0;
    for (Target t : bySource.getOrDefault(sourceSplit, List.of())) {
      end += t.size();
      if (rank < end) {
        return t.name();
      }
    }
    return remainder;
  }

  /** The ranking key: lower-case hex SHA-256 of the UTF-8 question id (= Spark's sha2(id, 256)). */
  public static String rankKey(String questionId) {
    return io.qaforge.Hashing.sha256Hex(questionId);
  }
}
