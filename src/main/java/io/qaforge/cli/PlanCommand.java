package io.qaforge.cli;

import io.qaforge.Pipelines;
import io.qaforge.Plan;
import io.qaforge.config.Settings;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description =
        "Show what `run` would do: steps, rows, model requests, tokens and estimated cost. Writes"
            + " no table and calls no model.")
public final class PlanCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "PIPELINE",
      completionCandidates = PipelineName.class,
      description = "One of: ${COMPLETION-CANDIDATES}")
  String pipeline;

  @Mixin SettingsOptions options;

  @Override
  public Integer call() {
    PipelineName.check(spec.commandLine(), pipeline);
    Settings settings = options.load();
    var p = Pipelines.create(pipeline, settings);
    Plan plan = p.plan(Spark.open(settings, "plan " + pipeline));
    PrintWriter out = spec.commandLine().getOut();
    out.printf("Plan for %s (no tables written, no model calls):%n", plan.pipeline());
    out.printf(
        "  %-28s %8s %10s %12s %12s %10s  %s%n",
        "table", "rows", "requests", "tokens in", "tokens out", "cost USD", "status");
    long requests = 0;
    double cost = 0;
    for (Plan.Step s : plan.steps()) {
      out.printf(
          "  %-28s %8d %10d %12d %12d %10.4f  %s%n",
          s.table(),
          s.rows(),
          s.llmRequests(),
          s.promptTokens(),
          s.completionTokens(),
          s.costUsd(),
          (s.upToDate() ? "up to date" : "would run") + "; " + s.note());
      requests += s.llmRequests();
      cost += s.costUsd();
    }
    out.printf("  total: %d model request(s), estimated cost %.4f USD%n", requests, cost);
    out.flush();
    return 0;
  }
}
