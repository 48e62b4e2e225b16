package io.qaforge.craft;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test reference for retrieval: brute force over every document, and random unit vectors. */
public final class RetrievalReference {
  private RetrievalReference() {}

  /** The reference: score every document, sort every list completely, cut at the seed's sizes. */
  public static <I extends Comparable<? super I>> List<MixedSelection.Selection<I>> bruteForce(
      MixedSelection s, float[][] docs, List<I> ids) {
    int f = s.fewShots();
    float[][] scores = new float[docs.length][f + 1];
    for (int i = 0; i < docs.length; i++) {
      s.score(docs[i], scores[i]);
    }
    MixedSelection.Sizes sizes = s.sizes(docs.length);
    List<MixedSelection.Selection<I>> out = new ArrayList<>();
    for (int q = 0; q <= f; q++) {
      int col = q;
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < docs.length; i++) {
        all.add(i);
      }
      all.sort(
          (a, b) -> {
            float x = scores[a][col];
            float y = scores[b][col];
            return x > y ? -1 : x < y ? 1 : ids.get(a).compareTo(ids.get(b));
          });
      boolean mean = q == f;
      int limit = mean ? sizes.mean() : sizes.perFewShot();
      for (int r = 0; r < limit; r++) {
        int i = all.get(r);
        out.add(
            new MixedSelection.Selection<>(
                ids.get(i),
                mean ? MixedSelection.MEAN : MixedSelection.SEPARATE,
                mean ? null : q,
                scores[i][col],
                r + 1));
      }
    }
    return out;
  }

  /** How many neighbours within a list share a similarity. */
  public static int tiesWithinLists(List<? extends MixedSelection.Selection<?>> lists) {
    int ties = 0;
    for (int i = 1; i < lists.size(); i++) {
      MixedSelection.Selection<?> a = lists.get(i - 1);
      MixedSelection.Selection<?> b = lists.get(i);
      if (b.rank() > 1 && a.similarity() == b.similarity()) {
        ties++;
      }
    }
    return ties;
  }

  public static float[][] randomUnitVectors(SplittableRandom rnd, int n, int dim) {
    float[][] out = new float[n][dim];
    for (float[] v : out) {
      double norm = 0;
      for (int j = 0; j < dim; j++) {
        double x = rnd.nextDouble(-1, 1);
        v[j] = (float) x;
        norm += x * x;
      }
      normalise(v, norm);
    }
    return out;
  }

  /** Vectors with components in {-1, 0, 1}, normalised: few distinct similarities, many ties. */
  public static float[][] gridUnitVectors(SplittableRandom rnd, int n, int dim) {
    float[][] out = new float[n][dim];
    for (float[] v : out) {
      double norm = 0;
      while (norm == 0) {
        for (int j = 0; j < dim; j++) {
          v[j] = rnd.nextInt(3) - 1;
          norm += v[j] * v[j];
        }
      }
      normalise(v, norm);
    }
    return out;
  }

  private static void normalise(float[] v, double squaredNorm) {
    double inv = 1 / Math.sqrt(squaredNorm);
    for (int j = 0; j < v.length; j++) {
      v[j] = (float) (v[j] * inv);
    }
  }
}
