package io.qaforge.craft;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VectorBytesTest {
  private static final float[] V = {0f, -0f, 1f, -1f, 0.1234567f, -3.5e-3f, 65504f, 6.1e-5f};

  @Test
  void float32RoundTripsExactlyInFourLittleEndianBytesAValue() {
    byte[] b = VectorBytes.float32(V);
    assertThat(b).hasSize(32);
    assertThat(new byte[] {b[8], b[9], b[10], b[11]})
        .containsExactly(0x00, 0x00, (byte) 0x80, 0x3f); // 1.0f little-endian
    float[] out = new float[V.length];
    assertThat(VectorBytes.decode(b, out)).isTrue();
    assertThat(out).containsExactly(V);
  }

  @Test
  void float16RoundTripsToHalfPrecisionInTwoBytesAValue() {
    byte[] b = VectorBytes.float16(V);
    assertThat(b).hasSize(16);
    assertThat(new byte[] {b[4], b[5]}).containsExactly(0x00, 0x3c); // 1.0 as IEEE half
    float[] out = new float[V.length];
    assertThat(VectorBytes.decode(b, out)).isTrue();
    for (int i = 0; i < V.length; i++) {
      assertThat(out[i]).isCloseTo(V[i], org.assertj.core.data.Percentage.withPercentage(0.1));
    }
    assertThat(out[6]).isEqualTo(65504f); // largest half
  }

  @Test
  void aLengthOfNeitherFormatIsRejected() {
    assertThat(VectorBytes.decode(new byte[12], new float[8])).isFalse();
    assertThat(VectorBytes.decode(new byte[0], new float[8])).isFalse();
  }
}
