package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link FuzzyRatio} against reference values of thefuzz 0.22.1 {@code fuzz.token_set_ratio(a, b)}
 * (default arguments) on rapidfuzz 3.12.2's C++ implementation (Debian trixie packages {@code
 * python3-thefuzz 0.22.1-1}, {@code python3-rapidfuzz 3.12.2+ds-1}; no token-set change since the
 * seed's 3.8.1). The strings were written for this test.
 */
class FuzzyRatioTest {

  static Stream<Arguments> reference() {
    return Stream.of(
        Arguments.of(
            "{\"question\": \"What is the capital of France?\", \"options\": [\"A. Paris\", \"B. Rome\", \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}",
            "{\"question\": \"What is the capital of France?\", \"options\": [\"A. Paris\", \"B. Rome\", \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}",
            100),
        Arguments.of(
            "{\"question\": \"What is the capital of France?\", \"options\": [\"A. Paris\", \"B. Rome\", \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}",
            "{\"question\": \"Which city is the capital of France?\", \"options\": [\"A. Paris\", \"B. Rome\", \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}",
            97),
        Arguments.of(
            "{\"question\": \"What is the capital of France?\", \"options\": [\"A. Paris\", \"B. Rome\", \"C. Madrid\", \"D. Berlin\"], \"answer\": \"A\"}",
            "{\"question\": \"What is the largest planet?\", \"options\": [\"A. Mars\", \"B. Jupiter\", \"C. Venus\", \"D. Earth\"], \"answer\": \"B\"}",
            73),
        Arguments.of(
            "{\"question\": \"Does aspirin inhibit platelet aggregation?\", \"options\": [\"A. Yes\", \"B. No\"], \"answer\": \"A\"}",
            "{\"question\": \"Does ibuprofen cause stomach ulcers?\", \"options\": [\"A. Yes\", \"B. No\"], \"answer\": \"A\"}",
            72),
        Arguments.of(
            "{\"instruction\": \"Bake a lemon cake.\", \"ingredients\": [\"2 lemons\", \"200 g flour\", \"3 eggs\"], \"steps\": [\"Mix.\", \"Bake for 40 minutes.\"]}",
            "{\"instruction\": \"Bake a lemon cake!\", \"ingredients\": [\"3 eggs\", \"2 lemons\", \"200 g flour\"], \"steps\": [\"Bake for 40 minutes.\", \"Mix.\"]}",
            100),
        Arguments.of(
            "{\"instruction\": \"Bake a lemon cake.\", \"ingredients\": [\"2 lemons\", \"200 g flour\", \"3 eggs\"], \"steps\": [\"Mix.\", \"Bake for 40 minutes.\"]}",
            "{\"instruction\": \"Cook a tomato soup.\", \"ingredients\": [\"5 tomatoes\", \"1 onion\", \"salt\"], \"steps\": [\"Chop.\", \"Simmer for 20 minutes.\"]}",
            67),
        Arguments.of(
            "{\"instruction\": \"Summarize the text.\", \"summary\": \"Cats sleep a lot.\", \"long_but_clean_text\": \"Domestic cats sleep between twelve and sixteen hours a day.\"}",
            "{\"instruction\": \"Summarize the text.\", \"summary\": \"Cats nap often.\", \"long_but_clean_text\": \"Domestic cats sleep between twelve and sixteen hours each day.\"}",
            97),
        Arguments.of("fuzzy was a bear", "fuzzy fuzzy was a bear", 100),
        Arguments.of("fuzzy was a bear but not a dog", "fuzzy was a bear", 100),
        Arguments.of("fuzzy was a bear but not a dog", "fuzzy was a bear but not a cat", 92),
        Arguments.of(
            "the quick brown fox jumps over the lazy dog",
            "the lazy dog jumps over the quick brown fox",
            100),
        Arguments.of("the quick brown fox", "the quick brown foxes", 95),
        Arguments.of("new york mets vs atlanta braves", "atlanta braves vs new york mets", 100),
        Arguments.of("new york mets", "new york yankees", 76),
        Arguments.of("Hello, World!", "hello world", 100),
        Arguments.of("HELLO WORLD", "hello   world\t\n", 100),
        Arguments.of("", "", 0),
        Arguments.of("", "hello", 0),
        Arguments.of("hello", "", 0),
        Arguments.of("!!!", "!!!", 0),
        Arguments.of("?!.,;:", "hello", 0),
        Arguments.of("   ", "   ", 0),
        Arguments.of("{}", "{}", 0),
        Arguments.of("{\"a\": []}", "{\"a\": [], \"b\": \"\"}", 100),
        Arguments.of("café crème", "caf crme", 100),
        Arguments.of("café crème", "cafe creme", 89),
        Arguments.of("naïve résumé", "naive resume", 86),
        Arguments.of("Straße", "strasse", 83),
        Arguments.of("Ωμέγα ΑΛΦΑ", "ωμέγα αλφα", 100),
        Arguments.of("Привет мир", "привет МИР", 100),
        Arguments.of("東京 大阪", "大阪 東京", 100),
        Arguments.of("snake_case_name", "snake case name", 100),
        Arguments.of("x\u00a0y", "xy", 100),
        Arguments.of("tab\tseparated\nlines", "tab separated lines", 100),
        Arguments.of("smile 😀 please", "smile please", 100),
        Arguments.of("𝐀lpha beta", "𝐀lpha gamma", 67),
        Arguments.of("İstanbul Ankara", "istanbul ankara", 100),
        Arguments.of("Ⅻ chapters", "ⅻ chapters", 100),
        Arguments.of("abc", "abd", 67),
        Arguments.of("abcdef ghij", "ghij abcdeg", 91),
        Arguments.of("one two three four five six", "one two three four five seven", 92),
        Arguments.of("1 2 3 4", "4 3 2 1 5", 100),
        Arguments.of("a b c", "d e f", 40),
        Arguments.of("aaaa", "aaab", 75),
        Arguments.of("answer A", "answer B", 88),
        Arguments.of(
            "\"options\": [\"A. Yes\", \"B. No\"]", "\"options\": [\"A. No\", \"B. Yes\"]", 100),
        Arguments.of(
            "Mitochondria generate most of the chemical energy needed to power the biochemical reactions of the cell, storing it in adenosine triphosphate molecules that are released on demand by hydrolysis.",
            "Chloroplasts capture light energy to drive photosynthesis in plant cells, converting carbon dioxide and water into glucose while releasing oxygen through the splitting of water molecules during the reactions.",
            58),
        Arguments.of(
            "Mitochondria generate most of the chemical energy needed to power the biochemical reactions of the cell, storing it in adenosine triphosphate molecules that are released on demand by hydrolysis.",
            "Mitochondrias generates mostly the chemical energies needed for powering biochemical reaction in a cell, stored in adenosine-triphosphate molecule which is released upon demand through hydrolysis!",
            86));
  }

