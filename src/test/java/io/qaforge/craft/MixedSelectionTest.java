package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.QaforgeException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MixedSelectionTest {

  /** Expected values computed with Python: int(k/2*1.2), min(mk//F, int(p*n/F/2)), ... */
  @ParameterizedTest(name = "k={0} F={1} n={2} p={3}")
  @CsvSource({
    "200,    32, 1000000, 0.05, 120,   3,   120",
    "1000,   32, 1000000, 0.05, 600,   18,  600",
    "10000,  32, 1000000, 0.05, 6000,  187, 6000",
    "50000,  32, 1000000, 0.05, 30000, 781, 25000",
    "50000,  8,  350000,  0.05, 30000, 1093, 8750",
    "7,      2,  100,     0.05, 4,     1,   2",
    "1001,   8,  3000,    1.0,  600,   75,  600",
    "50,     32, 1000000, 0.05, 30,    0,   30",
    "333,    5,  12345,   0.05, 199,   39,  199",
  })
  void sizesFollowTheSeedsIntegerArithmetic(
      int k, int f, long n, double p, int mixedK, int perFewShot, int mean) {
    MixedSelection s =
        new MixedSelection(
            RetrievalReference.randomUnitVectors(new SplittableRandom(1), f, 8), k, p);
    assertThat(s.sizes(n)).isEqualTo(new MixedSelection.Sizes(mixedK, perFewShot, mean));
  }

  @Test
  void scoresAreCosinesAndTheMeanScoreIsTheMeanCosine() {
    SplittableRandom rnd = new SplittableRandom(7);
    float[][] q = RetrievalReference.randomUnitVectors(rnd, 5, 384);
    MixedSelection s = new MixedSelection(q, 100, 0.05);
    float[] out = new float[6];
    for (float[] v : RetrievalReference.randomUnitVectors(rnd, 50, 384)) {
      s.score(v, out);
      double mean = 0;
      for (int f = 0; f < 5; f++) {
        double dot = 0;
        for (int j = 0; j < 384; j++) {
          dot += (double) q[f][j] * v[j];
        }
        assertThat((double) out[f]).isCloseTo(dot, within(1e-5));
        mean += dot / 5;
      }
      assertThat((double) out[5]).isCloseTo(mean, within(1e-5));
    }
  }

  @ParameterizedTest(name = "F={0} dim={1}")
  @CsvSource({"1, 384", "2, 384", "5, 384", "4, 7", "3, 1"})
  void eachScoreIsTheSameWhetherComputedAloneOrWithOtherFewShots(int f, int dim) {
    SplittableRandom rnd = new SplittableRandom(f * 100L + dim);
    float[][] q = RetrievalReference.randomUnitVectors(rnd, f, dim);
    MixedSelection all = new MixedSelection(q, 100, 0.05);
    float[] out = new float[f + 1];
    float[] alone = new float[2];
    for (float[] v : RetrievalReference.randomUnitVectors(rnd, 20, dim)) {
      all.score(v, out);
      for (int i = 0; i < f; i++) {
        new MixedSelection(new float[][] {q[i]}, 100, 0.05).score(v, alone);
        assertThat(out[i]).isEqualTo(alone[0]);
      }
    }
  }

  /**
   * (F, k, p, duplicates, quantised): the heap-based lists, also when built from shuffled parts and
   * merged, equal a brute-force sort of every document, ties included (duplicated vectors and
   * vectors on a coarse grid give equal similarities, broken by id).
   */
  @ParameterizedTest(name = "F={0} k={1} p={2} dup={3} grid={4}")
  @CsvSource({
    "1,  300,  0.05, false, false",
    "4,  20,   0.05, false, false",
    "4,  1000, 0.05, true,  false",
    "3,  2000, 1.0,  true,  false",
    "8,  1001, 1.0,  false, true",
    "32, 5000, 0.05, true,  true",
    "32, 40,   0.05, false, false",
  })
  void selectionsEqualABruteForceSortOfTheWholeCorpus(
      int f, int k, double p, boolean duplicates, boolean grid) {
    SplittableRandom rnd = new SplittableRandom(31L * f + k);
    int n = 3000;
    float[][] docs =
        grid
            ? RetrievalReference.gridUnitVectors(rnd, n, 16)
            : RetrievalReference.randomUnitVectors(rnd, n, 64);
    if (duplicates) {
      for (int i = 0; i < n; i += 10) {
        docs[i] = docs[rnd.nextInt(n)].clone(); // equal vectors under different ids
      }
    }
    float[][] fewShots = new float[f][];
    for (int i = 0; i < f; i++) {
      fewShots[i] = docs[rnd.nextInt(n)].clone(); // few-shots like some documents: exact ties
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(String.format("doc-%05d", (i * 7919) % n)); // ids not in scan order
    }
    MixedSelection s = new MixedSelection(fewShots, k, p);

    List<MixedSelection.Selection<String>> expected = RetrievalReference.bruteForce(s, docs, ids);

    MixedSelection.Accumulator<String> whole = s.accumulator();
    for (int i = 0; i < n; i++) {
      whole.offer(docs[i], ids.get(i));
    }
    assertThat(s.select(whole)).containsExactlyElementsOf(expected);

    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new java.util.Random(k));
    List<MixedSelection.Accumulator<String>> parts = new ArrayList<>();
    for (int part = 0; part < 5; part++) {
      parts.add(s.accumulator());
    }
    for (int j = 0; j < n; j++) {
      int i = order.get(j);
      parts.get(j % 7 % 5).offer(docs[i], ids.get(i)); // uneven parts
    }
    MixedSelection.Accumulator<String> merged =
        parts
            .get(3)
            .merge(parts.get(0))
            .merge(parts.get(4).merge(parts.get(1)))
            .merge(parts.get(2));
    assertThat(merged.count()).isEqualTo(n);
    assertThat(s.select(merged)).containsExactlyElementsOf(expected);

    MixedSelection.Sizes sizes = s.sizes(n);
    assertThat(expected).hasSize(f * sizes.perFewShot() + sizes.mean());
    if (duplicates || grid) { // the case is about ties: make sure the lists have some
      assertThat(RetrievalReference.tiesWithinLists(expected)).isPositive();
    }
  }

  @Test
  void fewShotsMustBeNormalisedOfOneLengthAndTheSettingsInRange() {
    float[][] ok = RetrievalReference.randomUnitVectors(new SplittableRandom(3), 2, 8);
    assertThatThrownBy(() -> new MixedSelection(new float[][] {{1, 1}}, 10, 0.05))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("few-shot vector 0 has L2 norm 1.41")
        .hasMessageContaining("normalise");
    assertThatThrownBy(() -> new MixedSelection(new float[][] {ok[0], {1, 0}}, 10, 0.05))
        .hasMessageContaining("few-shot vector 1 has 2 values, vector 0 has 8");
    assertThatThrownBy(() -> new MixedSelection(new float[0][], 10, 0.05))
        .hasMessageContaining("no few-shot vectors");
    assertThatThrownBy(() -> new MixedSelection(ok, 0, 0.05)).hasMessageContaining("k=0");
    assertThatThrownBy(() -> new MixedSelection(ok, 10, 0)).hasMessageContaining("(0, 1]");
    assertThatThrownBy(() -> new MixedSelection(ok, 10, Double.NaN)).hasMessageContaining("(0, 1]");
  }
}
