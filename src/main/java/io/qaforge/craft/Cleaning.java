package io.qaforge.craft;

import io.qaforge.craft.FuzzyRatio.Prepared;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CRAFT's clean step on canonical JSON strings, in one JVM (pipeline doc, section 7; issue 5 step
 * 6). Plain Java, no Spark; the Spark job {@code io.qaforge.spark.FuzzyDedup} reproduces it.
 *
 * <ol>
 *   <li><b>Contamination.</b> A sample whose {@link #score} against any few-shot is at least the
 *       threshold is {@code contaminated}; the decision names the first such few-shot (file order,
 *       0-based, as the seed's loop stops there) and its score. Contaminated samples take no part
 *       in step 2.
 *   <li><b>Greedy self-dedup, in the given order.</b> A sample is {@code kept} only if its score
 *       against every previously kept sample is below the threshold; otherwise it is a {@code
 *       duplicate} of the earliest kept sample reaching the threshold. Unlike the seed, an exact
 *       repeat of a kept sample is a duplicate.
 * </ol>
 *
 * <p>{@link #score} is thefuzz's {@code token_set_ratio}, except that two equal strings score 100:
 * thefuzz gives 0 to strings without alphanumerics (e.g. {@code "{}"}), and exact duplicates must
 * go whatever they contain.
 *
 * <p>{@link #resolve} is the same greedy over a precomputed list of pairs at or above the
 * threshold: a sample's fate depends only on those pairs with earlier samples, so a job that finds
 * the pairs in parallel (all of them, or candidates from LSH blocking) and resolves them in order
 * gets the sequential result.
 */
public final class Cleaning {
  public static final int DEFAULT_THRESHOLD = 85;

  private Cleaning() {}

  /** A sample to clean: a stable id and its canonical JSON string. */
  public record Sample(String id, String json) {}

  /** The three outcomes, with the labels stored in {@code clean_status}. */
  public enum Status {
    KEPT("kept"),
    CONTAMINATED("contaminated"),
    DUPLICATE("duplicate");

    private final String label;

    Status(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * One sample's outcome. {@code ref} is null when kept, the few-shot index (as a decimal string)
   * when contaminated, the kept sample's id when a duplicate; {@code score} is the ratio that
   * decided it (0 when kept).
   */
  public record Decision(String id, Status status, String ref, int score) {
    public static Decision kept(String id) {
      return new Decision(id, Status.KEPT, null, 0);
    }
  }

  /** A few-shot match: 0-based few-shot index and score. */
  public record Match(int fewShot, int score) {}

  /** A pair at or above the threshold: positions {@code earlier < later} in the order. */
  public record Edge(long later, long earlier, int score) {}

  /** A string and its prepared token set, for repeated comparisons. */
  public record Text(String json, Prepared prepared) implements java.io.Serializable {
    public static Text of(String json) {
      return new Text(json, FuzzyRatio.prepare(json));
    }
  }

  /** Decisions for {@code samples} in their order (see the class comment). */
  public static List<Decision> clean(List<Sample> samples, List<String> fewShots, int threshold) {
    List<Text> shots = fewShots.stream().map(Text::of).toList();
    List<Decision> out = new ArrayList<>(samples.size());
    List<Sample> keptSamples = new ArrayList<>();
    List<Text> kept = new ArrayList<>();
    for (Sample s : samples) {
      Text text = Text.of(s.json());
      Match m = contamination(text, shots, threshold);
      if (m != null) {
        out.add(
            new Decision(s.id(), Status.CONTAMINATED, Integer.toString(m.fewShot()), m.score()));
        continue;
      }
      Decision d = null;
      for (int k = 0; k < kept.size() && d == null; k++) {
        int score = score(text, kept.get(k), threshold);
        if (score >= threshold) {
          d = new Decision(s.id(), Status.DUPLICATE, keptSamples.get(k).id(), score);
        }
      }
      if (d == null) {
        d = Decision.kept(s.id());
        keptSamples.add(s);
        kept.add(text);
      }
      out.add(d);
    }
    return out;
  }

  /** The first few-shot (in list order) scoring at least {@code threshold}, or null. */
  public static Match contamination(Text sample, List<Text> fewShots, int threshold) {
    for (int i = 0; i < fewShots.size(); i++) {
      int score = score(sample, fewShots.get(i), threshold);
      if (score >= threshold) {
        return new Match(i, score);
      }
    }
    return null;
  }

  /**
   * The clean step's similarity: 100 for equal strings, else {@link FuzzyRatio#tokenSetRatio}.
   * Exact when at least {@code cutoff}; otherwise some value below it.
   */
  public static int score(Text a, Text b, int cutoff) {
    if (a.json().equals(b.json())) {
      return 100;
    }
    return FuzzyRatio.tokenSetRatio(a.prepared(), b.prepared(), cutoff);
  }

  /**
   * The greedy of step 2 over the pairs at or above the threshold. Positions are the samples'
   * places in the order (any distinct longs); a position in no edge is kept. Returns, for every
   * duplicate, the edge to the kept sample it duplicates (the earliest kept one it reaches).
   */
  public static Map<Long, Edge> resolve(List<Edge> edges) {
    List<Edge> sorted = new ArrayList<>(edges);
    for (Edge e : sorted) {
      if (e.earlier() >= e.later()) {
        throw new IllegalArgumentException(
            "clean: edge " + e + " must point from a later sample to an earlier one");
      }
    }
    sorted.sort(Comparator.comparingLong(Edge::later).thenComparingLong(Edge::earlier));
    Map<Long, Edge> duplicates = new HashMap<>();
    for (Edge e : sorted) {
      // Earlier samples are decided before; a later one's edges come earliest-first, so the
      // first edge to a kept sample decides.
      if (!duplicates.containsKey(e.later()) && !duplicates.containsKey(e.earlier())) {
        duplicates.put(e.later(), e);
      }
    }
    return duplicates;
  }
}
