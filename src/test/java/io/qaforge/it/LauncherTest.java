package io.qaforge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.it.Processes.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code submit/local.sh} as a user runs it: the shipped jar through SparkSubmit on the Spark jars
 * of target/spark-dist, each command in its own JVM. (a)-(c) share one ingest and one embedded
 * catalog; every other run has its own catalog folder, so no child ever waits on a Derby lock.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LauncherTest {
  static final String BY_SPLIT =
      "select split, count(*) as n from triviaqa.questions group by split order by split";

  @TempDir static Path tmp;

  /** The run of (a); (b) and (c) read what it wrote. */
  private static Result ingest;

  private static String[] lake() {
    return new String[] {
      "--set",
      "output.root=" + tmp.resolve("lake"),
      "--set",
      "catalog.dir=" + tmp.resolve("catalog")
    };
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** stderr without the "+ java ..." command line local.sh echoes. */
  private static String appStderr(Result r) {
    return r.stderr().lines().filter(l -> !l.startsWith("+ ")).collect(Collectors.joining("\n"));
  }

  private static void requireIngest() {
    assertThat(ingest)
        .as("precondition: the ingest of runIngest (a) must have run first")
        .isNotNull();
    assertThat(ingest.exitCode())
        .as(() -> "precondition: the ingest of (a) failed\n" + ingest.describe())
        .isZero();
  }

  @Test
  @Order(1)
  void runIngestWritesTheTableAndPrintsItsNameAndRowCount() {
    ingest = Processes.localSh(Processes.baseEnv(), concat(new String[] {"run", "ingest"}, lake()));

    assertThat(ingest.exitCode()).as(ingest::describe).isZero();
    assertThat(ingest.stdout())
        .as(ingest::describe)
        .containsPattern("(?m)^\\s*triviaqa\\.questions\\s+60 rows\\b");
    assertThat(tmp.resolve("lake/triviaqa/questions/_delta_log/00000000000000000000.json"))
        .as("the Delta table under output.root\n" + ingest.describe())
        .isRegularFile();
    assertThat(tmp.resolve("catalog/metastore_db"))
        .as("the embedded catalog under catalog.dir\n" + ingest.describe())
        .isDirectory();
  }

  @Test
  @Order(2)
  void sqlInANewProcessSeesTheTableByName() {
    requireIngest();

    // all paths are absolute: run from the temp folder, because a second process on an existing
    // embedded catalog leaves a derby.log in its working directory (see Sessions.metastoreLocked)
    Result r =
        Processes.localShIn(
            tmp,
            Processes.baseEnv(),
            concat(new String[] {"sql", BY_SPLIT, "--format", "csv"}, lake()));

    assertThat(r.exitCode()).as(r::describe).isZero();
    assertThat(r.stdoutLines()).as(r::describe).containsExactly("split,n", "sft,48", "test,12");
  }

  @Test
  @Order(3)
  void aPlainUserSparkSessionSeesTheTableInTheEmbeddedCatalog() {
    requireIngest();
    Path catalog = tmp.resolve("catalog");
    Path spark = Processes.sparkDist();
    String classpath =
        String.join(
            java.io.File.pathSeparator,
            Processes.testClasses().toString(),
            spark.resolve("jars") + "/*",
            Processes.appJar().toString());
    Path work = tmp.resolve("probe");
    try {
      Files.createDirectories(work);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }

    Result r =
        Processes.run(
            List.of(
                Processes.java(),
                "-Xmx1g",
                Processes.java17Opts(),
                "-Dderby.stream.error.file=" + work.resolve("derby.log"),
                "-Dlog4j2.configurationFile="
                    + Processes.projectDir().resolve("conf/log4j2.properties"),
                "-cp",
                classpath,
                UserSessionProbe.class.getName(),
                catalog.toString(),
                "select count(*) from triviaqa.questions"),
            work,
            Processes.baseEnv(),
            Processes.LAUNCH_TIMEOUT);

    assertThat(r.exitCode()).as(r::describe).isZero();
    assertThat(r.stdoutLines()).as(r::describe).contains("result=60");
  }

  @Test
  @Order(4)
  void unknownPipelineIsACommandLineErrorNamingTheValidOnes() {
    Path catalog = tmp.resolve("catalog-unknown");

    Result r =
        Processes.localSh(
            Processes.baseEnv(),
            "run",
            "nosuchpipeline",
            "--set",
            "output.root=" + tmp.resolve("lake-unknown"),
            "--set",
            "catalog.dir=" + catalog);

    assertThat(r.exitCode()).as("exit code 2 = invalid command line\n" + r.describe()).isEqualTo(2);
    String err = appStderr(r);
    assertThat(err).as(r::describe).contains("nosuchpipeline").containsPattern("\\bingest\\b");
    assertThat(tmp.resolve("lake-unknown"))
        .as("nothing is written\n" + r.describe())
        .doesNotExist();
    assertThat(catalog).as("Spark never starts\n" + r.describe()).doesNotExist();
  }

  @Test
  @Order(5)
  void malformedInputStopsTheRunWithFileLineAndReasonAndWritesNothing() throws IOException {
    Path bad = tmp.resolve("bad");
    Files.createDirectories(bad);
    String firstLine =
        Files.readAllLines(
                Processes.projectDir().resolve("data-samples/triviaqa/hf/train.jsonl"),
                StandardCharsets.UTF_8)
            .get(0);
    Files.writeString(bad.resolve("train.jsonl"), firstLine + "\n{\"question\": \n");
    Path lake = tmp.resolve("lake2");

    Result r =
        Processes.localSh(
            Processes.baseEnv(),
            "run",
            "ingest",
            "--set",
            "output.root=" + lake,
            "--set",
            "catalog.dir=" + tmp.resolve("catalog2"),
            "--set",
            "ingest.inputs=[{path=\"" + bad + "\"}]");

    assertThat(r.exitCode()).as("exit code 1 = the run failed\n" + r.describe()).isEqualTo(1);
    String err = appStderr(r);
    assertThat(err)
        .as(r::describe)
        .contains("error: ")
        .contains("train.jsonl:2:")
        .contains("invalid JSON")
        .doesNotContain("unexpected failure");
    assertThat(lake.resolve("triviaqa/questions"))
        .as("no table is created from malformed input\n" + r.describe())
        .doesNotExist();
  }

  @Test
  @Order(6)
  void readmeCommandOneRunsCalibrationInDryRunAndSaysSo() {
    Result r =
        Processes.localSh(
            Processes.baseEnv(),
            "run",
            "calibration",
            "--set",
            "output.root=" + tmp.resolve("lake-calibration"),
            "--set",
            "catalog.dir=" + tmp.resolve("catalog-calibration"));

    assertThat(r.exitCode()).as(r::describe).isZero();
    assertThat(appStderr(r)).as(r::describe).contains("DRY-RUN");
    assertThat(r.stdout())
        .as(r::describe)
        .containsPattern("(?m)^\\s*calibration\\.samples\\s+192 rows\\b.*DRY-RUN")
        .containsPattern("(?m)^\\s*calibration\\.sft\\s+24 rows\\b")
        .containsPattern("(?m)^\\s*calibration\\.export\\s+8 rows\\b");
    assertThat(tmp.resolve("lake-calibration/calibration/training_files/README.md"))
        .as(r::describe)
        .isRegularFile();
  }

  @Test
  @Order(7)
  void aBatchSubmittedByOneDriverIsCollectedByTheNextWithoutResubmitting() {
    try (io.qaforge.bench.OpenAiStub stub =
        new io.qaforge.bench.OpenAiStub().batchCompletion(1, 0).start()) {
      java.util.Map<String, String> env = Processes.baseEnv();
      env.put("OPENAI_BASE_URL", stub.baseUrl());
      env.put("OPENAI_API_KEY", "sk-test-launcher");
      String[] args = {
        "run",
        "calibration",
        "--set",
        "output.root=" + tmp.resolve("lake-batch"),
        "--set",
        "catalog.dir=" + tmp.resolve("catalog-batch"),
        "--set",
        "calibration.until=queries",
        "--set",
        "llm.models.gpt-4o-mini.backend=openai-batch"
      };
      Result first = Processes.localSh(env, args);
      assertThat(first.exitCode()).as(first::describe).isNotZero();
      assertThat(appStderr(first))
          .as(first::describe)
          .contains("60 requests are waiting in 1 OpenAI batch", "run the same command again");
      assertThat(stub.requestsTo("/v1/batches")).as("one batch created").isEqualTo(1);

      // another driver JVM: only the Delta batch ledger connects it to the first
      Result second = Processes.localSh(env, args);
      assertThat(second.exitCode()).as(second::describe).isZero();
      assertThat(second.stdout())
          .as(second::describe)
          .containsPattern("(?m)^\\s*calibration\\.queries\\s+60 rows\\b");
      assertThat(stub.requestsTo("/v1/batches")).as("nothing submitted again").isEqualTo(1);
      assertThat(stub.requestsTo("/v1/chat/completions")).isZero();
      assertThat(first.stdout() + first.stderr() + second.stdout() + second.stderr())
          .doesNotContain("sk-test-launcher");
    }
  }
}
