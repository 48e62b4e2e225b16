package io.qaforge.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Reads TriviaQA question files without Spark, streaming, so files of any size work:
 *
 * <ul>
 *   <li>the original TriviaQA JSON: one document {@code {"Data": [{"Question", "QuestionId",
 *       "Answer": {"Value", "Aliases", "NormalizedAliases", ...}}, ...], "Split": "train"}}; {@code
 *       EntityPages}/{@code SearchResults} are skipped without being materialised;
 *   <li>the Hugging Face {@code trivia_qa} rows as JSON Lines: {@code {"question", "question_id",
 *       "answer": {"value", "aliases", "normalized_aliases", ...}}}.
 * </ul>
 *
 * Malformed records are returned as records with an error and their line number, never skipped.
 */
public final class TriviaQaReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory FACTORY = MAPPER.getFactory();

  private TriviaQaReader() {}

  /** Normalises split names: dev/val/validation → validation; train; test. Null if unknown. */
  public static String normalizeSplit(String split) {
    if (split == null) {
      return null;
    }
    String s = split.trim().toLowerCase(Locale.ROOT);
    switch (s) {
      case "train":
        return "train";
      case "dev":
      case "val":
      case "valid":
      case "validation":
        return "validation";
      case "test":
        return "test";
      default:
        return null;
    }
  }

  /**
   * The split a file name implies (wikipedia-dev.json, train-00000-of-00001.parquet), else its
   * folder's name (trivia_qa/validation/part-0.parquet); null if neither says.
   */
  public static String splitFromFileName(String path) {
    String[] parts = path.toLowerCase(Locale.ROOT).split("/");
    for (int i = parts.length - 1; i >= Math.max(0, parts.length - 2); i--) {
      for (String token : parts[i].split("[^a-z]+")) {
        String s = normalizeSplit(token);
        if (s != null) {
          return s;
        }
      }
    }
    return null;
  }

  /**
   * Streams an original TriviaQA JSON document. {@code splitOverride} (nullable) wins over the
   * document's own "Split" field and the file name.
   */
  public static void readJson(
      InputStream in, String file, String splitOverride, Consumer<TriviaQaRecord> out) {
    List<JsonNode> items = new ArrayList<>();
    List<Long> lines = new ArrayList<>();
    String docSplit = null;
    try (JsonParser p = FACTORY.createParser(in)) {
      p.setCodec(MAPPER);
      if (p.nextToken() != JsonToken.START_OBJECT) {
        out.accept(
            TriviaQaRecord.malformed(
                file, line(p), "expected a JSON object {\"Data\": [...]} (original TriviaQA)"));
        return;
      }
      boolean sawData = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.getCurrentName();
        JsonToken t = p.nextToken();
        if ("Data".equals(field)) {
          if (t != JsonToken.START_ARRAY) {
            out.accept(TriviaQaRecord.malformed(file, line(p), "\"Data\" must be an array"));
            return;
          }
          sawData = true;
          while (p.nextToken() == JsonToken.START_OBJECT) {
            lines.add((long) p.getTokenLocation().getLineNr());
            items.add(readItemSkippingContexts(p));
          }
        } else if ("Split".equals(field) && t == JsonToken.VALUE_STRING) {
          docSplit = p.getText();
        } else {
          p.skipChildren();
        }
      }
      if (!sawData) {
        out.accept(
            TriviaQaRecord.malformed(
                file,
                1,
                "no \"Data\" array: not an original TriviaQA JSON file (for Hugging Face rows use"
                    + " .jsonl or format = hf-jsonl)"));
        return;
      }
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      out.accept(
          TriviaQaRecord.malformed(
              file, loc == null ? 0 : loc.getLineNr(), "invalid JSON: " + e.getOriginalMessage()));
      return;
    } catch (IOException e) {
      out.accept(TriviaQaRecord.malformed(file, 0, "cannot read: " + e));
      return;
    }
    String split = resolveSplit(splitOverride, docSplit, file);
    for (int i = 0; i < items.size(); i++) {
      out.accept(fromOriginal(items.get(i), file, lines.get(i), split));
    }
  }

  /** Reads one Data[] item into a tree, skipping the large context arrays. */
  private static JsonNode readItemSkippingContexts(JsonParser p) throws IOException {
    com.fasterxml.jackson.databind.node.ObjectNode node = MAPPER.createObjectNode();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.getCurrentName();
      p.nextToken();
      if ("EntityPages".equals(field) || "SearchResults".equals(field)) {
        p.skipChildren();
      } else {
        node.set(field, p.readValueAsTree());
      }
    }
    return node;
  }

  /** Reads Hugging Face trivia_qa rows, one JSON object per line. Blank lines are allowed. */
  public static void readJsonLines(
      InputStream in, String file, String splitOverride, Consumer<TriviaQaRecord> out) {
    String split = resolveSplit(splitOverride, null, file);
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
      long lineNo = 0;
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
          out.accept(
              TriviaQaRecord.malformed(file, lineNo, "invalid JSON: " + e.getOriginalMessage()));
          continue;
        }
        out.accept(fromHuggingFace(node, file, lineNo, split));
      }
    } catch (IOException e) {
      out.accept(TriviaQaRecord.malformed(file, 0, "cannot read: " + e));
    }
  }

  private static String resolveSplit(String override, String fromDocument, String file) {
    if (override != null) {
      return override;
    }
    String s = normalizeSplit(fromDocument);
    return s != null ? s : splitFromFileName(file);
  }

  static TriviaQaRecord fromOriginal(JsonNode item, String file, long line, String split) {
    if (!item.isObject()) {
      return TriviaQaRecord.malformed(file, line, "a Data[] entry must be an object");
    }
    return build(
        item, item.path("Answer"), "QuestionId", "Question", "Answer", ORIGINAL, file, line, split);
  }

  static TriviaQaRecord fromHuggingFace(JsonNode row, String file, long line, String split) {
    if (!row.isObject()) {
      return TriviaQaRecord.malformed(file, line, "each line must be a JSON object");
    }
    return build(
        row,
        row.path("answer"),
        "question_id",
        "question",
        "answer",
        HUGGING_FACE,
        file,
        line,
        split);
  }

  /** Field names of the answer object in each layout. */
  private record AnswerFields(
      String value, String aliases, String normAliases, String normValue, String type) {}

  private static final AnswerFields ORIGINAL =
      new AnswerFields("Value", "Aliases", "NormalizedAliases", "NormalizedValue", "Type");
  private static final AnswerFields HUGGING_FACE =
      new AnswerFields("value", "aliases", "normalized_aliases", "normalized_value", "type");

  private static TriviaQaRecord build(
      JsonNode row,
      JsonNode answer,
      String idField,
      String questionField,
      String answerField,
      AnswerFields f,
      String file,
      long line,
      String split) {
    String id = text(row.get(idField));
    if (id == null || id.isBlank()) {
      return TriviaQaRecord.malformed(file, line, "missing or empty \"" + idField + "\"");
    }
    String question = text(row.get(questionField));
    if (question == null || question.isBlank()) {
      return TriviaQaRecord.malformed(
          file, line, "question " + id + ": missing or empty \"" + questionField + "\"");
    }
    if (!answer.isObject()) {
      return TriviaQaRecord.malformed(
          file,
          line,
          "question "
              + id
              + ": no \""
              + answerField
              + "\" object (TriviaQA test files carry no answers; use the train or validation"
              + " files)");
    }
    String value = text(answer.get(f.value()));
    if (value == null || value.isBlank()) {
      return TriviaQaRecord.malformed(
          file, line, "question " + id + ": missing or empty answer \"" + f.value() + "\"");
    }
    if (split == null) {
      return TriviaQaRecord.malformed(
          file,
          line,
          "cannot tell the source split (train/validation/test) from the file or its \"Split\""
              + " field; set source-split on this input");
    }
    List<String> aliases = strings(answer.get(f.aliases()));
    if (aliases.isEmpty()) {
      aliases = List.of(value);
    }
    return new TriviaQaRecord(
        id,
        question.trim(),
        value,
        aliases,
        strings(answer.get(f.normAliases())),
        text(answer.get(f.normValue())),
        text(answer.get(f.type())),
        text(row.get(questionField.equals("Question") ? "QuestionSource" : "question_source")),
        split,
        file,
        line,
        null);
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() || n.isContainerNode() ? null : n.asText();
  }

  private static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n != null && n.isArray()) {
      n.forEach(v -> out.add(v.asText()));
    }
    return out;
  }

  private static long line(JsonParser p) {
    return p.getCurrentLocation().getLineNr();
  }
}
