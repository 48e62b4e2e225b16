package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
    // after sorted() the threshold is the worst kept score: lower scores are refused unseen
    assertThat(top.admits(0.4f)).isFalse();
    assertThat(top.offer(0.4f, "0")).isFalse();
    assertThat(top.admits(0.5f)).isTrue(); // only the id can tell
    top.offer(0.5f, "z");
    top.offer(0.5f, "a");
    assertThat(top.sorted()).extracting(TopK.Entry::id).containsExactly("d", "a", "b");
  }

  @Test
  void nanNeverEntersAndCapacityZeroKeepsNothing() {
    TopK<Long> top = new TopK<>(2);
    assertThat(top.admits(Float.NaN)).isFalse();
    assertThat(top.offer(Float.NaN, 1L)).isFalse();
    assertThat(top.sorted()).isEmpty();
    TopK<Long> none = new TopK<>(0);
    assertThat(none.admits(1f)).isFalse();
    assertThat(none.offer(1f, 1L)).isFalse();
    assertThat(none.sorted()).isEmpty();
  }

  /** Many compactions, many ties, ascending/descending/shuffled arrival orders. */
  @ParameterizedTest(name = "capacity {0}, {1} offers, step {2}")
  @CsvSource({"150, 1000, 37", "1, 500, 1", "7, 500, 499", "64, 5000, 1", "64, 5000, 4999"})
  void mergingPartsGivesTheTopOfTheUnion(int capacity, int offers, int step) {
    TopK<Integer> a = new TopK<>(capacity);
    TopK<Integer> b = new TopK<>(capacity);
    List<TopK.Entry<Integer>> all = new ArrayList<>();
    for (int j = 0; j < offers; j++) {
      int i = (int) ((long) j * step % offers); // step 1: ascending scores; offers-1: descending
      float score = (i % 101) / 100f; // ties: every level about offers/101 times
      all.add(new TopK.Entry<>(score, i));
      (i % 3 == 0 ? a : b).offer(score, i);
    }
    all.sort(
        Comparator.comparing((TopK.Entry<Integer> e) -> -e.score()).thenComparing(TopK.Entry::id));
    assertThat(a.addAll(b).sorted()).containsExactlyElementsOf(all.subList(0, capacity));
  }

  @Test
  void aSerialisedListShipsItsEntriesAndKeepsWorking() throws Exception {
    TopK<String> top = new TopK<>(2);
    TopK<String> empty = roundTrip(new TopK<>(2));
    empty.offer(0.3f, "x");
    assertThat(empty.sorted()).containsExactly(new TopK.Entry<>(0.3f, "x"));
    for (int i = 0; i < 10; i++) {
      top.offer(i / 10f, "id" + i);
    }
    TopK<String> copy = roundTrip(top);
    copy.offer(0.85f, "new");
    copy.offer(0.1f, "low");
    assertThat(copy.sorted())
        .containsExactly(new TopK.Entry<>(0.9f, "id9"), new TopK.Entry<>(0.85f, "new"));
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
