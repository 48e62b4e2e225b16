package io.qaforge.craft;

import io.qaforge.Hashing;
import java.util.SplittableRandom;

/**
 * Reproducible random choices per document: which few-shots a document's prompt shows and which
 * instruction variant it uses. Each result is a pure function of (seed, doc id, sizes), so it does
 * not depend on partitioning, order or executor, and a rerun builds the same prompts (the seed drew
 * them unseeded). The generator is a {@link SplittableRandom} seeded with the first 64 bits of
 * SHA-256 over the seed, a purpose tag and the doc id. Changing this class changes every prompt
 * (and so every request id): keep it stable.
 */
public final class FewShotSampler {
  private FewShotSampler() {}

  /**
   * {@code k} distinct few-shot indices in {@code [0, fewShotCount)}, in the order drawn (the order
   * the prompt shows them), like Python's {@code random.sample(range(n), k)}.
   *
   * @throws IllegalArgumentException if {@code k < 0} or {@code k > fewShotCount}
   */
  public static int[] pick(long seed, String docId, int fewShotCount, int k) {
    if (k < 0 || k > fewShotCount) {
      throw new IllegalArgumentException(
          "cannot pick " + k + " distinct few-shots out of " + fewShotCount);
    }
    SplittableRandom rnd = random(seed, "few-shots", docId);
    int[] pool = new int[fewShotCount];
    for (int i = 0; i < fewShotCount; i++) {
      pool[i] = i;
    }
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      int j = i + rnd.nextInt(fewShotCount - i);
      int t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
      out[i] = pool[i];
    }
    return out;
  }

  /**
   * One of {@code variants} instruction variants (csqa has two), independent of {@link #pick}'s
   * draw for the same document.
   */
  public static int variant(long seed, String docId, int variants) {
    if (variants < 1) {
      throw new IllegalArgumentException("need at least one variant, got " + variants);
    }
    return random(seed, "variant", docId).nextInt(variants);
  }

  private static SplittableRandom random(long seed, String purpose, String docId) {
    String hex = Hashing.sha256Hex(seed + "\u0000" + purpose + "\u0000" + docId);
    return new SplittableRandom(Long.parseUnsignedLong(hex.substring(0, 16), 16));
  }
}
