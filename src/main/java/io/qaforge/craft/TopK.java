package io.qaforge.craft;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The best {@code capacity} (score, id) pairs offered so far, in the retrieval order: higher score
 * first, then lower id. NaN scores never enter. Ids must be unique among the offers (an id offered
 * twice may be kept twice).
 *
 * <p>Hand-written because it is the inner loop of retrieval over millions of vectors: a bounded
 * binary heap (worst entry at the root) over a primitive {@code float[]} with ids in a parallel
 * array, so a rejected offer costs one comparison and allocates nothing ({@link #admits} lets the
 * caller skip materialising the id). Library heaps ({@link java.util.PriorityQueue}, Guava's {@code
 * MinMaxPriorityQueue}, fastutil's) keep one object per entry or box the score.
 */
public final class TopK<I extends Comparable<? super I>> implements Serializable {
  private static final long serialVersionUID = 1L;

  /** One kept pair. */
  public record Entry<I>(float score, I id) {}

  private final int capacity;
  private float[] scores;
  private Object[] ids;
  private int size;

  public TopK(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
    this.capacity = capacity;
    int initial = Math.min(capacity, 64);
    this.scores = new float[initial];
    this.ids = new Object[initial];
  }

  public int capacity() {
    return capacity;
  }

  public int size() {
    return size;
  }

  /**
   * False when an entry with this score cannot enter whatever its id (the cheap pre-check of the
   * hot loop); true means {@link #offer} may keep it.
   */
  public boolean admits(float score) {
    if (score != score) {
      return false;
    }
    return size < capacity || (capacity > 0 && score >= scores[0]);
  }

  /** Offers one pair; returns whether it is kept (for now). */
  public boolean offer(float score, I id) {
    if (score != score) {
      return false;
    }
    if (size < capacity) {
      if (size == scores.length) {
        int grown = (int) Math.min(capacity, 2L * scores.length);
        scores = Arrays.copyOf(scores, grown);
        ids = Arrays.copyOf(ids, grown);
      }
      siftUp(size++, score, id);
      return true;
    }
    if (capacity == 0 || !better(score, id, scores[0], id(0))) {
      return false;
    }
    siftDown(0, score, id);
    return true;
  }

  /** Offers every entry of {@code other} (merging two partial results); returns this. */
  public TopK<I> addAll(TopK<I> other) {
    for (int i = 0; i < other.size; i++) {
      offer(other.scores[i], other.id(i));
    }
    return this;
  }

  /** The kept entries, best first. */
  public List<Entry<I>> sorted() {
    TopK<I> copy = new TopK<>(capacity);
    copy.scores = Arrays.copyOf(scores, size);
    copy.ids = Arrays.copyOf(ids, size);
    copy.size = size;
    Entry<I>[] out = newEntries(size);
    for (int i = size - 1; i >= 0; i--) {
      out[i] = new Entry<>(copy.scores[0], copy.id(0));
      copy.size--;
      if (copy.size > 0) {
        copy.siftDown(0, copy.scores[copy.size], copy.id(copy.size));
      }
    }
    return new ArrayList<>(Arrays.asList(out));
  }

  /** True when (s, a) ranks before (t, b): higher score, then lower id. */
  public static <I extends Comparable<? super I>> boolean better(float s, I a, float t, I b) {
    return s > t || (s == t && a.compareTo(b) < 0);
  }

  @SuppressWarnings("unchecked")
  private I id(int i) {
    return (I) ids[i];
  }

  @SuppressWarnings("unchecked")
  private static <I> Entry<I>[] newEntries(int n) {
    return (Entry<I>[]) new Entry<?>[n];
  }

  private void siftUp(int hole, float score, I id) {
    while (hole > 0) {
      int parent = (hole - 1) >>> 1;
      if (!better(scores[parent], id(parent), score, id)) {
        break;
      }
      scores[hole] = scores[parent];
      ids[hole] = ids[parent];
      hole = parent;
    }
    scores[hole] = score;
    ids[hole] = id;
  }

  private void siftDown(int hole, float score, I id) {
    int half = size >>> 1;
    while (hole < half) {
      int child = 2 * hole + 1;
      int right = child + 1;
      if (right < size && better(scores[child], id(child), scores[right], id(right))) {
        child = right;
      }
      if (!better(score, id, scores[child], id(child))) {
        break;
      }
      scores[hole] = scores[child];
      ids[hole] = ids[child];
      hole = child;
    }
    scores[hole] = score;
    ids[hole] = id;
  }
}
