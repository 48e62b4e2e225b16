package io.qaforge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Stable hashes: split ranking keys, input fingerprints, request ids. */
public final class Hashing {
  private Hashing() {}

  /** Lower-case hex SHA-256 of the UTF-8 bytes (equal to Spark's {@code sha2(col, 256)}). */
  public static String sha256Hex(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
