package io.qaforge.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.TestPaths;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TriviaQaReaderTest {

  private static List<TriviaQaRecord> json(Path p) throws IOException {
    List<TriviaQaRecord> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(p)) {
      TriviaQaReader.readJson(in, p.toString(), null, out::add);
    }
    return out;
  }

  private static List<TriviaQaRecord> jsonl(Path p) throws IOException {
    List<TriviaQaRecord> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(p)) {
      TriviaQaReader.readJsonLines(in, p.toString(), null, out::add);
    }
    return out;
  }

  private static List<TriviaQaRecord> jsonText(String text, String file) {
    List<TriviaQaRecord> out = new ArrayList<>();
    TriviaQaReader.readJson(
        new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), file, null, out::add);
    return out;
  }

  private static List<TriviaQaRecord> jsonlText(String text, String file) {
    List<TriviaQaRecord> out = new ArrayList<>();
    TriviaQaReader.readJsonLines(
        new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), file, null, out::add);
    return out;
  }

  @Test
  void readsTheOriginalTriviaQaJsonWithItsSplitField() throws IOException {
    List<TriviaQaRecord> train = json(TestPaths.samples("triviaqa/json/wikipedia-train.json"));
    assertThat(train).hasSize(48).noneMatch(TriviaQaRecord::isMalformed);
    TriviaQaRecord first = train.get(0);
    assertThat(first.questionId()).isEqualTo("qs_1");
    assertThat(first.question()).isEqualTo("What is the capital city of Australia?");
    assertThat(first.answer()).isEqualTo("Canberra");
    assertThat(first.aliases()).containsExactly("Canberra", "Canberra, Australia");
    assertThat(first.normalizedAliases()).containsExactly("canberra", "canberra australia");
    assertThat(first.sourceSplit()).isEqualTo("train");
    assertThat(first.sourceLine()).isEqualTo(3); // the line where the Data[] entry opens
    List<TriviaQaRecord> dev = json(TestPaths.samples("triviaqa/json/wikipedia-dev.json"));
    assertThat(dev).hasSize(12).allMatch(r -> r.sourceSplit().equals("validation"));
  }

  @Test
  void huggingFaceRowsCarryTheSameQuestionsAsTheOriginalLayout() throws IOException {
    List<TriviaQaRecord> hf = jsonl(TestPaths.samples("triviaqa/hf/train.jsonl"));
    List<TriviaQaRecord> original = json(TestPaths.samples("triviaqa/json/wikipedia-train.json"));
    assertThat(hf).hasSize(48).allMatch(r -> r.sourceSplit().equals("train"));
    assertThat(hf.get(0).sourceLine()).isEqualTo(1);
    assertThat(hf.stream().map(TriviaQaReaderTest::content).collect(Collectors.toList()))
        .isEqualTo(original.stream().map(TriviaQaReaderTest::content).collect(Collectors.toList()));
  }

  private static String content(TriviaQaRecord r) {
    return String.join(
        "|",
        r.questionId(),
        r.question(),
        r.answer(),
        r.aliases().toString(),
        r.normalizedAliases().toString(),
        r.normalizedAnswer(),
        r.answerType(),
        r.questionSource());
  }

  @Test
  void malformedJsonLinesAreReportedWithTheirLineAndTheRestStillRead() {
    String text =
        "{\"question\": \"Q1?\", \"question_id\": \"a\", \"answer\": {\"value\": \"A\"}}\n"
            + "\n"
            + "{\"question\": \n"
            + "{\"question\": \"\", \"question_id\": \"b\", \"answer\": {\"value\": \"B\"}}\n"
            + "{\"question\": \"Q3?\", \"question_id\": \"c\"}\n"
            + "[1, 2]\n"
            + "{\"question\": \"Q5?\", \"question_id\": \"e\", \"answer\": {\"value\": \"E\"}}\n";
    List<TriviaQaRecord> records = jsonlText(text, "s3a://b/train.jsonl");
    assertThat(records).hasSize(6);
    assertThat(records.get(0).isMalformed()).isFalse();
    assertThat(records.get(0).aliases()).containsExactly("A"); // no aliases: the value stands in
    assertThat(records.get(1).where()).startsWith("s3a://b/train.jsonl:3: invalid JSON");
    assertThat(records.get(2).where())
        .isEqualTo("s3a://b/train.jsonl:4: question b: missing or empty \"question\"");
    assertThat(records.get(3).where()).contains(":5: question c: no \"answer\" object");
    assertThat(records.get(4).where()).contains(":6: each line must be a JSON object");
    assertThat(records.get(5).isMalformed()).isFalse();
  }

  @Test
  void brokenOriginalJsonReportsTheLine() {
    String text = "{\"Data\": [\n {\"Question\": \"Q?\",\n  \"QuestionId\": \"x\",,\n ]}";
    List<TriviaQaRecord> records = jsonText(text, "web-train.json");
    assertThat(records).hasSize(1);
    assertThat(records.get(0).where()).startsWith("web-train.json:3: invalid JSON");
  }

  @Test
  void jsonWithoutDataArrayPointsAtTheHuggingFaceFormat() {
    List<TriviaQaRecord> records =
        jsonText("{\"question\": \"Q?\", \"question_id\": \"x\"}", "train.json");
    assertThat(records.get(0).error()).contains("no \"Data\" array").contains("hf-jsonl");
  }

  @Test
  void originalEntriesWithoutAnAnswerAreMalformed() {
    String text =
        "{\"Data\": [{\"Question\": \"Q?\", \"QuestionId\": \"t1\", \"EntityPages\": [{\"x\": 1}]}],"
            + " \"Split\": \"test\"}";
    List<TriviaQaRecord> records = jsonText(text, "wikipedia-test-without-answers.json");
    assertThat(records.get(0).where())
        .contains(":1: question t1: no \"Answer\" object")
        .contains("test files carry no answers");
  }

  @Test
  void splitUnknownEverywhereIsMalformed() {
    String text =
        "{\"Data\": [{\"Question\": \"Q?\", \"QuestionId\": \"q\", \"Answer\": {\"Value\": \"A\"}}]}";
    assertThat(jsonText(text, "questions.json").get(0).error())
        .contains("cannot tell the source split");
    assertThat(jsonText(text, "my-dev.json").get(0).sourceSplit()).isEqualTo("validation");
  }

  @ParameterizedTest
  @CsvSource({
    "wikipedia-train.json, train",
    "web-dev.json, validation",
    "/x/trivia_qa/train-00000-of-00004.parquet, train",
    "/x/trivia_qa/validation/part-0000.parquet, validation",
    "s3a://b/test.jsonl, test",
    "/x/questions.jsonl, ''"
  })
  void splitFromFileName(String path, String expected) {
    String got = TriviaQaReader.splitFromFileName(path);
    assertThat(got == null ? "" : got).isEqualTo(expected);
  }
}
