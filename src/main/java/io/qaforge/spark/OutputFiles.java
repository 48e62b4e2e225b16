package io.qaforge.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qaforge.QaforgeException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Single export files (JSON lines, text) written through Hadoop, so local paths and s3a work. */
public final class OutputFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OutputFiles() {}

  /** Writes one JSON object per row, in the iterator's order. */
  public static void jsonLines(
      SparkSession spark, Path p, Iterator<Row> rows, Function<Row, ObjectNode> line) {
    try {
      FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      try (OutputStream os = fs.create(p, true);
          Writer w = new OutputStreamWriter(os, StandardCharsets.UTF_8)) {
        while (rows.hasNext()) {
          w.write(JSON.writeValueAsString(line.apply(rows.next())));
          w.write('\n');
        }
      }
    } catch (IOException e) {
      throw failed(p, e);
    }
  }

  /** Writes a text file (e.g. a dataset card). */
  public static void text(SparkSession spark, Path p, String text) {
    try {
      FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      try (OutputStream os = fs.create(p, true)) {
        os.write(text.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw failed(p, e);
    }
  }

  private static QaforgeException failed(Path p, IOException e) {
    return new QaforgeException(
        "Cannot write " + p, e.toString(), "check that output.root is writable");
  }
}
