package io.qaforge;

import io.qaforge.cli.BenchCommand;
import io.qaforge.cli.PlanCommand;
import io.qaforge.cli.RunCommand;
import io.qaforge.cli.SettingsCommand;
import io.qaforge.cli.SqlCommand;
import io.qaforge.cli.TablesCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The qaforge command line. Exit codes: 0 success, 1 the run failed (the message says problem,
 * cause and fix), 2 invalid command line.
 */
@Command(
    name = "qaforge",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Synthetic LLM training and evaluation data with Apache Spark and Delta Lake.",
    subcommands = {
      RunCommand.class,
      PlanCommand.class,
      TablesCommand.class,
      SqlCommand.class,
      SettingsCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    // java-llama.cpp leaves a non-daemon native thread behind; end the JVM explicitly.
    System.exit(code);
  }

  /** The configured command line (tests call {@code execute} on it with their own writers). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(Main::handle);
    return cl;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing command: use run, plan, tables, sql or settings (see --help)");
  }

  private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parseResult) {
    PrintWriter err = cl.getErr();
    QaforgeException q = find(e);
    if (q != null) {
      err.println("error: " + q.getMessage());
    } else if (e instanceof org.apache.spark.sql.AnalysisException) {
      err.println(
          "error: Cannot run the query\n  cause: "
              + ((org.apache.spark.sql.AnalysisException) e).getSimpleMessage()
              + "\n  fix:   correct the SQL; `qaforge tables` lists the tables you can query");
    } else {
      err.println("error: unexpected failure (a bug or an environment problem):");
      e.printStackTrace(err);
    }
    err.flush();
    return 1;
  }

  private static QaforgeException find(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof QaforgeException) {
        return (QaforgeException) c;
      }
    }
    return null;
  }

  /** Version from the jar manifest, or "dev" when run from classes. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"qaforge " + (v == null ? "dev" : v)};
    }
  }
}
