package io.qaforge.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.TestPaths;
import io.qaforge.calibration.CalibrationMetrics.Bin;
import io.qaforge.calibration.CalibrationMetrics.Result;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CalibrationMetricsTest {
  private static final double EPS = 1e-12;

  /*
   * Hand-worked example, N = 10, 5 bins -> bin size floor(10 / 5) = 2, nothing dropped.
   * Sorted by confidence (the input below is shuffled):
   *
   *   bin  confidences  correct  mean conf  acc   |acc - conf|
   *   1    0.1 0.2      0 0      0.15       0.0   0.15
   *   2    0.3 0.4      1 0      0.35       0.5   0.15
   *   3    0.5 0.6      1 0      0.55       0.5   0.05
   *   4    0.7 0.8      1 1      0.75       1.0   0.25
   *   5    0.9 1.0      1 1      0.95       1.0   0.05
   *
   * ECE = (0.15 + 0.15 + 0.05 + 0.25 + 0.05) * 2 / 10 = 0.13; accuracy = 6 / 10 = 0.6.
   */
  private static final double[] CONF = {0.7, 0.1, 1.0, 0.4, 0.5, 0.9, 0.2, 0.6, 0.3, 0.8};
  private static final boolean[] OK = {
    true, false, true, false, true, true, false, false, true, true
  };

  @Test
  void eceOfTheHandWorkedExample() {
    assertThat(CalibrationMetrics.accuracy(OK)).isCloseTo(0.6, within(EPS));
    assertThat(CalibrationMetrics.ece(CONF, OK, 5)).isCloseTo(0.13, within(EPS));
    assertThat(CalibrationMetrics.reliability(CONF, OK, 5))
        .usingElementComparator(CalibrationMetricsTest::compareBins)
        .containsExactly(
            new Bin(0.15, 0.0, 2),
            new Bin(0.35, 0.5, 2),
            new Bin(0.55, 0.5, 2),
            new Bin(0.75, 1.0, 2),
            new Bin(0.95, 1.0, 2));
  }

  @Test
  void leftoverHighestConfidenceExamplesAreDropped() {
    // N = 12, 5 bins -> size 2, 10 used, the 2 highest-confidence examples dropped. The two extra
    // examples (confidence 1.0, incorrect) come last in the input, so among the three 1.0s they
    // sort last and are the ones dropped: the ECE stays the hand-worked 0.13.
    double[] conf = Arrays.copyOf(CONF, 12);
    boolean[] ok = Arrays.copyOf(OK, 12);
    conf[10] = 1.0;
    conf[11] = 1.0;
    assertThat(CalibrationMetrics.ece(conf, ok, 5)).isCloseTo(0.13, within(EPS));
    assertThat(CalibrationMetrics.reliability(conf, ok, 5))
        .extracting(Bin::count)
        .containsExactly(2, 2, 2, 2, 2);
    // The same examples with the two extras first in the input: ties keep input order, so now one
    // extra (incorrect) lands in bin 5 next to 0.9 (correct) and the original 1.0 is dropped:
    // bin 5 = conf 0.95, acc 0.5 -> |0.45|; ECE = (0.15 + 0.15 + 0.05 + 0.25 + 0.45) * 2/10 = 0.21.
    double[] conf2 = new double[12];
    boolean[] ok2 = new boolean[12];
    conf2[0] = 1.0;
    conf2[1] = 1.0;
    System.arraycopy(CONF, 0, conf2, 2, 10);
    System.arraycopy(OK, 0, ok2, 2, 10);
    assertThat(CalibrationMetrics.ece(conf2, ok2, 5)).isCloseTo(0.21, within(EPS));
  }

  @Test
  void aPerfectlyCalibratedModelHasEceZero() {
    // 2 bins of 10: confidence 0.3 with 3 of 10 correct, confidence 0.8 with 8 of 10 correct
    double[] conf = new double[20];
    boolean[] ok = new boolean[20];
    for (int i = 0; i < 10; i++) {
      conf[i] = 0.3;
      ok[i] = i < 3;
      conf[10 + i] = 0.8;
      ok[10 + i] = i < 8;
    }
    assertThat(CalibrationMetrics.ece(conf, ok, 2)).isCloseTo(0.0, within(EPS));
    assertThat(CalibrationMetrics.accuracy(ok)).isCloseTo(0.55, within(EPS));
  }

  @Test
  void confidenceOneEverywhereGivesOneMinusAccuracy() {
    // N = 40, default 20 bins of 2, nothing dropped; 30 of 40 correct -> ECE = 1 - 0.75
    double[] conf = new double[40];
    boolean[] ok = new boolean[40];
    for (int i = 0; i < 40; i++) {
      conf[i] = 1.0;
      ok[i] = i % 4 != 0;
    }
    assertThat(CalibrationMetrics.ece(conf, ok)).isCloseTo(0.25, within(EPS));
    Result r = CalibrationMetrics.evaluateWithoutConfidence(ok, 2000, 3);
    assertThat(r.accuracy()).isCloseTo(0.75, within(EPS));
    assertThat(r.ece()).isCloseTo(0.25, within(EPS));
    assertThat(r.eceLower()).isCloseTo(1 - r.ciUpper(), within(EPS));
    assertThat(r.eceUpper()).isCloseTo(1 - r.ciLower(), within(EPS));
    assertThat(r.ciLower()).isLessThan(0.75);
    assertThat(r.ciUpper()).isGreaterThan(0.75);
  }

  @Test
  void fewerExamplesThanBinsMakesEveryExampleItsOwnBin() {
    // N = 3 < 20 bins: 3 bins of 1; ECE = mean |correct - conf| = (0.2 + 0.1 + 0.6) / 3 = 0.3
    double[] conf = {0.2, 0.9, 0.6};
    boolean[] ok = {false, true, false};
    assertThat(CalibrationMetrics.ece(conf, ok)).isCloseTo(0.3, within(EPS));
    assertThat(CalibrationMetrics.reliability(conf, ok, 20)).hasSize(3);
  }

  @Test
  void noExamplesGiveNaN() {
    Result r = CalibrationMetrics.evaluate(new double[0], new boolean[0]);
    assertThat(r.accuracy()).isNaN();
    assertThat(r.ece()).isNaN();
    assertThat(r.ciLower()).isNaN();
    assertThat(CalibrationMetrics.reliability(new double[0], new boolean[0], 20)).isEmpty();
  }

  @Test
  void invalidInputsAreRejected() {
    assertThatThrownBy(() -> CalibrationMetrics.ece(new double[] {0.5}, new boolean[2], 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("1 confidences but 2 correctness values");
    assertThatThrownBy(() -> CalibrationMetrics.ece(new double[] {1.2}, new boolean[1], 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("confidence[0] = 1.2 is not in [0, 1]");
    assertThatThrownBy(() -> CalibrationMetrics.ece(new double[] {Double.NaN}, new boolean[1], 5))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CalibrationMetrics.ece(new double[] {0.5}, new boolean[1], 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bins must be >= 1, got 0");
  }

  @Test
  void percentileInterpolatesLinearlyBetweenOrderStatistics() {
    double[] v = {4, 1, 3, 2};
    // position p/100 * (n - 1): 2.5% -> 0.075 -> 1 + 0.075; 97.5% -> 2.925 -> 3 + 0.925
    assertThat(CalibrationMetrics.percentile(v, 2.5)).isCloseTo(1.075, within(EPS));
    assertThat(CalibrationMetrics.percentile(v, 97.5)).isCloseTo(3.925, within(EPS));
    assertThat(CalibrationMetrics.percentile(v, 50)).isCloseTo(2.5, within(EPS));
    assertThat(v).containsExactly(4, 1, 3, 2); // input untouched
  }

  @Test
  void bootstrapIsDeterministicForASeedAndContainsThePointEstimates() {
    Data d = synthetic(600, 11);
    Result a = CalibrationMetrics.evaluate(d.conf, d.ok, 20, 2000, 7);
    Result b = CalibrationMetrics.evaluate(d.conf, d.ok, 20, 2000, 7);
    Result c = CalibrationMetrics.evaluate(d.conf, d.ok, 20, 2000, 8);
    assertThat(b).isEqualTo(a);
    assertThat(c).isNotEqualTo(a);
    assertThat(a.accuracy()).isCloseTo(CalibrationMetrics.accuracy(d.ok), within(EPS));
    assertThat(a.ece()).isCloseTo(CalibrationMetrics.ece(d.conf, d.ok), within(EPS));
    assertThat(a.ciLower()).isLessThan(a.accuracy());
    assertThat(a.ciUpper()).isGreaterThan(a.accuracy());
    assertThat(a.eceLower()).isLessThan(a.ece());
    assertThat(a.eceUpper()).isGreaterThan(a.ece());
    // a 95% interval of a proportion over 600 examples is about +-0.04 wide
    assertThat(a.ciUpper() - a.ciLower()).isBetween(0.05, 0.1);
  }

  @Test
  void bootstrapEqualsANaiveResampleSortAndBinImplementation() {
    Data d = synthetic(137, 5); // 137 = 20 * 6 + 17: 17 leftovers dropped in every resample
    int resamples = 500;
    long seed = 99;
    SplittableRandom rng = new SplittableRandom(seed);
    double[] accs = new double[resamples];
    double[] eces = new double[resamples];
    int n = d.conf.length;
    for (int r = 0; r < resamples; r++) {
      int[] idx = new int[n];
      for (int k = 0; k < n; k++) {
        idx[k] = rng.nextInt(n);
      }
      Arrays.sort(idx); // ties in confidence then keep the input order, as documented
      double[] conf = new double[n];
      boolean[] ok = new boolean[n];
      for (int k = 0; k < n; k++) {
        conf[k] = d.conf[idx[k]];
        ok[k] = d.ok[idx[k]];
      }
      accs[r] = CalibrationMetrics.accuracy(ok);
      eces[r] = CalibrationMetrics.ece(conf, ok, 20);
    }
    Result fast = CalibrationMetrics.evaluate(d.conf, d.ok, 20, resamples, seed);
    assertThat(fast.ciLower()).isCloseTo(CalibrationMetrics.percentile(accs, 2.5), within(EPS));
    assertThat(fast.ciUpper()).isCloseTo(CalibrationMetrics.percentile(accs, 97.5), within(EPS));
    assertThat(fast.eceLower()).isCloseTo(CalibrationMetrics.percentile(eces, 2.5), within(1e-9));
    assertThat(fast.eceUpper()).isCloseTo(CalibrationMetrics.percentile(eces, 97.5), within(1e-9));
  }

  @Test
  void anAllCorrectModelHasADegenerateAccuracyInterval() {
    double[] conf = {0.9, 0.8, 1.0, 0.7};
    boolean[] ok = {true, true, true, true};
    Result r = CalibrationMetrics.evaluate(conf, ok, 2, 1000, 1);
    assertThat(r.accuracy()).isEqualTo(1.0);
    assertThat(r.ciLower()).isEqualTo(1.0);
    assertThat(r.ciUpper()).isEqualTo(1.0);
    // bins {0.7, 0.8} and {0.9, 1.0}: |1 - 0.75| * 2 + |1 - 0.95| * 2 over 4 = 0.15
    assertThat(r.ece()).isCloseTo(0.15, within(EPS));
  }

  @Test
  void resultComponentsAreTheColumnsOfTheQaResultsFixture() throws IOException {
    Path csv =
        TestPaths.project()
            .resolve("../shared/fixtures/seeds/linguistic_calibration/examples/qa_results.csv");
    Assumptions.assumeTrue(Files.exists(csv), "fixture not present: " + csv);
    String header = Files.readAllLines(csv).get(0);
    List<String> components =
        Arrays.stream(Result.class.getRecordComponents())
            .map(RecordComponent::getName)
            .map(s -> s.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT))
            .toList();
    assertThat(header).isEqualTo("method,dataset," + String.join(",", components));
  }

  // ------------------------------------------------------------------ helpers

  private record Data(double[] conf, boolean[] ok) {}

  /** Overconfident synthetic forecasts: correct with probability 0.8 * confidence. */
  private static Data synthetic(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] conf = new double[n];
    boolean[] ok = new boolean[n];
    for (int i = 0; i < n; i++) {
      conf[i] = Math.round(rng.nextDouble() * 20) / 20.0; // ties on purpose
      ok[i] = rng.nextDouble() < 0.8 * conf[i];
    }
    return new Data(conf, ok);
  }

  private static int compareBins(Bin a, Bin b) {
    boolean same =
        Math.abs(a.meanConfidence() - b.meanConfidence()) < EPS
            && Math.abs(a.accuracy() - b.accuracy()) < EPS
            && a.count() == b.count();
    return same ? 0 : 1;
  }
}
