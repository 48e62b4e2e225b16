package io.qaforge.spark;

/**
 * Which slices of a step's cache misses go into the next chunk (one Spark job and one cache
 * commit). The misses are hashed into {@code slices} slices of about {@code rowsPerSlice} rows;
 * chunks take consecutive slice ranges. The first chunks have {@code minRows} rows; once some have
 * finished, a chunk is sized to {@code intervalSeconds} of calling at the rate observed so far
 * (never below {@code minRows}), so a fast server is not slowed by a commit every few seconds and a
 * slow one still commits often. Spark-free; the driver calls it from one thread.
 */
final class ChunkPlan {
  private final int slices;
  private final double rowsPerSlice;
  private final long minRows;
  private final double intervalSeconds;
  private int nextSlice;
  private int finishedSlices;
  private int started;
  private final int staggered;

  ChunkPlan(long rows, long minRows, double intervalSeconds) {
    this(rows, minRows, intervalSeconds, 1);
  }

  /**
   * @param concurrent chunks that run at once (the first ones are staggered in size)
   */
  ChunkPlan(long rows, long minRows, double intervalSeconds, int concurrent) {
    if (rows < 1 || minRows < 1) {
      throw new IllegalArgumentException("rows and minRows must be positive");
    }
    long sliceRows = Math.max(1, minRows / 4);
    this.slices = (int) Math.min(Integer.MAX_VALUE, (rows + sliceRows - 1) / sliceRows);
    this.rowsPerSlice = (double) rows / slices;
    this.minRows = minRows;
    this.intervalSeconds = intervalSeconds;
    this.staggered = Math.max(1, concurrent);
  }

  int slices() {
    return slices;
  }

  /**
   * The next chunk as a slice range {@code [from, to)}, or null when every slice is planned.
   *
   * @param elapsedSeconds time since the first chunk started
   */
  int[] next(double elapsedSeconds) {
    if (nextSlice >= slices) {
      return null;
    }
    double rows = minRows;
    if (finishedSlices == 0) {
      // the chunks that start together get different sizes (1, 1.5, 2, ... times the minimum for
      // two slots; up to 2 times for more), so they do not all end, and leave the rate idle while
      // the next ones start, at the same moment
      rows = minRows * (1 + (double) started / Math.max(1, staggered));
    } else if (elapsedSeconds > 0) {
      double rate = finishedSlices * rowsPerSlice / elapsedSeconds;
      rows = Math.max(minRows, rate * intervalSeconds);
    }
    int take = (int) Math.max(1, Math.min(slices - nextSlice, Math.round(rows / rowsPerSlice)));
    started++;
    int[] range = {nextSlice, nextSlice + take};
    nextSlice += take;
    return range;
  }

  /** Records a finished chunk. */
  void finished(int[] range) {
    finishedSlices += range[1] - range[0];
  }
}
