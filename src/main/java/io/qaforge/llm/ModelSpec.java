package io.qaforge.llm;

import java.io.Serializable;

/**
 * A model alias resolved from {@code llm.models.<alias>}: which backend serves it, the model name
 * sent to it, its prices and limits. Holds no secret.
 *
 * @param backend openai (any OpenAI-compatible HTTP server), llama-cpp (in-process GGUF) or dry-run
 * @param style chat (chat/completions with messages) or completion (plain completions with one
 *     prompt, for base models)
 * @param requestsPerMinute configured RPM limit; 0 = learn it from the server's rate-limit headers
 *     and 429s
 * @param tokensPerMinute configured TPM limit; 0 = learn it as above
 * @param modelPath GGUF file (local path or URI) for llama-cpp, else empty
 */
public record ModelSpec(
    String alias,
    String backend,
    String model,
    String style,
    String baseUrl,
    double inputUsdPerMillion,
    double outputUsdPerMillion,
    int contextWindow,
    String tokenizer,
    double requestsPerMinute,
    double tokensPerMinute,
    String modelPath)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public double cost(long promptTokens, long completionTokens) {
    return (promptTokens * inputUsdPerMillion + completionTokens * outputUsdPerMillion) / 1e6;
  }
}
