package io.qaforge.spark;

import io.qaforge.craft.Cleaning.Sample;
import io.qaforge.craft.SyntheticSamples;
import io.qaforge.spark.FuzzyDedup.Features;
import io.qaforge.spark.FuzzyDedup.Mode;
import io.qaforge.spark.FuzzyDedup.Options;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Recall of {@link FuzzyDedup}'s {@code lsh} mode against its {@code exact} mode (not a test), on
 * {@link SyntheticSamples} with planted near-duplicates: the share of all pairs at or above the
 * threshold that LSH finds, per planted kind too, and the time of each run.
 *
 * <p>Run: {@code java -cp <app + Spark jars> io.qaforge.spark.FuzzyDedupBench [samples]
 * [questionWords] [timeOnly]} (defaults 4000, 40 (about 430 characters per sample), false), in
 * {@code local[2]}. With {@code timeOnly = true} only the default {@code lsh} run is timed (for
 * sample counts where the exact mode takes too long).
 */
public final class FuzzyDedupBench {
  private FuzzyDedupBench() {}

  /** One LSH configuration's result. */
  public record Recall(
      String config,
      long exactPairs,
      long lshPairs,
      double recall,
      Map<SyntheticSamples.Kind, Double> plantedRecall,
      double seconds) {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 4000;
    int words = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    boolean timeOnly = args.length > 2 && Boolean.parseBoolean(args[2]);
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("fuzzy-dedup-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate();
    Options d = Options.defaults();
    if (timeOnly) {
      timeDefault(spark, n, words);
      spark.stop();
      return;
    }
    List<Options> configs =
        List.of(
            d.withLsh(Features.TOKENS, 10, 0.8).withPrefix(0, 0),
            d.withLsh(Features.TOKENS, 20, 0.8).withPrefix(0, 0),
            d.withLsh(Features.TOKENS, 40, 0.9).withPrefix(0, 0),
            d.withLsh(Features.SHINGLES, 20, 0.8).withPrefix(0, 0),
            d.withLsh(Features.TOKENS, 20, 0.8).withPrefix(3, 20),
            d.withLsh(Features.TOKENS, 20, 0.8).withPrefix(3, 100));
    for (Recall r : run(spark, n, words, configs)) {
      System.out.printf(
          Locale.ROOT,
          "%-58s exact %6d  lsh %6d  recall %.4f  planted %s  %.1f s%n",
          r.config(),
          r.exactPairs(),
          r.lshPairs(),
          r.recall(),
          r.plantedRecall(),
          r.seconds());
    }
    spark.stop();
  }

  /** Times the whole clean (default options, {@code lsh} mode) without an exact reference. */
  public static void timeDefault(SparkSession spark, int n, int words) {
    Dataset<Row> samples =
        frame(spark, SyntheticSamples.generate(new SplittableRandom(1), n, 0.3, words));
    long start = System.nanoTime();
    List<Row> counts =
        FuzzyDedup.clean(
                samples, "id", "ord", "json", List.of(), Options.defaults().withMode(Mode.LSH))
            .groupBy(FuzzyDedup.STATUS)
            .count()
            .collectAsList();
    System.out.printf(
        Locale.ROOT,
        "%d samples, lsh clean: %s in %.1f s%n",
        n,
        counts,
        (System.nanoTime() - start) / 1e9);
    samples.unpersist();
  }

  private static Dataset<Row> frame(SparkSession spark, SyntheticSamples.Data data) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < data.samples().size(); i++) {
      Sample s = data.samples().get(i);
      rows.add(RowFactory.create(s.id(), (long) i, s.json()));
    }
    StructType schema =
        new StructType()
            .add("id", DataTypes.StringType)
            .add("ord", DataTypes.LongType)
            .add("json", DataTypes.StringType);
    Dataset<Row> samples = spark.createDataFrame(rows, schema).repartition(4).cache();
    samples.count();
    return samples;
  }

  /** The exact pairs once, then each LSH configuration. */
  public static List<Recall> run(SparkSession spark, int n, int words, List<Options> configs) {
    SyntheticSamples.Data data = SyntheticSamples.generate(new SplittableRandom(1), n, 0.3, words);
    Dataset<Row> samples = frame(spark, data);
    long start = System.nanoTime();
    Set<Set<String>> exact =
        pairs(FuzzyDedup.edges(samples, Options.defaults().withMode(Mode.EXACT)));
    System.out.printf(
        Locale.ROOT,
        "%d samples, exact mode: %d pairs >= 85 in %.1f s%n",
        n,
        exact.size(),
        (System.nanoTime() - start) / 1e9);
    List<Recall> out = new ArrayList<>();
    for (Options o : configs) {
      long t = System.nanoTime();
      Set<Set<String>> lsh = pairs(FuzzyDedup.edges(samples, o.withMode(Mode.LSH)));
      double seconds = (System.nanoTime() - t) / 1e9;
      long candidates = FuzzyDedup.candidates(samples, o.withMode(Mode.LSH)).count();
      long found = lsh.stream().filter(exact::contains).count();
      Map<SyntheticSamples.Kind, Double> planted = new EnumMap<>(SyntheticSamples.Kind.class);
      for (SyntheticSamples.Kind kind : SyntheticSamples.Kind.values()) {
        long total = 0;
        long hit = 0;
        for (SyntheticSamples.Planted p : data.planted()) {
          Set<String> pair = Set.of(p.id(), p.original());
          if (p.kind() == kind && exact.contains(pair)) {
            total++;
            hit += lsh.contains(pair) ? 1 : 0;
          }
        }
        planted.put(kind, total == 0 ? Double.NaN : Math.round(10000.0 * hit / total) / 10000.0);
      }
      String name =
          "%s tables=%d dist<%.1f prefix=%d/%d (%d cand.)"
              .formatted(
                  o.features(),
                  o.numHashTables(),
                  o.maxJaccardDistance(),
                  o.prefixTokens(),
                  o.prefixMaxDocs(),
                  candidates);
      out.add(
          new Recall(
              name,
              exact.size(),
              lsh.size(),
              exact.isEmpty() ? 1 : (double) found / exact.size(),
              planted,
              seconds));
    }
    samples.unpersist();
    return out;
  }

  private static Set<Set<String>> pairs(Dataset<Row> edges) {
    Set<Set<String>> out = new HashSet<>();
    for (Row r : edges.select("a_id", "b_id").collectAsList()) {
      out.add(Set.of(r.getString(0), r.getString(1)));
    }
    return out;
  }
}
