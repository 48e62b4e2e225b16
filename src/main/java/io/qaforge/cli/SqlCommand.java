package io.qaforge.cli;

import io.qaforge.spark.Lake;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "sql",
    mixinStandardHelpOptions = true,
    description =
        "Run a Spark SQL query over the output tables (named <dataset>.<step>, e.g."
            + " triviaqa.questions) and print the result.")
public final class SqlCommand implements Callable<Integer> {
  enum Format {
    table,
    csv,
    json
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "QUERY", description = "The SQL query (quote it).")
  String query;

  @Option(
      names = "--max-rows",
      defaultValue = "100",
      description = "Print at most this many rows (default ${DEFAULT-VALUE}).")
  int maxRows;

  @Option(
      names = "--format",
      defaultValue = "table",
      description = "Output format: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  Format format;

  @Mixin SettingsOptions options;

  @Override
  public Integer call() {
    if (maxRows < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "Invalid --max-rows " + maxRows + ": must be >= 1");
    }
    Lake lake = Spark.open(options.load(), "sql");
    lake.registerAll();
    Dataset<Row> result = lake.spark().sql(query);
    PrintWriter out = spec.commandLine().getOut();
    switch (format) {
      case table:
        out.print(result.showString(maxRows, 0, false));
        break;
      case csv:
        out.println(String.join(",", result.columns()));
        for (Row r : result.limit(maxRows).collectAsList()) {
          out.println(csvLine(r));
        }
        break;
      default:
        List<String> json = result.limit(maxRows).toJSON().collectAsList();
        json.forEach(out::println);
    }
    out.flush();
    return 0;
  }

  private static String csvLine(Row r) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < r.length(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      String v = r.isNullAt(i) ? "" : String.valueOf(r.get(i));
      if (v.contains(",") || v.contains("\"") || v.contains("\n")) {
        v = '"' + v.replace("\"", "\"\"") + '"';
      }
      sb.append(v);
    }
    return sb.toString();
  }
}
