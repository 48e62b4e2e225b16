package io.qaforge.craft;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Collection;
import java.util.Map;

/**
 * Byte-exact Python {@code json.dumps(value)} with its defaults: separators {@code ", "} and {@code
 * ": "}, {@code ensure_ascii=True} (every character outside {@code ' '..'~'} escaped as {@code
 * \\uxxxx} with lower-case hex, characters beyond U+FFFF as a surrogate pair, the short escapes
 * {@code \" \\ \n \r \t \b \f}), map keys in iteration order, floats as Python's {@code repr} (the
 * shortest digits that read back to the same double; exponent form below 1e-4 and from 1e16) and
 * {@code NaN}/{@code Infinity}. CRAFT's few-shot JSON in the prompts and the strings compared by
 * the fuzzy de-duplication are this format.
 *
 * <p>Hand-written because Jackson cannot be configured to match it: its {@code \\u} escapes use
 * upper-case hex, it leaves DEL (U+007F) unescaped, and {@link Double#toString} on Java 17 neither
 * uses Python's notation ({@code 1.0E16} vs {@code 1e+16}) nor always gives the shortest digits.
 *
 * <p>Accepted values: {@code null}, {@link CharSequence}, {@link Character}, {@link Boolean},
 * integral numbers ({@code Byte}..{@code Long}, {@link BigInteger}), {@code Float}, {@code Double},
 * {@link BigDecimal} (as its double, like a Python float), {@link Map} (keys: strings, or null,
 * booleans and numbers converted as Python converts them), {@link Collection} and object arrays (as
 * JSON arrays). Anything else is an {@link IllegalArgumentException}.
 */
public final class PyJson {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private PyJson() {}

  public static String dumps(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof CharSequence || v instanceof Character) {
      string(sb, v.toString());
    } else if (v instanceof Boolean) {
      sb.append((Boolean) v ? "true" : "false");
    } else if (v instanceof Number) {
      sb.append(number((Number) v));
    } else if (v instanceof Map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        string(sb, key(e.getKey()));
        sb.append(": ");
        write(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof Collection || v instanceof Object[]) {
      Iterable<?> items =
          v instanceof Object[] ? java.util.Arrays.asList((Object[]) v) : (Collection<?>) v;
      sb.append('[');
      boolean first = true;
      for (Object item : items) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        write(sb, item);
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException(
          "PyJson cannot write a " + v.getClass().getName() + " (not a JSON value)");
    }
  }

  private static String key(Object k) {
    if (k instanceof CharSequence || k instanceof Character) {
      return k.toString();
    }
    if (k == null) {
      return "null";
    }
    if (k instanceof Boolean) {
      return (Boolean) k ? "true" : "false";
    }
    if (k instanceof Number) {
      return number((Number) k);
    }
    throw new IllegalArgumentException(
        "PyJson cannot write a map key of type " + k.getClass().getName());
  }

  private static String number(Number n) {
    if (n instanceof Double || n instanceof Float || n instanceof BigDecimal) {
      return floatRepr(n.doubleValue());
    }
    if (n instanceof Long
        || n instanceof Integer
        || n instanceof Short
        || n instanceof Byte
        || n instanceof BigInteger) {
      return n.toString();
    }
    throw new IllegalArgumentException("PyJson cannot write a " + n.getClass().getName());
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        case '\b':
          sb.append("\\b");
          break;
        case '\f':
          sb.append("\\f");
          break;
        default:
          if (c >= ' ' && c <= '~') {
            sb.append(c);
          } else {
            // a Java char is one UTF-16 unit, so astral characters come out as surrogate pairs
            sb.append("\\u")
                .append(HEX[(c >> 12) & 0xf])
                .append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf])
                .append(HEX[c & 0xf]);
          }
      }
    }
    sb.append('"');
  }

  /** Python's {@code repr(float)}. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0.0" : "0.0";
    }
    BigDecimal shortest = shortestDigits(d).stripTrailingZeros();
    String digits = shortest.unscaledValue().abs().toString();
    // value = 0.digits * 10^decpt
    int decpt = digits.length() - shortest.scale();
    StringBuilder sb = new StringBuilder();
    if (d < 0) {
      sb.append('-');
    }
    if (decpt > -4 && decpt <= 16) {
      if (decpt <= 0) {
        sb.append("0.").append("0".repeat(-decpt)).append(digits);
      } else if (decpt >= digits.length()) {
        sb.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
      } else {
        sb.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
      }
    } else {
      sb.append(digits.charAt(0));
      if (digits.length() > 1) {
        sb.append('.').append(digits, 1, digits.length());
      }
      int exp = decpt - 1;
      sb.append(exp < 0 ? "e-" : "e+");
      int abs = Math.abs(exp);
      if (abs < 10) {
        sb.append('0');
      }
      sb.append(abs);
    }
    return sb.toString();
  }

  /**
   * The decimal with the fewest significant digits that reads back as {@code d}; among those of
   * that length the one nearest to the exact value (what Python's repr picks).
   */
  private static BigDecimal shortestDigits(double d) {
    BigDecimal exact = new BigDecimal(d);
    for (int p = 1; p <= 17; p++) {
      BigDecimal down = exact.round(new MathContext(p, RoundingMode.FLOOR));
      BigDecimal up = exact.round(new MathContext(p, RoundingMode.CEILING));
      boolean downOk = down.doubleValue() == d;
      boolean upOk = up.doubleValue() == d;
      if (downOk && upOk) {
        int cmp = exact.subtract(down).compareTo(up.subtract(exact));
        return cmp <= 0 ? down : up;
      }
      if (downOk) {
        return down;
      }
      if (upOk) {
        return up;
      }
    }
    return exact.round(MathContext.DECIMAL64);
  }
}
