package io.qaforge.llm.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BatchStatusTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void finalizingIsItsOwnPhaseNotDone() throws Exception {
    BatchStatus s =
        BatchStatus.parse(
            JSON.readTree(
                "{\"id\":\"batch_1\",\"object\":\"batch\",\"endpoint\":\"/v1/chat/completions\","
                    + "\"status\":\"finalizing\",\"input_file_id\":\"file-1\","
                    + "\"output_file_id\":null,\"error_file_id\":null,\"created_at\":100,"
                    + "\"finalizing_at\":200,\"request_counts\":{\"total\":10,\"completed\":9,"
                    + "\"failed\":1},\"metadata\":{\"qaforge_run\":\"r1\"}}"));
    assertThat(s.finalizing()).isTrue();
    assertThat(s.terminal()).isFalse();
    assertThat(s.hasResultFiles()).isFalse();
    assertThat(s.finalizingAt()).isEqualTo(200L);
    assertThat(s.completedAt()).isNull();
    assertThat(s.metadata()).containsEntry("qaforge_run", "r1");
    assertThat(s.describe())
        .isEqualTo(
            "batch_1 finalizing: all requests ran (9 ok, 1 failed of 10); the output files are"
                + " being written");
  }

  @Test
  void failedValidationKeepsTheErrorsWithLineNumbers() throws Exception {
    BatchStatus s =
        BatchStatus.parse(
            JSON.readTree(
                "{\"id\":\"batch_2\",\"status\":\"failed\",\"errors\":{\"object\":\"list\","
                    + "\"data\":[{\"code\":\"invalid_json_line\",\"message\":\"bad line\","
                    + "\"param\":null,\"line\":3},{\"code\":\"mismatched_model\",\"message\":"
                    + "\"two models\",\"line\":null}]},\"failed_at\":5}"));
    assertThat(s.terminal()).isTrue();
    assertThat(s.total()).isZero();
    assertThat(s.errors())
        .containsExactly(
            new BatchStatus.BatchError("invalid_json_line", "bad line", 3, null),
            new BatchStatus.BatchError("mismatched_model", "two models", null, null));
    assertThat(s.describe())
        .isEqualTo(
            "batch_2 failed: the batch did not run (invalid_json_line at input line 3: bad line;"
                + " 1 more)");
  }

  @Test
  void progressText() throws Exception {
    BatchStatus s =
        BatchStatus.parse(
            JSON.readTree(
                "{\"id\":\"b\",\"status\":\"in_progress\",\"request_counts\":{\"total\":50000,"
                    + "\"completed\":1200,\"failed\":3}}"));
    assertThat(s.describe()).isEqualTo("b in_progress: 1,203 of 50,000 done (3 failed)");
    assertThat(BatchStatus.parse(JSON.readTree("{\"id\":\"b\",\"status\":\"expired\"}")).terminal())
        .isTrue();
  }
}
