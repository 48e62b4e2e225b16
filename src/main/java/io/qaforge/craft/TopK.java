package io.qaforge.craft;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The best {@code capacity} (score, id) pairs offered so far, in the retrieval order: higher score
 * first, then lower id. NaN scores never enter. Ids must be unique among the offers (an id offered
 * twice may be kept twice).
 *
 * <p>Hand-written because it is the inner loop of retrieval over millions of vectors, with
 * capacities (up to {@code int(k/2*1.2)} = 30,000) close to a partition's row count, so most rows
 * of a partition enter. A threshold buffer: offers at or above the threshold are appended to
 * primitive/parallel arrays of twice the capacity; when full, a quickselect keeps the best {@code
 * capacity} and raises the threshold to the worst kept score. That is amortised O(1) per offer (a
 * binary heap's sift costs ~15 cache-missing levels per entry: it took 20% of the scan time), a
 * rejected offer costs one comparison and allocates nothing, and {@link #admits} lets the caller
 * skip building the id. Library heaps ({@link java.util.PriorityQueue}, Guava's {@code
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

  /** Offers below it can never enter (the worst kept score after the last compaction). */
  private float threshold = Float.NEGATIVE_INFINITY;

  public TopK(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
    this.capacity = capacity;
    int initial = (int) Math.min(2L * capacity, 64);
    this.scores = new float[initial];
    this.ids = new Object[initial];
  }

  public int capacity() {
    return capacity;
  }

  /**
   * False when an entry with this score cannot enter whatever its id (the cheap pre-check of the
   * hot loop); true means {@link #offer} takes it (for now).
   */
  public boolean admits(float score) {
    return score >= threshold && capacity > 0; // false for NaN
  }

  /** Offers one pair; returns whether it is taken (for now). */
  public boolean offer(float score, I id) {
    if (!admits(score)) {
      return false;
    }
    if (size == scores.length) {
      if (size < 2L * capacity) {
        int grown = (int) Math.min(2L * capacity, Math.max(64L, 2L * size));
        scores = Arrays.copyOf(scores, grown);
        ids = Arrays.copyOf(ids, grown);
      } else {
        compact();
        if (!(score >= threshold)) {
          return false;
        }
      }
    }
    scores[size] = score;
    ids[size] = id;
    size++;
    return true;
  }

  /** Offers every entry of {@code other} (merging two partial results); returns this. */
  public TopK<I> addAll(TopK<I> other) {
    for (int i = 0; i < other.size; i++) {
      offer(other.scores[i], other.id(i));
    }
    return this;
  }

  /** The kept entries (at most {@code capacity}), best first. */
  public List<Entry<I>> sorted() {
    compact();
    Integer[] order = new Integer[size];
    for (int i = 0; i < size; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> better(a, b) ? -1 : better(b, a) ? 1 : 0);
    List<Entry<I>> out = new ArrayList<>(size);
    for (int i : order) {
      out.add(new Entry<>(scores[i], id(i)));
    }
    return out;
  }

  /** True when (s, a) ranks before (t, b): higher score, then lower id. */
  public static <I extends Comparable<? super I>> boolean better(float s, I a, float t, I b) {
    return s > t || (s == t && a.compareTo(b) < 0);
  }

  /** Keeps only the best {@code capacity} entries and raises the threshold to the worst of them. */
  private void compact() {
    if (size <= capacity) {
      return;
    }
    int k = capacity - 1; // after the loop: [0, k) better than k, (k, size) worse
    int lo = 0;
    int hi = size - 1;
    while (lo < hi) {
      int p = partition(lo, hi);
      if (p == k) {
        break;
      } else if (p < k) {
        lo = p + 1;
      } else {
        hi = p - 1;
      }
    }
    Arrays.fill(ids, capacity, size, null);
    size = capacity;
    threshold = scores[k];
  }

  /** Lomuto partition of [lo, hi] around the median of three; returns the pivot's final index. */
  private int partition(int lo, int hi) {
    int mid = (lo + hi) >>> 1;
    if (better(mid, lo)) {
      swap(mid, lo);
    }
    if (better(hi, lo)) {
      swap(hi, lo);
    }
    if (better(mid, hi)) {
      swap(mid, hi); // hi = the median of the three
    }
    int store = lo;
    for (int i = lo; i < hi; i++) {
      if (better(i, hi)) {
        swap(i, store++);
      }
    }
    swap(store, hi);
    return store;
  }

  /** Entry i ranks before entry j (ids are only read on equal scores). */
  private boolean better(int i, int j) {
    float s = scores[i];
    float t = scores[j];
    return s > t || (s == t && id(i).compareTo(id(j)) < 0);
  }

  private void swap(int i, int j) {
    float s = scores[i];
    scores[i] = scores[j];
    scores[j] = s;
    Object o = ids[i];
    ids[i] = ids[j];
    ids[j] = o;
  }

  @SuppressWarnings("unchecked")
  private I id(int i) {
    return (I) ids[i];
  }

  /** Ships only the kept entries (a partition's lists go to the driver this way). */
  private void writeObject(ObjectOutputStream out) throws IOException {
    compact();
    scores = Arrays.copyOf(scores, size);
    ids = Arrays.copyOf(ids, size);
    out.defaultWriteObject();
  }
}
