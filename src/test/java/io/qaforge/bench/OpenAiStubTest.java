package io.qaforge.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenAiStubTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private OpenAiStub stub;

  @AfterEach
  void stop() {
    if (stub != null) {
      stub.close();
    }
  }

  private java.net.http.HttpResponse<String> post(String path, String body)
      throws IOException, InterruptedException {
    return http.send(request(path, body), BodyHandlers.ofString());
  }

  private HttpRequest request(String path, String body) {
    return HttpRequest.newBuilder(URI.create(stub.baseUrl() + path))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer sk-stub-test")
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private static String chat(String user) throws JsonProcessingException {
    return chat(user, "");
  }

  private static String chat(String user, String extra) throws JsonProcessingException {
    return "{\"model\":\"m-1\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
        + "{\"role\":\"user\",\"content\":"
        + JSON.writeValueAsString(user)
        + "}]"
        + extra
        + "}";
  }

  @Test
  void chatAnswerHasTheOpenAiShape() throws Exception {
    stub = new OpenAiStub().start();
    var r = post("/chat/completions", chat("what is the capital of France"));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("id").asText()).startsWith("chatcmpl-");
    assertThat(body.path("object").asText()).isEqualTo("chat.completion");
    assertThat(body.path("created").asLong()).isPositive();
    assertThat(body.path("model").asText()).isEqualTo("m-1");
    JsonNode choice = body.path("choices").get(0);
    assertThat(choice.path("index").asInt()).isZero();
    assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
    assertThat(choice.path("message").path("content").asText())
        .isEqualTo("echo: what is the capital of France");
    assertThat(choice.path("message").has("refusal")).isTrue();
    assertThat(choice.path("message").path("refusal").isNull()).isTrue();
    assertThat(choice.has("logprobs")).isTrue();
    assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
    JsonNode usage = body.path("usage");
    assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(2 + 6);
    assertThat(usage.path("completion_tokens").asInt()).isEqualTo(7);
    assertThat(usage.path("total_tokens").asInt()).isEqualTo(15);
    assertThat(stub.totalRequests()).isEqualTo(1);
    assertThat(stub.requests(200)).isEqualTo(1);
  }

  @Test
  void warmUpSendsTheRequestsAndTheCountersStartAgainAfterIt() throws Exception {
    stub = new OpenAiStub().start();
    OpenAiStub.warmUp(stub, 200);
    assertThat(stub.totalRequests()).isEqualTo(200);
    assertThat(stub.requests(200)).isEqualTo(200);
    stub.resetCounters();
    assertThat(post("/chat/completions", chat("after the warm-up")).statusCode()).isEqualTo(200);
    assertThat(stub.totalRequests()).isEqualTo(1);

    // a stub that refuses fails the warm-up loudly instead of serving cold
    stub.concurrencyCapacity(1).latencyMs(300);
    assertThatThrownBy(() -> OpenAiStub.warmUp(stub, 64))
        .hasMessageContaining("stub warm-up request answered 429");
  }

  @Test
  void busySlotSecondsIntegratesTheRequestsInFlight() throws Exception {
    stub = new OpenAiStub().latencyMs(400).start();
    double before = stub.busySlotSeconds();
    List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> calls =
        new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      calls.add(
          http.sendAsync(request("/chat/completions", chat("busy " + i)), BodyHandlers.ofString()));
    }
    for (var c : calls) {
      assertThat(c.get().statusCode()).isEqualTo(200);
    }
    // four requests of about 0.4 s each: about 1.6 request-seconds in flight
    assertThat(stub.busySlotSeconds() - before).isBetween(1.5, 2.4);
  }

  @Test
  void maxTokensCutsTheAnswerWithFinishReasonLength() throws Exception {
    stub = new OpenAiStub().start();
    JsonNode body =
        JSON.readTree(
            post("/chat/completions", chat("one two three four five", ",\"max_tokens\":3")).body());
    JsonNode choice = body.path("choices").get(0);
    assertThat(choice.path("message").path("content").asText()).isEqualTo("echo: one two");
    assertThat(choice.path("finish_reason").asText()).isEqualTo("length");
    assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(3);
  }

  @Test
  void completionsAnswerHasTheLegacyShape() throws Exception {
    stub = new OpenAiStub().start();
    var r = post("/completions", "{\"model\":\"base\",\"prompt\":\"Once upon a time\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("object").asText()).isEqualTo("text_completion");
    JsonNode choice = body.path("choices").get(0);
    assertThat(choice.path("text").asText()).isEqualTo("echo: Once upon a time");
    assertThat(choice.path("index").asInt()).isZero();
    assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
    assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(4);
    assertThat(stub.requestsTo("/v1/completions")).isEqualTo(1);
    assertThat(stub.requestsTo("/v1/chat/completions")).isZero();
  }

  @Test
  void jsonSchemaAnswersSatisfyTheSchema() throws Exception {
    stub = new OpenAiStub().start();
    String schema =
        "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"},"
            + "\"confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
            + "\"year\":{\"type\":\"integer\"},\"sure\":{\"type\":\"boolean\"},"
            + "\"aliases\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
            + "\"kind\":{\"type\":\"string\",\"enum\":[\"person\",\"place\"]}},"
            + "\"required\":[\"answer\",\"confidence\",\"year\",\"sure\",\"aliases\",\"kind\"],"
            + "\"additionalProperties\":false}";
    String format =
        ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"qa\","
            + "\"strict\":true,\"schema\":"
            + schema
            + "}}";
    JsonNode body =
        JSON.readTree(post("/chat/completions", chat("Who wrote Hamlet?", format)).body());
    JsonNode content =
        JSON.readTree(body.path("choices").get(0).path("message").path("content").asText());
    assertThat(content.path("answer").isTextual()).isTrue();
    assertThat(content.path("confidence").isNumber()).isTrue();
    assertThat(content.path("confidence").asDouble()).isBetween(0.0, 1.0);
    assertThat(content.path("year").isIntegralNumber()).isTrue();
    assertThat(content.path("sure").isBoolean()).isTrue();
    assertThat(content.path("aliases").isArray()).isTrue();
    assertThat(content.path("aliases").get(0).isTextual()).isTrue();
    assertThat(content.path("kind").asText()).isEqualTo("person");

    // badjson: not JSON on the first attempt of this exact body, valid on the second
    String bad = chat("Who wrote Hamlet? [[fault:badjson]]", format);
    String first =
        JSON.readTree(post("/chat/completions", bad).body())
            .path("choices")
            .get(0)
            .path("message")
            .path("content")
            .asText();
    assertThatThrownBy(() -> JSON.readTree(first)).isInstanceOf(JsonProcessingException.class);
    String second =
        JSON.readTree(post("/chat/completions", bad).body())
            .path("choices")
            .get(0)
            .path("message")
            .path("content")
            .asText();
    assertThat(JSON.readTree(second).path("answer").isTextual()).isTrue();
  }

  @Test
  void scriptedFaultsCountAttemptsPerRequestBody() throws Exception {
    stub = new OpenAiStub().start();
    String body = chat("q1 [[fault:429x2]]");
    var r1 = post("/chat/completions", body);
    var r2 = post("/chat/completions", body);
    var r3 = post("/chat/completions", body);
    assertThat(List.of(r1.statusCode(), r2.statusCode(), r3.statusCode()))
        .containsExactly(429, 429, 200);
    assertThat(r1.headers().firstValue("retry-after")).contains("1");
    assertThat(r1.headers().firstValue("retry-after-ms")).contains("50");
    // another body with the same marker has its own count
    assertThat(post("/chat/completions", chat("q2 [[fault:429x2]]")).statusCode()).isEqualTo(429);

    String five = chat("q3 [[fault:503x1]]");
    var s1 = post("/chat/completions", five);
    assertThat(s1.statusCode()).isEqualTo(503);
    assertThat(s1.headers().firstValue("retry-after")).contains("1");
    assertThat(post("/chat/completions", five).statusCode()).isEqualTo(200);

    assertThat(post("/chat/completions", chat("x [[fault:400]]")).statusCode()).isEqualTo(400);
    var unauthorized = post("/chat/completions", chat("x [[fault:401]]"));
    assertThat(unauthorized.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(unauthorized.body()).path("error").path("code").asText())
        .isEqualTo("invalid_api_key");

    var malformed = post("/chat/completions", chat("x [[fault:malformed]]"));
    assertThat(malformed.statusCode()).isEqualTo(200);
    assertThatThrownBy(() -> JSON.readTree(malformed.body()))
        .isInstanceOf(JsonProcessingException.class);

    JsonNode refused = JSON.readTree(post("/chat/completions", chat("x [[fault:refuse]]")).body());
    JsonNode message = refused.path("choices").get(0).path("message");
    assertThat(message.path("content").isNull()).isTrue();
    assertThat(message.path("refusal").asText()).isNotBlank();

    JsonNode cut =
        JSON.readTree(post("/chat/completions", chat("a b c d e f [[fault:truncate]]")).body());
    assertThat(cut.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");

    assertThat(stub.requests(429)).isEqualTo(3);
    assertThat(stub.log())
        .filteredOn(l -> "[[fault:429x2]]".equals(l.marker()))
        .extracting(OpenAiStub.Logged::status)
        .containsExactly(429, 429, 200, 429);
  }

  @Test
  void requestsOverTheRateGet429WithRetryHeaders() throws Exception {
    stub = new OpenAiStub().requestsPerSecond(5).start();
    List<java.net.http.HttpResponse<String>> answers = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      answers.add(post("/chat/completions", chat("question " + i)));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long ok = answers.stream().filter(a -> a.statusCode() == 200).count();
    List<java.net.http.HttpResponse<String>> limited =
        answers.stream().filter(a -> a.statusCode() == 429).collect(Collectors.toList());
    // a full bucket of 5, plus what refilled while the 20 requests were sent (5 per second)
    long refilled = (long) Math.ceil(seconds * 5);
    assertThat(ok).isBetween(5L, 5L + refilled);
    assertThat(limited).hasSize((int) (20 - ok));
    assertThat(limited)
        .as("sent in %.2f s", seconds)
        .hasSizeGreaterThanOrEqualTo(Math.min(12, (int) (15 - refilled)));
    for (var a : answers) {
      assertThat(a.headers().firstValue("x-ratelimit-limit-requests")).contains("300");
      assertThat(a.headers().firstValue("x-ratelimit-remaining-requests")).isPresent();
    }
    var first = limited.get(0);
    assertThat(Long.parseLong(first.headers().firstValue("retry-after").orElseThrow()))
        .isGreaterThanOrEqualTo(1);
    assertThat(Long.parseLong(first.headers().firstValue("retry-after-ms").orElseThrow()))
        .isBetween(1L, 1000L);
    assertThat(JSON.readTree(first.body()).path("error").path("code").asText())
        .isEqualTo("rate_limit_exceeded");
  }

  @Test
  void requestsOverCapacityGetAnImmediate429() throws Exception {
    stub = new OpenAiStub().latencyMs(400).concurrencyCapacity(2).start();
    List<CompletableFuture<java.net.http.HttpResponse<String>>> futures = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < 6; i++) {
      futures.add(
          http.sendAsync(request("/chat/completions", chat("q" + i)), BodyHandlers.ofString()));
    }
    List<java.net.http.HttpResponse<String>> answers =
        futures.stream().map(CompletableFuture::join).collect(Collectors.toList());
    assertThat(answers).filteredOn(a -> a.statusCode() == 200).hasSize(2);
    List<java.net.http.HttpResponse<String>> overloaded =
        answers.stream().filter(a -> a.statusCode() == 429).collect(Collectors.toList());
    assertThat(overloaded).hasSize(4);
    assertThat(overloaded.get(0).headers().firstValue("retry-after-ms")).contains("400");
    assertThat(JSON.readTree(overloaded.get(0).body()).path("error").path("message").asText())
        .contains("overloaded");
    assertThat(stub.peakConcurrent()).isGreaterThanOrEqualTo(3);
    assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(390);
  }

  private static OpenAIClient sdk(OpenAiStub stub) {
    return OpenAIOkHttpClient.builder()
        .baseUrl(stub.baseUrl())
        .apiKey("sk-stub-test")
        .maxRetries(0)
        .build();
  }

  private static List<String> download(OpenAIClient client, String fileId) throws IOException {
    try (HttpResponse r = client.files().content(fileId);
        InputStream in = r.body()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .filter(l -> !l.isBlank())
          .collect(Collectors.toList());
    }
  }

  private static Path batchInput(Path dir, int lines, int failAt) throws IOException {
    StringBuilder in = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      String user = "question number " + i + (i == failAt ? " [[fault:batchfail]]" : "");
      in.append("{\"custom_id\":\"req-")
          .append(i)
          .append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":")
          .append(chat(user))
          .append("}\n");
    }
    Path file = dir.resolve("batch-input.jsonl");
    Files.writeString(file, in);
    return file;
  }

  @Test
  void batchLifecycleWithShuffledOutputAndErrorFile(@TempDir Path dir) throws Exception {
    stub = new OpenAiStub().start();
    OpenAIClient client = sdk(stub);
    try {
      FileObject input =
          client
              .files()
              .create(
                  FileCreateParams.builder()
                      .file(batchInput(dir, 10, 3))
                      .purpose(FilePurpose.BATCH)
                      .build());
      assertThat(input.filename()).isEqualTo("batch-input.jsonl");
      Batch created =
          client
              .batches()
              .create(
                  BatchCreateParams.builder()
                      .inputFileId(input.id())
                      .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                      .completionWindow(BatchCreateParams.CompletionWindow._24H)
                      .build());
      assertThat(created.status().asString()).isEqualTo("validating");
      assertThat(created.requestCounts().orElseThrow().total()).isEqualTo(10);

      Batch polled = client.batches().retrieve(created.id());
      assertThat(polled.status().asString()).isEqualTo("in_progress");
      assertThat(polled.outputFileId()).isEmpty();
      Batch done = client.batches().retrieve(created.id());
      assertThat(done.status().asString()).isEqualTo("completed");
      assertThat(done.completedAt()).isPresent();
      assertThat(done.requestCounts().orElseThrow().completed()).isEqualTo(9);
      assertThat(done.requestCounts().orElseThrow().failed()).isEqualTo(1);

      List<String> output = download(client, done.outputFileId().orElseThrow());
      List<String> ids = new ArrayList<>();
      for (String line : output) {
        JsonNode o = JSON.readTree(line);
        ids.add(o.path("custom_id").asText());
        assertThat(o.path("id").asText()).startsWith("batch_req_");
        assertThat(o.path("error").isNull()).isTrue();
        assertThat(o.path("response").path("status_code").asInt()).isEqualTo(200);
        assertThat(o.path("response").path("request_id").asText()).isNotBlank();
        JsonNode body = o.path("response").path("body");
        assertThat(body.path("object").asText()).isEqualTo("chat.completion");
        int n = Integer.parseInt(o.path("custom_id").asText().substring(4));
        assertThat(body.path("choices").get(0).path("message").path("content").asText())
            .isEqualTo("echo: question number " + n);
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        if (i != 3) {
          expected.add("req-" + i);
        }
      }
      assertThat(ids).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(ids).isNotEqualTo(expected); // shuffled

      // the same seed gives the same order
      OpenAiStub again = new OpenAiStub().start();
      try (again) {
        OpenAIClient other = sdk(again);
        try {
          FileObject in2 =
              other
                  .files()
                  .create(
                      FileCreateParams.builder()
                          .file(batchInput(dir, 10, 3))
                          .purpose(FilePurpose.BATCH)
                          .build());
          Batch b2 =
              other
                  .batches()
                  .create(
                      BatchCreateParams.builder()
                          .inputFileId(in2.id())
                          .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                          .completionWindow(BatchCreateParams.CompletionWindow._24H)
                          .build());
          other.batches().retrieve(b2.id());
          Batch d2 = other.batches().retrieve(b2.id());
          List<String> ids2 = new ArrayList<>();
          for (String line : download(other, d2.outputFileId().orElseThrow())) {
            ids2.add(JSON.readTree(line).path("custom_id").asText());
          }
          assertThat(ids2).isEqualTo(ids);
        } finally {
          other.close();
        }
      }

      List<String> errors = download(client, done.errorFileId().orElseThrow());
      assertThat(errors).hasSize(1);
      JsonNode err = JSON.readTree(errors.get(0));
      assertThat(err.path("custom_id").asText()).isEqualTo("req-3");
      assertThat(err.path("response").path("status_code").asInt()).isEqualTo(500);
      assertThat(err.path("error").path("code").asText()).isNotBlank();
      assertThat(err.path("error").path("message").asText()).isNotBlank();
    } finally {
      client.close();
    }
  }

  @Test
  void expiredBatchAnswersOnlyPartOfTheLines(@TempDir Path dir) throws Exception {
    stub = new OpenAiStub().batchExpire(true).batchCompletion(1, 0).start();
    OpenAIClient client = sdk(stub);
    try {
      FileObject input =
          client
              .files()
              .create(
                  FileCreateParams.builder()
                      .file(batchInput(dir, 8, -1))
                      .purpose(FilePurpose.BATCH)
                      .build());
      Batch created =
          client
              .batches()
              .create(
                  BatchCreateParams.builder()
                      .inputFileId(input.id())
                      .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                      .completionWindow(BatchCreateParams.CompletionWindow._24H)
                      .build());
      Batch expired = client.batches().retrieve(created.id());
      assertThat(expired.status().asString()).isEqualTo("expired");
      assertThat(expired.expiredAt()).isPresent();
      List<String> output = download(client, expired.outputFileId().orElseThrow());
      List<String> errors = download(client, expired.errorFileId().orElseThrow());
      assertThat(output).hasSize(4);
      assertThat(errors).hasSize(4);
      assertThat(JSON.readTree(errors.get(0)).path("error").path("code").asText())
          .isEqualTo("batch_expired");
      assertThat(JSON.readTree(errors.get(0)).path("response").isNull()).isTrue();
    } finally {
      client.close();
    }
  }

  @Test
  void cancelledBatchEndsCancelled(@TempDir Path dir) throws Exception {
    stub = new OpenAiStub().batchCompletion(5, 0).start();
    OpenAIClient client = sdk(stub);
    try {
      FileObject input =
          client
              .files()
              .create(
                  FileCreateParams.builder()
                      .file(batchInput(dir, 3, -1))
                      .purpose(FilePurpose.BATCH)
                      .build());
      Batch created =
          client
              .batches()
              .create(
                  BatchCreateParams.builder()
                      .inputFileId(input.id())
                      .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                      .completionWindow(BatchCreateParams.CompletionWindow._24H)
                      .build());
      assertThat(client.batches().cancel(created.id()).status().asString()).isEqualTo("cancelling");
      Batch cancelled = client.batches().retrieve(created.id());
      assertThat(cancelled.status().asString()).isEqualTo("cancelled");
      assertThat(cancelled.outputFileId()).isEmpty();
    } finally {
      client.close();
    }
  }

  @Test
  void faultMarkersParse() {
    assertThat(StubAnswers.fault("x [[fault:429x2]] y"))
        .isEqualTo(new StubAnswers.Fault("429", 2, "[[fault:429x2]]"));
    assertThat(StubAnswers.fault("[[fault:hang]]").name()).isEqualTo("hang");
    assertThat(StubAnswers.fault("[[fault:hang]]").times()).isEqualTo(Integer.MAX_VALUE);
    assertThat(StubAnswers.fault("no marker")).isNull();
    assertThat(StubAnswers.words("  a  b\tc\n")).isEqualTo(3);
    assertThat(StubAnswers.firstWords(" a  b c ", 2)).isEqualTo("a b");
    assertThat(StubAnswers.lastWords(" a  b c ", 2)).isEqualTo("b c");
  }
}
