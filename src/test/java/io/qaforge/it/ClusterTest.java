package io.qaforge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.it.Processes.Daemon;
import io.qaforge.it.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code submit/cluster.sh run ingest} against a real standalone Spark cluster: a Master and a
 * Worker, each in its own JVM started from the jars of target/spark-dist (platform-notes 7.2). The
 * driver is the cluster.sh JVM (client mode); executors are JVMs the Worker launches, so the job
 * only works if the application jar ships to them and everything it needs is on the distribution
 * classpath.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
  private static final Pattern ALIVE_WORKER =
      Pattern.compile("\"workers\"\\s*:\\s*\\[[^\\]]*\"state\"\\s*:\\s*\"ALIVE\"", Pattern.DOTALL);

  @TempDir static Path tmp;

  private static Daemon master;
  private static Daemon worker;
  private static int masterPort;
  private static int masterUiPort;
  private static Result ingest;

  private static Map<String, String> daemonEnv() {
    Map<String, String> env = Processes.baseEnv();
    env.put("SPARK_HOME", Processes.sparkDist().toString());
    env.put("SPARK_SCALA_VERSION", "2.12");
    return env;
  }

  private static List<String> sparkJava(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Processes.java());
    cmd.add("-Xmx512m");
    cmd.add(Processes.java17Opts());
    cmd.add("-cp");
    cmd.add(Processes.sparkDist().resolve("jars") + "/*");
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  @BeforeAll
  static void startCluster() throws IOException {
    masterPort = Processes.freePort();
    masterUiPort = Processes.freePort();
    int workerUiPort = Processes.freePort();
    Files.createDirectories(tmp.resolve("work"));
    master =
        Processes.startDaemon(
            "Spark Master",
            sparkJava(
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(masterPort),
                "--webui-port",
                String.valueOf(masterUiPort)),
            tmp,
            daemonEnv(),
            tmp.resolve("logs/master.log"));
    worker =
        Processes.startDaemon(
            "Spark Worker",
            sparkJava(
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "2",
                "--memory",
                "2g",
                "--webui-port",
                String.valueOf(workerUiPort),
                "--work-dir",
                tmp.resolve("work").toString(),
                masterUrl()),
            tmp,
            daemonEnv(),
            tmp.resolve("logs/worker.log"));
    try {
      Processes.awaitHttp(
          "http://127.0.0.1:" + masterUiPort + "/json/",
          Duration.ofSeconds(90),
          body -> ALIVE_WORKER.matcher(body).find(),
          master,
          "an ALIVE worker in the master's status");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n" + worker.logTail(), e);
    }
  }

  @AfterAll
  static void stopCluster() {
    // the worker first: its descendants are the executor JVMs it launched
    for (Daemon d : new Daemon[] {worker, master}) {
      if (d != null) {
        d.stop();
      }
    }
  }

  private static String clusterLogs() {
    return (worker == null ? "" : worker.logTail())
        + "\n"
        + (master == null ? "" : master.logTail());
  }

  /** cluster.sh's environment for the test cluster. */
  private static Map<String, String> clusterEnv() {
    Map<String, String> env = Processes.baseEnv();
    env.put("QAFORGE_MASTER", masterUrl());
    env.put("SPARK_HOME", Processes.sparkDist().toString());
    env.put(
        "QAFORGE_SPARK_CONF",
        "--conf spark.executor.memory=1g --conf spark.cores.max=2"
            + " --conf spark.driver.host=127.0.0.1");
    return env;
  }

  private static void requireIngest() {
    assertThat(ingest).as("precondition: the cluster ingest test ran first").isNotNull();
    assertThat(ingest.exitCode())
        .as(() -> "precondition: the cluster ingest failed\n" + ingest.describe())
        .isZero();
  }

  @Test
  @Order(1)
  void clusterShRunsTheIngestOnTheStandaloneCluster() {
    Map<String, String> env = clusterEnv();
    List<String> cmd =
        List.of(
            Processes.projectDir().resolve("submit/cluster.sh").toString(),
            "run",
            "ingest",
            "--set",
            "output.root=" + tmp.resolve("lake"),
            "--set",
            "catalog.type=spark",
            "--set",
            "ingest.inputs=[{path=\""
                + Processes.projectDir().resolve("data-samples/triviaqa/json")
                + "\"}]");

    // every path is absolute: run from the temp folder, where catalog.type=spark (an in-memory
    // catalog here) leaves Spark's default ./spark-warehouse
    ingest = Processes.run(cmd, tmp, env, Processes.LAUNCH_TIMEOUT);

    assertThat(ingest.exitCode()).as(() -> ingest.describe() + "\n" + clusterLogs()).isZero();
    assertThat(ingest.stdout())
        .as(() -> ingest.describe() + "\n" + clusterLogs())
        .containsPattern("(?m)^\\s*triviaqa\\.questions\\s+60 rows\\b");
  }

  @Test
  @Order(2)
  void executorsRanInWorkerJvmsWithTheShippedJar() throws IOException {
    requireIngest();
    Path work = tmp.resolve("work");
    List<Path> executorDirs;
    try (Stream<Path> apps = Files.list(work)) {
      executorDirs =
          apps.filter(a -> a.getFileName().toString().startsWith("app-"))
              .flatMap(
                  a -> {
                    try {
                      return Files.list(a)
                          .filter(Files::isDirectory)
                          .collect(Collectors.toList())
                          .stream();
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  })
              .filter(d -> d.getFileName().toString().matches("\\d+"))
              .collect(Collectors.toList());
    }

    assertThat(executorDirs)
        .as(() -> "executor folders <work>/app-*/<n>/ under " + work + "\n" + clusterLogs())
        .isNotEmpty();
    String jarName = Processes.appJar().getFileName().toString();
    assertThat(executorDirs)
        .as(() -> "an executor folder holds the copied " + jarName + " and its stderr")
        .anySatisfy(
            d -> {
              assertThat(d.resolve(jarName)).isRegularFile();
              assertThat(Files.size(d.resolve(jarName))).isEqualTo(Files.size(Processes.appJar()));
              assertThat(d.resolve("stderr")).isRegularFile();
            });
  }

  @Test
  @Order(3)
  void theTableWrittenByTheClusterIsReadableLocally() {
    requireIngest();

    Result r =
        Processes.localShIn(
            tmp,
            Processes.baseEnv(),
            "sql",
            LauncherTest.BY_SPLIT,
            "--format",
            "csv",
            "--set",
            "output.root=" + tmp.resolve("lake"),
            "--set",
            "catalog.type=memory");

    assertThat(r.exitCode()).as(r::describe).isZero();
    assertThat(r.stdoutLines()).as(r::describe).containsExactly("split,n", "sft,48", "test,12");
  }

  @Test
  @Order(4)
  void calibrationRunsEndToEndOnTheClusterAgainstTheServer() {
    requireIngest();
    try (io.qaforge.bench.OpenAiStub stub = new io.qaforge.bench.OpenAiStub().start()) {
      Map<String, String> env = clusterEnv();
      env.put("OPENAI_BASE_URL", stub.baseUrl());
      Path samples = Processes.projectDir().resolve("data-samples");
      List<String> cmd =
          List.of(
              Processes.projectDir().resolve("submit/cluster.sh").toString(),
              "run",
              "calibration",
              "--conf",
              Processes.projectDir().resolve("conf/calibration.conf").toString(),
              "--set",
              "output.root=" + tmp.resolve("lake"),
              "--set",
              "catalog.type=spark",
              "--set",
              "ingest.inputs=[{path=\"" + samples.resolve("triviaqa/json") + "\"}]",
              "--set",
              "calibration.queries.examples=" + samples.resolve("calibration/query_examples.jsonl"),
              "--set",
              "calibration.samples.examples="
                  + samples.resolve("calibration/paragraph_examples.jsonl"),
              "--set",
              "calibration.max-questions-per-split=4",
              "--set",
              "calibration.samples.count=2",
              "--set",
              "calibration.summaries.max-tokens=8000");

      Result r = Processes.run(cmd, tmp, env, Processes.LAUNCH_TIMEOUT);

      assertThat(r.exitCode()).as(() -> r.describe() + "\n" + clusterLogs()).isZero();
      assertThat(r.stdout())
          .as(() -> r.describe() + "\n" + clusterLogs())
          .containsPattern("(?m)^\\s*calibration\\.samples\\s+8 rows\\b")
          .containsPattern("(?m)^\\s*calibration\\.sft\\s+4 rows\\b")
          .containsPattern("(?m)^\\s*calibration\\.reward_model\\s+4 rows\\b")
          .containsPattern("(?m)^\\s*calibration\\.eval_results\\s+1 rows\\b")
          .containsPattern("(?m)^\\s*calibration\\.export\\s+8 rows\\b");
      // 12 queries, 8 samples, 4 summaries, 8 paragraphs, 4 extractions, 4 binary, >= 4 forecasts,
      // 4 eval paragraphs, 4 extractions, >= 4 forecasts, 1 judge batch: all from the executors
      assertThat(stub.totalRequests()).as(r::describe).isGreaterThanOrEqualTo(57);
    }
  }
}
