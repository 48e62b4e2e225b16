package io.qaforge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
  @TempDir Path dir;

  private Path file(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  @Test
  void layersApplyInOrderReferenceThenFilesThenSets() throws IOException {
    Path a = file("a.conf", "output.root = /a\ncatalog.type = memory\n");
    Path b = file("b.conf", "output.root = /b\n");
    Settings s = Settings.load(List.of(a, b), List.of("ingest.dataset=trivia2"), Map.of());
    assertThat(s.string("output.root")).isEqualTo("/b");
    assertThat(s.string("catalog.type")).isEqualTo("memory");
    assertThat(s.string("ingest.dataset")).isEqualTo("trivia2");
    assertThat(s.string("catalog.dir")).isEqualTo("lake/_metastore"); // from reference.conf
    assertThat(s.layers())
        .containsExactly("reference.conf", a.toString(), b.toString(), "--set ingest.dataset");
  }

  @Test
  void setTakesPathsWithoutQuotingAndHoconLists() {
    Settings s =
        Settings.load(
            List.of(),
            List.of(
                "output.root=s3a://bucket/lake//x",
                "ingest.inputs=[{path = \"/data/q.json\", format = triviaqa-json}]"),
            Map.of());
    assertThat(s.string("output.root")).isEqualTo("s3a://bucket/lake//x");
    assertThat(s.config().getConfigList("ingest.inputs").get(0).getString("path"))
        .isEqualTo("/data/q.json");
  }

  @Test
  void unknownKeyIsRejectedWithASuggestion() {
    assertThatThrownBy(() -> Settings.load(List.of(), List.of("ingest.datset=x"), Map.of()))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Unknown setting ingest.datset (from --set ingest.datset)")
        .hasMessageContaining("did you mean ingest.dataset?");
  }

  @Test
  void unknownKeyInAFileNamesTheFile() throws IOException {
    Path f = file("bad.conf", "output { rot = /x }\n");
    assertThatThrownBy(() -> Settings.load(List.of(f), List.of(), Map.of()))
        .hasMessageContaining("Unknown setting output.rot (from settings file " + f + ")")
        .hasMessageContaining("did you mean output.root?");
  }

  @Test
  void invalidValueNamesKeyValueOriginAndRule() throws IOException {
    Path f = file("c.conf", "catalog.type = hive\n");
    Settings s = Settings.load(List.of(f), List.of(), Map.of());
    assertThatThrownBy(
            () -> s.oneOf("catalog.type", List.of("auto", "embedded", "spark", "memory")))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Invalid catalog.type: \"hive\"")
        .hasMessageContaining("c.conf: 1")
        .hasMessageContaining("must be one of auto, embedded, spark, memory")
        .hasMessageContaining("fix:");
  }

  @Test
  void scalarWhereAListBelongsIsRejected() {
    assertThatThrownBy(() -> Settings.load(List.of(), List.of("ingest.inputs=/data"), Map.of()))
        .hasMessageContaining("Invalid ingest.inputs")
        .hasMessageContaining("must be a list");
  }

  @Test
  void secretsAreRefusedFromFilesAndSetAndNeverEchoed() throws IOException {
    assertThatThrownBy(() -> Settings.load(List.of(), List.of("s3.secret-key=hunter2"), Map.of()))
        .hasMessageContaining("Refusing secret setting s3.secret-key")
        .hasMessageContaining("AWS_SECRET_ACCESS_KEY")
        .hasMessageNotContaining("hunter2");
    Path f = file("s.conf", "s3 { access-key = AKIA123 }\n");
    assertThatThrownBy(() -> Settings.load(List.of(f), List.of(), Map.of()))
        .hasMessageContaining("Refusing secret setting s3.access-key")
        .hasMessageNotContaining("AKIA123");
  }

  @Test
  void secretsComeFromTheEnvironmentAndAreRedactedWhenPrinted() {
    Settings s =
        Settings.load(
            List.of(),
            List.of(),
            Map.of(
                "AWS_ACCESS_KEY_ID", "AKIAEXAMPLE",
                "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI",
                "HOME", "/home/someone"));
    assertThat(s.string("s3.access-key")).isEqualTo("AKIAEXAMPLE");
    assertThat(s.string("s3.secret-key")).isEqualTo("wJalrXUtnFEMI");
    String shown = s.redacted();
    assertThat(shown)
        .contains("secret-key")
        .contains("<redacted>")
        .contains("root")
        .doesNotContain("wJalrXUtnFEMI")
        .doesNotContain("AKIAEXAMPLE")
        .doesNotContain("/home/someone"); // the environment itself is never part of the settings
  }

  @Test
  void withoutEnvironmentSecretsAreEmpty() {
    Settings s = Settings.load(List.of(), List.of(), Map.of());
    assertThat(s.string("s3.secret-key")).isEmpty();
  }

  @Test
  void missingAndMalformedFilesAreReported() throws IOException {
    assertThatThrownBy(() -> Settings.load(List.of(dir.resolve("nope.conf")), List.of(), Map.of()))
        .hasMessageContaining("Cannot read settings file " + dir.resolve("nope.conf"))
        .hasMessageContaining("no such file");
    Path broken = file("broken.conf", "output { root = \n");
    assertThatThrownBy(() -> Settings.load(List.of(broken), List.of(), Map.of()))
        .hasMessageContaining("Cannot parse settings file " + broken)
        .hasMessageContaining("fix:");
  }

  @Test
  void malformedSetIsReported() {
    assertThatThrownBy(() -> Settings.load(List.of(), List.of("output.root"), Map.of()))
        .hasMessageContaining("Invalid --set output.root")
        .hasMessageContaining("expected key=value");
  }

  @Test
  void numbersAreCheckedWithTheirKey() {
    Settings s = Settings.load(List.of(), List.of("ingest.dataset=12"), Map.of());
    assertThatThrownBy(() -> s.intAtLeast("catalog.type", 1))
        .hasMessageContaining("Invalid catalog.type: \"auto\"")
        .hasMessageContaining("must be a whole number >= 1");
  }
}
