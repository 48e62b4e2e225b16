package io.qaforge.llm.batch;

import java.nio.file.Path;

/**
 * One Batch API input file written by {@link BatchFiles}: every line targets {@code endpoint} and
 * {@code model} (the API takes one endpoint per batch and OpenAI one model per input file).
 *
 * @param path the JSONL file on local disk
 * @param endpoint {@code /v1/chat/completions} or {@code /v1/completions}: pass it to {@link
 *     BatchApi#create}
 * @param model the model name every line's body names
 * @param lines requests in the file (one per line)
 * @param bytes the file size, newlines included
 */
public record BatchInput(Path path, String endpoint, String model, int lines, long bytes) {}
