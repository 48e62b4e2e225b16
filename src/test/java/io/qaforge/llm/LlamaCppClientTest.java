package io.qaforge.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.QaforgeException;
import io.qaforge.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real inference on the tiny random-weight Llama fixture (gibberish text, real llama.cpp). */
class LlamaCppClientTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path MODEL =
      TestPaths.project()
          .getParent()
          .resolve("shared/fixtures/models/llama-2-tiny-random.gguf")
          .normalize();
  private static final LlamaCppClient.Options OPTS = new LlamaCppClient.Options(256, 2, 2);
  private static final String PROMPT = "Question: what is the capital of France?\nAnswer:";
  private static final String SCHEMA =
      "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\",\"maxLength\":16},"
          + "\"score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},"
          + "\"required\":[\"answer\",\"score\"],\"additionalProperties\":false}";

  private static LlamaCppClient completion;
  private static LlamaCppClient chat;

  static ModelSpec spec(String style, String modelPath) {
    return new ModelSpec(
        "tiny", "llama-cpp", "tiny", style, "", 0, 0, 4096, "cl100k_base", 0, 0, modelPath);
  }

  static ChatRequest req(
      String id,
      Double temperature,
      Integer maxTokens,
      Long seed,
      List<String> stop,
      String schema,
      int sampleIdx) {
    return new ChatRequest(
        id,
        "tiny",
        List.of(new Message("user", PROMPT)),
        temperature,
        0.95,
        maxTokens,
        seed,
        stop,
        schema,
        false,
        sampleIdx);
  }

  static ChatRequest seeded(long seed, int maxTokens) {
    return req("r1", 0.9, maxTokens, seed, List.of(), null, 0);
  }

  static Attempt run(LlamaCppClient c, ChatRequest r) {
    Attempt a = c.send(r).orTimeout(60, TimeUnit.SECONDS).join();
    assertThat(a).isNotNull();
    return a;
  }

  static Attempt ok(LlamaCppClient c, ChatRequest r) {
    Attempt a = run(c, r);
    assertThat(a.kind()).as("attempt %s", a).isEqualTo(Attempt.Kind.OK);
    return a;
  }

  @BeforeAll
  static void load() {
    assertThat(MODEL).as("test model fixture").isRegularFile();
    completion = LlamaCppClient.shared(spec("completion", MODEL.toString()), OPTS);
    chat = LlamaCppClient.shared(spec("chat", MODEL.toString()), OPTS);
  }

  @AfterAll
  static void unload() {
    LlamaCppClient.closeAll();
  }

  @Test
  void basicAttemptFields() {
    Attempt a = ok(completion, seeded(7, 12));
    assertThat(completion.backend()).isEqualTo("llama-cpp");
    assertThat(a.model()).isEqualTo("llama-2-tiny-random.gguf");
    assertThat(a.content()).isNotEmpty();
    assertThat(a.promptTokens()).isBetween(5L, 40L);
    assertThat(a.completionTokens()).isBetween(1L, 12L);
    assertThat(a.latencyMs()).isGreaterThanOrEqualTo(0);
    assertThat(a.httpStatus()).isEqualTo(200);
  }

  @Test
  void sameSeedSameBytesOtherSeedOrSampleOtherText() {
    String a = ok(completion, seeded(1234, 24)).content();
    String b = ok(completion, seeded(1234, 24)).content();
    String c = ok(completion, seeded(1235, 24)).content();
    assertThat(b).isEqualTo(a);
    assertThat(c).isNotEqualTo(a);

    // no seed: derived from request id and sample index, so reproducible and different per sample
    String s0 = ok(completion, req("rid-x", 0.9, 24, null, List.of(), null, 0)).content();
    String s0again = ok(completion, req("rid-x", 0.9, 24, null, List.of(), null, 0)).content();
    String s1 = ok(completion, req("rid-x", 0.9, 24, null, List.of(), null, 1)).content();
    String other = ok(completion, req("rid-y", 0.9, 24, null, List.of(), null, 0)).content();
    assertThat(s0again).isEqualTo(s0);
    assertThat(s1).isNotEqualTo(s0);
    assertThat(other).isNotEqualTo(s0);

    // a given seed with another sample index also differs
    String seedSample1 = ok(completion, req("r1", 0.9, 24, 1234L, List.of(), null, 1)).content();
    assertThat(seedSample1).isNotEqualTo(a);
  }

  @Test
  void seedIsAnIntNeverMinusOne() {
    assertThat(LlamaCppClient.seed(req("r", 0.9, 8, 42L, List.of(), null, 0))).isEqualTo(42);
    assertThat(LlamaCppClient.seed(req("r", 0.9, 8, -1L, List.of(), null, 0))).isNotEqualTo(-1);
    assertThat(LlamaCppClient.seed(req("r", 0.9, 8, 42L, List.of(), null, 1))).isNotEqualTo(42);
  }

  @Test
  void jsonSchemaGivesParseableJsonForFiveSeeds() throws Exception {
    for (long seed = 1; seed <= 5; seed++) {
      Attempt a = ok(completion, req("json", 0.9, 160, seed, List.of(), SCHEMA, 0));
      JsonNode n = MAPPER.readTree(a.content());
      assertThat(n.isObject()).as(a.content()).isTrue();
      assertThat(n.get("answer").isTextual()).as(a.content()).isTrue();
      assertThat(n.get("answer").asText().length()).isLessThanOrEqualTo(16);
      assertThat(n.get("score").isInt()).as(a.content()).isTrue();
      assertThat(n.get("score").asInt()).isBetween(0, 9);
      assertThat(a.finishReason()).isEqualTo("stop"); // the grammar ended with end-of-sequence
    }
  }

  @Test
  void unsupportedSchemasAreClientErrorsNotJvmAborts() {
    // each of these aborts the JVM if handed to LlamaModel.jsonSchemaToGrammar directly
    for (String bad :
        List.of(
            "{\"type\":\"foo\"}",
            "{\"type\":\"integer\",\"minimum\":\"a\"}",
            "{not json",
            "[1,2]",
            "{\"$ref\":\"#/definitions/x\"}")) {
      Attempt a = run(completion, req("bad", 0.9, 8, 1L, List.of(), bad, 0));
      assertThat(a.kind()).as(bad).isEqualTo(Attempt.Kind.CLIENT_ERROR);
      assertThat(a.error()).as(bad).contains("schema");
    }
    // the model still works afterwards
    ok(completion, seeded(3, 4));
  }

  @Test
  void maxTokensCutsWithFinishReasonLength() {
    for (int max : List.of(1, 5, 16)) {
      Attempt a = ok(completion, seeded(99, max));
      assertThat(a.completionTokens()).isLessThanOrEqualTo(max).isPositive();
      assertThat(a.finishReason()).isEqualTo("length");
    }
    // more tokens than the slot holds: clamped to the context, still "length"
    Attempt big = ok(completion, seeded(99, 10_000));
    assertThat(big.completionTokens() + big.promptTokens()).isLessThanOrEqualTo(256);
    assertThat(big.finishReason()).isEqualTo("length");
  }

  @Test
  void stopStringsEndTheOutputBeforeTheirFirstOccurrence() {
    String full = ok(completion, seeded(5, 32)).content();
    assertThat(full.length()).isGreaterThan(12);
    String stop = full.substring(8, 11);
    int at = full.indexOf(stop);
    Attempt a = ok(completion, req("r1", 0.9, 32, 5L, List.of("zzzz-never", stop), null, 0));
    assertThat(a.content()).isEqualTo(full.substring(0, at));
    assertThat(a.finishReason()).isEqualTo("stop");
    assertThat(a.completionTokens()).isLessThan(32);
  }

  @Test
  void chatStyleRendersTheChatTemplate() {
    ChatRequest r =
        new ChatRequest(
            "c1",
            "tiny",
            List.of(
                new Message("system", "Be terse."),
                new Message("user", "Hi"),
                new Message("assistant", "Hello"),
                new Message("user", "Capital of France?")),
            0.9,
            null,
            8,
            11L,
            List.of(),
            null,
            false,
            0);
    // the fixture has no chat template, so llama.cpp uses ChatML
    String prompt = chat.prompt(r);
    assertThat(prompt)
        .startsWith("<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>")
        .endsWith("Capital of France?<|im_end|>\n<|im_start|>assistant\n");
    assertThat(completion.prompt(r)).isEqualTo("Be terse.\n\nHi\n\nHello\n\nCapital of France?");
    Attempt a = ok(chat, r);
    assertThat(a.promptTokens()).isGreaterThan(ok(completion, r).promptTokens());

    ChatRequest badRole =
        new ChatRequest(
            "c2",
            "tiny",
            List.of(new Message("tool", "x")),
            null,
            null,
            8,
            null,
            List.of(),
            null,
            false,
            0);
    assertThat(run(chat, badRole).kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
  }

  @Test
  void invalidParametersAndOversizedPromptsAreClientErrors() {
    Attempt nan = run(completion, req("n", Double.NaN, 8, 1L, List.of(), null, 0));
    assertThat(nan.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    Attempt zero = run(completion, req("z", 0.5, 0, 1L, List.of(), null, 0));
    assertThat(zero.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    ChatRequest huge =
        new ChatRequest(
            "h",
            "tiny",
            List.of(new Message("user", "word ".repeat(400))),
            0.5,
            null,
            8,
            1L,
            List.of(),
            null,
            false,
            0);
    Attempt a = run(completion, huge);
    assertThat(a.kind()).isEqualTo(Attempt.Kind.CLIENT_ERROR);
    assertThat(a.error()).contains("context");
    assertThat(a.retryable()).isFalse();
  }

  @Test
  void eightConcurrentSendsFromFourThreadsShareTheModel() throws Exception {
    List<ChatRequest> reqs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      reqs.add(req("conc-" + i, 0.9, 32, 100L + i, List.of(), null, 0));
    }
    ExecutorService callers = Executors.newFixedThreadPool(4);
    List<Future<CompletableFuture<Attempt>>> sent = new ArrayList<>();
    long t0 = System.nanoTime();
    try {
      for (ChatRequest r : reqs) {
        sent.add(callers.submit(() -> completion.send(r)));
      }
      List<Attempt> got = new ArrayList<>();
      for (Future<CompletableFuture<Attempt>> f : sent) {
        got.add(f.get(60, TimeUnit.SECONDS).get(60, TimeUnit.SECONDS));
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      long tokens = got.stream().mapToLong(Attempt::completionTokens).sum();
      System.out.printf(
          "llama-cpp tiny model: %d tokens in %.3f s = %.0f tokens/s (2 slots)%n",
          tokens, secs, tokens / secs);
      for (int i = 0; i < 8; i++) {
        Attempt a = got.get(i);
        assertThat(a.kind()).as("attempt %s", a).isEqualTo(Attempt.Kind.OK);
        assertThat(a.content()).isNotEmpty();
        // concurrency does not change the answer
        assertThat(a.content()).isEqualTo(ok(completion, reqs.get(i)).content());
      }
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void missingModelFileIsARunLevelError() {
    Path missing = MODEL.resolveSibling("no-such-model.gguf");
    assertThatThrownBy(() -> LlamaCppClient.shared(spec("chat", missing.toString()), OPTS))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("llm.models.tiny.model-path");
    assertThatThrownBy(
            () -> LlamaCppClient.shared(spec("chat", "s3a://bucket/models/x.gguf"), OPTS))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("s3a://bucket/models/x.gguf");
    assertThatThrownBy(() -> LlamaCppClient.shared(spec("chat", ""), OPTS))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("model-path");
  }

  @Test
  void notAModelFileIsARunLevelError() throws Exception {
    Path junk = Files.createTempFile("not-a-model", ".gguf");
    try {
      Files.writeString(junk, "not a gguf file");
      assertThatThrownBy(() -> LlamaCppClient.shared(spec("chat", junk.toString()), OPTS))
          .isInstanceOf(QaforgeException.class)
          .hasMessageContaining(junk.getFileName().toString());
    } finally {
      Files.deleteIfExists(junk);
    }
  }

  @Test
  void sharedReturnsOneInstancePerConfiguration() {
    assertThat(LlamaCppClient.shared(spec("completion", MODEL.toString()), OPTS))
        .isSameAs(completion);
    assertThat(LlamaCppClient.shared(spec("completion", MODEL.toUri().toString()), OPTS))
        .isSameAs(completion);
    assertThat(
            LlamaCppClient.shared(
                spec("completion", MODEL.toString()), new LlamaCppClient.Options(256, 2, 2)))
        .isSameAs(completion);
    assertThat(chat).isNotSameAs(completion);
    LlamaCppClient oneSlot =
        LlamaCppClient.shared(
            spec("completion", MODEL.toString()), new LlamaCppClient.Options(256, 1, 1));
    assertThat(oneSlot).isNotSameAs(completion);
    // a different slot layout gives the same answer
    assertThat(ok(oneSlot, seeded(77, 16)).content())
        .isEqualTo(ok(completion, seeded(77, 16)).content());
  }
}
