package io.qaforge.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Shared helpers of the slow tests: where the build put things, running a child process with a time
 * limit, starting and stopping daemons, free ports and HTTP polling. Every wait is bounded.
 */
final class Processes {
  /**
   * One local.sh / cluster.sh run (JVM start + Spark + Delta) takes 10-70 s; allow for heavy load.
   */
  static final Duration LAUNCH_TIMEOUT = Duration.ofMinutes(6);

  private static final int TAIL_LINES = 60;

  private Processes() {}

  // ----- locations (failsafe passes them as system properties; fall back to /work/main) -----

  static Path projectDir() {
    return Paths.get(System.getProperty("qaforge.project.dir", "/work/main"))
        .toAbsolutePath()
        .normalize();
  }

  static Path appJar() {
    return existing("qaforge.app.jar", projectDir().resolve("target/qaforge.jar"));
  }

  static Path sparkDist() {
    return existing("qaforge.spark.dist", projectDir().resolve("target/spark-dist"));
  }

  static Path s3proxyJar() {
    return existing(
        "qaforge.s3proxy.jar",
        projectDir().resolve("target/s3proxy/s3proxy-4.1.0-jar-with-dependencies.jar"));
  }

  /** The folder (or jar) these test classes were loaded from: target/test-classes. */
  static Path testClasses() {
    try {
      return Paths.get(Processes.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return projectDir().resolve("target/test-classes");
    }
  }

  private static Path existing(String property, Path fallback) {
    String value = System.getProperty(property);
    Path p = (value == null ? fallback : Paths.get(value)).toAbsolutePath().normalize();
    if (!Files.exists(p)) {
      throw new IllegalStateException(
          p + " does not exist (" + property + "): build first with mvn -B -q -DskipTests package");
    }
    return p;
  }

  /** The java of this JVM (Java 17 under failsafe). */
  static String java() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** {@code @<project>/submit/java17.opts}: Spark's add-opens list, as the scripts pass it. */
  static String java17Opts() {
    return "@" + projectDir().resolve("submit/java17.opts");
  }

  /**
   * Environment for launcher children: everything stays on loopback. No QAFORGE_*, AWS_*, SPARK_*,
   * HADOOP_* or JVM-option variable of the developer's shell reaches a child (see {@link
   * #applyEnv}); tests add what they need.
   */
  static Map<String, String> baseEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    return env;
  }

  private static final List<String> SCRUBBED_PREFIXES =
      List.of(
          "QAFORGE_", "AWS_", "SPARK_", "HADOOP_", "OPENAI_", "_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS");

  // ----- one-shot commands -----

  /** The outcome of a finished child process. */
  record Result(List<String> command, int exitCode, String stdout, String stderr, Duration took) {
    List<String> stdoutLines() {
      return lines(stdout);
    }

    /** Command, exit code, time and the tails of both streams, for assertion messages. */
    String describe() {
      return "command: "
          + String.join(" ", command)
          + "\nexit code: "
          + exitCode
          + " after "
          + took.toSeconds()
          + " s\n--- stdout (tail) ---\n"
          + tail(stdout, TAIL_LINES)
          + "\n--- stderr (tail) ---\n"
          + tail(stderr, TAIL_LINES)
          + "\n---";
    }
  }

  /** {@code submit/local.sh args...} with the project as working directory. */
  static Result localSh(Map<String, String> env, String... args) {
    return localShIn(projectDir(), env, args);
  }

  /**
   * {@code submit/local.sh args...} run from {@code workDir}: for runs whose paths are all absolute
   * and that would otherwise leave Spark's ./spark-warehouse or Derby's derby.log in the project
   * folder.
   */
  static Result localShIn(Path workDir, Map<String, String> env, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(projectDir().resolve("submit/local.sh").toString());
    cmd.addAll(Arrays.asList(args));
    return run(cmd, workDir, env, LAUNCH_TIMEOUT);
  }

