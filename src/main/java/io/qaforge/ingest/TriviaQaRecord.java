package io.qaforge.ingest;

import java.util.List;

/**
 * One question read from a TriviaQA file, or the reason the record at {@code line} is malformed.
 * Exactly one of {@code error} (malformed) or the question fields is meaningful.
 */
public record TriviaQaRecord(
    String questionId,
    String question,
    String answer,
    List<String> aliases,
    List<String> normalizedAliases,
    String normalizedAnswer,
    String answerType,
    String questionSource,
    String sourceSplit,
    String sourceFile,
    long sourceLine,
    String error) {

  static TriviaQaRecord malformed(String file, long line, String error) {
    return new TriviaQaRecord(
        null, null, null, List.of(), List.of(), null, null, null, null, file, line, error);
  }

  public boolean isMalformed() {
    return error != null;
  }

  /** "file:line: reason", as printed in error messages. */
  public String where() {
    return sourceFile + ":" + sourceLine + ": " + error;
  }
}