  @ParameterizedTest
  @MethodSource("reference")
  void matchesThefuzz(String a, String b, int expected) {
    assertThat(FuzzyRatio.tokenSetRatio(a, b)).isEqualTo(expected);
    assertThat(FuzzyRatio.tokenSetRatio(b, a)).isEqualTo(expected);
  }

  @ParameterizedTest
  @MethodSource("reference")
  void cutoffKeepsScoresAtOrAboveItAndDropsTheRest(String a, String b, int expected) {
    FuzzyRatio.Prepared pa = FuzzyRatio.prepare(a);
    FuzzyRatio.Prepared pb = FuzzyRatio.prepare(b);
    for (int cutoff : new int[] {1, 50, 85, 100}) {
      int got = FuzzyRatio.tokenSetRatio(pa, pb, cutoff);
      if (expected >= cutoff) {
        assertThat(got).as("cutoff %d", cutoff).isEqualTo(expected);
      } else {
        assertThat(got).as("cutoff %d", cutoff).isLessThan(cutoff);
      }
    }
  }

  /**
   * A raw score of exactly 84.5 (intersection of 169 characters, one difference of 61): thefuzz
   * rounds half to even, so this pair stays below the clean step's threshold of 85.
   */
  @Test
  void halfwayScoresRoundToEven() {
    String sect = join(IntStream.range(0, 34).mapToObj("s%03d"::formatted));
    String a = sect + " xax xbx " + join(IntStream.range(2, 20).mapToObj(i -> "x" + letter(i)));
    String b = sect + " " + join(IntStream.range(0, 26).mapToObj(i -> "q" + letter(i) + "q"));
    assertThat(FuzzyRatio.tokenSetRatio(a, b)).isEqualTo(84);
    // 87.5 -> 88 and 37.5 -> 38 (also to even)
    assertThat(FuzzyRatio.tokenSetRatio("w00 w01 x", "w00 w01 q qqr")).isEqualTo(88);
    assertThat(FuzzyRatio.tokenSetRatio("w00 x xx xxx xxxx", "w00 q qqr qqqrr")).isEqualTo(38);
  }

