package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.craft.Cleaning;
import io.qaforge.craft.Cleaning.Decision;
import io.qaforge.craft.Cleaning.Sample;
import io.qaforge.craft.Cleaning.Text;
import io.qaforge.craft.SyntheticSamples;
import io.qaforge.spark.FuzzyDedup.Mode;
import io.qaforge.spark.FuzzyDedup.Options;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class FuzzyDedupTest {
  private static final int T = Cleaning.DEFAULT_THRESHOLD;

  @Test
  void exactModeEqualsTheSequentialGreedy() {
    List<Sample> samples =
        new ArrayList<>(SyntheticSamples.generate(new SplittableRandom(5), 300, 0.3));
    // exact repeats, also of a string without alphanumerics
    samples.add(40, new Sample("rep1", samples.get(3).json()));
    samples.add(new Sample("empty1", "{}"));
    samples.add(new Sample("empty2", "{}"));
    List<String> fewShots =
        List.of(samples.get(10).json(), "{\"question\": \"unrelated\"}", samples.get(200).json());
    List<Decision> expected = Cleaning.clean(samples, fewShots, T);

    // order keys are strings and do not sort like the ids
    Dataset<Row> df = frame(samples, DataTypes.StringType, i -> "k%05d".formatted(i));
    Options options = Options.defaults().withMode(Mode.EXACT).withBlockSize(64);
    Map<String, Row> got = byId(FuzzyDedup.clean(df, "id", "ord", "json", fewShots, options));

    assertThat(got).hasSize(samples.size());
    for (Decision d : expected) {
      Row r = got.get(d.id());
      assertThat(r.<String>getAs(FuzzyDedup.STATUS)).as(d.id()).isEqualTo(d.status().label());
      assertThat(r.<String>getAs(FuzzyDedup.REF)).as(d.id()).isEqualTo(d.ref());
      Integer score = r.getAs(FuzzyDedup.SCORE);
      assertThat(score).as(d.id()).isEqualTo(d.status() == Cleaning.Status.KEPT ? null : d.score());
      assertThat(r.<String>getAs("extra")).isEqualTo("x" + d.id());
    }
    assertThat(expected).extracting(Decision::status).contains(Cleaning.Status.values());
    assertThat(got.get("rep1").<String>getAs(FuzzyDedup.STATUS)).isEqualTo("duplicate");
    assertThat(got.get("empty2").<String>getAs(FuzzyDedup.REF)).isEqualTo("empty1");
  }

  @Test
  void lshModeFindsEveryPairOfTheExactMode() {
    SyntheticSamples.Data data = SyntheticSamples.generate(new SplittableRandom(9), 800, 0.3, 18);
    List<Sample> samples = data.samples();
    Dataset<Row> df = frame(samples, DataTypes.LongType, i -> (long) i);
    Dataset<Row> input = df.select("id", "ord", "json");

    Set<Set<String>> lsh = pairs(FuzzyDedup.edges(input, Options.defaults().withMode(Mode.LSH)));

    // Every pair at or above the threshold, by brute force; the planted ones are among them.
    List<Text> texts = samples.stream().map(s -> Text.of(s.json())).toList();
    Set<Set<String>> exact = new HashSet<>();
    for (int j = 0; j < texts.size(); j++) {
      for (int i = 0; i < j; i++) {
        if (Cleaning.score(texts.get(i), texts.get(j), T) >= T) {
          exact.add(Set.of(samples.get(i).id(), samples.get(j).id()));
        }
      }
    }
    Set<Set<String>> planted = new HashSet<>();
    for (SyntheticSamples.Planted p : data.planted()) {
      planted.add(Set.of(p.id(), p.original()));
    }
    assertThat(exact).containsAll(planted);
    assertThat(lsh).containsExactlyInAnyOrderElementsOf(exact);

    Map<String, Row> got =
        byId(
            FuzzyDedup.clean(
                df, "id", "ord", "json", List.of(), Options.defaults().withMode(Mode.LSH)));
    for (Decision d : Cleaning.clean(samples, List.of(), T)) {
      assertThat(got.get(d.id()).<String>getAs(FuzzyDedup.STATUS)).isEqualTo(d.status().label());
    }
  }

  @Test
  void shinglesAreDistinctCodePointWindows() {
    assertThat(FuzzyDedup.shingles("abcabc", 3)).containsExactlyInAnyOrder("abc", "bca", "cab");
    assertThat(FuzzyDedup.shingles("a𝐀", 5)).containsExactly("a𝐀");
    assertThat(FuzzyDedup.shingles("", 5)).isEmpty();
  }

  @Test
  void orderKeysCompareStringsByCodePoints() {
    // UTF-16 order puts U+FF21 after U+1D400's surrogates; Spark (UTF-8 bytes) and this do not.
    assertThat(FuzzyDedup.compareKeys("\uFF21", "𝐀")).isNegative();
    assertThat(FuzzyDedup.compareKeys(3L, 10L)).isNegative();
  }

  private static Set<Set<String>> pairs(Dataset<Row> edges) {
    Set<Set<String>> out = new HashSet<>();
    for (Row r : edges.collectAsList()) {
      out.add(Set.of(r.getString(0), r.getString(2)));
    }
    return out;
  }

  private static Dataset<Row> frame(
      List<Sample> samples, DataType orderType, java.util.function.IntFunction<Object> order) {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      Sample s = samples.get(i);
      rows.add(RowFactory.create(s.id(), order.apply(i), s.json(), "x" + s.id()));
    }
    StructType schema =
        new StructType()
            .add("id", DataTypes.StringType)
            .add("ord", orderType)
            .add("json", DataTypes.StringType)
            .add("extra", DataTypes.StringType);
    return spark.createDataFrame(rows, schema).repartition(3);
  }

  private static Map<String, Row> byId(Dataset<Row> out) {
    Map<String, Row> m = new HashMap<>();
    for (Row r : out.collectAsList()) {
      assertThat(m.put(r.getAs("id"), r)).isNull();
    }
    return m;
  }
}
