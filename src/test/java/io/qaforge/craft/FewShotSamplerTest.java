package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FewShotSamplerTest {

  @Test
  void pinnedDrawsStayTheSame() {
    // request ids (and the response cache) depend on these draws: a change here re-prompts every
    // document of every existing lake
    assertThat(FewShotSampler.pick(42, "doc-1", 32, 3)).containsExactly(PINNED_PICK);
    assertThat(FewShotSampler.variant(42, "doc-1", 2)).isEqualTo(PINNED_VARIANT);
  }

  private static final int[] PINNED_PICK = {30, 18, 4};
  private static final int PINNED_VARIANT = 1;

  @Test
  void samePerSeedAndDocumentWhateverTheOrder() {
    List<String> docs = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      docs.add("doc-" + i);
    }
    Map<String, List<Integer>> first = new HashMap<>();
    for (String d : docs) {
      first.put(d, boxed(FewShotSampler.pick(7, d, 32, 3)));
    }
    Collections.reverse(docs);
    for (String d : docs) {
      assertThat(boxed(FewShotSampler.pick(7, d, 32, 3))).isEqualTo(first.get(d));
    }
    // another seed gives other draws for most documents
    long changed =
        docs.stream()
            .filter(d -> !boxed(FewShotSampler.pick(8, d, 32, 3)).equals(first.get(d)))
            .count();
    assertThat(changed).isGreaterThan(450);
  }

  @Test
  void drawsAreDistinctInRangeAndCoverEveryFewShot() {
    int[] counts = new int[32];
    Set<List<Integer>> distinctDraws = new HashSet<>();
    for (int i = 0; i < 3200; i++) {
      int[] p = FewShotSampler.pick(1, "doc-" + i, 32, 3);
      assertThat(p).hasSize(3).doesNotHaveDuplicates();
      for (int x : p) {
        assertThat(x).isBetween(0, 31);
        counts[x]++;
      }
      distinctDraws.add(boxed(p));
    }
    // 300 expected per few-shot; a biased draw (e.g. modulo or a stuck index) lands far outside
    assertThat(Arrays.stream(counts).min().getAsInt()).isGreaterThan(200);
    assertThat(Arrays.stream(counts).max().getAsInt()).isLessThan(400);
    assertThat(distinctDraws.size()).isGreaterThan(2500);
  }

  @Test
  void edgeSizes() {
    assertThat(FewShotSampler.pick(1, "d", 3, 3)).containsExactlyInAnyOrder(0, 1, 2);
    assertThat(FewShotSampler.pick(1, "d", 8, 0)).isEmpty();
    assertThatThrownBy(() -> FewShotSampler.pick(1, "d", 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot pick 3 distinct few-shots out of 2");
    assertThatThrownBy(() -> FewShotSampler.variant(1, "d", 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void variantsAreBalanced() {
    int ones = 0;
    for (int i = 0; i < 2000; i++) {
      ones += FewShotSampler.variant(3, "doc-" + i, 2);
    }
    assertThat(ones).isBetween(850, 1150);
  }

  private static List<Integer> boxed(int[] a) {
    return Arrays.stream(a).boxed().toList();
  }
}
