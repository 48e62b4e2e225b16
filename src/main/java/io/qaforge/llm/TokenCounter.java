package io.qaforge.llm;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token counts with a real BPE tokenizer (jtokkit: OpenAI's o200k_base / cl100k_base), for cost
 * estimates, token-rate limits and context checks. For other model families the count is an
 * estimate. One registry per JVM (loading the vocabularies is the expensive part).
 */
public final class TokenCounter {
  /** Tokens OpenAI's chat format adds per message (role markers) and per reply. */
  private static final int PER_MESSAGE = 4;

  private static final int PER_REPLY = 3;
  private static volatile EncodingRegistry registry;
  private static final Map<String, Encoding> ENCODINGS = new ConcurrentHashMap<>();

  private TokenCounter() {}

  private static Encoding encoding(String name) {
    return ENCODINGS.computeIfAbsent(
        name == null || name.isBlank() ? "o200k_base" : name.toLowerCase(Locale.ROOT),
        n -> {
          if (registry == null) {
            synchronized (TokenCounter.class) {
              if (registry == null) {
                registry = Encodings.newLazyEncodingRegistry();
              }
            }
          }
          EncodingType type =
              EncodingType.fromName(n)
                  .orElseThrow(
                      () ->
                          new IllegalArgumentException(
                              "Unknown tokenizer "
                                  + n
                                  + " (use o200k_base, cl100k_base, p50k_base or r50k_base)"));
          return registry.getEncoding(type);
        });
  }

  public static int count(String tokenizer, String text) {
    return text == null || text.isEmpty() ? 0 : encoding(tokenizer).countTokens(text);
  }

  /** Prompt tokens of a chat request as the OpenAI chat format counts them. */
  public static int countMessages(String tokenizer, List<Message> messages) {
    int n = PER_REPLY;
    for (Message m : messages) {
      n += PER_MESSAGE + count(tokenizer, m.content());
    }
    return n;
  }

  /**
   * A rough prompt size without the tokenizer: about 4 characters per token, as English text
   * averages with the GPT tokenizers. For pacing reservations nobody enforces (no token rate, no
   * cost budget); exact counts cost a regex scan and byte-pair merges per prompt.
   */
  public static int roughCountMessages(List<Message> messages) {
    int n = PER_REPLY;
    for (Message m : messages) {
      String c = m.content();
      n += PER_MESSAGE + (c == null ? 0 : (c.length() + 3) / 4);
    }
    return n;
  }

  /** Validates a tokenizer name eagerly (settings check). */
  public static void check(String tokenizer) {
    encoding(tokenizer);
  }
}
