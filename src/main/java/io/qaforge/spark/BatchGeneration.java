package io.qaforge.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import io.qaforge.QaforgeException;
import io.qaforge.llm.ChatRequest;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.Result;
import io.qaforge.llm.TokenCounter;
import io.qaforge.llm.batch.BatchApi;
import io.qaforge.llm.batch.BatchFiles;
import io.qaforge.llm.batch.BatchInput;
import io.qaforge.llm.batch.BatchResults;
import io.qaforge.llm.batch.BatchStatus;
import io.qaforge.pacing.Budget;
import io.qaforge.pacing.Coordinator;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Batch API side of {@link Generation}, for aliases with {@code backend = openai-batch}. It
 * runs on the driver only (Spark never waits on executors): it collects finished batches into the
 * response cache, submits the cache misses as new batches, and, with {@code llm.batch.wait}, polls
 * until they end.
 *
 * <p><b>State</b>: the ledger tables are the only state, so a run on another machine or in a new
 * Spark session resumes where the last one stopped. {@code qaforge.batches} holds one row per batch
 * version (append-only; the latest row per batch_id wins, a {@code collected} row over any other):
 * batch_id, run_id (the run that wrote the row), step, alias, endpoint, input_file (the local input
 * file at submission; removed once collected), the file ids, status, request counts, created_at,
 * updated_at, collected. {@code qaforge.batch_requests} maps every submitted request_id (the
 * custom_id) to its batch_id and sample_idx.
 *
 * <p><b>A run</b> of a step: (1) every open batch of the step and alias is polled; finished ones
 * (completed, failed, expired, cancelled) are downloaded to {@code
 * <java.io.tmpdir>/qaforge-batches/ <batch_id>/}, parsed with {@link BatchResults} and appended to
 * {@code qaforge.responses} (backend openai-batch, cost at {@code llm.batch.discount}); requests
 * the batch never ran are failed ({@value BatchResults#EXPIRED}), then the batch is marked
 * collected. (2) The misses — no final answer in the cache, no answer recorded by this run, not in
 * an open batch — are submitted: with {@code llm.batch.retry = online} the ones tried before (a
 * cached answer whose status is in {@code llm.retry-statuses}) go through the online client
 * instead. (3) With {@code llm.batch.wait} the open batches are polled every {@code poll-interval}
 * for at most {@code max-wait} and collected. (4) Requests of this step still in an open batch stop
 * the run with a {@link QaforgeException} ("waiting in OpenAI batches"): running the same command
 * later collects them; nothing is submitted twice.
 *
 * <p><b>Memory</b>: the requests to submit reach the driver one partition at a time ({@code
 * toLocalIterator}) and are streamed into input files; the driver keeps one (request_id,
 * sample_idx) pair per submitted request (about 150 bytes each, ~150 MB per million) and, while
 * collecting, the request map of one batch and at most {@value #SLICE} parsed answers at a time.
 */
public final class BatchGeneration {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGeneration.class);

  /** The backend name of Batch API aliases and of the answers they give. */
  public static final String BACKEND = BatchResults.BACKEND;

  public static final String BATCHES = "batches";
  public static final String REQUESTS = "batch_requests";

  /** Answers appended to the cache per commit while collecting. */
  static final int SLICE = 10_000;

  public static final StructType BATCHES_SCHEMA =
      new StructType()
          .add("batch_id", DataTypes.StringType)
          .add("run_id", DataTypes.StringType)
          .add("step", DataTypes.StringType)
          .add("alias", DataTypes.StringType)
          .add("endpoint", DataTypes.StringType)
          .add("input_file", DataTypes.StringType)
          .add("input_file_id", DataTypes.StringType)
          .add("output_file_id", DataTypes.StringType)
          .add("error_file_id", DataTypes.StringType)
          .add("status", DataTypes.StringType)
          .add("total", DataTypes.LongType)
          .add("completed", DataTypes.LongType)
          .add("failed", DataTypes.LongType)
          .add("created_at", DataTypes.TimestampType)
          .add("updated_at", DataTypes.TimestampType)
          .add("collected", DataTypes.BooleanType);

  public static final StructType REQUESTS_SCHEMA =
      new StructType()
          .add("request_id", DataTypes.StringType)
          .add("batch_id", DataTypes.StringType)
          .add("sample_idx", DataTypes.IntegerType);

  /**
   * What {@link #importBatchOutput} did.
   *
   * @param appended answers appended to {@code qaforge.responses}
   * @param unknown lines whose custom_id is not a request of this step and alias in {@code
   *     qaforge.batch_requests} (skipped)
   * @param summary the counts of the file (lines, statuses, duplicates, a cut-off last line)
   */
  public record Imported(long appended, long unknown, BatchResults.Summary summary) {}

  /** A batch as the ledger last recorded it. */
  private record Open(
      String batchId,
      String endpoint,
      String inputFile,
      String inputFileId,
      String status,
      long total,
      long completed,
      long failed,
      Timestamp createdAt) {}

  private final Lake lake;
  private final LlmSettings llm;
  private final LlmRun run;
  private final Path workDir;
  private BatchApi api;

  public BatchGeneration(Lake lake, LlmSettings llm, LlmRun run) {
    this(lake, llm, run, Path.of(System.getProperty("java.io.tmpdir"), "qaforge-batches"));
  }

  BatchGeneration(Lake lake, LlmSettings llm, LlmRun run, Path workDir) {
    this.lake = lake;
    this.llm = llm;
    this.run = run;
    this.workDir = workDir;
  }

  /**
   * Brings the answers of {@code todo} (request_id, sample_idx, messages: the cache misses of
   * {@link Generation#generate}) into {@code qaforge.responses}, or throws the "waiting in batches"
   * exception when some of them are still in open batches.
   *
   * @param online sends rows (request_id, sample_idx, messages) through the online client and
   *     commits their answers to the cache (used with {@code llm.batch.retry = online})
   */
  void generate(Dataset<Row> todo, Generation.Spec spec, Consumer<Dataset<Row>> online) {
    ensureTables();
    try {
      for (String file : llm.batch().importFiles()) {
        Imported i = importBatchOutput(Path.of(file), spec);
        LOG.info(
            "{}: {} answer(s) imported from {} ({} line(s) belong to other steps)",
            spec.step(),
            i.appended(),
            file,
            i.unknown());
      }
      collect(spec);
      Dataset<Row> misses = misses(todo, spec).persist();
      try {
        long count = misses.count();
        if (count == 0) {
          LOG.info("{}: nothing to submit to the Batch API", spec.step());
        } else if (llm.batch().retry().equals("online")) {
          Dataset<Row> again = misses.filter(col("_tried")).drop("_tried");
          long n = again.count();
          if (n > 0) {
            LOG.info(
                "{}: {} request(s) to retry; sending them online (llm.batch.retry = online)",
                spec.step(),
                n);
            online.accept(again);
          }
          submit(misses.filter(col("_tried").unary_$bang()).drop("_tried"), count - n, spec);
        } else {
          submit(misses.drop("_tried"), count, spec);
        }
      } finally {
        misses.unpersist();
      }
      if (llm.batch().waitForResults()) {
        await(spec);
        collect(spec);
      }
      lake.register(Generation.DATASET, Generation.CACHE);
      long[] pending = pending(todo, spec);
      if (pending[0] > 0) {
        throw new QaforgeException(
            "Step "
                + spec.step()
                + ": "
                + (pending[0] == 1 ? "1 request is" : pending[0] + " requests are")
                + " waiting in "
                + (pending[1] == 1 ? "1 OpenAI batch" : pending[1] + " OpenAI batches"),
            "batches are asynchronous (up to the completion window, "
                + llm.batch().completionWindow()
                + ")",
            "run the same command again later to collect them; nothing is submitted twice");
      }
    } finally {
      closeApi();
    }
  }

  /**
   * Reads a Batch API output (or error) file downloaded by hand, maps its custom_ids back to the
   * requests of this step and alias through {@code qaforge.batch_requests}, and appends their
   * answers to {@code qaforge.responses} (lines of other requests are skipped and counted).
   * Driver-side; for {@code --import-batch-output FILE}.
   */
  public Imported importBatchOutput(Path file, Generation.Spec spec) {
    ensureTables();
    // first pass: the custom_ids in the file (tolerates a cut-off last line)
    Set<String> ids = new LinkedHashSet<>();
    new BatchResults(BatchResults.Lookup.none()).read(file, r -> ids.add(r.requestId()));
    Map<String, BatchResults.Submitted> known = submitted(idsOfThisStep(ids, spec), spec);
    BatchResults results = new BatchResults(BatchResults.Lookup.of(known), llm.batch().discount());
    Timestamp now = Timestamp.from(Instant.now());
    long[] unknown = {0};
    Appender out = new Appender(spec, now);
    results.read(
        file,
        r -> {
          if (known.containsKey(r.requestId())) {
            out.add(r);
          } else {
            unknown[0]++;
          }
        });
    out.flush();
    lake.register(Generation.DATASET, Generation.CACHE);
    if (unknown[0] > 0) {
      LOG.warn(
          "{}: {} line(s) of {} are not requests of step {} / alias {} in qaforge.{}; skipped",
          spec.step(),
          unknown[0],
          file,
          spec.step(),
          spec.alias(),
          REQUESTS);
    }
    LOG.info("{}: imported {} answer(s) from {}", spec.step(), out.appended, file);
    return new Imported(out.appended, unknown[0], results.summary());
  }

  // ------------------------------------------------------------------------------- collecting

  /** Polls every open batch of the step; collects the finished ones. */
  private void collect(Generation.Spec spec) {
    List<Open> open = openBatches(spec);
    for (Open b : open) {
      BatchStatus s = api().retrieve(b.batchId());
      if (!s.terminal()) {
        LOG.info("{}: batch {}", spec.step(), s.describe());
        if (!s.status().equals(b.status())
            || s.completed() != b.completed()
            || s.failed() != b.failed()
            || s.total() != b.total()) {
          appendBatch(batchRow(b, s, false, spec));
        }
        continue;
      }
      collectOne(b, s, spec);
    }
  }

  private void collectOne(Open b, BatchStatus s, Generation.Spec spec) {
    Map<String, BatchResults.Submitted> lookup = submitted(requestsOf(b.batchId()), spec);
    BatchResults results = new BatchResults(BatchResults.Lookup.of(lookup), llm.batch().discount());
    Path dir = workDir.resolve(b.batchId().replaceAll("[^A-Za-z0-9._-]", "_"));
    // answers already final in the cache (imported by hand, or a collection cut short) stay as
    // they are: no duplicate rows, and they remain cache hits
    Set<String> known = alreadyFinal(b.batchId());
    Appender all = new Appender(spec, Timestamp.from(Instant.now()));
    Consumer<Result> out =
        r -> {
          if (!known.contains(r.requestId())) {
            all.add(r);
          }
        };
    List<Path> downloads = new ArrayList<>();
    if (s.outputFileId() != null) {
      Path f = dir.resolve("output.jsonl");
      api().download(s.outputFileId(), f);
      downloads.add(f);
      results.read(f, out);
    }
    if (s.errorFileId() != null) {
      Path f = dir.resolve("errors.jsonl");
      api().download(s.errorFileId(), f);
      downloads.add(f);
      results.read(f, out);
    }
    String never = neverRan(s);
    Set<String> missing = results.missing(lookup.keySet());
    for (String id : missing) {
      out.accept(
          new Result(
              id,
              lookup.get(id).sampleIdx(),
              null,
              null,
              Result.FAILED,
              never,
              0,
              null,
              0,
              0,
              0,
              null,
              BACKEND,
              0));
    }
    all.flush();
    appendBatch(batchRow(b, s, true, spec));
    BatchResults.Summary sum = results.summary();
    LOG.info(
        "{}: collected batch {} ({}): {} answer(s) {}{}",
        spec.step(),
        b.batchId(),
        s.status(),
        all.appended,
        sum.byStatus(),
        missing.isEmpty() ? "" : ", " + missing.size() + " never ran");
    for (Path f : downloads) {
      deleteQuietly(f);
    }
    deleteQuietly(dir);
    if (b.inputFile() != null) {
      Path in = Path.of(b.inputFile());
      deleteQuietly(in);
      deleteQuietly(in.getParent());
    }
  }

  private static String neverRan(BatchStatus s) {
    if (BatchStatus.CANCELLED.equals(s.status())) {
      return "batch cancelled before this request ran";
    }
    if (BatchStatus.FAILED.equals(s.status())) {
      if (s.errors().isEmpty()) {
        return "batch failed before this request ran";
      }
      BatchStatus.BatchError e = s.errors().get(0);
      return "batch failed before this request ran ("
          + e.code()
          + (e.line() != null ? " at input line " + e.line() : "")
          + ": "
          + e.message()
          + ")";
    }
    return BatchResults.EXPIRED;
  }

  /** Polls the open batches until all are finished or llm.batch.max-wait has passed. */
  private void await(Generation.Spec spec) {
    Map<String, String> waiting = new LinkedHashMap<>();
    for (Open b : openBatches(spec)) {
      waiting.put(b.batchId(), "");
    }
    if (waiting.isEmpty()) {
      return;
    }
    LOG.info(
        "{}: waiting for {} batch(es), polling every {} for at most {}",
        spec.step(),
        waiting.size(),
        llm.batch().pollInterval(),
        llm.batch().maxWait());
    long deadline = System.nanoTime() + llm.batch().maxWait().toNanos();
    while (true) {
      for (Iterator<Map.Entry<String, String>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, String> e = it.next();
        BatchStatus s = api().retrieve(e.getKey());
        String line = s.describe();
        if (!line.equals(e.getValue())) {
          LOG.info("{}: batch {}", spec.step(), line);
          e.setValue(line);
        }
        if (s.terminal()) {
          it.remove();
        }
      }
      long left = deadline - System.nanoTime();
      if (waiting.isEmpty() || left <= 0) {
        return;
      }
      try {
        Thread.sleep(
            Math.max(1, Math.min(llm.batch().pollInterval().toMillis(), left / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for batches", e);
      }
    }
  }

  // ------------------------------------------------------------------------------- submitting

  /**
   * The misses still to ask for: no final answer in the cache, none recorded by this run, not in an
   * open batch; column _tried = a (retryable) answer is cached.
   */
  private Dataset<Row> misses(Dataset<Row> todo, Generation.Spec spec) {
    Dataset<Row> cache = lake.read(Generation.DATASET, Generation.CACHE);
    Column retryable = col("status").isin(llm.retryStatuses().toArray());
    Dataset<Row> answered =
        cache
            .filter(retryable.unary_$bang().or(col("run_id").equalTo(lit(run.id()))))
            .select(col("request_id").as("a_id"))
            .distinct();
    Dataset<Row> tried =
        cache.select(col("request_id").as("t_id")).distinct().withColumn("_t", lit(true));
    Dataset<Row> inOpen = openRequests(spec).select(col("request_id").as("o_id")).distinct();
    Dataset<Row> m =
        todo.select("request_id", "sample_idx", "messages")
            .join(answered, col("request_id").equalTo(col("a_id")), "left_anti")
            .join(inOpen, col("request_id").equalTo(col("o_id")), "left_anti");
    return m.join(tried, m.col("request_id").equalTo(tried.col("t_id")), "left")
        .withColumn("_tried", org.apache.spark.sql.functions.coalesce(col("_t"), lit(false)))
        .drop("t_id", "_t");
  }

  /** Streams the rows (request_id, sample_idx, messages) into input files and submits them. */
  private void submit(Dataset<Row> rows, long count, Generation.Spec spec) {
    if (count <= 0) {
      return;
    }
    ModelSpec model = llm.spec(spec.alias());
    Path dir =
        workDir.resolve(
            "submit-"
                + run.id()
                + "-"
                + spec.step()
                + "-"
                + UUID.randomUUID().toString().substring(0, 8));
    LOG.info(
        "{}: writing {} request(s) for {} as Batch API input files in {}",
        spec.step(),
        count,
        spec.alias(),
        dir);
    Map<String, Integer> sampleOf = new HashMap<>();
    Iterator<Row> it = rows.select("request_id", "sample_idx", "messages").toLocalIterator();
    Appender rejected = new Appender(spec, Timestamp.from(Instant.now()));
    Iterator<ChatRequest> requests =
        withinBudget(
            new Iterator<>() {
              @Override
              public boolean hasNext() {
                return it.hasNext();
              }

              @Override
              public ChatRequest next() {
                Row r = it.next();
                sampleOf.put(r.getString(0), r.getInt(1));
                return Generation.chatRequest(r, spec);
              }
            },
            model,
            rejected);
    BatchFiles.Options options =
        BatchFiles.Options.forBaseUrl(llm.baseUrl())
            .withLimits(llm.batch().maxLines(), llm.batch().maxBytes())
            .withPrefix(spec.step());
    BatchFiles.Written w = new BatchFiles(dir, llm::spec, options).write(requests, rejected::add);
    rejected.flush();
    if (w.rejectedCount() > 0) {
      LOG.warn(
          "{}: {} request(s) cannot be sent (recorded as failed in qaforge.responses)",
          spec.step(),
          w.rejectedCount());
    }
    Map<String, String> metadata =
        Map.of("qaforge_run", run.id(), "step", spec.step(), "alias", spec.alias());
    int part = 0;
    for (BatchInput in : w.files()) {
      part++;
      String fileId = api().upload(in.path());
      String batchId =
          api().create(fileId, in.endpoint(), llm.batch().completionWindow(), metadata);
      Timestamp now = Timestamp.from(Instant.now());
      Open b =
          new Open(
              batchId,
              in.endpoint(),
              in.path().toAbsolutePath().toString(),
              fileId,
              BatchStatus.VALIDATING,
              in.lines(),
              0,
              0,
              now);
      // the batch row first: a batch the ledger knows is collected even if the next write fails
      appendBatch(batchRow(b, null, false, spec));
      List<Row> ids = new ArrayList<>(in.lines());
      for (String id : BatchFiles.customIds(in.path())) {
        ids.add(RowFactory.create(id, batchId, sampleOf.get(id)));
      }
      lake.spark()
          .createDataFrame(ids, REQUESTS_SCHEMA)
          .write()
          .format("delta")
          .mode("append")
          .save(lake.path(Generation.DATASET, REQUESTS));
      LOG.info(
          "{}: submitted batch {} ({} of {}): {} request(s) of {} for {}",
          spec.step(),
          batchId,
          part,
          w.files().size(),
          in.lines(),
          model.model(),
          spec.alias());
    }
    lake.register(Generation.DATASET, BATCHES);
    lake.register(Generation.DATASET, REQUESTS);
  }

  /**
   * The requests the run's budget ({@code llm.budget.*}) can pay for, in order: each submitted line
   * counts as spent at its estimate (prompt tokens counted, completion at max tokens, the alias's
   * online price: a conservative bound, batch prices are usually lower) when it is written, since a
   * submitted batch cannot be taken back. The rest are recorded as {@code skipped_budget} and not
   * submitted; a later run with budget left submits them.
   */
  private Iterator<ChatRequest> withinBudget(
      Iterator<ChatRequest> requests, ModelSpec model, Appender rejected) {
    Coordinator coordinator = run.coordinator();
    return new Iterator<>() {
      ChatRequest next = advance();

      private ChatRequest advance() {
        while (requests.hasNext()) {
          ChatRequest q = requests.next();
          long prompt = TokenCounter.countMessages(model.tokenizer(), q.messages());
          long completion = q.maxTokens() != null ? q.maxTokens() : 256;
          double cost = model.cost(prompt, completion);
          synchronized (coordinator) {
            Budget budget = coordinator.budget();
            if (budget.admissible(1, cost) > 0) {
              budget.reserve(1, cost);
              budget.settle(cost, cost);
              return q;
            }
            rejected.add(
                new Result(
                    q.requestId(),
                    q.sampleIdx(),
                    null,
                    null,
                    Result.SKIPPED_BUDGET,
                    budget.exhaustedReason(cost) + "; not submitted to the Batch API",
                    0,
                    null,
                    0,
                    0,
                    0,
                    null,
                    BACKEND,
                    0));
          }
        }
        return null;
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public ChatRequest next() {
        if (next == null) {
          throw new java.util.NoSuchElementException();
        }
        ChatRequest out = next;
        next = advance();
        return out;
      }
    };
  }

  // ---------------------------------------------------------------------------------- ledger

  /** Creates the ledger tables (empty) and the response cache when they do not exist yet. */
  private void ensureTables() {
    createIfMissing(Generation.CACHE, Generation.CACHE_SCHEMA);
    createIfMissing(BATCHES, BATCHES_SCHEMA);
    createIfMissing(REQUESTS, REQUESTS_SCHEMA);
  }

  private void createIfMissing(String table, StructType schema) {
    if (!lake.exists(Generation.DATASET, table)) {
      lake.spark()
          .createDataFrame(List.of(), schema)
          .write()
          .format("delta")
          .mode("append")
          .save(lake.path(Generation.DATASET, table));
      lake.register(Generation.DATASET, table);
    }
  }

  /** The latest row of every batch (a collected row wins, then the newest). */
  private Dataset<Row> latestBatches() {
    var w =
        Window.partitionBy("batch_id").orderBy(col("collected").desc(), col("updated_at").desc());
    return lake.read(Generation.DATASET, BATCHES)
        .withColumn("_n", row_number().over(w))
        .filter(col("_n").equalTo(1))
        .drop("_n");
  }

  private List<Open> openBatches(Generation.Spec spec) {
    List<Open> out = new ArrayList<>();
    for (Row r :
        latestBatches()
            .filter(
                col("step")
                    .equalTo(spec.step())
                    .and(col("alias").equalTo(spec.alias()))
                    .and(col("collected").unary_$bang()))
            .orderBy("created_at", "batch_id")
            .collectAsList()) {
      out.add(
          new Open(
              r.getAs("batch_id"),
              r.getAs("endpoint"),
              r.getAs("input_file"),
              r.getAs("input_file_id"),
              r.getAs("status"),
              r.<Long>getAs("total"),
              r.<Long>getAs("completed"),
              r.<Long>getAs("failed"),
              r.getAs("created_at")));
    }
    return out;
  }

  /**
   * (request_id, batch_id, sample_idx) of the batches of this step and alias not collected yet
   * (only these are collected by this step, so only these may hold back its requests).
   */
  private Dataset<Row> openRequests(Generation.Spec spec) {
    Dataset<Row> open =
        latestBatches()
            .filter(
                col("step")
                    .equalTo(spec.step())
                    .and(col("alias").equalTo(spec.alias()))
                    .and(col("collected").unary_$bang()))
            .select(col("batch_id").as("b_id"));
    Dataset<Row> req = lake.read(Generation.DATASET, REQUESTS);
    return req.join(open, req.col("batch_id").equalTo(open.col("b_id")), "left_semi");
  }

  /** [requests of todo in open batches, those batches]. */
  private long[] pending(Dataset<Row> todo, Generation.Spec spec) {
    List<Open> open = openBatches(spec);
    if (open.isEmpty()) {
      return new long[] {0, 0};
    }
    Dataset<Row> req =
        lake.read(Generation.DATASET, REQUESTS)
            .filter(col("batch_id").isin(open.stream().map(Open::batchId).toArray()));
    Row a =
        todo.select(col("request_id").as("t_id"))
            .join(req, col("t_id").equalTo(req.col("request_id")))
            .agg(countDistinct(col("t_id")), countDistinct(col("batch_id")))
            .first();
    return new long[] {a.getLong(0), a.getLong(1)};
  }

  /** Request ids of the batch that already have a final answer in the cache. */
  private Set<String> alreadyFinal(String batchId) {
    Dataset<Row> cache = lake.read(Generation.DATASET, Generation.CACHE);
    Dataset<Row> ids = requestsOf(batchId).select(col("request_id").as("b_id"));
    Set<String> out = new java.util.HashSet<>();
    for (Row r :
        cache
            .filter(col("status").isin(llm.retryStatuses().toArray()).unary_$bang())
            .join(ids, col("request_id").equalTo(col("b_id")), "left_semi")
            .select("request_id")
            .distinct()
            .collectAsList()) {
      out.add(r.getString(0));
    }
    return out;
  }

  private Dataset<Row> requestsOf(String batchId) {
    return lake.read(Generation.DATASET, REQUESTS)
        .filter(col("batch_id").equalTo(batchId))
        .select("request_id", "sample_idx");
  }

  /** (request_id, sample_idx) of the ids that are requests of batches of this step and alias. */
  private Dataset<Row> idsOfThisStep(Set<String> ids, Generation.Spec spec) {
    SparkSession spark = lake.spark();
    List<Row> rows = new ArrayList<>(ids.size());
    for (String id : ids) {
      rows.add(RowFactory.create(id));
    }
    Dataset<Row> wanted =
        spark.createDataFrame(rows, new StructType().add("w_id", DataTypes.StringType));
    Dataset<Row> batches =
        lake.read(Generation.DATASET, BATCHES)
            .filter(col("step").equalTo(spec.step()).and(col("alias").equalTo(spec.alias())))
            .select(col("batch_id").as("b_id"))
            .distinct();
    Dataset<Row> req = lake.read(Generation.DATASET, REQUESTS);
    return req.join(batches, req.col("batch_id").equalTo(batches.col("b_id")), "left_semi")
        .join(wanted, req.col("request_id").equalTo(wanted.col("w_id")), "left_semi")
        .select("request_id", "sample_idx");
  }

  /** custom_id → what was submitted for it (the spec's schema and token limit, the price). */
  private Map<String, BatchResults.Submitted> submitted(Dataset<Row> ids, Generation.Spec spec) {
    ModelSpec model = llm.spec(spec.alias());
    Map<String, BatchResults.Submitted> out = new HashMap<>();
    for (Row r : ids.collectAsList()) {
      out.put(
          r.getString(0),
          new BatchResults.Submitted(r.getInt(1), spec.jsonSchema(), spec.maxTokens(), model));
    }
    return out;
  }

  private Row batchRow(Open b, BatchStatus s, boolean collected, Generation.Spec spec) {
    return RowFactory.create(
        b.batchId(),
        run.id(),
        spec.step(),
        spec.alias(),
        s != null && s.endpoint() != null ? s.endpoint() : b.endpoint(),
        b.inputFile(),
        s != null && s.inputFileId() != null ? s.inputFileId() : b.inputFileId(),
        s == null ? null : s.outputFileId(),
        s == null ? null : s.errorFileId(),
        s == null ? b.status() : s.status(),
        s == null ? b.total() : s.total(),
        s == null ? b.completed() : s.completed(),
        s == null ? b.failed() : s.failed(),
        b.createdAt(),
        Timestamp.from(Instant.now()),
        collected);
  }

  private void appendBatch(Row row) {
    lake.spark()
        .createDataFrame(List.of(row), BATCHES_SCHEMA)
        .write()
        .format("delta")
        .mode("append")
        .save(lake.path(Generation.DATASET, BATCHES));
  }

  // ---------------------------------------------------------------------------------- helpers

  /** Results → cache rows, committed every {@value #SLICE} rows. */
  private final class Appender {
    final Generation.Spec spec;
    final Timestamp at;
    final List<Row> rows = new ArrayList<>();
    long appended;

    Appender(Generation.Spec spec, Timestamp at) {
      this.spec = spec;
      this.at = at;
    }

    void add(Result x) {
      rows.add(Generation.cacheRow(x, spec, run.id(), at));
      if (rows.size() >= SLICE) {
        flush();
      }
    }

    void flush() {
      if (rows.isEmpty()) {
        return;
      }
      lake.spark()
          .createDataFrame(rows, Generation.CACHE_SCHEMA)
          .write()
          .format("delta")
          .mode("append")
          .save(lake.path(Generation.DATASET, Generation.CACHE));
      appended += rows.size();
      rows.clear();
    }
  }

  private BatchApi api() {
    if (api == null) {
      api = new BatchApi(llm.baseUrl(), llm.apiKey().reveal());
    }
    return api;
  }

  private void closeApi() {
    if (api != null) {
      api.close();
      api = null;
    }
  }

  private static void deleteQuietly(Path p) {
    if (p == null) {
      return;
    }
    try {
      Files.deleteIfExists(p);
    } catch (DirectoryNotEmptyException e) {
      // other batches' files are still there
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not delete {}: {}", p, e.toString());
    }
  }
}
