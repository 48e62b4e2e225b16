package io.qaforge.llm;

import io.qaforge.config.Settings;
import java.io.Serializable;

/**
 * How one pipeline step calls a model: alias and sampling parameters, read from a settings block
 * {@code <key>.alias, .temperature, .top-p (optional), .max-tokens}.
 */
public record ModelCall(String alias, double temperature, Double topP, int maxTokens)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Reads and validates {@code key.*}; an unknown alias fails now, naming the defined ones. */
  public static ModelCall from(Settings s, LlmSettings llm, String key) {
    return from(s, llm, key, 1);
  }

  /** As {@link #from(Settings, LlmSettings, String)}, with max-tokens of at least {@code min}. */
  public static ModelCall from(Settings s, LlmSettings llm, String key, int min) {
    String alias = s.string(key + ".alias").strip();
    llm.spec(alias);
    double t = s.config().getDouble(key + ".temperature");
    if (t < 0 || t > 2) {
      throw s.invalid(key + ".temperature", "must be between 0 and 2");
    }
    Double topP = null;
    if (s.config().hasPath(key + ".top-p")) {
      topP = s.config().getDouble(key + ".top-p");
      if (topP <= 0 || topP > 1) {
        throw s.invalid(key + ".top-p", "must be in (0, 1]");
      }
    }
    return new ModelCall(alias, t, topP, s.intAtLeast(key + ".max-tokens", min));
  }
}
