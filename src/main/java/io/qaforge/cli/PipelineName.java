package io.qaforge.cli;

import io.qaforge.Pipelines;
import java.util.Iterator;

/** Completion candidates (and help text) for the pipeline parameter. */
public final class PipelineName implements Iterable<String> {
  @Override
  public Iterator<String> iterator() {
    return Pipelines.names().iterator();
  }
}
