package io.qaforge.craft;

import io.qaforge.QaforgeException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * CRAFT's "mixed" retrieval (craft.md section 4), exact: for F few-shot vectors and a target k,
 *
 * <ul>
 *   <li>{@code mixed_k = int(k/2*1.2)} (the seed's +20% slack, Python float arithmetic);
 *   <li>"separate": for each few-shot, the top {@code min(mixed_k // F, int(p*n/F/2))} documents by
 *       cosine to that few-shot;
 *   <li>"mean": the top {@code min(mixed_k, int(p*n/2))} documents by mean cosine to all few-shots;
 * </ul>
 *
 * where n is the number of documents in the whole corpus and p the percentile (0.05 in the seed).
 * Order within a list: similarity descending, then document id ascending, so results do not depend
 * on partitioning.
 *
 * <p>Difference from the seed: the seed prefilters each HDF5 shard to its local top {@code
 * int(p*n_shard/F/2)} (per few-shot) and {@code int(p*n_shard/2)} (mean) before the global top
 * lists, so a document that is globally in the top {@code mixed_k // F} but not in its shard's
 * prefilter is lost there, and results depend on how the corpus was sharded. Here the whole corpus
 * is one "shard": the percentile only caps the list sizes (with n = corpus size) and the lists are
 * the exact global top lists. Partitions keep their local top {@code mixed_k // F} / {@code
 * mixed_k}, which always contain every document of the global lists, and {@link Accumulator#merge}
 * combines them.
 *
 * <p>Cosine is the float32 dot product of L2-normalised vectors (the few-shots are checked, the
 * corpus vectors are trusted). The mean of the F cosines is computed as one dot product with the
 * mean few-shot vector (equal up to rounding, and F times cheaper); {@link #score} is the one
 * definition of both similarities.
 */
public final class MixedSelection implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final String SEPARATE = "separate";
  public static final String MEAN = "mean";
  private static final double NORM_TOLERANCE = 1e-3;

  /** List sizes for a corpus of n documents. */
  public record Sizes(int mixedK, int perFewShot, int mean) {}

  /** One selected document in one list; {@code fewShotIdx} is null for the mean list. */
  public record Selection<I>(
      I docId, String criterion, Integer fewShotIdx, float similarity, int rank) {}

  private final int fewShots;
  private final int dim;
  private final int k;
  private final double percentile;

  /** F few-shot rows, then the mean row, flattened row-major: (F+1) x dim. */
  private final float[] queries;

  /**
   * @param fewShots F >= 1 L2-normalised vectors of one dimension
   * @param k the retrieval target ({@code num_samples_to_retrieve})
   * @param percentile the seed's {@code top_p_percentile}, in (0, 1]
   */
  public MixedSelection(float[][] fewShots, int k, double percentile) {
    if (fewShots == null || fewShots.length == 0) {
      throw new QaforgeException(
          "craft retrieval has no few-shot vectors",
          "the few-shot embeddings are empty",
          "check craft.few-shots points at a non-empty few-shot file");
    }
    if (k < 1) {
      throw new QaforgeException(
          "craft retrieval target k=" + k + " is invalid",
          "k is the number of documents to retrieve",
          "set a retrieval size of at least 1");
    }
    if (!(percentile > 0 && percentile <= 1)) {
      throw new QaforgeException(
          "craft retrieval percentile " + percentile + " is invalid",
          "the percentile caps each list at a share of the corpus and must be in (0, 1]",
          "use 0.05 (the seed's top_p_percentile) or another value in (0, 1]");
    }
    this.fewShots = fewShots.length;
    this.dim = fewShots[0].length;
    this.k = k;
    this.percentile = percentile;
    this.queries = new float[(this.fewShots + 1) * dim];
    double[] sum = new double[dim];
    for (int f = 0; f < this.fewShots; f++) {
      float[] q = fewShots[f];
      if (q.length != dim || dim == 0) {
        throw new QaforgeException(
            "craft few-shot vector " + f + " has " + q.length + " values, vector 0 has " + dim,
            "all few-shots must be embedded by the same model",
            "re-embed the few-shots with the model of craft.embeddings");
      }
      double norm = 0;
      for (int j = 0; j < dim; j++) {
        norm += (double) q[j] * q[j];
        sum[j] += q[j];
      }
      if (!(Math.abs(Math.sqrt(norm) - 1) <= NORM_TOLERANCE)) {
        throw new QaforgeException(
            "craft few-shot vector " + f + " has L2 norm " + Math.sqrt(norm),
            "cosine similarity is computed as a dot product of L2-normalised vectors",
            "normalise the few-shot embeddings (the embeddings step does this for the corpus)");
      }
      System.arraycopy(q, 0, queries, f * dim, dim);
    }
    for (int j = 0; j < dim; j++) {
      queries[this.fewShots * dim + j] = (float) (sum[j] / this.fewShots);
    }
  }

  /** The seed's {@code int(k/2*1.2)}, with the same double arithmetic as Python. */
  public static int mixedK(int k) {
    return (int) (k / 2.0 * 1.2);
  }

  public Sizes sizes(long corpusSize) {
    int mk = mixedK(k);
    int perFewShot = (int) Math.min(mk / fewShots, (long) (percentile * corpusSize / fewShots / 2));
    int mean = (int) Math.min(mk, (long) (percentile * corpusSize / 2));
    return new Sizes(mk, perFewShot, mean);
  }

  public int fewShots() {
    return fewShots;
  }

  public int dim() {
    return dim;
  }

  /** The mean few-shot vector (the "mean" criterion's query). */
  public float[] meanVector() {
    float[] m = new float[dim];
    System.arraycopy(queries, fewShots * dim, m, 0, dim);
    return m;
  }

  /**
   * Similarities of one vector: {@code out[f]} = cosine to few-shot f, {@code out[F]} = mean cosine
   * (dot with the mean vector). {@code out} has at least F+1 slots.
   */
  public void score(float[] vec, float[] out) {
    if (vec.length != dim) {
      throw new IllegalArgumentException(
          "vector has " + vec.length + " values, the few-shots have " + dim);
    }
    int q = 0;
    for (; q + 1 <= fewShots; q += 2) {
      dot2(queries, q * dim, vec, dim, out, q);
    }
    if (q == fewShots) {
      out[q] = dot(queries, q * dim, vec, dim);
    }
  }

  /**
   * Two dot products in one pass over {@code b} (loads each of its values once for both); every
   * result is bit-identical to {@link #dot}.
   */
  private static void dot2(float[] a, int off, float[] b, int n, float[] out, int at) {
    if ((n & 3) != 0) {
      out[at] = dot(a, off, b, n);
      out[at + 1] = dot(a, off + n, b, n);
      return;
    }
    int p = off + n;
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    float t0 = 0;
    float t1 = 0;
    float t2 = 0;
    float t3 = 0;
    for (int i = 0; i < n; i += 4) {
      float b0 = b[i];
      float b1 = b[i + 1];
      float b2 = b[i + 2];
      float b3 = b[i + 3];
      s0 += a[off + i] * b0;
      s1 += a[off + i + 1] * b1;
      s2 += a[off + i + 2] * b2;
      s3 += a[off + i + 3] * b3;
      t0 += a[p + i] * b0;
      t1 += a[p + i + 1] * b1;
      t2 += a[p + i + 2] * b2;
      t3 += a[p + i + 3] * b3;
    }
    out[at] = (s0 + s1) + (s2 + s3);
    out[at + 1] = (t0 + t1) + (t2 + t3);
  }

  /**
   * Four independent sums (one float add chain is latency bound); fixed order, so deterministic.
   */
  private static float dot(float[] a, int off, float[] b, int n) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[off + i] * b[i];
      s1 += a[off + i + 1] * b[i + 1];
      s2 += a[off + i + 2] * b[i + 2];
      s3 += a[off + i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
      s0 += a[off + i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** An empty partial result (one per partition). */
  public <I extends Comparable<? super I>> Accumulator<I> accumulator() {
    return new Accumulator<>(this);
  }

  /** The final lists of a merged accumulator that has seen the whole corpus. */
  public <I extends Comparable<? super I>> List<Selection<I>> select(Accumulator<I> all) {
    Sizes s = sizes(all.count);
    List<Selection<I>> out = new ArrayList<>();
    for (int f = 0; f <= fewShots; f++) {
      boolean mean = f == fewShots;
      int limit = mean ? s.mean() : s.perFewShot();
      int rank = 0;
      for (TopK.Entry<I> e : all.tops[f].sorted()) {
        if (rank == limit) {
          break;
        }
        rank++;
        out.add(new Selection<>(e.id(), mean ? MEAN : SEPARATE, mean ? null : f, e.score(), rank));
      }
    }
    return out;
  }

  /**
   * The top lists of part of the corpus and how many documents it had. Sized for the uncapped lists
   * ({@code mixed_k // F} and {@code mixed_k}) because the percentile cap needs the corpus size,
   * known only after the merge.
   */
  public static final class Accumulator<I extends Comparable<? super I>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final MixedSelection selection;
    private final TopK<I>[] tops;
    private final float[] scores;
    private long count;

    private Accumulator(MixedSelection selection) {
      this.selection = selection;
      int mk = mixedK(selection.k);
      @SuppressWarnings("unchecked")
      TopK<I>[] lists = (TopK<I>[]) new TopK<?>[selection.fewShots + 1];
      for (int f = 0; f < selection.fewShots; f++) {
        lists[f] = new TopK<>(mk / selection.fewShots);
      }
      lists[selection.fewShots] = new TopK<>(mk);
      this.tops = lists;
      this.scores = new float[selection.fewShots + 1];
    }

    /**
     * Scores one document and counts it; true when some list may keep it, and then the caller
     * passes its id to {@link #add} (so ids of the many rejected documents are never built).
     */
    public boolean score(float[] vec) {
      count++;
      selection.score(vec, scores);
      for (int q = 0; q < scores.length; q++) {
        if (tops[q].admits(scores[q])) {
          return true;
        }
      }
      return false;
    }

    /** Offers the document last passed to {@link #score} to every list. */
    public void add(I id) {
      for (int q = 0; q < scores.length; q++) {
        tops[q].offer(scores[q], id);
      }
    }

    /** Scores and offers one document. */
    public void offer(float[] vec, I id) {
      if (score(vec)) {
        add(id);
      }
    }

    public long count() {
      return count;
    }

    /** Adds another part's lists and count into this one; returns this. */
    public Accumulator<I> merge(Accumulator<I> other) {
      for (int q = 0; q < tops.length; q++) {
        tops[q].addAll(other.tops[q]);
      }
      count += other.count;
      return this;
    }
  }
}
