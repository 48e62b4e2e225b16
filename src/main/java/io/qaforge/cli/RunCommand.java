package io.qaforge.cli;

import io.qaforge.Pipeline;
import io.qaforge.Pipelines;
import io.qaforge.RunSummary;
import io.qaforge.config.Settings;
import io.qaforge.spark.Lake;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Run a pipeline: each step writes one Delta table <output.root>/<dataset>/<step>, registered"
            + " as <dataset>.<step>. Steps whose table is up to date are skipped.")
public final class RunCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "PIPELINE",
      completionCandidates = PipelineName.class,
      description = "One of: ${COMPLETION-CANDIDATES}")
  String pipeline;

  @Option(names = "--force", description = "Rebuild every step even when its table is up to date.")
  boolean force;

  @Option(
      names = "--import-batch-output",
      paramLabel = "FILE",
      description =
          "A Batch API output or error file downloaded by hand: each step imports the answers of"
              + " its own requests into the cache before it collects or submits (repeatable).")
  List<Path> importBatchOutput = new ArrayList<>();

  @Mixin SettingsOptions options;

  @Override
  public Integer call() {
    PipelineName.check(spec.commandLine(), pipeline);
    if (!importBatchOutput.isEmpty()) {
      options.sets.add(
          "llm.batch.import="
              + importBatchOutput.stream()
                  .map(
                      f ->
                          com.typesafe.config.ConfigUtil.quoteString(f.toAbsolutePath().toString()))
                  .collect(java.util.stream.Collectors.joining(",", "[", "]")));
    }
    Settings settings = options.load();
    io.qaforge.llm.LlmSettings.from(
        settings); // llm.* too, whether or not the pipeline calls models
    Pipeline p = Pipelines.create(pipeline, settings); // validates settings before Spark starts
    Lake lake = Spark.open(settings, "run " + pipeline);
    RunSummary summary = p.run(lake, force);
    print(spec.commandLine().getOut(), summary, lake);
    return 0;
  }

  static void print(PrintWriter out, RunSummary summary, Lake lake) {
    out.printf(
        "qaforge run %s finished in %.1f s%n",
        summary.pipeline(), summary.elapsed().toMillis() / 1000.0);
    for (RunSummary.Step s : summary.steps()) {
      Lake.TableInfo t = s.table();
      out.printf(
          "  %-28s %8d rows  version %d  %s%s%n",
          t.name(), t.rows(), t.version(), s.skipped() ? "skipped: " : "written: ", s.note());
      out.printf("  %-28s at %s%n", "", t.path());
    }
    out.println("Tables are under " + lake.root() + " and registered in the Spark catalog.");
    if (!summary.steps().isEmpty()) {
      String name = summary.steps().get(0).table().name();
      out.println("Query them, for example:");
      out.println("  submit/local.sh sql \"select * from " + name + " limit 10\"");
      out.println("  submit/local.sh tables");
    }
    out.flush();
  }
}
