package io.qaforge.calibration;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * QA metrics of the Linguistic Calibration evaluation: accuracy, expected calibration error (ECE)
 * and their 95% percentile-bootstrap confidence intervals. Plain Java, no Spark.
 *
 * <p><b>Inputs.</b> Per question a confidence in [0, 1] and whether it was answered correctly.
 * Following the evaluation spec (pipeline doc, section 7), the caller scores a question as correct
 * only if the semantic-equivalence verdict of its argmax answer is "Yes", and scores a question
 * without any extracted answer as (confidence 1, incorrect); a model that states no confidence uses
 * {@link #evaluateWithoutConfidence}.
 *
 * <p><b>ECE, equal-count binning.</b> Sort the examples by confidence (ascending; ties keep input
 * order), cut them into {@code bins} consecutive bins of {@code size = floor(N / bins)} examples
 * each and drop the {@code N - bins * size} leftover examples, which are the highest-confidence
 * ones. Then {@code ECE = sum_b |acc_b - conf_b| * n_b / sum_b n_b}, where {@code acc_b} and {@code
 * conf_b} are the bin's mean correctness and mean confidence. When {@code N < bins} the bin size
 * would be 0; then every example is its own bin ({@code N} bins of size 1, nothing dropped), so ECE
 * is the mean of {@code |correct - confidence|}. With {@code N = 0} every metric is NaN.
 *
 * <p><b>Bootstrap.</b> {@code resamples} resamples of size N drawn with replacement from a {@link
 * SplittableRandom} seeded with {@code seed} (for each resample, N calls of {@code nextInt(N)}
 * choosing input positions); accuracy and ECE are computed on each resample and the interval is the
 * 2.5th and 97.5th percentile, with linear interpolation between order statistics (numpy's default
 * {@code percentile}). The same seed gives the same interval.
 */
public final class CalibrationMetrics {
  public static final int DEFAULT_BINS = 20;
  public static final int DEFAULT_RESAMPLES = 10_000;
  public static final long DEFAULT_SEED = 42L;

  private CalibrationMetrics() {}

  /**
   * Point estimates and 95% bootstrap intervals: the columns of {@code qa_results.csv} ({@code
   * accuracy, ci_lower, ci_upper, ece, ece_lower, ece_upper}).
   */
  public record Result(
      double accuracy,
      double ciLower,
      double ciUpper,
      double ece,
      double eceLower,
      double eceUpper) {}

  /** One bin of the reliability diagram: mean confidence, accuracy and number of examples. */
  public record Bin(double meanConfidence, double accuracy, int count) {}

  /** Fraction correct; NaN for no examples. */
  public static double accuracy(boolean[] correct) {
    if (correct.length == 0) {
      return Double.NaN;
    }
    int c = 0;
    for (boolean b : correct) {
      c += b ? 1 : 0;
    }
    return (double) c / correct.length;
  }

  /** ECE with {@link #DEFAULT_BINS} equal-count bins. */
  public static double ece(double[] confidence, boolean[] correct) {
    return ece(confidence, correct, DEFAULT_BINS);
  }

  /** ECE with {@code bins} equal-count bins (see the class comment for the exact rule). */
  public static double ece(double[] confidence, boolean[] correct, int bins) {
    return eceOf(reliability(confidence, correct, bins));
  }

  /** The equal-count bins ECE is computed from, lowest confidence first. Empty for no examples. */
  public static List<Bin> reliability(double[] confidence, boolean[] correct, int bins) {
    check(confidence, correct, bins);
    Integer[] order = sortedOrder(confidence);
    int[] counts = new int[order.length];
    Arrays.fill(counts, 1);
    return binned(confidence, correct, order, counts, bins);
  }

  /** ECE from bins: count-weighted mean of |accuracy - mean confidence|; NaN when empty. */
  public static double eceOf(List<Bin> bins) {
    double sum = 0;
    long n = 0;
    for (Bin b : bins) {
      sum += Math.abs(b.accuracy() - b.meanConfidence()) * b.count();
      n += b.count();
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /** {@link #evaluate(double[], boolean[], int, int, long)} with 20 bins, 10,000 resamples, 42. */
  public static Result evaluate(double[] confidence, boolean[] correct) {
    return evaluate(confidence, correct, DEFAULT_BINS, DEFAULT_RESAMPLES, DEFAULT_SEED);
  }

  /** Accuracy and ECE with 95% percentile-bootstrap intervals from a seeded RNG. */
  public static Result evaluate(
      double[] confidence, boolean[] correct, int bins, int resamples, long seed) {
    check(confidence, correct, bins);
    if (resamples < 1) {
      throw new IllegalArgumentException("resamples must be >= 1, got " + resamples);
    }
    int n = correct.length;
    double acc = accuracy(correct);
    double ece = ece(confidence, correct, bins);
    if (n == 0) {
      return new Result(acc, Double.NaN, Double.NaN, ece, Double.NaN, Double.NaN);
    }
    Integer[] order = sortedOrder(confidence);
    double[] accs = new double[resamples];
    double[] eces = new double[resamples];
    SplittableRandom rng = new SplittableRandom(seed);
    int[] counts = new int[n];
    int[] sortedCounts = new int[n];
    for (int r = 0; r < resamples; r++) {
      Arrays.fill(counts, 0);
      int hits = 0;
      for (int k = 0; k < n; k++) {
        int i = rng.nextInt(n);
        counts[i]++;
        hits += correct[i] ? 1 : 0;
      }
      accs[r] = (double) hits / n;
      // a resample sorted by confidence is the sorted input with each example repeated counts[i]
      // times, so one pass over the sorted order replaces a sort per resample
      for (int j = 0; j < n; j++) {
        sortedCounts[j] = counts[order[j]];
      }
      eces[r] = eceOf(binned(confidence, correct, order, sortedCounts, bins));
    }
    return new Result(
        acc,
        percentile(accs, 2.5),
        percentile(accs, 97.5),
        ece,
        percentile(eces, 2.5),
        percentile(eces, 97.5));
  }

  /**
   * For a model that states no confidence (confidence 1 everywhere): ECE = 1 - accuracy, and its
   * interval mirrors the accuracy interval ({@code eceLower = 1 - ciUpper}, {@code eceUpper = 1 -
   * ciLower}). No binning, so no example is dropped.
   */
  public static Result evaluateWithoutConfidence(boolean[] correct, int resamples, long seed) {
    if (resamples < 1) {
      throw new IllegalArgumentException("resamples must be >= 1, got " + resamples);
    }
    int n = correct.length;
    double acc = accuracy(correct);
    if (n == 0) {
      return new Result(acc, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    double[] accs = new double[resamples];
    SplittableRandom rng = new SplittableRandom(seed);
    for (int r = 0; r < resamples; r++) {
      int hits = 0;
      for (int k = 0; k < n; k++) {
        hits += correct[rng.nextInt(n)] ? 1 : 0;
      }
      accs[r] = (double) hits / n;
    }
    double lo = percentile(accs, 2.5);
    double hi = percentile(accs, 97.5);
    return new Result(acc, lo, hi, 1 - acc, 1 - hi, 1 - lo);
  }

  /**
   * The {@code p}-th percentile (0..100) with linear interpolation between order statistics
   * (position {@code p/100 * (n - 1)} in the sorted values), like numpy's default. Sorts a copy.
   */
  public static double percentile(double[] values, double p) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    double pos = p / 100.0 * (v.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, v.length - 1);
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
  }

  // ------------------------------------------------------------------ internals

  private static void check(double[] confidence, boolean[] correct, int bins) {
    if (confidence.length != correct.length) {
      throw new IllegalArgumentException(
          confidence.length + " confidences but " + correct.length + " correctness values");
    }
    if (bins < 1) {
      throw new IllegalArgumentException("bins must be >= 1, got " + bins);
    }
    for (int i = 0; i < confidence.length; i++) {
      if (!(confidence[i] >= 0 && confidence[i] <= 1)) {
        throw new IllegalArgumentException(
            "confidence[" + i + "] = " + confidence[i] + " is not in [0, 1]");
      }
    }
  }

  /** Input positions sorted by confidence, ties in input order (a stable sort). */
  private static Integer[] sortedOrder(double[] confidence) {
    Integer[] order = IntStream.range(0, confidence.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingDouble(i -> confidence[i]));
    return order;
  }

  /**
   * Equal-count bins over the multiset where sorted position j holds example {@code order[j]}
   * repeated {@code counts[j]} times (counts sum to N).
   */
  private static List<Bin> binned(
      double[] confidence, boolean[] correct, Integer[] order, int[] counts, int bins) {
    int n = 0;
    for (int c : counts) {
      n += c;
    }
    List<Bin> out = new ArrayList<>();
    if (n == 0) {
      return out;
    }
    int size = n / bins;
    int used = bins;
    if (size == 0) {
      size = 1;
      used = n;
    }
    int j = 0;
    int left = counts.length == 0 ? 0 : counts[0];
    for (int b = 0; b < used; b++) {
      double confSum = 0;
      int hits = 0;
      for (int k = 0; k < size; k++) {
        while (left == 0) {
          j++;
          left = counts[j];
        }
        int i = order[j];
        confSum += confidence[i];
        hits += correct[i] ? 1 : 0;
        left--;
      }
      out.add(new Bin(confSum / size, (double) hits / size, size));
    }
    return out;
  }
}
