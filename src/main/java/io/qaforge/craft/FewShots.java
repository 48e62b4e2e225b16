package io.qaforge.craft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.QaforgeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads CRAFT few-shot files: JSON Lines, one few-shot object per line, keys kept in file order.
 * Blank lines are skipped (a last line without a line break is fine); {@link FewShot#idx()} counts
 * the few-shots from 0, error messages give physical line numbers (from 1). {@code limit} takes the
 * first {@code limit} few-shots (the seed's "8-shot" variants are the first 8 lines of the 32-shot
 * files); 0 means all. Every problem is a {@link QaforgeException} naming the file and line.
 */
public final class FewShots {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final String FIX_FILE = "fix the file or point craft.few-shots at another file";

  private FewShots() {}

  /** All (limit 0) or the first {@code limit} few-shots of a local JSONL file. */
  public static List<FewShot> load(Path file, int limit) {
    return parse(file.toString(), readLines(file), limit);
  }

  /**
   * As {@link #load(Path, int)}, and also checks that every few-shot converts to a sample of {@code
   * task} ({@link CraftTask#toSample}), so a malformed line fails here with its line number rather
   * than later in a Spark job.
   */
  public static List<FewShot> load(Path file, int limit, CraftTask task) {
    return parse(file.toString(), readLines(file), limit, task);
  }

  /** As {@link #load(Path, int)} for lines read elsewhere (e.g. from object storage). */
  public static List<FewShot> parse(String source, List<String> lines, int limit) {
    List<FewShot> out = new ArrayList<>();
    for (Numbered n : numbered(source, lines, limit)) {
      out.add(n.fewShot);
    }
    return out;
  }

  /** As {@link #load(Path, int, CraftTask)} for lines read elsewhere. */
  public static List<FewShot> parse(String source, List<String> lines, int limit, CraftTask task) {
    List<FewShot> out = new ArrayList<>();
    for (Numbered n : numbered(source, lines, limit)) {
      try {
        task.toSample(n.fewShot);
      } catch (IllegalArgumentException e) {
        throw new QaforgeException(
            "craft few-shot file "
                + source
                + " line "
                + n.line
                + " is not a "
                + task.name()
                + " few-shot",
            e.getMessage(),
            task.fewShotFormat() + "; " + FIX_FILE);
      }
      out.add(n.fewShot);
    }
    return out;
  }

  private record Numbered(int line, FewShot fewShot) {}

  private static List<Numbered> numbered(String source, List<String> lines, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("few-shot limit must be >= 0 (0 = all), got " + limit);
    }
    List<Numbered> out = new ArrayList<>();
    for (int i = 0; i < lines.size() && (limit == 0 || out.size() < limit); i++) {
      String line = lines.get(i);
      if (i == 0 && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
      if (line.isBlank()) {
        continue;
      }
      out.add(new Numbered(i + 1, fewShot(source, i + 1, out.size(), line)));
    }
    if (out.isEmpty()) {
      throw new QaforgeException(
          "craft few-shot file " + source + " has no few-shots",
          "the file is empty or holds only blank lines",
          "put one JSON object per line ({\"Text\": ..., \"Instruction\": ..., \"Output\": ...}) or"
              + " point craft.few-shots at another file");
    }
    if (limit > 0 && out.size() < limit) {
      throw new QaforgeException(
          "craft few-shot file "
              + source
              + " has "
              + out.size()
              + " few-shots, "
              + limit
              + " were asked for",
          "the few-shot count is larger than the file",
          "ask for at most " + out.size() + " few-shots (0 = all) or add lines to the file");
    }
    return out;
  }

  private static FewShot fewShot(String source, int lineNo, int idx, String line) {
    String where = "craft few-shot file " + source + " line " + lineNo;
    JsonNode node;
    try {
      node = MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      throw new QaforgeException(
          where + " is not valid JSON",
          e.getOriginalMessage(),
          "every line must be one JSON object such as {\"Text\": ..., \"Instruction\": ...,"
              + " \"Output\": ...}; "
              + FIX_FILE);
    }
    if (!node.isObject()) {
      throw new QaforgeException(
          where + " is not a JSON object",
          "it is a JSON " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT),
          "every line must be one JSON object such as {\"Text\": ..., \"Instruction\": ...,"
              + " \"Output\": ...}; "
              + FIX_FILE);
    }
    JsonNode text = node.get(FewShot.TEXT);
    if (text == null || !text.isTextual() || text.asText().isBlank()) {
      throw new QaforgeException(
          where
              + (text == null
                  ? ": missing key 'Text'"
                  : ": 'Text' is " + (text.isTextual() ? "empty" : "not a string")),
          "every few-shot needs Text (the source-like document, a non-empty string) plus its task"
              + " keys (built-in tasks: Instruction and Output)",
          FIX_FILE);
    }
    LinkedHashMap<String, String> fields = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      fields.put(
          e.getKey(),
          v.isTextual() ? v.asText() : PyJson.dumps(MAPPER.convertValue(v, Object.class)));
    }
    return new FewShot(idx, fields);
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new QaforgeException(
          "Cannot read craft few-shot file " + file,
          e.getClass().getSimpleName() + ": " + e.getMessage(),
          "point craft.few-shots at a readable UTF-8 JSONL file",
          e);
    }
  }
}
