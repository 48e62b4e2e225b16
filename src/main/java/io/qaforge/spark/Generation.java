package io.qaforge.spark;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.when;

import io.qaforge.QaforgeException;
import io.qaforge.llm.ChatRequest;
import io.qaforge.llm.Dispatcher;
import io.qaforge.llm.LlmClient;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.Message;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.Pacer;
import io.qaforge.llm.RequestIds;
import io.qaforge.llm.Result;
import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

/**
 * The one Spark verb for model calls: rows of requests in (a {@code messages} column of
 * array&lt;struct&lt;role, content&gt;&gt; plus any key columns), the same rows out — one per
 * sample — with the response columns of {@link #RESPONSE}. Answers go through the shared response
 * cache ({@code qaforge.responses}, keyed by request_id): cached answers are never paid again,
 * misses are called in chunks that are committed as they finish, and failed rows are retried by the
 * next run. Every input row comes out with a status.
 */
public final class Generation {
  private static final Logger LOG = LoggerFactory.getLogger(Generation.class);
  public static final String DATASET = "qaforge";
  public static final String CACHE = "responses";

  public static final ArrayType MESSAGES =
      DataTypes.createArrayType(
          new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType));

  /** The response columns added to every row, in order. */
  public static final StructType RESPONSE =
      new StructType()
          .add("content", DataTypes.StringType)
          .add("parsed", DataTypes.StringType)
          .add("status", DataTypes.StringType)
          .add("error", DataTypes.StringType)
          .add("attempts", DataTypes.IntegerType)
          .add("finish_reason", DataTypes.StringType)
          .add("prompt_tokens", DataTypes.LongType)
          .add("completion_tokens", DataTypes.LongType)
          .add("latency_ms", DataTypes.LongType)
          .add("model_used", DataTypes.StringType)
          .add("backend", DataTypes.StringType)
          .add("cost_usd", DataTypes.DoubleType);

  /** Rows of the response cache: request id, sample, response, and where it came from. */
  public static final StructType CACHE_SCHEMA = cacheSchema();

  private static StructType cacheSchema() {
    StructType s =
        new StructType()
            .add("request_id", DataTypes.StringType)
            .add("sample_idx", DataTypes.IntegerType);
    for (var f : RESPONSE.fields()) {
      s = s.add(f);
    }
    return s.add("alias", DataTypes.StringType)
        .add("step", DataTypes.StringType)
        .add("run_id", DataTypes.StringType)
        .add("created_at", DataTypes.TimestampType);
  }

  /** What to generate: the alias, sampling parameters, samples per row and template identity. */
  public record Spec(
      String step,
      String alias,
      Double temperature,
      Double topP,
      Integer maxTokens,
      Long seed,
      List<String> stop,
      int samples,
      String jsonSchema,
      boolean logprobs,
      String templateHash)
      implements Serializable {}

  private final Lake lake;
  private final LlmSettings llm;
  private final LlmRun run;

  public Generation(Lake lake, LlmSettings llm, LlmRun run) {
    this.lake = lake;
    this.llm = llm;
    this.run = run;
  }

  /** A messages column from an optional system text and a user prompt column. */
  public static Column messages(String system, Column user) {
    Column u = org.apache.spark.sql.functions.struct(lit("user").as("role"), user.as("content"));
    if (system == null || system.isEmpty()) {
      return org.apache.spark.sql.functions.array(u);
    }
    return org.apache.spark.sql.functions.array(
        org.apache.spark.sql.functions.struct(lit("system").as("role"), lit(system).as("content")),
        u);
  }

  /**
   * The requests with one row per sample and the response columns. The result is persisted and
   * already computed (the ledger counted it), so writing it does not call or read the cache again;
   * unpersist it when done.
   */
  public Dataset<Row> generate(Dataset<Row> requests, Spec spec) {
    java.time.Instant started = java.time.Instant.now();
    SparkSession spark = requests.sparkSession();
    checkInput(requests);
    ModelSpec model = llm.spec(spec.alias());
    String backend = llm.effectiveBackend(spec.alias());
    if (spec.samples() < 1) {
      throw new IllegalArgumentException("samples must be >= 1, got " + spec.samples());
    }
    Dataset<Row> fanned =
        requests
            .withColumn("sample_idx", explode(sequence(lit(0), lit(spec.samples() - 1))))
            .withColumn("request_id", requestId(spark, model, spec))
            .persist();
    Dataset<Row> todo =
        fanned.select("request_id", "sample_idx", "messages").dropDuplicates("request_id");
    Dataset<Row> results;
    if (backend.equals("dry-run")) {
      results =
          call(todo, spec, backend, todo.sparkSession().sparkContext().defaultParallelism())
              .persist();
      results.count();
    } else {
      String cachePath = lake.path(DATASET, CACHE);
      if (!lake.exists(DATASET, CACHE)) {
        // created up front: concurrent chunk commits into an empty folder would conflict
        spark
            .createDataFrame(List.of(), CACHE_SCHEMA)
            .write()
            .format("delta")
            .mode("append")
            .save(cachePath);
        // no per-column statistics: request ids are random hashes, so they never skip a file, and
        // collecting them costs every chunk's write tasks
        spark.sql(
            "ALTER TABLE delta.`"
                + cachePath
                + "` SET TBLPROPERTIES ('delta.dataSkippingNumIndexedCols' = '0', "
                + CacheFiles.PROPERTIES
                + ")");
      } else {
        todo =
            todo.join(
                finalAnswers(lake.read(DATASET, CACHE)),
                todo.col("request_id").equalTo(col("f_id")),
                "left_anti");
      }
      if (backend.equals(BatchGeneration.BACKEND)) {
        // the Batch API (driver side): collect finished batches, submit the rest; retries with
        // llm.batch.retry = online go through the online client
        new BatchGeneration(lake, llm, run)
            .generate(todo, spec, retries -> callInChunks(retries, spec, "openai", cachePath));
      } else {
        callInChunks(todo, spec, backend, cachePath);
      }
      // Delta's checkpoints of the cache wait for the end of the step (CacheFiles.PROPERTIES)
      CacheFiles.checkpointIfDue(spark, cachePath);
      lake.register(DATASET, CACHE);
      // only this step's requests, before ranking the answers of each
      results =
          latest(
              lake.read(DATASET, CACHE)
                  .join(fanned.select("request_id").distinct(), "request_id", "left_semi"));
    }
    Dataset<Row> joined = fanned.join(results.drop("sample_idx"), "request_id", "left");
    Column missing = col("status").isNull();
    Dataset<Row> out =
        joined
            .withColumn("status", when(missing, lit(Result.FAILED)).otherwise(col("status")))
            .withColumn(
                "error",
                when(missing, lit("no answer was recorded for this request"))
                    .otherwise(col("error")))
            .withColumn("cache_hit", coalesce(col("run_id").notEqual(lit(run.id())), lit(false)))
            .drop("alias", "step", "run_id")
            .persist();
    Ledger.Entry entry =
        Ledger.measure(
            out,
            run.id(),
            spec.step(),
            spec.alias(),
            backend,
            run.rateLimited(spec.alias()),
            started);
    run.record(entry);
    // out is materialised in memory (and disk) now: callers reuse it without calling again
    fanned.unpersist(false);
    if (backend.equals("dry-run")) {
      results.unpersist(false);
    }
    if (!backend.equals("dry-run")) {
      Ledger.append(lake, List.of(entry));
    }
    String breaker = run.breakerReason(spec.alias());
    if (breaker != null) {
      throw new QaforgeException(
          "Stopped step " + spec.step() + ": the provider of " + spec.alias() + " kept refusing",
          breaker,
          "wait and run again: the "
              + entry.ok()
              + " answers received are saved in qaforge.responses"
              + " and will not be paid again; only the failed rows are retried");
    }
    return out;
  }

  /** Ships a GGUF file that executors cannot see on their own disk (remote URIs, cluster mode). */
  private static void shipModel(SparkSession spark, ModelSpec model) {
    String path = model.modelPath();
    boolean local = spark.sparkContext().isLocal();
    boolean exists =
        java.nio.file.Files.isRegularFile(java.nio.file.Path.of(path.replaceFirst("^file:", "")));
    if (!exists && !path.matches("^[a-z][a-z0-9+.-]*://.*")) {
      throw new QaforgeException(
          "Cannot find the model file of " + model.alias() + ": " + path,
          "no such file on the driver",
          "set llm.models."
              + model.alias()
              + ".model-path to an existing .gguf file or a URI (s3a://, hdfs://)");
    }
    if (!local || !exists) {
      String name = path.substring(path.lastIndexOf('/') + 1);
      if (!spark.sparkContext().listFiles().toList().exists(f -> f.endsWith("/" + name))) {
        spark.sparkContext().addFile(path);
      }
    }
  }

  private static void checkInput(Dataset<Row> requests) {
    List<String> names = List.of(requests.columns());
    if (!names.contains("messages")) {
      throw new QaforgeException(
          "Cannot generate: the request rows have no 'messages' column",
          "Generation needs messages as array<struct<role: string, content: string>> (found: "
              + requests.schema().simpleString()
              + ")",
          "build it with Generation.messages(system, promptColumn)");
    }
    DataType t = requests.schema().apply("messages").dataType();
    if (!t.sameType(MESSAGES)) {
      throw new QaforgeException(
          "Cannot generate: 'messages' has type " + t.simpleString(),
          "Generation needs array<struct<role: string, content: string>>",
          "build it with Generation.messages(system, promptColumn)");
    }
    for (String reserved : List.of("sample_idx", "request_id", "status", "content")) {
      if (names.contains(reserved)) {
        throw new QaforgeException(
            "Cannot generate: the request rows already have a '" + reserved + "' column",
            "Generation adds it",
            "rename or drop that column before generating");
      }
    }
  }

  private Column requestId(SparkSession spark, ModelSpec model, Spec spec) {
    String name = "qaforge_request_id_" + Math.abs((model.model() + spec).hashCode());
    UDF2<scala.collection.Seq<Row>, Integer, String> udf =
        (msgs, sample) ->
            RequestIds.of(
                model.model(),
                model.style(),
                toMessages(msgs),
                spec.temperature(),
                spec.topP(),
                spec.maxTokens(),
                spec.seed(),
                spec.stop(),
                spec.jsonSchema(),
                spec.logprobs(),
                sample,
                spec.templateHash());
    spark.udf().register(name, udf, DataTypes.StringType);
    return callUDF(name, col("messages"), col("sample_idx"));
  }

  static List<Message> toMessages(scala.collection.Seq<Row> msgs) {
    List<Message> out = new ArrayList<>();
    if (msgs != null) {
      for (Row r : JavaConverters.seqAsJavaList(msgs)) {
        out.add(new Message(r.getString(0), r.getString(1)));
      }
    }
    return out;
  }

  /** Final answers (not to be retried) per request id, as column f_id. */
  private Dataset<Row> finalAnswers(Dataset<Row> cache) {
    return cache
        .filter(col("status").isin(llm.retryStatuses().toArray()).unary_$bang())
        .select(col("request_id").as("f_id"))
        .distinct();
  }

  /** The best cached row per request id: a final answer over a retryable one, then the newest. */
  private Dataset<Row> latest(Dataset<Row> cache) {
    Column retryable = col("status").isin(llm.retryStatuses().toArray());
    var w =
        Window.partitionBy("request_id")
            .orderBy(when(retryable, 1).otherwise(0), col("created_at").desc());
    return cache.withColumn("_n", row_number().over(w)).filter(col("_n").equalTo(1)).drop("_n");
  }

  private void callInChunks(Dataset<Row> todo, Spec spec, String backend, String cachePath) {
    SparkSession spark = todo.sparkSession();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // plain RDD jobs from here on: a chunk costs no query planning or code generation, only its
    // Delta commit
    JavaRDD<Row> pending = todo.javaRDD().persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long count = pending.count();
      if (count == 0) {
        LOG.info("{}: all answers cached, no calls", spec.step());
        return;
      }
      int parallelism = spark.sparkContext().defaultParallelism();
      // HTTP calls wait on the network, not on CPU: one task per chunk and as many chunks at once
      // as Spark has task slots, so when one chunk drains its last answers and commits, the others
      // keep the request rate up. llama.cpp is CPU-bound: each chunk uses every slot, two at a
      // time.
      boolean cpuBound = backend.equals("llama-cpp");
      int concurrent = cpuBound ? 2 : Math.max(2, parallelism);
      int tasksPerChunk = cpuBound ? parallelism : 1;
      ChunkPlan plan =
          new ChunkPlan(
              count, llm.chunkSize(), llm.chunkInterval().toMillis() / 1000.0, concurrent);
      LOG.info(
          "{}: {} request(s) to call with {}, committed in chunks of at least {} ({} at a time)",
          spec.step(),
          count,
          spec.alias(),
          Math.min(count, llm.chunkSize()),
          concurrent);
      Broadcast<SerializableConfiguration> hadoop =
          jsc.broadcast(new SerializableConfiguration(spark.sessionState().newHadoopConf()));
      CallPartition caller = new CallPartition(spec, backend, llm, run.id(), run.pacerFactory());
      AutoCloseable progress = run.progress(spec.step(), count);
      ExecutorService pool = Executors.newFixedThreadPool(concurrent);
      CompletionService<int[]> done = new ExecutorCompletionService<>(pool);
      long started = System.nanoTime();
      try {
        int running = 0;
        while (true) {
          int[] range;
          while (running < concurrent
              && (range = plan.next((System.nanoTime() - started) / 1e9)) != null) {
            int[] chunk = range;
            JavaRDD<CacheFiles.Written> files =
                chunkFiles(pending, plan.slices(), chunk, tasksPerChunk, caller, cachePath, hadoop);
            done.submit(
                () -> {
                  jsc.setJobDescription(
                      spec.step() + ": calls of slices " + chunk[0] + "-" + chunk[1]);
                  CacheFiles.commit(spark, cachePath, files.collect(), "a chunk of answers");
                  return chunk;
                });
            running++;
          }
          if (running == 0) {
            break;
          }
          plan.finished(done.take().get());
          running--;
        }
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException) {
          throw (RuntimeException) cause;
        }
        throw new IllegalStateException(cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while generating", e);
      } finally {
        pool.shutdownNow();
        closeQuietly(progress);
        hadoop.destroy();
      }
    } finally {
      pending.unpersist(false);
    }
  }

  /**
   * The Parquet files of one chunk: the pending rows whose slice is in {@code range} called in
   * {@code tasks} task(s), each writing its answers as one file in the cache folder.
   */
  private static JavaRDD<CacheFiles.Written> chunkFiles(
      JavaRDD<Row> pending,
      int slices,
      int[] range,
      int tasks,
      CallPartition caller,
      String cachePath,
      Broadcast<SerializableConfiguration> hadoop) {
    int from = range[0];
    int to = range[1];
    JavaRDD<Row> rows =
        pending.filter(
            r -> {
              int slice = Math.floorMod(r.getString(0).hashCode(), slices);
              return slice >= from && slice < to;
            });
    JavaRDD<Row> parts = tasks == 1 ? rows.coalesce(1) : rows.repartition(tasks);
    return parts.mapPartitions(
        it ->
            CacheFiles.write(caller.call(it), CACHE_SCHEMA, cachePath, hadoop.value().value())
                .iterator());
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.debug("closing progress: {}", e.toString());
    }
  }

  private Dataset<Row> call(Dataset<Row> todo, Spec spec, String backend, int tasks) {
    Dataset<Row> parts = tasks == 1 ? todo.coalesce(1) : todo.repartition(tasks);
    return parts.mapPartitions(
        new CallPartition(spec, backend, llm, run.id(), run.pacerFactory()),
        Encoders.row(CACHE_SCHEMA));
  }

  /** Runs on the executors: requests of one partition through the shared client and pacer. */
  static final class CallPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Spec spec;
    private final String backend;
    private final LlmSettings llm;
    private final String runId;
    private final SerializableSupplier<Pacer> pacer;

    CallPartition(
        Spec spec,
        String backend,
        LlmSettings llm,
        String runId,
        SerializableSupplier<Pacer> pacer) {
      this.spec = spec;
      this.backend = backend;
      this.llm = llm;
      this.runId = runId;
      this.pacer = pacer;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      LlmClient client = LlmClients.shared(backend, llm, spec.alias());
      Function<String, ModelSpec> specs = llm::spec;
      Iterator<ChatRequest> requests =
          new Iterator<>() {
            @Override
            public boolean hasNext() {
              return rows.hasNext();
            }

            @Override
            public ChatRequest next() {
              return chatRequest(rows.next(), spec);
            }
          };
      Dispatcher d =
          new Dispatcher(
              requests, client, pacer.get(), specs, llm.retry(), llm.maxInFlightPerTask());
      TaskContext task = TaskContext.get();
      if (task != null) {
        // a failed or killed task stops its sender thread (a finished one stops by itself)
        task.addTaskCompletionListener((TaskCompletionListener) c -> d.close());
      }
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return d.hasNext();
        }

        @Override
        public Row next() {
          return cacheRow(d.next(), spec, runId, new Timestamp(System.currentTimeMillis()));
        }
      };
    }
  }

  /** The request of a (request_id, sample_idx, messages) row under the step's spec. */
  static ChatRequest chatRequest(Row r, Spec spec) {
    return new ChatRequest(
        r.getString(0),
        spec.alias(),
        toMessages(r.getSeq(2)),
        spec.temperature(),
        spec.topP(),
        spec.maxTokens(),
        spec.seed(),
        spec.stop(),
        spec.jsonSchema(),
        spec.logprobs(),
        r.getInt(1));
  }

  /** One row of {@link #CACHE_SCHEMA} for a result of this run. */
  static Row cacheRow(Result x, Spec spec, String runId, Timestamp at) {
    return RowFactory.create(
        x.requestId(),
        x.sampleIdx(),
        x.content(),
        x.parsed(),
        x.status(),
        x.error(),
        x.attempts(),
        x.finishReason(),
        x.promptTokens(),
        x.completionTokens(),
        x.latencyMs(),
        x.modelUsed(),
        x.backend(),
        x.costUsd(),
        spec.alias(),
        spec.step(),
        runId,
        at);
  }

  /** A Supplier that Spark can ship to executors. */
  public interface SerializableSupplier<T> extends Supplier<T>, Serializable {}
}
