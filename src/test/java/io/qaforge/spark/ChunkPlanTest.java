package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkPlanTest {
  private static List<int[]> drain(ChunkPlan plan, double secondsPerChunk) {
    List<int[]> chunks = new ArrayList<>();
    double t = 0;
    for (int[] r = plan.next(t); r != null; r = plan.next(t)) {
      chunks.add(r);
      t += secondsPerChunk;
      plan.finished(r);
    }
    return chunks;
  }

  @Test
  void coversEverySliceOnceInOrder() {
    ChunkPlan plan = new ChunkPlan(10_003, 2000, 30);
    List<int[]> chunks = drain(plan, 1);
    int expect = 0;
    for (int[] c : chunks) {
      assertThat(c[0]).isEqualTo(expect);
      assertThat(c[1]).isGreaterThan(c[0]);
      expect = c[1];
    }
    assertThat(expect).isEqualTo(plan.slices());
    assertThat(plan.slices()).isEqualTo(21); // 500-row slices
  }

  @Test
  void firstChunksHaveTheMinimumThenGrowWithTheObservedRate() {
    // 100,000 rows; 2,000 rows took 1 s: at that rate 30 s are 60,000 rows
    ChunkPlan plan = new ChunkPlan(100_000, 2000, 30, 2);
    int[] first = plan.next(0);
    int[] second = plan.next(0);
    assertThat(first[1] - first[0]).isEqualTo(4); // 4 slices of 500 rows
    assertThat(second[1] - second[0]).isEqualTo(6); // staggered
    plan.finished(first);
    int[] third = plan.next(1.0);
    assertThat(third[1] - third[0]).isEqualTo(120); // 60,000 rows at 2,000 rows/s
    assertThat(plan.next(1.0)[1]).isEqualTo(plan.slices()); // the rest
    assertThat(plan.next(1.0)).isNull();
  }

  @Test
  void chunksStartingTogetherHaveDifferentSizes() {
    ChunkPlan plan = new ChunkPlan(100_000, 2000, 30, 2);
    int[] a = plan.next(0);
    int[] b = plan.next(0);
    assertThat(a[1] - a[0]).isEqualTo(4); // 2,000 rows
    assertThat(b[1] - b[0]).isEqualTo(6); // 3,000 rows
  }

  @Test
  void aSlowServerKeepsTheMinimumChunk() {
    // 2,000 rows in 200 s (10 req/s): 30 s would be 300 rows, so the minimum of 2,000 holds
    ChunkPlan plan = new ChunkPlan(10_000, 2000, 30);
    plan.finished(plan.next(0));
    int[] next = plan.next(200);
    assertThat(next[1] - next[0]).isEqualTo(4);
  }

  @Test
  void fewerRowsThanOneSlice() {
    ChunkPlan plan = new ChunkPlan(3, 2000, 30);
    assertThat(plan.slices()).isEqualTo(1);
    assertThat(plan.next(0)).containsExactly(0, 1);
    assertThat(plan.next(0)).isNull();
  }
}
