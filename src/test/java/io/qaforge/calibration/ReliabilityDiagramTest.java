package io.qaforge.calibration;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.calibration.CalibrationMetrics.Bin;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReliabilityDiagramTest {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @Test
  void writesAHeadlessPngWithTheDiagonalDrawn(@TempDir Path dir) throws IOException {
    // overconfident bins, all below the diagonal and away from its lower half
    List<Bin> bins = List.of(new Bin(0.7, 0.4, 10), new Bin(0.8, 0.5, 10), new Bin(0.9, 0.6, 10));
    Path png = dir.resolve("plots/reliability.png");

    ReliabilityDiagram.write(png, "LC SFT, trivia_qa", bins, 0.3, 500, 400);

    assertThat(System.getProperty("java.awt.headless")).isEqualTo("true");
    assertThat(png).exists();
    byte[] head;
    try (InputStream in = Files.newInputStream(png)) {
      head = in.readNBytes(8);
    }
    assertThat(head).containsExactly(PNG_SIGNATURE);
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img).isNotNull();
    assertThat(img.getWidth()).isEqualTo(500);
    assertThat(img.getHeight()).isEqualTo(400);

    // the diagonal: every sampled point from (0.05, 0.05) to (0.55, 0.55) is diagonal grey
    for (double v = 0.05; v <= 0.55; v += 0.05) {
      int x = (int) Math.round(ReliabilityDiagram.x(v, 500));
      int y = (int) Math.round(ReliabilityDiagram.y(v, 400));
      assertThat(near(img, x, y, ReliabilityDiagram.DIAGONAL.getRGB()))
          .as("diagonal pixel near (%d, %d) for v=%.2f", x, y, v)
          .isTrue();
    }
    // a bin marker at (0.8, 0.5) in the curve colour
    assertThat(
            near(
                img,
                (int) Math.round(ReliabilityDiagram.x(0.8, 500)),
                (int) Math.round(ReliabilityDiagram.y(0.5, 400)),
                ReliabilityDiagram.CURVE.getRGB()))
        .isTrue();
    // above the diagonal on the left, where nothing is drawn except grid lines, stays white
    int ex = (int) Math.round(ReliabilityDiagram.x(0.13, 500));
    int ey = (int) Math.round(ReliabilityDiagram.y(0.87, 400));
    assertThat(img.getRGB(ex, ey) & 0xffffff).isEqualTo(0xffffff);
    // the title is drawn (dark pixels in the top margin)
    assertThat(countDark(img, 0, 0, 500, ReliabilityDiagram.TOP)).isGreaterThan(50);
  }

  @Test
  void writesAnEmptyDiagramForNoBins(@TempDir Path dir) throws IOException {
    Path png = dir.resolve("empty.png");
    ReliabilityDiagram.write(png, null, List.of(), Double.NaN);
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img.getWidth()).isEqualTo(ReliabilityDiagram.DEFAULT_WIDTH);
    assertThat(img.getHeight()).isEqualTo(ReliabilityDiagram.DEFAULT_HEIGHT);
  }

  /** Whether a pixel within 1 of (x, y) has this colour, up to anti-aliasing (20 per channel). */
  private static boolean near(BufferedImage img, int x, int y, int rgb) {
    for (int dx = -1; dx <= 1; dx++) {
      for (int dy = -1; dy <= 1; dy++) {
        int p = img.getRGB(x + dx, y + dy);
        boolean close = true;
        for (int shift = 0; shift <= 16; shift += 8) {
          close &= Math.abs(((p >> shift) & 0xff) - ((rgb >> shift) & 0xff)) <= 20;
        }
        if (close) {
          return true;
        }
      }
    }
    return false;
  }

  private static int countDark(BufferedImage img, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int x = x0; x < x1; x++) {
      for (int y = y0; y < y1; y++) {
        int rgb = img.getRGB(x, y);
        int sum = ((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff);
        n += sum < 200 ? 1 : 0;
      }
    }
    return n;
  }
}
