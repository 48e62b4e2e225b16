package io.qaforge.craft;

import ai.onnxruntime.platform.Fp16Conversions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Vectors as compact bytes for a binary column: little-endian float32 (4 bytes a value) or IEEE
 * float16 (2 bytes a value, the seed's HDF5 dtype). The format is told by the length: a d-value
 * vector has 4d or 2d bytes. Half-precision conversion is ONNX Runtime's (already a dependency for
 * the embedding model), decoded through a 64K-entry table because it runs once per stored value.
 */
public final class VectorBytes {
  private static final float[] HALF = new float[1 << 16];

  static {
    for (int h = 0; h < HALF.length; h++) {
      HALF[h] = Fp16Conversions.fp16ToFloat((short) h);
    }
  }

  private VectorBytes() {}

  public static byte[] float32(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  public static byte[] float16(float[] v) {
    byte[] b = new byte[2 * v.length];
    for (int i = 0; i < v.length; i++) {
      short h = Fp16Conversions.floatToFp16(v[i]);
      b[2 * i] = (byte) h;
      b[2 * i + 1] = (byte) (h >>> 8);
    }
    return b;
  }

  /**
   * Decodes {@code out.length} values from {@code bytes} (float32 if it has 4 bytes a value,
   * float16 if 2); returns false when the length fits neither.
   */
  public static boolean decode(byte[] bytes, float[] out) {
    int d = out.length;
    if (bytes.length == 4 * d) {
      ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return true;
    }
    if (bytes.length == 2 * d) {
      for (int i = 0, j = 0; i < d; i++, j += 2) {
        out[i] = HALF[(bytes[j] & 0xff) | (bytes[j + 1] & 0xff) << 8];
      }
      return true;
    }
    return false;
  }
}
