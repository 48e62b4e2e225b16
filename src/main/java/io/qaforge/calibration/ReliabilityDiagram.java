package io.qaforge.calibration;

import io.qaforge.QaforgeException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A reliability diagram as a PNG: per-bin accuracy against mean confidence (the equal-count bins of
 * {@link CalibrationMetrics#reliability}), with the diagonal of perfect calibration, axis labels
 * and the ECE in the title. Drawn with java.awt into a BufferedImage in headless mode (set here
 * unless the JVM was started with an explicit {@code java.awt.headless}), so it runs on a driver
 * without a display.
 */
public final class ReliabilityDiagram {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  public static final int DEFAULT_WIDTH = 640;
  public static final int DEFAULT_HEIGHT = 640;

  static final Color BACKGROUND = Color.WHITE;
  static final Color DIAGONAL = new Color(150, 150, 150);
  static final Color GAP = new Color(230, 85, 60, 90);
  static final Color CURVE = new Color(30, 90, 180);
  static final int LEFT = 80;
  static final int RIGHT = 30;
  static final int TOP = 60;
  static final int BOTTOM = 70;

  private ReliabilityDiagram() {}

  /** {@link #write(Path, String, List, double, int, int)} at 640 x 640 pixels. */
  public static void write(Path png, String title, List<CalibrationMetrics.Bin> bins, double ece) {
    write(png, title, bins, ece, DEFAULT_WIDTH, DEFAULT_HEIGHT);
  }

  /**
   * Draws the diagram and writes it to {@code png} (parent directories are created).
   *
   * @throws QaforgeException if the file cannot be written
   */
  public static void write(
      Path png,
      String title,
      List<CalibrationMetrics.Bin> bins,
      double ece,
      int width,
      int height) {
    BufferedImage image = draw(title, bins, ece, width, height);
    try {
      Path parent = png.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (!ImageIO.write(image, "png", png.toFile())) {
        throw new IOException("no PNG writer in this JVM");
      }
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot write reliability diagram " + png,
          e.toString(),
          "check that the directory is writable and the disk has space",
          e);
    }
  }

  /** The diagram as an image (RGB). */
  static BufferedImage draw(
      String title, List<CalibrationMetrics.Bin> bins, double ece, int width, int height) {
    if (width < LEFT + RIGHT + 50 || height < TOP + BOTTOM + 50) {
      throw new IllegalArgumentException("image too small: " + width + "x" + height);
    }
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(BACKGROUND);
      g.fillRect(0, 0, width, height);

      // grid and axes
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      FontMetrics fm = g.getFontMetrics();
      for (int t = 0; t <= 10; t += 2) {
        double v = t / 10.0;
        g.setColor(new Color(235, 235, 235));
        g.draw(new Line2D.Double(x(v, width), y(0, height), x(v, width), y(1, height)));
        g.draw(new Line2D.Double(x(0, width), y(v, height), x(1, width), y(v, height)));
        g.setColor(Color.DARK_GRAY);
        String label = String.format(Locale.ROOT, "%.1f", v);
        g.drawString(
            label,
            (float) (x(v, width) - fm.stringWidth(label) / 2.0),
            (float) (y(0, height) + fm.getAscent() + 6));
        g.drawString(
            label,
            (float) (x(0, width) - fm.stringWidth(label) - 8),
            (float) (y(v, height) + fm.getAscent() / 2.0 - 1));
      }
      g.setColor(Color.BLACK);
      g.setStroke(new BasicStroke(1.5f));
      g.draw(new Line2D.Double(x(0, width), y(0, height), x(1, width), y(0, height)));
      g.draw(new Line2D.Double(x(0, width), y(0, height), x(0, width), y(1, height)));

      // perfect calibration
      g.setColor(DIAGONAL);
      g.setStroke(new BasicStroke(2f));
      g.draw(new Line2D.Double(x(0, width), y(0, height), x(1, width), y(1, height)));

      // gaps between accuracy and confidence, then the curve
      for (CalibrationMetrics.Bin b : bins) {
        g.setColor(GAP);
        g.setStroke(new BasicStroke(6f));
        g.draw(
            new Line2D.Double(
                x(b.meanConfidence(), width),
                y(b.meanConfidence(), height),
                x(b.meanConfidence(), width),
                y(b.accuracy(), height)));
      }
      g.setColor(CURVE);
      g.setStroke(new BasicStroke(2f));
      Path2D.Double curve = new Path2D.Double();
      for (int i = 0; i < bins.size(); i++) {
        CalibrationMetrics.Bin b = bins.get(i);
        if (i == 0) {
          curve.moveTo(x(b.meanConfidence(), width), y(b.accuracy(), height));
        } else {
          curve.lineTo(x(b.meanConfidence(), width), y(b.accuracy(), height));
        }
      }
      g.draw(curve);
      for (CalibrationMetrics.Bin b : bins) {
        double cx = x(b.meanConfidence(), width);
        double cy = y(b.accuracy(), height);
        g.fill(new Ellipse2D.Double(cx - 4, cy - 4, 8, 8));
      }

      // title and axis labels
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      String head =
          (title == null || title.isBlank() ? "Reliability diagram" : title)
              + String.format(Locale.ROOT, "  (ECE %.3f, %d bins)", ece, bins.size());
      fm = g.getFontMetrics();
      g.drawString(head, (float) ((width - fm.stringWidth(head)) / 2.0), TOP / 2f + 6);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
      fm = g.getFontMetrics();
      String xLabel = "Confidence (mean forecast probability per bin)";
      g.drawString(
          xLabel,
          (float) (LEFT + (width - LEFT - RIGHT - fm.stringWidth(xLabel)) / 2.0),
          height - 20f);
      String yLabel = "Accuracy";
      AffineTransform saved = g.getTransform();
      g.rotate(-Math.PI / 2);
      g.drawString(
          yLabel, (float) -(TOP + (height - TOP - BOTTOM + fm.stringWidth(yLabel)) / 2.0), 28f);
      g.setTransform(saved);
    } finally {
      g.dispose();
    }
    return image;
  }

  /** Pixel column of confidence {@code v} in [0, 1]. */
  static double x(double v, int width) {
    return LEFT + v * (width - LEFT - RIGHT);
  }

  /** Pixel row of accuracy {@code v} in [0, 1] (1 at the top). */
  static double y(double v, int height) {
    return height - BOTTOM - v * (height - TOP - BOTTOM);
  }
}
