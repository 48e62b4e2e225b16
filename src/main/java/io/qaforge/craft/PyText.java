package io.qaforge.craft;

/**
 * Python's {@code str.strip()} and {@code len()} on Java strings, so lengths and stripped values
 * match the original CRAFT code exactly. Java's {@link String#strip()} differs: it keeps U+0085,
 * U+00A0, U+2007 and U+202F, which Python treats as whitespace; and {@link String#length()} counts
 * UTF-16 units where Python counts code points. Hand-written because no library offers Python's
 * whitespace table.
 */
public final class PyText {
  private PyText() {}

  /** Python's {@code str.isspace()} for one code point (Unicode White_Space, Python's table). */
  public static boolean isSpace(int cp) {
    if (cp <= 0x20) {
      return cp == 0x20 || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
    }
    if (cp < 0x85) {
      return false;
    }
    return cp == 0x85
        || cp == 0xa0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200a)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202f
        || cp == 0x205f
        || cp == 0x3000;
  }

  /** Python's {@code s.strip()}: leading and trailing whitespace removed. */
  public static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isSpace(s.codePointAt(start))) {
      start += Character.charCount(s.codePointAt(start));
    }
    while (end > start && isSpace(s.codePointBefore(end))) {
      end -= Character.charCount(s.codePointBefore(end));
    }
    return s.substring(start, end);
  }

  /** Python's {@code len(s)}: the number of code points (a lone surrogate counts as one). */
  public static int len(String s) {
    return s.codePointCount(0, s.length());
  }

  /** Python's {@code s[0]}: the first code point as a string; the string must not be empty. */
  public static String first(String s) {
    return new String(Character.toChars(s.codePointAt(0)));
  }
}
