package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.craft.Cleaning.Decision;
import io.qaforge.craft.Cleaning.Edge;
import io.qaforge.craft.Cleaning.Sample;
import io.qaforge.craft.Cleaning.Status;
import io.qaforge.craft.Cleaning.Text;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CleaningTest {
  private static final int T = Cleaning.DEFAULT_THRESHOLD;

  private static final String PARIS =
      "{\"question\": \"What is the capital of France?\", \"options\": [\"A. Paris\", \"B. Rome\","
          + " \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}";
  private static final String PARIS_REWORDED =
      "{\"question\": \"Which city is the capital of France?\", \"options\": [\"A. Paris\","
          + " \"B. Rome\", \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}";
  private static final String PLANET =
      "{\"question\": \"What is the largest planet?\", \"options\": [\"A. Mars\", \"B. Jupiter\","
          + " \"C. Venus\", \"D. Earth\"], \"answer\": \"B\"}";
  private static final String ASPIRIN =
      "{\"question\": \"Does aspirin inhibit platelet aggregation?\", \"options\": [\"A. Yes\","
          + " \"B. No\"], \"answer\": \"A\"}";

  private static final String SPIDER =
      "{\"question\": \"How many legs does a spider have?\", \"options\": [\"A. Six\", \"B."
          + " Eight\", \"C. Ten\", \"D. Four\"], \"answer\": \"B\"}";

  // A ⊂ B (score 100); C shares B's second half plus one token (score 94); A and C are disjoint.
  private static final String A = "alpha beta gamma delta";
  private static final String B = "alpha beta gamma delta epsilon zeta eta theta";
  private static final String C = "epsilon zeta eta theta xi";

  @Test
  void contaminationNamesTheFirstFewShotAtOrAboveTheThreshold() {
    List<String> fewShots = List.of(PLANET, ASPIRIN, PARIS, PARIS_REWORDED);
    List<Decision> d =
        Cleaning.clean(
            List.of(new Sample("s1", PARIS_REWORDED), new Sample("s2", SPIDER)), fewShots, T);
    assertThat(d)
        .containsExactly(new Decision("s1", Status.CONTAMINATED, "2", 97), Decision.kept("s2"));
  }

  @Test
  void contaminatedSamplesDoNotSuppressLaterOnes() {
    // s1 (= B) is contaminated by the few-shot C; s2 (= A) matches s1 only, and s1 is not kept.
    List<Decision> d =
        Cleaning.clean(List.of(new Sample("s1", B), new Sample("s2", A)), List.of(PLANET, C), T);
    assertThat(d)
        .containsExactly(new Decision("s1", Status.CONTAMINATED, "1", 94), Decision.kept("s2"));
  }

  @Test
  void greedyDependsOnTheOrder() {
    assertThat(FuzzyRatio.tokenSetRatio(A, B)).isEqualTo(100);
    assertThat(FuzzyRatio.tokenSetRatio(B, C)).isEqualTo(94);
    assertThat(FuzzyRatio.tokenSetRatio(A, C)).isLessThan(T);

    List<Decision> abc =
        Cleaning.clean(
            List.of(new Sample("a", A), new Sample("b", B), new Sample("c", C)), List.of(), T);
    assertThat(abc)
        .containsExactly(
            Decision.kept("a"), new Decision("b", Status.DUPLICATE, "a", 100), Decision.kept("c"));

    List<Decision> bac =
        Cleaning.clean(
            List.of(new Sample("b", B), new Sample("a", A), new Sample("c", C)), List.of(), T);
    assertThat(bac)
        .containsExactly(
            Decision.kept("b"),
            new Decision("a", Status.DUPLICATE, "b", 100),
            new Decision("c", Status.DUPLICATE, "b", 94));
  }

  @Test
  void exactDuplicatesAreDroppedEvenWithoutAlphanumerics() {
    List<Decision> d =
        Cleaning.clean(
            List.of(
                new Sample("1", PARIS),
                new Sample("2", "{}"),
                new Sample("3", PARIS),
                new Sample("4", "{}"),
                new Sample("5", "[]")),
            List.of(),
            T);
    assertThat(d)
        .containsExactly(
            Decision.kept("1"),
            Decision.kept("2"),
            new Decision("3", Status.DUPLICATE, "1", 100),
            new Decision("4", Status.DUPLICATE, "2", 100),
            Decision.kept("5"));
  }

  @Test
  void duplicateNamesTheEarliestKeptMatch() {
    // B reaches both A and C; A comes first.
    List<Decision> d =
        Cleaning.clean(
            List.of(new Sample("a", A), new Sample("c", C), new Sample("b", B)), List.of(), T);
    assertThat(d.get(2)).isEqualTo(new Decision("b", Status.DUPLICATE, "a", 100));
  }

  @Test
  void thresholdIsInclusiveAndRoundedLikeThefuzz() {
    assertThat(Cleaning.clean(samples(A, B), List.of(), 100).get(1).status())
        .isEqualTo(Status.DUPLICATE);
    assertThat(Cleaning.clean(samples(B, C), List.of(), 94).get(1).status())
        .isEqualTo(Status.DUPLICATE);
    assertThat(Cleaning.clean(samples(B, C), List.of(), 95).get(1).status()).isEqualTo(Status.KEPT);
  }

  @Test
  void resolvingAllPairsEqualsTheSequentialGreedy() {
    SplittableRandom random = new SplittableRandom(3);
    List<Sample> samples = SyntheticSamples.generate(random, 160, 0.4);
    List<String> fewShots = List.of(samples.get(7).json(), samples.get(50).json());
    List<Decision> expected = Cleaning.clean(samples, fewShots, T);

    List<Text> shots = fewShots.stream().map(Text::of).toList();
    List<Text> texts = samples.stream().map(s -> Text.of(s.json())).toList();
    List<Integer> clean = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      if (Cleaning.contamination(texts.get(i), shots, T) == null) {
        clean.add(i);
      }
    }
    List<Edge> edges = new ArrayList<>();
    for (int j = 0; j < clean.size(); j++) {
      for (int i = 0; i < j; i++) {
        int score = Cleaning.score(texts.get(clean.get(j)), texts.get(clean.get(i)), T);
        if (score >= T) {
          edges.add(new Edge(clean.get(j), clean.get(i), score));
        }
      }
    }
    Map<Long, Edge> dups = Cleaning.resolve(edges);
    long duplicates = expected.stream().filter(d -> d.status() == Status.DUPLICATE).count();
    assertThat(duplicates).isGreaterThan(20);
    assertThat(dups).hasSize((int) duplicates);
    for (int i = 0; i < samples.size(); i++) {
      Decision d = expected.get(i);
      if (d.status() == Status.DUPLICATE) {
        Edge e = dups.get((long) i);
        assertThat(samples.get((int) e.earlier()).id()).isEqualTo(d.ref());
        assertThat(e.score()).isEqualTo(d.score());
      } else {
        assertThat(dups).doesNotContainKey((long) i);
      }
    }
  }

  @Test
  void resolveRejectsEdgesPointingForward() {
    assertThatThrownBy(() -> Cleaning.resolve(List.of(new Edge(1, 2, 90))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("later sample to an earlier one");
  }

  private static List<Sample> samples(String... jsons) {
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < jsons.length; i++) {
      out.add(new Sample("s" + i, jsons[i]));
    }
    return out;
  }
}
