package io.qaforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Command-line behaviour that needs no Spark: help, usage errors, settings errors. */
class MainTest {
  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void helpListsEveryCommand() {
    Result r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("run", "plan", "tables", "sql", "settings");
  }

  @Test
  void everyCommandHasHelp() {
    for (String c : new String[] {"run", "plan", "tables", "sql", "settings"}) {
      Result r = run(c, "--help");
      assertThat(r.code()).as(c).isZero();
      assertThat(r.out()).as(c).contains("Usage: qaforge " + c);
    }
    assertThat(run("run", "--help").out()).contains("ingest");
  }

  @Test
  void unknownPipelineIsAUsageErrorListingTheValidNames() {
    Result r = run("run", "calibrationn");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("Unknown pipeline 'calibrationn'")
        .contains("use one of: ingest, calibration");
  }

  @Test
  void aMissingBatchOutputFileStopsTheRunBeforeSpark() {
    Result r = run("run", "ingest", "--import-batch-output", "/no/such/batch_output.jsonl");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("Cannot import the Batch API result file /no/such/batch_output.jsonl")
        .contains("fix:");
  }

  @Test
  void calibrationSettingsAreCheckedBeforeSpark() {
    Result r = run("run", "calibration", "--set", "calibration.until=sfts");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("Invalid calibration.until: \"sfts\"")
        .contains("queries, samples, summaries, sft,");
    Result alias = run("run", "calibration", "--set", "calibration.summaries.alias=gpt-5");
    assertThat(alias.code()).isEqualTo(1);
    assertThat(alias.err()).contains("Unknown model alias 'gpt-5'");
  }

  @Test
  void unknownOptionIsAUsageError() {
    Result r = run("run", "ingest", "--sett", "x=y");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--sett");
  }

  @Test
  void missingCommandIsAUsageError() {
    Result r = run();
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing command");
  }

  @Test
  void settingsErrorsStopTheRunBeforeSparkWithExitCode1() {
    Result r = run("run", "ingest", "--set", "ingest.inputs=[{path=x, format=csv}]");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("error: Invalid ingest.inputs.0.format: \"csv\"")
        .contains("must be one of auto, triviaqa-json, hf-jsonl, hf-parquet")
        .contains("fix:");
  }

  @Test
  void settingsCommandPrintsEffectiveSettingsAndRefusesSecrets() {
    Result ok = run("settings", "--set", "output.root=/data/lake");
    assertThat(ok.code()).isZero();
    assertThat(ok.out()).contains("/data/lake").contains("--set output.root");
    Result bad = run("settings", "--set", "s3.secret-key=topsecret");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("Refusing secret setting").doesNotContain("topsecret");
  }
}
