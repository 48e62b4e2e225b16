package io.qaforge.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "settings",
    mixinStandardHelpOptions = true,
    description =
        "Print the effective settings (reference.conf < --conf files < --set) with secrets masked."
            + " Starts no Spark.")
public final class SettingsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin SettingsOptions options;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(options.load().redacted());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
