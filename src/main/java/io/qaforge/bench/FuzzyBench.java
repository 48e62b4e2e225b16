package io.qaforge.bench;

import io.qaforge.craft.Cleaning;
import io.qaforge.craft.Cleaning.Sample;
import io.qaforge.craft.FuzzyRatio;
import io.qaforge.craft.FuzzyRatio.Prepared;
import io.qaforge.craft.SyntheticSamples;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Speed of the clean step's ratio (not a test): pairs per second of {@link
 * FuzzyRatio#tokenSetRatio} on synthetic QA samples of about 500 characters, one thread, and the
 * sequential greedy {@link Cleaning#clean} on a few thousand samples.
 *
 * <p>Run: {@code java -cp target/classes io.qaforge.bench.FuzzyBench [pairs] [cleanSamples]}
 * (defaults 200000 and 4000). Prints one line per measurement and a JSON line.
 */
public final class FuzzyBench {
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  private FuzzyBench() {}

  /**
   * One measurement: what, how many, pairs per wall-clock second and per CPU second of the
   * benchmark thread (the second is steadier on a busy machine).
   */
  public record Result(String name, long pairs, double pairsPerSecond, double pairsPerCpuSecond) {}

  public static void main(String[] args) {
    int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int cleanSamples = args.length > 1 ? Integer.parseInt(args[1]) : 4000;
    List<Result> results = run(pairs, cleanSamples);
    StringBuilder json = new StringBuilder("{");
    for (Result r : results) {
      System.out.printf(
          Locale.ROOT,
          "%-40s %,12d pairs %,14.0f pairs/s%n",
          r.name(),
          r.pairs(),
          r.pairsPerSecond());
      json.append(json.length() > 1 ? "," : "")
          .append('"')
          .append(r.name())
          .append("\":")
          .append(Math.round(r.pairsPerCpuSecond()));
    }
    System.out.println(json.append('}'));
  }

  /** Runs every measurement (each after a warm-up of the same loop). */
  public static List<Result> run(int pairs, int cleanSamples) {
    List<Sample> samples =
        SyntheticSamples.generate(new SplittableRandom(42), 2000, 0.3, 40).samples();
    String[] texts = samples.stream().map(Sample::json).toArray(String[]::new);
    Prepared[] prepared =
        samples.stream().map(s -> FuzzyRatio.prepare(s.json())).toArray(Prepared[]::new);
    double meanLength = samples.stream().mapToInt(s -> s.json().length()).average().orElse(0);
    System.out.printf(Locale.ROOT, "samples: mean %.0f characters%n", meanLength);
    return List.of(
        time(
            "strings (processing + ratio)",
            pairs,
            (i, j) -> FuzzyRatio.tokenSetRatio(texts[i], texts[j]),
            texts.length),
        time(
            "prepared, exact",
            pairs,
            (i, j) -> FuzzyRatio.tokenSetRatio(prepared[i], prepared[j], 0),
            texts.length),
        time(
            "prepared, cutoff 85",
            pairs,
            (i, j) -> FuzzyRatio.tokenSetRatio(prepared[i], prepared[j], 85),
            texts.length),
        clean(cleanSamples));
  }

  private interface PairFn {
    int apply(int i, int j);
  }

  private static Result time(String name, int pairs, PairFn fn, int n) {
    long sink = loop(pairs / 4, fn, n, 1);
    long start = System.nanoTime();
    long cpu = CPU.getCurrentThreadCpuTime();
    sink += loop(pairs, fn, n, 2);
    double cpuSeconds = (CPU.getCurrentThreadCpuTime() - cpu) / 1e9;
    double seconds = (System.nanoTime() - start) / 1e9;
    if (sink == Long.MIN_VALUE) {
      System.out.println(sink); // keeps the loop alive
    }
    return new Result(name, pairs, pairs / seconds, pairs / cpuSeconds);
  }

  private static long loop(int pairs, PairFn fn, int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long sum = 0;
    for (int k = 0; k < pairs; k++) {
      sum += fn.apply(random.nextInt(n), random.nextInt(n));
    }
    return sum;
  }

  /** The sequential greedy: pairs compared = sum over samples of the kept ones before them. */
  private static Result clean(int n) {
    List<Sample> samples = SyntheticSamples.generate(new SplittableRandom(7), n, 0.3, 40).samples();
    Cleaning.clean(samples.subList(0, Math.min(n, 500)), List.of(), Cleaning.DEFAULT_THRESHOLD);
    long start = System.nanoTime();
    long cpu = CPU.getCurrentThreadCpuTime();
    List<Cleaning.Decision> decisions =
        Cleaning.clean(samples, List.of(), Cleaning.DEFAULT_THRESHOLD);
    double cpuSeconds = (CPU.getCurrentThreadCpuTime() - cpu) / 1e9;
    double seconds = (System.nanoTime() - start) / 1e9;
    long compared = 0;
    long kept = 0;
    for (Cleaning.Decision d : decisions) {
      compared += kept; // an upper bound: duplicates stop at their first match
      if (d.status() == Cleaning.Status.KEPT) {
        kept++;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "greedy clean of %d samples: %.1f s (%.1f cpu-s), %d kept%n",
        n,
        seconds,
        cpuSeconds,
        kept);
    return new Result(
        "greedy clean, " + n + " samples (pairs: bound)",
        compared,
        compared / seconds,
        compared / cpuSeconds);
  }
}
