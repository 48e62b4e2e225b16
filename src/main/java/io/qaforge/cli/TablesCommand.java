package io.qaforge.cli;

import io.qaforge.spark.Lake;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "tables",
    mixinStandardHelpOptions = true,
    description = "List every output table with its row count, Delta version and last write.")
public final class TablesCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin SettingsOptions options;

  @Override
  public Integer call() {
    Lake lake = Spark.open(options.load(), "tables");
    PrintWriter out = spec.commandLine().getOut();
    var tables = lake.registerAll();
    out.println("Tables under " + lake.root() + ":");
    if (tables.isEmpty()) {
      out.println("  (none yet: run a pipeline first, e.g. submit/local.sh run ingest)");
    } else {
      out.printf(
          "  %-32s %10s %8s  %-24s %-10s %s%n",
          "table", "rows", "version", "last write (UTC)", "operation", "location");
    }
    for (String[] t : tables) {
      Lake.TableInfo i = lake.describe(t[0], t[1]);
      out.printf(
          "  %-32s %10d %8d  %-24s %-10s %s%n",
          i.name(), i.rows(), i.version(), i.lastWrite(), i.operation(), i.path());
    }
    out.flush();
    return 0;
  }
}