  @Test
  void processingMatchesFullProcessWithForceAscii() {
    assertThat(FuzzyRatio.process("  Café_Crème, ΑΛΦΑ! x\u00a0y  "))
        .isEqualTo("caf crme  αλφα  xy");
    assertThat(FuzzyRatio.process("?!.,;:")).isEmpty();
    assertThat(FuzzyRatio.prepare("b a b A").tokens()).containsExactly("a", "b");
    assertThat(FuzzyRatio.prepare(null).isEmpty()).isTrue();
  }

  /**
   * The cut-off's shortcuts never lose a pair at or above it (planted near-duplicates included).
   */
  @Test
  void cutoffAgreesWithTheExactRatioOnSyntheticSamples() {
    List<Cleaning.Sample> samples =
        SyntheticSamples.generate(new java.util.SplittableRandom(11), 400, 0.4, 40).samples();
    List<FuzzyRatio.Prepared> prepared =
        samples.stream().map(s -> FuzzyRatio.prepare(s.json())).toList();
    int above = 0;
    for (int i = 0; i < prepared.size(); i++) {
      for (int j = i + 1; j < prepared.size(); j += 3) {
        int exact = FuzzyRatio.tokenSetRatio(prepared.get(i), prepared.get(j), 0);
        int cut = FuzzyRatio.tokenSetRatio(prepared.get(i), prepared.get(j), 85);
        if (exact >= 85) {
          above++;
          assertThat(cut).isEqualTo(exact);
        } else {
          assertThat(cut).isLessThan(85);
        }
      }
    }
    assertThat(above).isGreaterThan(30);
  }

  /** Multi-word LCS (difference strings far longer than 64 code points) against a plain DP. */
  @Test
  void bitParallelLcsEqualsDynamicProgramming() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(7);
    for (int round = 0; round < 300; round++) {
      int[] x = random.ints(random.nextInt(0, 300), 'a', 'a' + 1 + random.nextInt(30)).toArray();
      int[] y = random.ints(random.nextInt(0, 300), 'a', 'a' + 1 + random.nextInt(30)).toArray();
      if (round % 3 == 0 && x.length > 0) {
        x[0] = 0x1D400; // a supplementary code point
      }
      assertThat(FuzzyRatio.lcs(x, y)).as("round %d", round).isEqualTo(lcsByTable(x, y));
    }
  }

  private static int lcsByTable(int[] x, int[] y) {
    int[][] t = new int[x.length + 1][y.length + 1];
    for (int i = 1; i <= x.length; i++) {
      for (int j = 1; j <= y.length; j++) {
        t[i][j] = x[i - 1] == y[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
      }
    }
    return t[x.length][y.length];
  }

  private static String join(Stream<String> tokens) {
    return tokens.collect(Collectors.joining(" "));
  }

  private static char letter(int i) {
    return (char) ('a' + i);
  }
}
