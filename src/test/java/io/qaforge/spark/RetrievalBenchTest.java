package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The benchmark's plumbing on a tiny corpus (its timings are not asserted). */
class RetrievalBenchTest {
  @ParameterizedTest
  @CsvSource({"FLOAT16, true", "ARRAY, false"})
  void theBenchmarkRetrievesTheSeedSizesAndCleansUp(RetrievalBench.Format format, boolean cached) {
    Path dir = SparkTestSession.newDir("bench");
    Map<String, Object> r =
        RetrievalBench.run(SparkTestSession.get(), 2000, 4, 100, format, cached, dir);
    // k=100: mixed_k 60; per few-shot min(60//4, int(0.05*2000/4/2)) = 12; mean min(60, 50) = 50
    assertThat(r).containsEntry("selected_rows", 4L * 12 + 50).containsKeys("retrieval_s_run2");
    assertThat(r.containsKey("retrieval_cached_s")).isEqualTo(cached);
    assertThat((long) r.get("table_bytes"))
        .isGreaterThan(2000L * 384 * (format == RetrievalBench.Format.FLOAT16 ? 2 : 4));
    assertThat(dir.resolve("embeddings-" + r.get("format") + "-2000")).doesNotExist();
    assertThat(Files.exists(dir)).isTrue();
  }
}
