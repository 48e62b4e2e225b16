package io.qaforge.cli;

import io.qaforge.Pipelines;
import java.util.Iterator;

/** Completion candidates (and help text) for the pipeline parameter, and its check. */
public final class PipelineName implements Iterable<String> {
  /** An unknown pipeline is a command-line error (exit 2) that lists the valid names. */
  static void check(picocli.CommandLine cl, String name) {
    if (!Pipelines.exists(name)) {
      throw new picocli.CommandLine.ParameterException(
          cl,
          "Unknown pipeline '"
              + name
              + "': qaforge has no pipeline of that name; use one of: "
              + String.join(", ", Pipelines.names()));
    }
  }

  @Override
  public Iterator<String> iterator() {
    return Pipelines.names().iterator();
  }
}
