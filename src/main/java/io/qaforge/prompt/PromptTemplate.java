package io.qaforge.prompt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qaforge.Hashing;
import io.qaforge.QaforgeException;
import io.qaforge.llm.Message;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A prompt text resource, {@code src/main/resources/prompts/<pipeline>/<name>.txt}, whose {@code
 * {{placeholder}}} names (letters, digits, underscore) are filled from a row's columns.
 *
 * <p><b>Messages.</b> A line that is exactly {@code @system}, {@code @user} or {@code @assistant}
 * starts a chat message with that role; a file without such a line is one user message. Only blank
 * lines may come before the first marker. In a file with markers, the blank lines at the start and
 * end of each message are layout and are dropped. In a file without markers the text is kept
 * verbatim except for the file's final line break (the one that ends the last line), so a
 * completion prompt that must end with a newline ends with one empty line. {@code \r\n} is read as
 * {@code \n}.
 *
 * <p><b>Placeholders.</b> {@code {{name}}} is replaced by the value of {@code name}, in one pass: a
 * value containing {@code {{x}}} is inserted as is. A stray <code>{{</code> that does not start a
 * well-formed placeholder is an error at load, so a typo such as {@code {{ question }}} cannot
 * reach a model.
 *
 * <p><b>Schema.</b> A structured-output template has a sibling {@code <name>.schema.json} (a JSON
 * Schema object in the subset OpenAI structured outputs accept); {@link #schema()} returns its
 * text.
 *
 * <p>Templates are plain classpath resources, parsed once per JVM (driver or executor) and cached;
 * an instance is immutable and serializable, so it can also be shipped inside a Spark closure.
 */
public final class PromptTemplate implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The roles a marker line may name. */
  public static final List<String> ROLES = List.of("system", "user", "assistant");

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Za-z0-9_]+)}}");
  private static final Pattern MARKER = Pattern.compile("@(system|user|assistant)");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*");
  private static final Map<String, PromptTemplate> CACHE = new ConcurrentHashMap<>();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final String name;
  private final String text;
  private final String schema;
  private final List<Part> parts;
  private final Set<String> placeholders;

  /** One message of the template: its role and its content as literal text and placeholders. */
  private record Part(String role, List<Segment> segments) implements Serializable {}

  /** Literal text, or (when {@code placeholder} is non-null) a placeholder. */
  private record Segment(String literal, String placeholder) implements Serializable {}

  private PromptTemplate(String name, String text, String schema) {
    this.name = name;
    this.text = text;
    this.schema = schema;
    this.parts = List.copyOf(parse(name, text));
    Set<String> names = new LinkedHashSet<>();
    for (Part p : parts) {
      for (Segment s : p.segments()) {
        if (s.placeholder() != null) {
          names.add(s.placeholder());
        }
      }
    }
    this.placeholders = Collections.unmodifiableSet(names);
  }

  /**
   * The template {@code prompts/<name>.txt} from the classpath, e.g. {@code
   * load("calibration/summaries")}; parsed once per JVM.
   *
   * @throws QaforgeException if the resource is missing, unreadable or malformed
   */
  public static PromptTemplate load(String name) {
    PromptTemplate cached = CACHE.get(name);
    if (cached != null) {
      return cached;
    }
    return CACHE.computeIfAbsent(name, PromptTemplate::read);
  }

  /**
   * The template from {@code <dir>/<name>.txt} when that file exists (a user's edited copy; its
   * {@code .schema.json} sibling too, else the bundled schema), else the bundled {@link
   * #load(String)}. An empty {@code dir} means the bundled template.
   */
  public static PromptTemplate load(String name, String dir) {
    if (dir == null || dir.isBlank()) {
      return load(name);
    }
    java.nio.file.Path file = java.nio.file.Path.of(dir, name + ".txt");
    if (!java.nio.file.Files.isRegularFile(file)) {
      return load(name);
    }
    try {
      String text = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
      java.nio.file.Path schemaFile = java.nio.file.Path.of(dir, name + ".schema.json");
      String schema =
          java.nio.file.Files.isRegularFile(schemaFile)
              ? java.nio.file.Files.readString(schemaFile, java.nio.charset.StandardCharsets.UTF_8)
              : load(name).schema();
      if (schema != null) {
        checkSchema(name, schemaFile.toString(), schema);
      }
      return new PromptTemplate(name, text, schema);
    } catch (java.io.IOException e) {
      throw new QaforgeException(
          "Cannot load prompt template " + name + " from " + file,
          e.toString(),
          "make the file readable, or clear prompts.dir to use the bundled template");
    }
  }

  /** A template from text, for tests and for templates that do not live on the classpath. */
  static PromptTemplate of(String name, String text, String schema) {
    return new PromptTemplate(name, text, schema);
  }

  private static PromptTemplate read(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new QaforgeException(
          "Cannot load prompt template " + name + ": invalid name",
          "a template name is a path of letters, digits, '_' and '-' parts separated by '/'",
          "use a name like calibration/summaries (the file prompts/calibration/summaries.txt)");
    }
    String resource = "prompts/" + name + ".txt";
    String text = resource(resource);
    if (text == null) {
      throw new QaforgeException(
          "Cannot load prompt template " + name + ": resource not found on classpath",
          "there is no " + resource + " on the classpath (looked in the application jar)",
          "add src/main/resources/"
              + resource
              + " and rebuild the jar, or fix the template name in the pipeline");
    }
    String schemaResource = "prompts/" + name + ".schema.json";
    String schema = resource(schemaResource);
    if (schema != null) {
      checkSchema(name, schemaResource, schema);
    }
    return new PromptTemplate(name, text, schema);
  }

  private static String resource(String path) {
    ClassLoader loader = PromptTemplate.class.getClassLoader();
    InputStream in = loader == null ? null : loader.getResourceAsStream(path);
    if (in == null) {
      ClassLoader context = Thread.currentThread().getContextClassLoader();
      in = context == null ? null : context.getResourceAsStream(path);
    }
    if (in == null) {
      return null;
    }
    try (InputStream stream = in) {
      return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read classpath resource " + path, e);
    }
  }

  private static void checkSchema(String name, String resource, String schema) {
    String problem;
    try {
      JsonNode node = MAPPER.readTree(schema);
      problem =
          node != null && node.isObject() && "object".equals(node.path("type").asText())
              ? null
              : "the schema is not a JSON object with \"type\": \"object\"";
    } catch (JsonProcessingException e) {
      problem = "the schema is not valid JSON: " + e.getOriginalMessage();
    }
    if (problem != null) {
      throw new QaforgeException(
          "Cannot load prompt template " + name + ": invalid " + resource,
          problem,
          "fix src/main/resources/" + resource + " (a JSON Schema object) and rebuild the jar");
    }
  }

  private static List<Part> parse(String name, String raw) {
    String text = raw.replace("\r\n", "\n");
    List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
    if (text.endsWith("\n")) {
      lines.remove(lines.size() - 1); // the final line break ends the last line; it is no content
    }
    boolean marked = lines.stream().anyMatch(l -> MARKER.matcher(l).matches());
    List<Part> parts = new ArrayList<>();
    if (!marked) {
      parts.add(new Part("user", segments(name, String.join("\n", lines))));
      return parts;
    }
    String role = null;
    List<String> body = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      Matcher m = MARKER.matcher(line);
      if (m.matches()) {
        if (role != null) {
          parts.add(new Part(role, segments(name, trimBlankLines(body))));
        }
        role = m.group(1);
        body.clear();
      } else if (role == null) {
        if (!line.isBlank()) {
          throw malformed(
              name,
              "line " + (i + 1) + " has text before the first @system/@user/@assistant line",
              "start the file with a role line, or remove every role line to make it one user"
                  + " message");
        }
      } else {
        body.add(line);
      }
    }
    parts.add(new Part(role, segments(name, trimBlankLines(body))));
    return parts;
  }

  private static String trimBlankLines(List<String> lines) {
    int from = 0;
    int to = lines.size();
    while (from < to && lines.get(from).isBlank()) {
      from++;
    }
    while (to > from && lines.get(to - 1).isBlank()) {
      to--;
    }
    return String.join("\n", lines.subList(from, to));
  }

  private static List<Segment> segments(String name, String content) {
    List<Segment> out = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(content);
    int at = 0;
    while (m.find()) {
      literal(name, content.substring(at, m.start()), out);
      out.add(new Segment(null, m.group(1)));
      at = m.end();
    }
    literal(name, content.substring(at), out);
    return out;
  }

  private static void literal(String name, String literal, List<Segment> out) {
    int stray = literal.indexOf("{{");
    if (stray >= 0) {
      String near = literal.substring(stray, Math.min(literal.length(), stray + 30));
      throw malformed(
          name,
          "malformed placeholder near \"" + near + "\"",
          "write placeholders as {{name}} with letters, digits and '_' only, no spaces");
    }
    if (!literal.isEmpty()) {
      out.add(new Segment(literal, null));
    }
  }

  private static QaforgeException malformed(String name, String reason, String fix) {
    return new QaforgeException(
        "Cannot load prompt template " + name + ": malformed template",
        reason,
        fix + " in src/main/resources/prompts/" + name + ".txt");
  }

  /** The name it was loaded by, e.g. {@code calibration/summaries}. */
  public String name() {
    return name;
  }

  /** Placeholder names in order of first appearance. */
  public Set<String> placeholders() {
    return placeholders;
  }

  /** Lower-case hex SHA-256 of the raw template text: editing the file changes it. */
  public String hash() {
    return Hashing.sha256Hex(text);
  }

  /** The sibling {@code <name>.schema.json} text, or null when the template has none. */
  public String schema() {
    return schema;
  }

  /** The roles of the messages {@link #render} produces, in order. */
  public List<String> roles() {
    return parts.stream().map(Part::role).collect(Collectors.toUnmodifiableList());
  }

  /**
   * Checks, before any job starts, that every placeholder is among {@code available} (the input's
   * column names).
   *
   * @param inputDescription what the fields belong to, e.g. "table calibration/queries"
   * @throws QaforgeException naming every missing placeholder, the available fields and the fix
   */
  public void requireFields(Collection<String> available, String inputDescription) {
    Set<String> have = new LinkedHashSet<>(available);
    List<String> missing = placeholders.stream().filter(p -> !have.contains(p)).toList();
    if (missing.isEmpty()) {
      return;
    }
    throw new QaforgeException(
        "Prompt template "
            + name
            + " needs "
            + (missing.size() == 1 ? "field " : "fields ")
            + String.join(", ", missing)
            + ", which "
            + inputDescription
            + " does not have",
        "the template's placeholders are "
            + braces(placeholders)
            + "; the available fields are "
            + new TreeSet<>(have),
        "add "
            + (missing.size() == 1 ? "a column named " : "columns named ")
            + String.join(", ", missing)
            + " to "
            + inputDescription
            + ", or change the placeholders in src/main/resources/prompts/"
            + name
            + ".txt");
  }

  private static String braces(Collection<String> names) {
    return names.stream().map(n -> "{{" + n + "}}").collect(Collectors.joining(", "));
  }

  /**
   * The chat messages with every placeholder replaced by its value (single pass). Keys that are not
   * placeholders are ignored.
   *
   * @throws QaforgeException if a placeholder has no value or a null value
   */
  public List<Message> render(Map<String, String> values) {
    List<Message> out = new ArrayList<>(parts.size());
    for (Part p : parts) {
      StringBuilder sb = new StringBuilder();
      for (Segment s : p.segments()) {
        if (s.placeholder() == null) {
          sb.append(s.literal());
        } else {
          String v = values.get(s.placeholder());
          if (v == null) {
            throw new QaforgeException(
                "Cannot render prompt template "
                    + name
                    + ": no value for {{"
                    + s.placeholder()
                    + "}}",
                (values.containsKey(s.placeholder()) ? "the value is null" : "the value is missing")
                    + "; values were given for "
                    + new TreeSet<>(values.keySet()),
                "give a non-null value for every placeholder ("
                    + braces(placeholders)
                    + "): filter or fill null inputs first, and call requireFields before the job"
                    + " starts");
          }
          sb.append(v);
        }
      }
      out.add(new Message(p.role(), sb.toString()));
    }
    return List.copyOf(out);
  }

  /**
   * The rendered messages' contents joined by a blank line, for plain-completion (base model)
   * prompts; for a template without role lines this is exactly the one message.
   */
  public String renderText(Map<String, String> values) {
    return render(values).stream().map(Message::content).collect(Collectors.joining("\n\n"));
  }

  @Override
  public String toString() {
    return "PromptTemplate[" + name + ", " + placeholders + "]";
  }
}
