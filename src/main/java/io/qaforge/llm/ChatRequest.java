package io.qaforge.llm;

import java.io.Serializable;
import java.util.List;

/**
 * One model call: a single sample of one request row. {@code requestId} is the stable hash of
 * everything that determines the answer (see {@link RequestIds}); it is the cache key, the Batch
 * API custom_id, the join key and the idempotency key. Nullable parameters mean "server default".
 */
public record ChatRequest(
    String requestId,
    String alias,
    List<Message> messages,
    Double temperature,
    Double topP,
    Integer maxTokens,
    Long seed,
    List<String> stop,
    String jsonSchema,
    boolean logprobs,
    int sampleIdx)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public ChatRequest {
    messages = List.copyOf(messages);
    stop = stop == null ? List.of() : List.copyOf(stop);
  }
}
