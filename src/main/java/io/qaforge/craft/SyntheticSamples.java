package io.qaforge.craft;

import io.qaforge.craft.Cleaning.Sample;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded synthetic QA samples (canonical JSON like the clean step sees) with planted
 * near-duplicates, for the dedup benchmark, the LSH recall measurement and tests. Words come from a
 * made-up vocabulary drawn with Zipf-like frequencies, so some words are as common as "the" and
 * most are rare, as in real text.
 */
public final class SyntheticSamples {
  /** How a planted near-duplicate was made from its original. */
  public enum Kind {
    /** Question words and the options shuffled: the same token set. */
    REORDERED,
    /** One to four character edits in the question. */
    EDITED,
    /** 10-40% of the question words dropped: a token subset. */
    SUBSET,
    /** As many new words appended to the question: a token superset (low Jaccard, ratio 100). */
    EXTENDED
  }

  /** A planted near-duplicate {@code id} of the earlier sample {@code original}. */
  public record Planted(String id, String original, Kind kind) {}

  /** Samples in order, and the near-duplicates planted among them. */
  public record Data(List<Sample> samples, List<Planted> planted) {}

  private static final String[] SYLLABLES = {
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gu", "ho", "ja", "ze", "bi", "fo",
    "qu", "wy", "xe", "cy", "an", "el", "is", "or", "um", "ast", "ent", "ion", "tra", "pre"
  };

  private SyntheticSamples() {}

  /** {@code n} samples of which about {@code dupFraction} are planted near-duplicates. */
  public static List<Sample> generate(SplittableRandom random, int n, double dupFraction) {
    return generate(random, n, dupFraction, 18).samples();
  }

  /**
   * {@code n} samples; about {@code dupFraction} of them are near-duplicates (kinds in turn) of a
   * random earlier original, placed at a random later position. {@code questionWords} sets the
   * size: 18 words give about 300 characters, 40 about 500.
   */
  public static Data generate(
      SplittableRandom random, int n, double dupFraction, int questionWords) {
    List<String> vocabulary = vocabulary(random, 4000);
    List<Planted> planted = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<String[]> parts = new ArrayList<>();
    int dups = (int) Math.round(n * dupFraction);
    for (int i = 0; i < n - dups; i++) {
      String[] p = new String[6];
      p[0] = words(random, vocabulary, questionWords / 2 + random.nextInt(questionWords + 1));
      for (int k = 1; k <= 4; k++) {
        p[k] = words(random, vocabulary, 1 + random.nextInt(5));
      }
      p[5] = String.valueOf("ABCD".charAt(random.nextInt(4)));
      ids.add("q%06d".formatted(i));
      parts.add(p);
    }
    Kind[] kinds = Kind.values();
    for (int d = 0; d < dups; d++) {
      int of = random.nextInt(parts.size());
      Kind kind = kinds[d % kinds.length];
      String id = "q%06d".formatted(n - dups + d);
      int at = of + 1 + random.nextInt(parts.size() - of);
      parts.add(at, mutate(random, vocabulary, parts.get(of), kind));
      ids.add(at, id);
      planted.add(new Planted(id, ids.get(of), kind));
    }
    List<Sample> samples = new ArrayList<>(parts.size());
    for (int i = 0; i < parts.size(); i++) {
      samples.add(new Sample(ids.get(i), json(parts.get(i))));
    }
    return new Data(samples, planted);
  }

  private static String[] mutate(
      SplittableRandom random, List<String> vocabulary, String[] p, Kind kind) {
    String[] q = p.clone();
    List<String> words = new ArrayList<>(List.of(p[0].split(" ")));
    switch (kind) {
      case REORDERED -> {
        Collections.shuffle(words, new java.util.Random(random.nextLong()));
        List<String> options = new ArrayList<>(List.of(p[1], p[2], p[3], p[4]));
        Collections.shuffle(options, new java.util.Random(random.nextLong()));
        for (int k = 0; k < 4; k++) {
          q[k + 1] = options.get(k);
        }
      }
      case SUBSET -> {
        int drop = Math.max(1, (int) Math.round(words.size() * (0.1 + 0.3 * random.nextDouble())));
        for (int k = 0; k < drop && words.size() > 1; k++) {
          words.remove(random.nextInt(words.size()));
        }
      }
      case EXTENDED -> words.add(words(random, vocabulary, words.size()));
      case EDITED -> {
        StringBuilder text = new StringBuilder(p[0]);
        for (int k = 1 + random.nextInt(4); k > 0; k--) {
          int at = random.nextInt(text.length());
          char c = (char) ('a' + random.nextInt(26));
          switch (random.nextInt(3)) {
            case 0 -> text.setCharAt(at, c);
            case 1 -> text.insert(at, c);
            default -> text.deleteCharAt(at);
          }
        }
        words = List.of(text.toString());
      }
    }
    q[0] = String.join(" ", words);
    return q;
  }

  private static String json(String[] p) {
    return "{\"question\": \""
        + p[0]
        + "?\", \"options\": [\"A. "
        + p[1]
        + "\", \"B. "
        + p[2]
        + "\", \"C. "
        + p[3]
        + "\", \"D. "
        + p[4]
        + "\"], \"answer\": \""
        + p[5]
        + "\"}";
  }

  private static List<String> vocabulary(SplittableRandom random, int size) {
    List<String> out = new ArrayList<>(size);
    java.util.Set<String> seen = new java.util.HashSet<>();
    while (out.size() < size) {
      StringBuilder w = new StringBuilder();
      for (int k = 1 + random.nextInt(4); k > 0; k--) {
        w.append(SYLLABLES[random.nextInt(SYLLABLES.length)]);
      }
      if (seen.add(w.toString())) {
        out.add(w.toString());
      }
    }
    return out;
  }

  /** Zipf-like: index floor(size^u) - 1 for uniform u puts most weight on the first words. */
  private static String words(SplittableRandom random, List<String> vocabulary, int n) {
    StringBuilder out = new StringBuilder();
    for (int k = 0; k < n; k++) {
      int i = (int) Math.pow(vocabulary.size(), random.nextDouble()) - 1;
      if (k > 0) {
        out.append(' ');
      }
      out.append(vocabulary.get(Math.max(0, i)));
    }
    return out.toString();
  }
}
