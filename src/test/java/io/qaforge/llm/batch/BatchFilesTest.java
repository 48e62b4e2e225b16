package io.qaforge.llm.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.bench.OpenAiStub;
import io.qaforge.llm.Attempt;
import io.qaforge.llm.ChatRequest;
import io.qaforge.llm.Message;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.OpenAiHttpClient;
import io.qaforge.llm.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchFilesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final ModelSpec CHAT =
      new ModelSpec(
          "chat", "openai", "stub-chat-model", "chat", "", 2.0, 8.0, 8192, "o200k_base", 0, 0, "");
  static final ModelSpec CHAT2 =
      new ModelSpec(
          "chat2", "openai", "other/model:v1", "chat", "", 1.0, 1.0, 8192, "o200k_base", 0, 0, "");
  static final ModelSpec BASE =
      new ModelSpec(
          "base",
          "openai",
          "stub-base-model",
          "completion",
          "",
          1.0,
          2.0,
          8192,
          "o200k_base",
          0,
          0,
          "");
  static final Map<String, ModelSpec> SPECS = Map.of("chat", CHAT, "chat2", CHAT2, "base", BASE);

  static final String SCHEMA =
      "{\"title\":\"qa_answer\",\"type\":\"object\",\"properties\":{\"answer\":{\"type\":"
          + "\"string\"},\"confidence\":{\"type\":\"number\"}},\"required\":[\"answer\","
          + "\"confidence\"],\"additionalProperties\":false}";

  static ChatRequest request(String id, String alias, String user) {
    return request(id, alias, user, null);
  }

  static ChatRequest request(String id, String alias, String user, String schema) {
    return new ChatRequest(
        id,
        alias,
        List.of(new Message("system", "be brief"), new Message("user", user)),
        0.7,
        0.9,
        64,
        42L,
        List.of("\n\n\n"),
        schema,
        false,
        3);
  }

  private static String bodyOf(String line) throws Exception {
    JsonNode n = JSON.readTree(line);
    String prefix =
        "{\"custom_id\":"
            + JSON.writeValueAsString(n.path("custom_id").asText())
            + ",\"method\":\"POST\",\"url\":\""
            + n.path("url").asText()
            + "\",\"body\":";
    assertThat(line).startsWith(prefix).endsWith("}");
    return line.substring(prefix.length(), line.length() - 1);
  }

  @Test
  void linesCarryExactlyTheBodyTheOnlineClientSends(@TempDir Path dir) throws Exception {
    List<ChatRequest> requests =
        List.of(
            new ChatRequest(
                "rid-params",
                "chat",
                List.of(
                    new Message("system", "sys \"quoted\" ünïcode"),
                    new Message("user", "params please"),
                    new Message("assistant", "ok"),
                    new Message("developer", "dev note"),
                    new Message("user", "params check")),
                0.25,
                0.5,
                17,
                7L,
                List.of("END", "STOP"),
                null,
                true,
                0),
            request("rid-schema", "chat", "schema question", SCHEMA),
            request("rid-base", "base", "continue this"),
            new ChatRequest(
                "rid-defaults",
                "chat",
                List.of(new Message("user", "defaults only")),
                null,
                null,
                null,
                null,
                null,
                null,
                false,
                0));
    try (OpenAiStub stub = new OpenAiStub().start();
        OpenAiHttpClient online =
            new OpenAiHttpClient(
                stub.baseUrl(), "sk-test", Duration.ofSeconds(10), List.of(CHAT, BASE))) {
      for (ChatRequest r : requests) {
        Attempt a = online.send(r).get(30, TimeUnit.SECONDS);
        assertThat(a.kind()).isEqualTo(Attempt.Kind.OK);
      }
      List<OpenAiStub.Received> received = stub.received();
      assertThat(received).hasSize(requests.size());

      BatchFiles.Written w =
          new BatchFiles(dir, SPECS::get, BatchFiles.Options.forBaseUrl(stub.baseUrl()))
              .write(requests.iterator());
      assertThat(w.rejected()).isEmpty();
      assertThat(w.files()).hasSize(2); // chat and completions never share a file
      List<String> lines = new ArrayList<>();
      for (BatchInput f : w.files()) {
        lines.addAll(Files.readAllLines(f.path()));
      }
      for (int i = 0; i < requests.size(); i++) {
        ChatRequest r = requests.get(i);
        String line =
            lines.stream()
                .filter(l -> l.startsWith("{\"custom_id\":\"" + r.requestId() + "\""))
                .findFirst()
                .orElseThrow();
        OpenAiStub.Received sent = received.get(i);
        assertThat(bodyOf(line)).isEqualTo(sent.body()); // byte for byte
        assertThat(JSON.readTree(line).path("url").asText()).isEqualTo(sent.path());
        assertThat(BatchFiles.line(r, SPECS.get(r.alias()), false)).isEqualTo(line);
      }
    }
  }

  @Test
  void lineFormatAndTokenLimitField() throws Exception {
    ChatRequest r = request("id-1", "chat", "hello", SCHEMA);
    JsonNode line = JSON.readTree(BatchFiles.line(r, CHAT, false));
    assertThat(line.path("custom_id").asText()).isEqualTo("id-1");
    assertThat(line.path("method").asText()).isEqualTo("POST");
    assertThat(line.path("url").asText()).isEqualTo("/v1/chat/completions");
    JsonNode body = line.path("body");
    assertThat(body.path("model").asText()).isEqualTo("stub-chat-model");
    assertThat(body.path("max_tokens").asInt()).isEqualTo(64);
    assertThat(body.has("max_completion_tokens")).isFalse();
    assertThat(body.path("response_format").path("json_schema").path("strict").asBoolean())
        .isTrue();
    assertThat(body.path("response_format").path("json_schema").path("schema"))
        .isEqualTo(JSON.readTree(SCHEMA));

    JsonNode openai = JSON.readTree(BatchFiles.line(r, CHAT, true)).path("body");
    assertThat(openai.path("max_completion_tokens").asInt()).isEqualTo(64);
    assertThat(openai.has("max_tokens")).isFalse();
    assertThat(BatchFiles.Options.forBaseUrl("https://api.openai.com/v1").maxCompletionTokens())
        .isTrue();
    assertThat(BatchFiles.Options.forBaseUrl("http://127.0.0.1:8000/v1").maxCompletionTokens())
        .isFalse();

    JsonNode base = JSON.readTree(BatchFiles.line(request("id-2", "base", "go on"), BASE, true));
    assertThat(base.path("url").asText()).isEqualTo("/v1/completions");
    assertThat(base.path("body").path("prompt").asText()).isEqualTo("be brief\n\ngo on");
    assertThat(base.path("body").path("max_tokens").asInt()).isEqualTo(64);
  }

  @Test
  void splitsAtTheLineLimit(@TempDir Path dir) throws Exception {
    List<ChatRequest> requests =
        IntStream.range(0, 25)
            .mapToObj(i -> request("id-" + i, "chat", "question " + i))
            .collect(Collectors.toList());
    BatchFiles.Written w =
        new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults().withLimits(10, 5_000_000))
            .write(requests.iterator());
    assertThat(w.files()).extracting(BatchInput::lines).containsExactly(10, 10, 5);
    assertThat(w.written()).isEqualTo(25);
    List<String> ids = new ArrayList<>();
    for (BatchInput f : w.files()) {
      assertThat(Files.size(f.path())).isEqualTo(f.bytes());
      assertThat(Files.readAllLines(f.path())).hasSize(f.lines());
      assertThat(f.endpoint()).isEqualTo("/v1/chat/completions");
      assertThat(f.model()).isEqualTo("stub-chat-model");
      ids.addAll(BatchFiles.customIds(f.path()));
    }
    assertThat(ids)
        .containsExactlyElementsOf(requests.stream().map(ChatRequest::requestId).toList());
    assertThat(w.files().get(0).path().getFileName().toString())
        .isEqualTo("batch-chat-stub-chat-model-00001.jsonl");
  }

  @Test
  void splitsAtTheByteLimit(@TempDir Path dir) throws Exception {
    String filler = "word ".repeat(60);
    List<ChatRequest> requests =
        IntStream.range(0, 60)
            .mapToObj(i -> request("id-" + i, "chat", filler + i))
            .collect(Collectors.toList());
    long lineBytes =
        BatchFiles.line(requests.get(0), CHAT, false).getBytes(StandardCharsets.UTF_8).length + 1;
    assertThat(lineBytes).isBetween(400L, 1000L);
    long limit = 5_000;
    BatchFiles.Written w =
        new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults().withLimits(10_000, limit))
            .write(requests.iterator());
    assertThat(w.files().size()).isGreaterThan(1);
    long total = 0;
    for (BatchInput f : w.files()) {
      assertThat(f.bytes()).isLessThanOrEqualTo(limit);
      assertThat(Files.size(f.path())).isEqualTo(f.bytes());
      total += f.lines();
    }
    assertThat(total).isEqualTo(60);
    // every file but the last is as full as it can be: one more line would not have fit
    for (BatchInput f : w.files().subList(0, w.files().size() - 1)) {
      assertThat(f.bytes() + lineBytes).isGreaterThan(limit);
    }
  }

  @Test
  void oneEndpointAndModelPerFile(@TempDir Path dir) throws Exception {
    List<ChatRequest> requests = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      String alias = i % 3 == 0 ? "chat" : i % 3 == 1 ? "chat2" : "base";
      requests.add(request("id-" + i, alias, "q " + i));
    }
    BatchFiles.Written w =
        new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults().withPrefix("run7"))
            .write(requests.iterator());
    assertThat(w.files())
        .extracting(BatchInput::endpoint, BatchInput::model, BatchInput::lines)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("/v1/chat/completions", "stub-chat-model", 3),
            org.assertj.core.groups.Tuple.tuple("/v1/chat/completions", "other/model:v1", 3),
            org.assertj.core.groups.Tuple.tuple("/v1/completions", "stub-base-model", 3));
    assertThat(w.files().get(1).path().getFileName().toString())
        .isEqualTo("run7-chat-other_model_v1-00001.jsonl");
    for (BatchInput f : w.files()) {
      for (String line : Files.readAllLines(f.path())) {
        JsonNode n = JSON.readTree(line);
        assertThat(n.path("url").asText()).isEqualTo(f.endpoint());
        assertThat(n.path("body").path("model").asText()).isEqualTo(f.model());
      }
    }
  }

  @Test
  void perRequestProblemsAreRejectedAsFailedResultsAndDuplicatesSkipped(@TempDir Path dir)
      throws Exception {
    List<ChatRequest> requests =
        List.of(
            request("ok-1", "chat", "fine"),
            request("ok-1", "chat", "fine"), // same id again: skipped
            request("no-alias", "nope", "x"),
            new ChatRequest(
                "empty",
                "chat",
                List.of(new Message("user", "  ")),
                null,
                null,
                null,
                null,
                null,
                null,
                false,
                0),
            new ChatRequest(
                "role",
                "chat",
                List.of(new Message("wizard", "x"), new Message("user", "y")),
                null,
                null,
                null,
                null,
                null,
                null,
                false,
                0),
            request("bad-schema", "chat", "x", "{not json"),
            new ChatRequest(
                "too-long",
                "chat",
                List.of(new Message("user", "hello")),
                null,
                null,
                9000,
                null,
                null,
                null,
                false,
                1),
            request("ok-2", "chat", "fine too"));
    BatchFiles.Written w =
        new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults()).write(requests.iterator());
    assertThat(w.written()).isEqualTo(2);
    assertThat(w.duplicates()).isEqualTo(1);
    assertThat(w.rejectedCount()).isEqualTo(5);
    Map<String, Result> rejected =
        w.rejected().stream().collect(Collectors.toMap(Result::requestId, r -> r));
    assertThat(rejected.keySet())
        .containsExactlyInAnyOrder("no-alias", "empty", "role", "bad-schema", "too-long");
    assertThat(rejected.values())
        .allSatisfy(
            r -> {
              assertThat(r.status()).isEqualTo(Result.FAILED);
              assertThat(r.backend()).isEqualTo("openai-batch");
              assertThat(r.attempts()).isZero();
            });
    assertThat(rejected.get("no-alias").error()).contains("'nope' is not registered");
    assertThat(rejected.get("empty").error()).isEqualTo("empty prompt: nothing to send");
    assertThat(rejected.get("role").error()).contains("unsupported message role 'wizard'");
    assertThat(rejected.get("bad-schema").error()).contains("JSON schema");
    assertThat(rejected.get("too-long").error()).startsWith("prompt too long");
    assertThat(rejected.get("too-long").sampleIdx()).isEqualTo(1);
    assertThat(BatchFiles.customIds(w.files().get(0).path())).containsExactly("ok-1", "ok-2");

    // a line larger than the byte limit on its own
    BatchFiles.Written small =
        new BatchFiles(
                dir.resolve("small"), SPECS::get, BatchFiles.Options.defaults().withLimits(10, 100))
            .write(List.of(request("big", "chat", "hello")).iterator());
    assertThat(small.files()).isEmpty();
    assertThat(small.rejected().get(0).error()).startsWith("request too large for a batch");
  }

  @Test
  void streamsOneHundredThousandRequests(@TempDir Path dir) throws Exception {
    int n = 100_000;
    Iterator<ChatRequest> requests =
        new Iterator<>() {
          int i;

          @Override
          public boolean hasNext() {
            return i < n;
          }

          @Override
          public ChatRequest next() {
            if (i >= n) {
              throw new NoSuchElementException();
            }
            int k = i++;
            return request("req-" + k, "chat", "question number " + k);
          }
        };
    BatchFiles.Written w =
        new BatchFiles(dir, SPECS::get, BatchFiles.Options.defaults()).write(requests);
    assertThat(w.written()).isEqualTo(n);
    assertThat(w.files()).extracting(BatchInput::lines).containsExactly(50_000, 50_000);
    long bytes = 0;
    for (BatchInput f : w.files()) {
      assertThat(Files.size(f.path())).isEqualTo(f.bytes());
      bytes += f.bytes();
    }
    assertThat(bytes).isGreaterThan(n * 100L);
    Set<String> second = BatchFiles.customIds(w.files().get(1).path());
    assertThat(second).hasSize(50_000).contains("req-50000", "req-99999");
  }

  @Test
  void optionsAreChecked() {
    assertThatThrownBy(() -> BatchFiles.Options.defaults().withLimits(50_001, 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BatchFiles.Options.defaults().withLimits(10, 200_000_001L))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BatchFiles.Options.defaults().withPrefix("a/b"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
