package io.qaforge.llm.batch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads a JSONL stream line by line as bytes, remembering line numbers and whether the last line
 * ended with a newline (a line without one at the end of a file is what a cut-off download leaves).
 * Memory: one buffer as large as the longest line.
 */
final class LineReader {
  /** One line without its "\n" (and "\r"); valid until the next call of {@link #next}. */
  record Line(byte[] bytes, int length, long number, boolean terminated) {
    boolean blank() {
      for (int i = 0; i < length; i++) {
        byte b = bytes[i];
        if (b != ' ' && b != '\t' && b != '\r') {
          return false;
        }
      }
      return true;
    }

    String text() {
      return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }
  }

  private final InputStream in;
  private final byte[] chunk = new byte[1 << 16];
  private int pos;
  private int limit;
  private byte[] line = new byte[1 << 12];
  private long number;
  private boolean eof;

  LineReader(InputStream in) {
    this.in = in;
  }

  /** The next line, or null at the end of the stream. */
  Line next() throws IOException {
    if (eof) {
      return null;
    }
    int length = 0;
    while (true) {
      if (pos == limit) {
        limit = in.read(chunk, 0, chunk.length);
        pos = 0;
        if (limit <= 0) {
          limit = 0;
          eof = true;
          if (length == 0) {
            return null;
          }
          number++;
          return new Line(line, length, number, false);
        }
      }
      int start = pos;
      while (pos < limit && chunk[pos] != '\n') {
        pos++;
      }
      int n = pos - start;
      if (length + n > line.length) {
        line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
      }
      System.arraycopy(chunk, start, line, length, n);
      length += n;
      if (pos < limit) { // found the newline
        pos++;
        number++;
        if (length > 0 && line[length - 1] == '\r') {
          length--;
        }
        return new Line(line, length, number, true);
      }
    }
  }
}