  /**
   * Runs {@code command} to completion, capturing stdout and stderr (through files, so a chatty
   * child can never block on a full pipe). On timeout the whole process tree is killed and an
   * AssertionError with the output so far is thrown.
   */
  static Result run(List<String> command, Path workDir, Map<String, String> env, Duration timeout) {
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("qaforge-it-", ".out");
      err = Files.createTempFile("qaforge-it-", ".err");
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      applyEnv(pb, env);
      long start = System.nanoTime();
      Process p = pb.start();
      boolean done;
      try {
        done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        killTree(p.toHandle());
        throw new AssertionError("interrupted while running " + command, e);
      }
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      if (!done) {
        killTree(p.toHandle());
        Result partial = new Result(command, -1, read(out), read(err), took);
        throw new AssertionError(
            "timed out after " + timeout.toSeconds() + " s\n" + partial.describe());
      }
      return new Result(command, p.exitValue(), read(out), read(err), took);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  // ----- daemons -----

  /** A background process whose stdout and stderr go to one log file. */
  record Daemon(String name, Process process, Path log) {
    String logTail() {
      return name + " log " + log + " (tail):\n" + tail(read(log), TAIL_LINES);
    }

    void stop() {
      killTree(process.toHandle());
    }
  }

  static Daemon startDaemon(
      String name, List<String> command, Path workDir, Map<String, String> env, Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      applyEnv(pb, env);
      return new Daemon(name, pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
  }

  /**
   * Ends a process and all its descendants (e.g. executors a Spark worker launched): SIGTERM first,
   * SIGKILL for whatever is still alive after 10 s. Never throws.
   */
  static void killTree(ProcessHandle root) {
    if (root == null) {
      return;
    }
    List<ProcessHandle> all = new ArrayList<>();
    root.descendants().forEach(all::add);
    all.add(root);
    for (ProcessHandle h : all) {
      h.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (ProcessHandle h : all) {
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          h.onExit().get(left, TimeUnit.NANOSECONDS);
        }
      } catch (Exception e) {
        // fall through to destroyForcibly
      }
    }
    for (ProcessHandle h : all) {
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
  }

  // ----- network -----

  /** A port that was free on 127.0.0.1 a moment ago. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Polls {@code url} until a response body satisfies {@code ready} (any HTTP status counts as an
   * answer), or fails after {@code timeout}, also when {@code alive} (the server process) dies.
   * Returns the accepted body.
   */
  static String awaitHttp(
      String url, Duration timeout, Predicate<String> ready, Daemon server, String what) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "(no answer)";
    while (System.nanoTime() < deadline) {
      if (server != null && !server.process().isAlive()) {
        throw new AssertionError(
            server.name()
                + " exited with code "
                + server.process().exitValue()
                + " before "
                + what
                + "\n"
                + server.logTail());
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        last = "HTTP " + r.statusCode() + ": " + r.body();
        if (ready.test(r.body())) {
          return r.body();
        }
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + url, e);
      }
      sleep(Duration.ofMillis(300));
    }
    throw new AssertionError(
        "timed out after "
            + timeout.toSeconds()
            + " s waiting for "
            + what
            + " at "
            + url
            + "; last answer: "
            + tail(last, 20)
            + (server == null ? "" : "\n" + server.logTail()));
  }

  // ----- files and text -----

  /** Every regular file under {@code dir} whose content contains {@code needle}. */
  static List<Path> filesContaining(Path dir, String needle) {
    if (!Files.exists(dir)) {
      return List.of();
    }
    byte[] n = needle.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(
              f -> {
                try {
                  return indexOf(Files.readAllBytes(f), n) >= 0;
                } catch (IOException e) {
                  return false;
                }
              })
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static List<String> lines(String text) {
    return text.lines().map(String::strip).collect(Collectors.toList());
  }

  static String tail(String text, int lines) {
    List<String> all = text.lines().collect(Collectors.toList());
    int from = Math.max(0, all.size() - lines);
    return (from > 0 ? "... (" + from + " lines before)\n" : "")
        + String.join("\n", all.subList(from, all.size()));
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static void applyEnv(ProcessBuilder pb, Map<String, String> env) {
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> SCRUBBED_PREFIXES.stream().anyMatch(k::startsWith));
    e.putAll(env);
  }

  private static java.io.File nullDevice() {
    return new java.io.File("/dev/null");
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // ignore
      }
    }
  }
}
