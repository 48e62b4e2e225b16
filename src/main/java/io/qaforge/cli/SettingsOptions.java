package io.qaforge.cli;

import io.qaforge.config.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The settings layers every command accepts. */
public final class SettingsOptions {
  @Option(
      names = "--conf",
      paramLabel = "FILE",
      description =
          "HOCON settings file, layered over the built-in reference.conf; repeat to stack files"
              + " (later wins).")
  List<Path> confFiles = new ArrayList<>();

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Override one setting (wins over every file), e.g. --set output.root=/data/lake.")
  List<String> sets = new ArrayList<>();

  public Settings load() {
    return Settings.load(confFiles, sets);
  }
}
