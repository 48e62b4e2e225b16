package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopKTest {
  @Test
  void keepsTheHighestScoresThenTheLowestIdsBestFirst() {
    TopK<String> top = new TopK<>(3);
    top.offer(0.5f, "e");
    top.offer(0.9f, "d");
    top.offer(0.5f, "b");
    top.offer(0.5f, "c");
    top.offer(0.1f, "a");
    assertThat(top.sorted())
        .containsExactly(
            new TopK.Entry<>(0.9f, "d"), new TopK.Entry<>(0.5f, "b"), new TopK.Entry<>(0.5f, "c"));
    assertThat(top.admits(0.4f)).isFalse();
    assertThat(top.admits(0.5f)).isTrue(); // only the id can tell
    assertThat(top.offer(0.5f, "z")).isFalse();
    assertThat(top.offer(0.5f, "a")).isTrue();
    assertThat(top.sorted()).extracting(TopK.Entry::id).containsExactly("d", "a", "b");
  }

  @Test
  void nanNeverEntersAndCapacityZeroKeepsNothing() {
    TopK<Long> top = new TopK<>(2);
    assertThat(top.admits(Float.NaN)).isFalse();
    assertThat(top.offer(Float.NaN, 1L)).isFalse();
    assertThat(top.size()).isZero();
    TopK<Long> none = new TopK<>(0);
    assertThat(none.admits(1f)).isFalse();
    assertThat(none.offer(1f, 1L)).isFalse();
    assertThat(none.sorted()).isEmpty();
  }

  @Test
  void mergingPartsGivesTheTopOfTheUnionAndGrowsPastTheInitialArrays() {
    TopK<Integer> a = new TopK<>(150);
    TopK<Integer> b = new TopK<>(150);
    for (int i = 0; i < 1000; i++) {
      float score = (i * 37 % 101) / 100f; // many ties
      (i % 3 == 0 ? a : b).offer(score, i);
    }
    List<TopK.Entry<Integer>> all = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      all.add(new TopK.Entry<>((i * 37 % 101) / 100f, i));
    }
    all.sort(
        Comparator.comparing((TopK.Entry<Integer> e) -> -e.score()).thenComparing(TopK.Entry::id));
    assertThat(a.addAll(b).sorted()).containsExactlyElementsOf(all.subList(0, 150));
  }
}
