package io.qaforge.llm;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A model backend: HTTP (OpenAI-compatible), in-process llama.cpp, or dry-run. {@link #send} makes
 * exactly one call and never completes exceptionally for a per-request problem: it returns an
 * {@link Attempt} describing it. One instance is shared by all tasks of an executor JVM.
 */
public interface LlmClient extends AutoCloseable {
  /** The backend name written to the {@code backend} column (openai, llama-cpp, dry-run). */
  String backend();

  CompletableFuture<Attempt> send(ChatRequest request);

  /** Sentence embeddings, one vector per text, for backends that have them. */
  default List<float[]> embed(List<String> texts) {
    throw new UnsupportedOperationException(backend() + " has no embedding model");
  }

  @Override
  void close();
}
