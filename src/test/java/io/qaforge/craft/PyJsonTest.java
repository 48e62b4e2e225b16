package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Expected strings are Python 3.11's {@code json.dumps(value)} output for the same value. */
class PyJsonTest {

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  static Stream<Arguments> values() {
    return Stream.of(
        arguments(map(), "{}"),
        arguments(List.of(), "[]"),
        arguments(
            map("a", Arrays.asList(1, "b", null, true, false), "c", map("d", List.of())),
            "{\"a\": [1, \"b\", null, true, false], \"c\": {\"d\": []}}"),
        arguments(map("z", 1, "a", 2, "m", 3), "{\"z\": 1, \"a\": 2, \"m\": 3}"),
        arguments(
            "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f",
            "\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\""),
        arguments("\u0000\u0001\u001f\u007f", "\"\\u0000\\u0001\\u001f\\u007f\""),
        arguments("café naïve", "\"caf\\u00e9 na\\u00efve\""),
        arguments(
            "€ – “quoted” \u2028\u2029 \ufeff",
            "\"\\u20ac \\u2013 \\u201cquoted\\u201d \\u2028\\u2029 \\ufeff\""),
        arguments("😀 𝄞", "\"\\ud83d\\ude00 \\ud834\\udd1e\""),
        arguments("日本語", "\"\\u65e5\\u672c\\u8a9e\""),
        arguments('x', "\"x\""),
        arguments(
            new BigInteger("123456789012345678901234567890"), "123456789012345678901234567890"),
        arguments(Long.MIN_VALUE, "-9223372036854775808"),
        arguments(new Object[] {"a", 1}, "[\"a\", 1]"),
        arguments(
            Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY),
            "[NaN, Infinity, -Infinity]"));
  }

  @ParameterizedTest
  @MethodSource("values")
  void dumpsLikePython(Object value, String expected) {
    assertThat(PyJson.dumps(value)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({
    "0.0, 0.0",
    "-0.0, -0.0",
    "1.0, 1.0",
    "-1.5, -1.5",
    "0.1, 0.1",
    "0.30000000000000004, 0.30000000000000004",
    "1e16, 1e+16",
    "1e15, 1000000000000000.0",
    "123456789012345.6, 123456789012345.6",
    "1e-4, 0.0001",
    "1e-5, 1e-05",
    "1.5e-7, 1.5e-07",
    "5e-324, 5e-324",
    "1.7976931348623157e308, 1.7976931348623157e+308",
    "2.5e22, 2.5e+22",
    "0.3333333333333333, 0.3333333333333333",
    "1.4142135623730951, 1.4142135623730951",
    "100.0, 100.0",
    "9007199254740993.0, 9007199254740992.0",
    "4.35, 4.35",
    // Java 17 Double.toString: 2.82879384806159008E17 and 9.999999999999999E22 (not shortest)
    "2.82879384806159e17, 2.82879384806159e+17",
    "1e23, 1e+23",
    "8.41e21, 8.41e+21",
    "5e-310, 5e-310"
  })
  void floatsAsPythonRepr(double value, String expected) {
    assertThat(PyJson.dumps(value)).isEqualTo(expected);
  }

  @Test
  void nonStringKeysAreConvertedAsPythonDoes() {
    Map<Object, String> m = new LinkedHashMap<>();
    m.put(1, "a");
    m.put(null, "c");
    m.put(1.5, "d");
    m.put(true, "e");
    assertThat(PyJson.dumps(m))
        .isEqualTo("{\"1\": \"a\", \"null\": \"c\", \"1.5\": \"d\", \"true\": \"e\"}");
  }

  @Test
  void rejectsValuesThatAreNotJson() {
    assertThatThrownBy(() -> PyJson.dumps(List.of(new Object())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("PyJson cannot write a java.lang.Object (not a JSON value)");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "'  a b  '|a b",
        "'\t\n\u000b\f\r\u001c\u001d\u001e\u001f a'|a",
        // Python strips these, Java's String.strip() does not
        "'\u0085\u00a0x\u2007\u202f'|x",
        "'\u1680\u2000\u200a\u2028\u2029\u205f\u3000y\u3000'|y",
        // zero-width space and BOM are not whitespace in Python
        "'\u200bz\ufeff'|'\u200bz\ufeff'",
        "'   '|''"
      })
  void stripsPythonWhitespace(String in, String expected) {
    assertThat(PyText.strip(in)).isEqualTo(expected);
  }

  @Test
  void lengthCountsCodePoints() {
    assertThat(PyText.len("a😀b")).isEqualTo(3);
    assertThat(PyText.first("😀b")).isEqualTo("😀");
  }
}
