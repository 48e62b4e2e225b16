package io.qaforge;

import io.qaforge.config.Settings;
import io.qaforge.ingest.IngestPipeline;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** The registry of pipelines by their one name (CLI word = package = conf file = Delta folder). */
public final class Pipelines {
  private static final Map<String, Function<Settings, Pipeline>> ALL = new LinkedHashMap<>();

  static {
    ALL.put(IngestPipeline.NAME, IngestPipeline::new);
    ALL.put(
        io.qaforge.calibration.CalibrationPipeline.NAME,
        io.qaforge.calibration.CalibrationPipeline::new);
    ALL.put(io.qaforge.craft.CraftPipeline.NAME, io.qaforge.craft.CraftPipeline::new);
  }

  private Pipelines() {}

  public static java.util.Set<String> names() {
    return ALL.keySet();
  }

  public static boolean exists(String name) {
    return ALL.containsKey(name);
  }

  /** Builds the named pipeline, validating its settings; unknown names list the valid ones. */
  public static Pipeline create(String name, Settings settings) {
    Function<Settings, Pipeline> factory = ALL.get(name);
    if (factory == null) {
      throw new QaforgeException(
          "Unknown pipeline '" + name + "'",
          "qaforge has no pipeline of that name",
          "use one of: " + String.join(", ", ALL.keySet()));
    }
    return factory.apply(settings);
  }
}
