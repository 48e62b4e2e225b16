package io.qaforge.cli;

import io.qaforge.config.Settings;
import io.qaforge.spark.Lake;
import io.qaforge.spark.Sessions;

/** Starts Spark and opens the lake for a command. */
final class Spark {
  private Spark() {}

  static Lake open(Settings settings, String command) {
    var spark = Sessions.start(settings, "qaforge " + command);
    return new Lake(spark, settings.string("output.root"));
  }
}
