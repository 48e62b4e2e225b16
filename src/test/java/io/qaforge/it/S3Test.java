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
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run ingest} to an {@code s3a://} output root and {@code sql} reading it back, against a
 * real S3-compatible server: S3Proxy in its own JVM with a filesystem backend, so every object the
 * run writes can be checked on disk. Credentials reach the children only through the environment,
 * and the secret must never show up in their output or in anything they write.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3Test {
  private static final String BUCKET = "qaforge-test";
  private static final String ACCESS = "test-access";

  @TempDir static Path tmp;

  private static String secret;
  private static int port;
  private static Daemon s3proxy;
  private static Path bucketDir;
  private static final List<Result> children = new ArrayList<>();
  private static Result ingest;

  @BeforeAll
  static void startS3Proxy() throws IOException {
    secret = "test-secret-" + UUID.randomUUID().toString().replace("-", "");
    port = Processes.freePort();
    Path data = tmp.resolve("s3data");
    bucketDir = data.resolve(BUCKET);
    Files.createDirectories(bucketDir); // filesystem backend: a bucket is a folder
    Path props = tmp.resolve("s3proxy.properties");
    Files.writeString(
        props,
        String.join(
            "\n",
            "s3proxy.endpoint=" + endpoint(),
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS,
            "s3proxy.credential=" + secret,
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + data,
            ""));
    s3proxy =
        Processes.startDaemon(
            "S3Proxy",
            List.of(
                Processes.java(),
                "-Xmx256m",
                "-jar",
                Processes.s3proxyJar().toString(),
                "--properties",
                props.toString()),
            tmp,
            Map.of(),
            tmp.resolve("logs/s3proxy.log"));
    // any HTTP answer (an anonymous request gets 403 AccessDenied) means it is serving
    Processes.awaitHttp(
        endpoint() + "/", Duration.ofSeconds(60), body -> true, s3proxy, "S3Proxy to answer");
  }

  @AfterAll
  static void stopS3Proxy() {
    if (s3proxy != null) {
      s3proxy.stop();
    }
  }

  private static String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  private static Map<String, String> env() {
    Map<String, String> env = Processes.baseEnv();
    env.put("AWS_ACCESS_KEY_ID", ACCESS);
    env.put("AWS_SECRET_ACCESS_KEY", secret);
    return env;
  }

  /** The s3.* settings every run of this test gets (credentials come from {@link #env()}). */
  private static List<String> s3Sets() {
    return List.of("s3.endpoint=" + endpoint(), "s3.path-style-access=true", "s3.region=us-east-1");
  }

  private static String[] s3Args(String... command) {
    List<String> args = new ArrayList<>(List.of(command));
    args.addAll(List.of("--set", "output.root=s3a://" + BUCKET + "/lake"));
    for (String set : s3Sets()) {
      args.addAll(List.of("--set", set));
    }
    args.addAll(List.of("--set", "catalog.dir=" + tmp.resolve("catalog")));
    return args.toArray(String[]::new);
  }

  private static Result localSh(Path workDir, String... args) {
    Result r = Processes.localShIn(workDir, env(), args);
    children.add(r);
    return r;
  }

  @Test
  @Order(1)
  void ingestWritesTheDeltaTableIntoTheBucket() {
    // the project folder: the default ingest.inputs (data-samples/...) are relative to it
    ingest = localSh(Processes.projectDir(), s3Args("run", "ingest"));

    assertThat(ingest.exitCode()).as(ingest::describe).isZero();
    assertThat(ingest.stdout())
        .as(ingest::describe)
        .containsPattern("(?m)^\\s*triviaqa\\.questions\\s+60 rows\\b")
        .contains("s3a://" + BUCKET + "/lake/triviaqa/questions");
    assertThat(bucketDir.resolve("lake/triviaqa/questions/_delta_log/00000000000000000000.json"))
        .as(() -> "the first Delta commit, stored by S3Proxy\n" + ingest.describe())
        .isRegularFile();
  }

  @Test
  @Order(2)
  void sqlInANewProcessReadsTheTableBackFromS3() {
    assertThat(ingest).as("precondition: the ingest test ran first").isNotNull();
    assertThat(ingest.exitCode())
        .as(() -> "precondition: the ingest failed\n" + ingest.describe())
        .isZero();

    // all paths are absolute: run from the temp folder (a second process on an existing embedded
    // catalog leaves a derby.log in its working directory)
    Result r = localSh(tmp, s3Args("sql", LauncherTest.BY_SPLIT, "--format", "csv"));

    assertThat(r.exitCode()).as(r::describe).isZero();
    assertThat(r.stdoutLines()).as(r::describe).containsExactly("split,n", "sft,48", "test,12");
  }

  @Test
  @Order(3)
  void craftReadsACorpusFromTheBucketAndEmbedsItThere() throws IOException {
    // uploaded through the S3 protocol (a file dropped into the backend's folder has no ETag,
    // which s3a's change detection requires)
    // with the same s3.* settings and the same mapping to s3a as the runs
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
    io.qaforge.spark.S3.configure(
        conf, io.qaforge.config.Settings.load(List.of(), s3Sets(), env()));
    conf.setBoolean("fs.s3a.impl.disable.cache", true);
    try (org.apache.hadoop.fs.FileSystem fs =
        org.apache.hadoop.fs.FileSystem.get(java.net.URI.create("s3a://" + BUCKET + "/"), conf)) {
      fs.copyFromLocalFile(
          new org.apache.hadoop.fs.Path(
              Processes.projectDir().resolve("data-samples/corpus/passages.jsonl").toUri()),
          new org.apache.hadoop.fs.Path("s3a://" + BUCKET + "/corpus/passages.jsonl"));
    }
    Result r =
        localSh(
            Processes.projectDir(),
            s3Args(
                "run",
                "craft",
                "--set",
                "craft.corpora=[{ name = bucket, path = \"s3a://" + BUCKET + "/corpus\" }]",
                "--set",
                "craft.until=embeddings"));
    assertThat(r.exitCode()).as(r::describe).isZero();
    assertThat(r.stdout())
        .as(r::describe)
        .containsPattern("(?m)^\\s*craft\\.corpus\\s+40 rows\\b")
        .containsPattern("(?m)^\\s*craft\\.embeddings\\s+40 rows\\b");
    assertThat(bucketDir.resolve("lake/craft/embeddings/_delta_log")).isDirectory();
  }

  @Test
  @Order(4)
  void theSecretIsNeitherPrintedNorStored() {
    assertThat(children).as("the runs above happened").isNotEmpty();
    for (Result r : children) {
      assertThat(r.stdout()).as("stdout of " + r.command()).doesNotContain(secret);
      assertThat(r.stderr()).as("stderr of " + r.command()).doesNotContain(secret);
    }
    // positive control: the scan does find the secret where it really is
    assertThat(Processes.filesContaining(tmp, secret)).contains(tmp.resolve("s3proxy.properties"));
    // the checks below only mean something if the runs wrote there
    assertThat(tmp.resolve("catalog/metastore_db")).isDirectory();
    assertThat(bucketDir.resolve("lake/triviaqa/questions/_delta_log")).isDirectory();
    assertThat(Processes.filesContaining(tmp.resolve("catalog"), secret))
        .as("files under the catalog folder")
        .isEmpty();
    assertThat(Processes.filesContaining(bucketDir, secret)).as("objects in the bucket").isEmpty();
  }
}
