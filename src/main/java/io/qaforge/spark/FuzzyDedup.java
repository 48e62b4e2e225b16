package io.qaforge.spark;

import static org.apache.spark.sql.functions.array_distinct;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.qaforge.craft.Cleaning;
import io.qaforge.craft.Cleaning.Edge;
import io.qaforge.craft.Cleaning.Match;
import io.qaforge.craft.Cleaning.Text;
import io.qaforge.craft.FuzzyRatio;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.MinHashLSH;
import org.apache.spark.ml.feature.MinHashLSHModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * CRAFT's clean step at Spark scale: the contamination filter and the greedy self-dedup of {@link
 * Cleaning}, marking rows instead of dropping them.
 *
 * <p><b>Contamination.</b> The few-shots are few: they are prepared on the driver, broadcast, and
 * every sample is scored against all of them (first few-shot at or above the threshold wins).
 *
 * <p><b>Duplicate pairs, then the greedy on the driver.</b> The greedy's outcome depends only on
 * the pairs scoring at or above the threshold ({@link Cleaning#resolve}). The job finds those pairs
 * in parallel, collects them (ids, order keys and scores; never the texts), ranks the samples
 * occurring in them by {@code (order, id)} and runs the greedy; samples in no pair are kept. This
 * is cheap (one entry per near-duplicate pair) and exact. A distributed resolution would need
 * rounds over connected components; not worth it while the pairs fit in the driver's memory.
 *
 * <ul>
 *   <li>{@code exact}: every pair. Samples are hashed into blocks of {@code blockSize}; each pair
 *       of blocks is one task comparing all its pairs with the exact ratio. Equals {@link
 *       Cleaning#clean} (tested). Cost n²/2 ratios: about 0.2 M pairs/s per core on 430 characters
 *       (6,000 samples: 170 s in local[2] on a busy 2-core machine).
 *   <li>{@code lsh}: the exact ratio on candidate pairs only ({@link #candidates}): (1) MinHash LSH
 *       (Spark MLlib {@code MinHashLSH.approxSimilarityJoin}, {@code numHashTables} OR-ed tables,
 *       Jaccard distance below {@code maxJaccardDistance}) on the processed token sets (or
 *       character shingles) without the elements found in more than {@code maxTokenShare} of the
 *       samples (JSON keys, "the", option letters: they make huge buckets and say nothing about
 *       duplication); (2) since token-set ratio is 100 when one set contains the other, which
 *       Jaccard can rate low, also every pair sharing one of a sample's {@code prefixTokens} rarest
 *       elements (elements in 2 or more samples, at most the frequent-element cut); (3) equal
 *       strings, always (also when their sets are empty). A missed pair can only make a sample kept
 *       that the exact mode marks duplicate (and change what that sample suppresses later).
 * </ul>
 *
 * <p><b>Defaults</b> ({@link Options#defaults()}): {@code auto} = exact up to 10,000 samples
 * (measured: 6,000 samples of 430 characters in 49 s in local[2], i.e. 0.37 M pairs/s on 2 cores;
 * 10,000 take about 2.5 min, 20,000 about 9 min); {@code lsh}: tokens, 20 tables, Jaccard distance
 * below 0.8, elements in more than 1% (and more than 50) of the samples left out, 3 prefix tokens
 * among elements in 2 to 20 samples (at most 60 prefix candidates per sample).
 *
 * <p><b>Recall</b> of {@code lsh} against {@code exact} ({@link FuzzyDedupBench}, 6,000 synthetic
 * samples, 30% planted near-duplicates: reordered, edited, subsets, supersets; 2,583 pairs at or
 * above 85): defaults 99.65% of all pairs and 100% of the planted ones (114k candidates, 15 s);
 * without the prefix source 99.46% (2.6k candidates, 6 s); 40 tables below 0.9: 99.57%; character
 * 5-shingles: 97.7%. On 3,000 samples the prefix source lifted 99.2% to 100%. The pairs still
 * missed are short samples made of the most frequent words that a very long sample happens to
 * contain (Jaccard 0 after the frequent-element cut).
 *
 * <p>Output: the input rows and {@code clean_status} ({@code kept}, {@code contaminated}, {@code
 * duplicate}), {@code clean_ref} (few-shot index as a string, or the id of the kept sample; null
 * when kept) and {@code clean_score} (the deciding ratio; null when kept). The order is {@code
 * (order, id)} ascending, strings by code points.
 */
public final class FuzzyDedup {
  public static final String STATUS = "clean_status";
  public static final String REF = "clean_ref";
  public static final String SCORE = "clean_score";

  /** {@code exact} (all pairs), {@code lsh} (candidate pairs), {@code auto} (by sample count). */
  public enum Mode {
    EXACT,
    LSH,
    AUTO
  }

  /** What MinHash hashes: processed tokens, or character shingles of the processed text. */
  public enum Features {
    TOKENS,
    SHINGLES
  }

  /**
   * Settings of the job: {@link #defaults()}, changed by the {@code with...} methods (each returns
   * a copy).
   */
  public static final class Options implements Cloneable {
    private Mode mode = Mode.AUTO;
    private int threshold = Cleaning.DEFAULT_THRESHOLD;
    private long exactMaxSamples = 10_000;
    private int blockSize = 1000;
    private Features features = Features.TOKENS;
    private int numHashTables = 20;
    private double maxJaccardDistance = 0.8;
    private double maxTokenShare = 0.01;
    private long minTokenDocs = 50;
    private int prefixTokens = 3;
    private long prefixMaxDocs = 20;
    private int shingleSize = 5;
    private long seed = 42L;

    private Options() {}

    public static Options defaults() {
      return new Options();
    }

    /** {@code exact}, {@code lsh}, or {@code auto}: exact up to {@code exactMaxSamples}. */
    public Options withMode(Mode m, long exactMax) {
      Options o = copy();
      o.mode = m;
      o.exactMaxSamples = exactMax;
      return o;
    }

    public Options withMode(Mode m) {
      return withMode(m, exactMaxSamples);
    }

    /** Ratio at or above which a sample is contaminated or a duplicate (85). */
    public Options withThreshold(int t) {
      Options o = copy();
      o.threshold = t;
      return o;
    }

    /** Samples per block in {@code exact} mode. */
    public Options withBlockSize(int size) {
      Options o = copy();
      o.blockSize = size;
      return o;
    }

    /**
     * {@code lsh} candidates: what MinHash hashes; {@code tables} OR-ed MinHash tables (a pair with
     * Jaccard J is a candidate with probability 1 - (1 - J)^tables); candidates must have a Jaccard
     * distance below {@code maxDistance}.
     */
    public Options withLsh(Features f, int tables, double maxDistance) {
      Options o = copy();
      o.features = f;
      o.numHashTables = tables;
      o.maxJaccardDistance = maxDistance;
      return o;
    }

    /**
     * Containment candidates of {@code lsh} mode: pair each sample with every sample holding one of
     * its {@code tokens} rarest elements among those in 2 to {@code maxDocs} samples ({@code tokens
     * = 0}: off). Candidates grow with samples × tokens × maxDocs.
     */
    public Options withPrefix(int tokens, long maxDocs) {
      Options o = copy();
      o.prefixTokens = tokens;
      o.prefixMaxDocs = maxDocs;
      return o;
    }

    /**
     * Elements in more than {@code share} of the samples and in more than {@code minDocs} samples
     * are left out of the MinHash sets and prefixes.
     */
    public Options withFrequentCut(double share, long minDocs) {
      Options o = copy();
      o.maxTokenShare = share;
      o.minTokenDocs = minDocs;
      return o;
    }

    public Mode mode() {
      return mode;
    }

    public int threshold() {
      return threshold;
    }

    public long exactMaxSamples() {
      return exactMaxSamples;
    }

    public int blockSize() {
      return blockSize;
    }

    public Features features() {
      return features;
    }

    public int numHashTables() {
      return numHashTables;
    }

    public double maxJaccardDistance() {
      return maxJaccardDistance;
    }

    public double maxTokenShare() {
      return maxTokenShare;
    }

    public long minTokenDocs() {
      return minTokenDocs;
    }

    public int prefixTokens() {
      return prefixTokens;
    }

    public long prefixMaxDocs() {
      return prefixMaxDocs;
    }

    public int shingleSize() {
      return shingleSize;
    }

    public long seed() {
      return seed;
    }

    private Options copy() {
      try {
        return (Options) clone();
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static final DataType STRINGS = DataTypes.createArrayType(DataTypes.StringType);
  private static final StructType CONTAMINATION =
      new StructType().add("fewshot", DataTypes.IntegerType).add("score", DataTypes.IntegerType);

  private FuzzyDedup() {}

  /**
   * Marks every row of {@code samples} (columns {@code idCol} string, {@code orderCol} long or
   * string, {@code jsonCol} string; ids unique) with the clean step's decision.
   */
  public static Dataset<Row> clean(
      Dataset<Row> samples,
      String idCol,
      String orderCol,
      String jsonCol,
      List<String> fewShots,
      Options options) {
    SparkSession spark = samples.sparkSession();
    Dataset<Row> marked =
        samples.withColumn(
            "_fewshot", contamination(spark, fewShots, options.threshold()).apply(col(jsonCol)));
    Dataset<Row> candidates =
        marked
            .where(col("_fewshot").isNull())
            .select(col(idCol).as("id"), col(orderCol).as("ord"), col(jsonCol).as("json"));
    // Read several times (count, blocks or sets, texts): keep the few-shot scores of one pass.
    candidates = candidates.persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> duplicates;
    try {
      duplicates = duplicates(spark, edges(candidates, options).collectAsList());
    } finally {
      candidates.unpersist();
    }
    Dataset<Row> joined =
        marked.join(duplicates, marked.col(idCol).equalTo(duplicates.col("_dup_id")), "left");
    Column contaminated = col("_fewshot").isNotNull();
    Column duplicate = col("_dup_id").isNotNull();
    List<Column> out = new ArrayList<>();
    for (String c : samples.columns()) {
      out.add(marked.col(c));
    }
    out.add(
        when(contaminated, lit(Cleaning.Status.CONTAMINATED.label()))
            .when(duplicate, lit(Cleaning.Status.DUPLICATE.label()))
            .otherwise(lit(Cleaning.Status.KEPT.label()))
            .as(STATUS));
    out.add(
        when(contaminated, col("_fewshot.fewshot").cast(DataTypes.StringType))
            .when(duplicate, col("_dup_ref"))
            .as(REF));
    out.add(when(contaminated, col("_fewshot.score")).when(duplicate, col("_dup_score")).as(SCORE));
    return joined.select(out.toArray(new Column[0]));
  }

  /**
   * The pairs at or above the threshold among {@code samples} (columns {@code id}, {@code ord},
   * {@code json}), by the mode in {@code options}: columns {@code a_id, a_ord, b_id, b_ord, score},
   * each unordered pair once.
   */
  public static Dataset<Row> edges(Dataset<Row> samples, Options options) {
    Mode mode = options.mode();
    if (mode == Mode.AUTO) {
      mode = samples.count() <= options.exactMaxSamples() ? Mode.EXACT : Mode.LSH;
    }
    return mode == Mode.EXACT ? exactEdges(samples, options) : lshEdges(samples, options);
  }

  private static UserDefinedFunction contamination(
      SparkSession spark, List<String> fewShots, int threshold) {
    // few and small: shipped in the UDF's closure (Java serialization), not as a broadcast, which
    // the Kryo serializer of spark-defaults.conf cannot write for records
    List<Text> shots = new ArrayList<>(fewShots.stream().map(Text::of).toList());
    return udf(
        (UDF1<String, Row>)
            json -> {
              Match m = Cleaning.contamination(Text.of(json == null ? "" : json), shots, threshold);
              return m == null ? null : RowFactory.create(m.fewShot(), m.score());
            },
        CONTAMINATION);
  }

  private static StructType edgeSchema(DataType order) {
    return new StructType()
        .add("a_id", DataTypes.StringType)
        .add("a_ord", order)
        .add("b_id", DataTypes.StringType)
        .add("b_ord", order)
        .add("score", DataTypes.IntegerType);
  }

  // ---- exact: all pairs, block against block ----

  private static Dataset<Row> exactEdges(Dataset<Row> samples, Options options) {
    long n = samples.count();
    int blocks = (int) Math.max(1, (n + options.blockSize() - 1) / options.blockSize());
    Dataset<Row> grouped =
        samples
            .withColumn("block", pmod(xxhash64(col("id")), lit(blocks)))
            .groupBy("block")
            .agg(collect_list(struct(col("id"), col("ord"), col("json"))).as("items"));
    Dataset<Row> pairs =
        grouped
            .as("l")
            .crossJoin(grouped.as("r"))
            .where(col("l.block").leq(col("r.block")))
            .select(
                col("l.block").as("lb"),
                col("l.items").as("li"),
                col("r.block").as("rb"),
                col("r.items").as("ri"))
            .repartition(Math.max(1, blocks * (blocks + 1) / 2));
    DataType order = samples.schema().apply("ord").dataType();
    int threshold = options.threshold();
    return pairs.flatMap(
        (FlatMapFunction<Row, Row>) row -> blockPairEdges(row, threshold).iterator(),
        Encoders.row(edgeSchema(order)));
  }

  private static List<Row> blockPairEdges(Row row, int threshold) {
    boolean same = row.getLong(0) == row.getLong(2);
    List<Row> left = row.getList(1);
    List<Row> right = same ? left : row.getList(3);
    List<Text> l = texts(left);
    List<Text> r = same ? l : texts(right);
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < l.size(); i++) {
      for (int j = same ? i + 1 : 0; j < r.size(); j++) {
        int score = Cleaning.score(l.get(i), r.get(j), threshold);
        if (score >= threshold) {
          Row a = left.get(i);
          Row b = right.get(j);
          out.add(RowFactory.create(a.getString(0), a.get(1), b.getString(0), b.get(1), score));
        }
      }
    }
    return out;
  }

  private static List<Text> texts(List<Row> items) {
    List<Text> out = new ArrayList<>(items.size());
    for (Row item : items) {
      out.add(Text.of(item.getString(2)));
    }
    return out;
  }

  // ---- lsh: MinHash candidates, exact ratio on them ----

  private static Dataset<Row> lshEdges(Dataset<Row> samples, Options options) {
    Dataset<Row> texts = samples.select(col("id"), col("json"));
    return candidates(samples, options)
        .join(texts.as("ta"), col("a_id").equalTo(col("ta.id")))
        .join(texts.as("tb"), col("b_id").equalTo(col("tb.id")))
        .select(
            col("a_id"),
            col("a_ord"),
            col("b_id"),
            col("b_ord"),
            score(options.threshold()).apply(col("ta.json"), col("tb.json")).as("score"))
        .where(col("score").geq(options.threshold()));
  }

  /**
   * Candidate pairs of {@code lsh} mode ({@code a_id, a_ord, b_id, b_ord}, a before b, each pair
   * once): MinHash LSH on the sets without frequent elements, plus pairs sharing one of a sample's
   * {@code prefixTokens} rarest elements (found in 2 or more samples), plus equal strings.
   */
  static Dataset<Row> candidates(Dataset<Row> samples, Options options) {
    SparkSession spark = samples.sparkSession();
    int shingle = options.shingleSize();
    UserDefinedFunction features =
        options.features() == Features.TOKENS
            ? udf(
                (UDF1<String, String[]>)
                    json -> FuzzyRatio.prepare(json).tokens().toArray(new String[0]),
                STRINGS)
            : udf(
                (UDF1<String, String[]>)
                    json -> shingles(FuzzyRatio.process(json == null ? "" : json), shingle),
                STRINGS);
    Dataset<Row> postings =
        samples.select(
            col("id"), col("ord"), explode(array_distinct(features.apply(col("json")))).as("t"));
    long n = samples.count();
    long maxDocs = Math.max(options.minTokenDocs(), (long) (options.maxTokenShare() * n));
    Dataset<Row> docs = postings.groupBy("t").agg(count(lit(1)).as("df"));
    Dataset<Row> rare = postings.join(docs.where(col("df").leq(maxDocs)), "t");

    Dataset<Row> sets = rare.groupBy("id", "ord").agg(collect_list(col("t")).as("set"));
    Dataset<Row> vectors =
        new HashingTF()
            .setInputCol("set")
            .setOutputCol("features")
            .setNumFeatures(1 << 20)
            .setBinary(true)
            .transform(sets)
            .select("id", "ord", "features");
    MinHashLSHModel model =
        new MinHashLSH()
            .setNumHashTables(options.numHashTables())
            .setSeed(options.seed())
            .setInputCol("features")
            .setOutputCol("hashes")
            .fit(vectors);
    Dataset<Row> pairs =
        model
            .approxSimilarityJoin(vectors, vectors, options.maxJaccardDistance(), "distance")
            .select(pair("datasetA", "datasetB"));

    if (options.prefixTokens() > 0) {
      // A sample (mostly) contained in a larger one scores 100 at a low Jaccard; it still shares
      // its rarest elements with it. Elements in one sample only cannot pair anything.
      Dataset<Row> shared = rare.where(col("df").between(2, options.prefixMaxDocs()));
      Dataset<Row> prefix =
          shared
              .withColumn(
                  "r", row_number().over(Window.partitionBy("id").orderBy(col("df"), col("t"))))
              .where(col("r").leq(options.prefixTokens()));
      Dataset<Row> contained =
          prefix
              .as("p")
              .join(shared.as("q"), col("p.t").equalTo(col("q.t")))
              .where(col("p.id").notEqual(col("q.id")))
              .select(pair("p", "q"));
      pairs = pairs.unionByName(contained);
    }
    // Equal strings are always a pair (also when their sets are empty): every member of a group
    // points to the group's earliest member, which is what the greedy needs.
    Dataset<Row> equal =
        samples
            .groupBy(sha2(col("json"), 256))
            .agg(sort_array(collect_list(struct(col("ord"), col("id")))).as("g"))
            .where(size(col("g")).gt(1))
            .select(explode(col("g")).as("m"), col("g").getItem(0).as("first"))
            .where(col("m.id").notEqual(col("first.id")))
            .select(pair("first", "m"));
    pairs = pairs.unionByName(equal);
    // One orientation per pair: the earlier sample first.
    Column swap = earlier(col("b_ord"), col("b_id"), col("a_ord"), col("a_id"));
    return pairs
        .select(
            when(swap, col("b_id")).otherwise(col("a_id")).as("a_id"),
            when(swap, col("b_ord")).otherwise(col("a_ord")).as("a_ord"),
            when(swap, col("a_id")).otherwise(col("b_id")).as("b_id"),
            when(swap, col("a_ord")).otherwise(col("b_ord")).as("b_ord"))
        .where(col("a_id").notEqual(col("b_id")))
        .distinct();
  }

  private static UserDefinedFunction score(int threshold) {
    return udf(
        (UDF2<String, String, Integer>) (a, b) -> Cleaning.score(Text.of(a), Text.of(b), threshold),
        DataTypes.IntegerType);
  }

  /** {@code a_id, a_ord, b_id, b_ord} from the struct columns {@code a} and {@code b}. */
  private static Column[] pair(String a, String b) {
    return new Column[] {
      col(a + ".id").as("a_id"),
      col(a + ".ord").as("a_ord"),
      col(b + ".id").as("b_id"),
      col(b + ".ord").as("b_ord")
    };
  }

  /** (aOrd, aId) before (bOrd, bId). */
  private static Column earlier(Column aOrd, Column aId, Column bOrd, Column bId) {
    return aOrd.lt(bOrd).or(aOrd.equalTo(bOrd).and(aId.lt(bId)));
  }

  /** Distinct character shingles of {@code text} (the whole text if shorter). */
  static String[] shingles(String text, int k) {
    int[] cps = text.codePoints().toArray();
    if (cps.length == 0) {
      return new String[0];
    }
    Set<String> out = new HashSet<>();
    for (int i = 0; i + k <= Math.max(k, cps.length); i++) {
      out.add(new String(cps, i, Math.min(k, cps.length - i)));
    }
    return out.toArray(new String[0]);
  }

  // ---- driver: greedy over the edges ----

  private static Dataset<Row> duplicates(SparkSession spark, List<Row> edges) {
    // Rank the samples that occur in edges by (order, id); the rest are kept anyway.
    Map<String, Object> orderOf = new HashMap<>();
    for (Row e : edges) {
      orderOf.put(e.getString(0), e.get(1));
      orderOf.put(e.getString(2), e.get(3));
    }
    List<String> ids = new ArrayList<>(orderOf.keySet());
    Comparator<String> byOrder =
        (x, y) -> {
          int c = compareKeys(orderOf.get(x), orderOf.get(y));
          return c != 0 ? c : compareKeys(x, y);
        };
    ids.sort(byOrder);
    Map<String, Long> rank = new HashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      rank.put(ids.get(i), (long) i);
    }
    List<Edge> ranked = new ArrayList<>(edges.size());
    for (Row e : edges) {
      long a = rank.get(e.getString(0));
      long b = rank.get(e.getString(2));
      ranked.add(new Edge(Math.max(a, b), Math.min(a, b), e.getInt(4)));
    }
    List<Row> rows = new ArrayList<>();
    for (Edge d : Cleaning.resolve(ranked).values()) {
      rows.add(RowFactory.create(ids.get((int) d.later()), ids.get((int) d.earlier()), d.score()));
    }
    StructType dup =
        new StructType()
            .add("_dup_id", DataTypes.StringType)
            .add("_dup_ref", DataTypes.StringType)
            .add("_dup_score", DataTypes.IntegerType);
    return spark.createDataFrame(rows, dup);
  }

  /** Longs numerically, strings by code points (Spark's UTF-8 byte order). */
  @SuppressWarnings("unchecked")
  static int compareKeys(Object x, Object y) {
    if (x instanceof String a && y instanceof String b) {
      return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
    }
    return ((Comparable<Object>) x).compareTo(y);
  }
}
