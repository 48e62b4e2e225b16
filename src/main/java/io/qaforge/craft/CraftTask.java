package io.qaforge.craft;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.qaforge.QaforgeException;
import io.qaforge.craft.FieldRule.Type;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A CRAFT task: what one sample is (its fields and their rules, {@link FieldRule}), how a few-shot
 * line becomes a sample, what the model is asked ({@link #instructions()} for custom tasks; the
 * built-ins' instructions are prompt files under {@code prompts/craft/instructions/}, {@link
 * #jsonSchema()}, {@link #formatExample()}) and its default output-token limit. Validation is one
 * engine for every task ({@link CraftParsing}); the built-ins differ only in their rules and in how
 * their few-shot lines are converted.
 *
 * <h2>Built-in tasks ({@link #builtIn}, {@link #names})</h2>
 *
 * <ul>
 *   <li>{@code bioqa}, {@code medqa}: {@code question} (> 15 characters), {@code options} (exactly
 *       4), {@code answer} (A-D). Few-shot: Instruction = question line + one line per option,
 *       Output starts with the answer letter.
 *   <li>{@code csqa}: the same with 2 options and A/B; a model may answer with {@code statement}
 *       instead of {@code question}. The seed's data quirk is kept: the few-shot whose Output is
 *       {@code "No."} converts to answer {@code N} (which fails the task's own letter rule).
 *   <li>{@code recipegen}: {@code instruction} (> 15), {@code ingredients} and {@code steps}
 *       (non-empty lists). Few-shot: ingredients = the lines before the first {@code Steps:} except
 *       the first ({@code Ingredients:} or {@code Base Ingredients:}), steps = the lines between
 *       the first and a second {@code Steps:}.
 *   <li>{@code summarization}: {@code instruction} (> 15), {@code summary} (> 100), {@code
 *       long_but_clean_text} (> 500). Few-shot: the first non-blank line of Instruction is the
 *       instruction, the other non-blank lines joined by a line break the long text, Output the
 *       summary.
 * </ul>
 *
 * Conversions follow the seed (Python {@code strip}, first character of Output as the answer) with
 * one fix: blank lines never become empty list items (the seed keeps whitespace-only lines as
 * {@code ""}, which changes recipegen few-shots 3 and 7 of the 32-shot file).
 *
 * <h2>Custom tasks ({@link #fromConfig}, {@link #resolve})</h2>
 *
 * <pre>
 * craft.tasks.quiz {
 *   instruction = "Read the text below and write one quiz question about it with four options."
 *   max-tokens = 512                      # default 1024
 *   fields = [
 *     { name = question, type = string, min-length = 16, aliases = [query] }
 *     { name = options, type = list, count = 4, example = ["A. ...", "B. ...", "C. ...", "D. ..."] }
 *     { name = answer, type = letter, letters = "ABCD", description = "letter of the right option" }
 *   ]
 * }
 * </pre>
 *
 * Field keys: {@code name} and {@code type} (string | list | letter) are required; {@code
 * min-length} (string, default 1), {@code count} or {@code min-items} (list, default min-items 1),
 * {@code letters} (letter, required), and for any type {@code aliases}, {@code description}, {@code
 * example} (a string or a list of strings shown in the format example). Names are identifiers
 * ({@code [A-Za-z_][A-Za-z0-9_]*}), not {@code Text}, {@code Instruction}, {@code Output} or {@code
 * is_few_shot}. Error categories come from the field names ({@code question_too_short}, {@code
 * options_count}, {@code options_not_list}, {@code no_<list>}, {@code answer_letter}).
 *
 * <p>A custom task's few-shot line holds {@code Text} plus EITHER the task fields directly (lists
 * as JSON arrays; aliases accepted), OR, when none of the field keys is present, an {@code Output}
 * holding the task JSON (a JSON object, or a string containing one, read like a model output).
 * Either way the sample must pass the task's rules, else loading the file fails.
 */
public record CraftTask(
    String name, Kind kind, List<FieldRule> fields, int maxTokens, List<String> instructions)
    implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern TASK_NAME = Pattern.compile("[A-Za-z0-9_-]+");
  private static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> RESERVED =
      Set.of(FewShot.TEXT, FewShot.INSTRUCTION, FewShot.OUTPUT, CraftTask.IS_FEW_SHOT);
  private static final Set<String> TASK_KEYS = Set.of("fields", "instruction", "max-tokens");
  private static final Set<String> FIELD_KEYS =
      Set.of(
          "name",
          "type",
          "min-length",
          "count",
          "min-items",
          "letters",
          "aliases",
          "description",
          "example");
  private static final int DEFAULT_MAX_TOKENS = 1024;
  private static final String CUSTOM_FIX =
      "fix the block; a custom task is craft.tasks.<name> { instruction = \"...\", max-tokens = N,"
          + " fields = [ { name = ..., type = string | list | letter, ... }, ... ] }";

  /** The column CRAFT's final datasets add to the task fields. */
  public static final String IS_FEW_SHOT = "is_few_shot";

  /** How few-shot lines become samples: one conversion per built-in family, rules for custom. */
  public enum Kind {
    MULTIPLE_CHOICE,
    YES_NO,
    RECIPE,
    SUMMARIZATION,
    CUSTOM
  }

  public CraftTask {
    fields = List.copyOf(fields);
    instructions = List.copyOf(instructions);
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("a CRAFT task needs at least one field");
    }
  }

  // ------------------------------------------------------------------ built-ins

  /** The names of the built-in tasks. */
  public static List<String> names() {
    return List.of("bioqa", "csqa", "medqa", "recipegen", "summarization");
  }

  /**
   * A built-in task by name.
   *
   * @throws QaforgeException for an unknown name, listing the built-in names
   */
  public static CraftTask builtIn(String name) {
    switch (name) {
      case "bioqa":
        return multipleChoice(name, 1536);
      case "medqa":
        return multipleChoice(name, 256);
      case "csqa":
        return yesNo();
      case "recipegen":
        return recipe();
      case "summarization":
        return summarization();
      default:
        throw new QaforgeException(
            "Unknown built-in craft task '" + name + "'",
            "the built-in tasks are " + String.join(", ", names()),
            "use one of them, or define a custom task under craft.tasks." + name);
    }
  }

  private static CraftTask multipleChoice(String name, int maxTokens) {
    return new CraftTask(
        name,
        Kind.MULTIPLE_CHOICE,
        List.of(
            FieldRule.string("question", 16)
                .withDescription("the question", null)
                .withInvalid("question_too_short", "No question  found / below 15 characters."),
            FieldRule.listOf("options", 4)
                .withDescription(
                    "the four answer options, each starting with its letter label",
                    List.of("A. <option A>", "B. <option B>", "C. <option C>", "D. <option D>"))
                .withInvalid("option_count", "Number of answer options other than 4."),
            FieldRule.letter("answer", "ABCD")
                .withDescription("the letter label of the correct option", null)
                .withInvalid("answer_letter", "Answer does not include A, B, C, or D.")),
        maxTokens,
        List.of());
  }

  private static CraftTask yesNo() {
    return new CraftTask(
        "csqa",
        Kind.YES_NO,
        List.of(
            FieldRule.string("question", 16)
                .withAliases("statement")
                .withDescription("the yes/no question or statement", null)
                .withInvalid(
                    "question_too_short",
                    "No question or statement found / shorter than 15 characters."),
            FieldRule.listOf("options", 2)
                .withDescription("the two answer options", List.of("A. Yes", "B. No"))
                .withInvalid("option_count", "Number of answer options other than 2."),
            FieldRule.letter("answer", "AB")
                .withDescription("the letter label of the correct option", null)
                .withInvalid("answer_letter", "Answer does not include A or B.")),
        256,
        List.of());
  }

  private static CraftTask recipe() {
    return new CraftTask(
        "recipegen",
        Kind.RECIPE,
        List.of(
            FieldRule.string("instruction", 16)
                .withDescription("a short one-sentence request to prepare the dish", null)
                .withInvalid(
                    "instruction_too_short", "No instruction found / below 15 characters."),
            FieldRule.listAtLeast("ingredients", 1)
                .withDescription(
                    "the ingredients, one per item",
                    List.of("<ingredient 1>", "<ingredient 2>", "..."))
                .withNotList("ingredients_not_list", "Ingredients not in list format.")
                .withInvalid("no_ingredients", "One or no ingredient found."),
            FieldRule.listAtLeast("steps", 1)
                .withDescription(
                    "the preparation steps in order", List.of("<step 1>", "<step 2>", "..."))
                .withNotList("steps_not_list", "Steps not in list format.")
                .withInvalid("no_steps", "One or no cooking step found.")),
        1280,
        List.of());
  }

  private static CraftTask summarization() {
    return new CraftTask(
        "summarization",
        Kind.SUMMARIZATION,
        List.of(
            FieldRule.string("instruction", 16)
                .withDescription("an instruction asking for a summary of the text", null)
                .withInvalid("instruction_too_short", "Instruction shorter than 15 characters."),
            FieldRule.string("summary", 101)
                .withDescription("the summary", null)
                .withInvalid("summary_too_short", "Summary shorter than 100 characters."),
            FieldRule.string("long_but_clean_text", 501)
                .withDescription(
                    "a long but clean version of the text that keeps almost all of its details",
                    null)
                .withInvalid(
                    "long_text_too_short", "Long but clean text shorter than 500 characters.")),
        1536,
        List.of());
  }

  // ------------------------------------------------------------------ custom tasks

  /**
   * The task {@code name}: the block {@code craft.tasks.<name>} of {@code root} if there is one,
   * else the built-in task of that name.
   *
   * @throws QaforgeException for an unknown name, a custom block that reuses a built-in name, or an
   *     invalid block
   */
  public static CraftTask resolve(String name, Config root) {
    Set<String> custom = customNames(root);
    if (custom.contains(name)) {
      if (names().contains(name)) {
        throw new QaforgeException(
            "craft.tasks." + name + " redefines the built-in task " + name,
            "a custom task may not reuse a built-in name (" + String.join(", ", names()) + ")",
            "rename the custom task (the block and craft.task)");
      }
      return fromConfig(name, root.getConfig("craft.tasks." + name));
    }
    if (names().contains(name)) {
      return builtIn(name);
    }
    Set<String> all = new TreeSet<>(names());
    all.addAll(custom);
    throw new QaforgeException(
        "Unknown craft task '" + name + "'",
        "it is neither a built-in task nor defined under craft.tasks",
        "set craft.task to one of "
            + String.join(", ", all)
            + ", or define craft.tasks."
            + name
            + " { instruction = ..., fields = [...] }");
  }

  private static Set<String> customNames(Config root) {
    if (!root.hasPath("craft.tasks")) {
      return Set.of();
    }
    try {
      return root.getObject("craft.tasks").keySet();
    } catch (ConfigException e) {
      throw new QaforgeException(
          "Invalid craft.tasks", e.getMessage(), "craft.tasks must be an object of task blocks");
    }
  }

  /**
   * A custom task from its configuration block (the value of {@code craft.tasks.<name>}); see the
   * class comment for the shape. Every key is checked now, so a typo fails before any Spark job.
   */
  public static CraftTask fromConfig(String name, Config task) {
    String at = "craft.tasks." + name;
    if (!TASK_NAME.matcher(name).matches()) {
      throw invalid(at, name, "a task name uses only letters, digits, '_' and '-'");
    }
    checkKeys(task, TASK_KEYS, at);
    try {
      if (!task.hasPath("fields")) {
        throw invalid(at + ".fields", "(missing)", "a custom task needs a non-empty fields list");
      }
      List<? extends Config> fieldConfigs = task.getConfigList("fields");
      if (fieldConfigs.isEmpty()) {
        throw invalid(at + ".fields", "[]", "a custom task needs at least one field");
      }
      List<FieldRule> rules = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < fieldConfigs.size(); i++) {
        FieldRule rule = field(fieldConfigs.get(i), at + ".fields[" + i + "]");
        for (String key : rule.keys()) {
          if (!seen.add(key)) {
            throw invalid(
                at + ".fields[" + i + "]", key, "the name or alias is used by an earlier field");
          }
        }
        rules.add(rule);
      }
      if (!task.hasPath("instruction") || task.getString("instruction").isBlank()) {
        throw invalid(
            at + ".instruction",
            task.hasPath("instruction") ? "\"\"" : "(missing)",
            "a custom task needs the instruction that tells the model what to write");
      }
      int maxTokens = task.hasPath("max-tokens") ? task.getInt("max-tokens") : DEFAULT_MAX_TOKENS;
      if (maxTokens < 1) {
        throw invalid(at + ".max-tokens", String.valueOf(maxTokens), "must be >= 1");
      }
      return new CraftTask(
          name, Kind.CUSTOM, rules, maxTokens, List.of(task.getString("instruction").strip()));
    } catch (ConfigException e) {
      throw new QaforgeException("Invalid " + at, e.getMessage(), CUSTOM_FIX);
    }
  }

  private static FieldRule field(Config f, String at) {
    checkKeys(f, FIELD_KEYS, at);
    if (!f.hasPath("name") || !f.hasPath("type")) {
      throw invalid(
          at, f.root().render(ConfigRenderOptions.concise()), "a field needs name and type");
    }
    String name = f.getString("name");
    checkName(name, at + ".name");
    String typeName = f.getString("type");
    Type type;
    try {
      type = Type.valueOf(typeName.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid(at + ".type", typeName, "must be string, list or letter");
    }
    for (String key : List.of("min-length", "count", "min-items", "letters")) {
      boolean allowed =
          switch (key) {
            case "min-length" -> type == Type.STRING;
            case "count", "min-items" -> type == Type.LIST;
            default -> type == Type.LETTER;
          };
      if (f.hasPath(key) && !allowed) {
        throw invalid(
            at + "." + key,
            f.getValue(key).render(ConfigRenderOptions.concise()),
            "not a key of " + typeName + " fields");
      }
    }
    FieldRule rule;
    switch (type) {
      case STRING:
        rule = FieldRule.string(name, positive(f, "min-length", 1, at));
        break;
      case LIST:
        if (f.hasPath("count") && f.hasPath("min-items")) {
          throw invalid(
              at,
              f.root().render(ConfigRenderOptions.concise()),
              "give count or min-items, not both");
        }
        rule =
            f.hasPath("count")
                ? FieldRule.listOf(name, positive(f, "count", 1, at))
                : FieldRule.listAtLeast(name, positive(f, "min-items", 1, at));
        break;
      default:
        if (!f.hasPath("letters")) {
          throw invalid(
              at + ".letters", "(missing)", "a letter field needs its letters, e.g. \"ABCD\"");
        }
        String letters = f.getString("letters");
        if (letters.isEmpty()
            || letters.codePoints().anyMatch(PyText::isSpace)
            || letters.codePoints().distinct().count()
                != letters.codePointCount(0, letters.length())) {
          throw invalid(
              at + ".letters", letters, "must be distinct non-space characters, e.g. \"ABCD\"");
        }
        rule = FieldRule.letter(name, letters);
    }
    if (f.hasPath("aliases")) {
      List<String> aliases = f.getStringList("aliases");
      for (String a : aliases) {
        checkName(a, at + ".aliases");
      }
      rule = rule.withAliases(aliases.toArray(new String[0]));
    }
    Object example = null;
    if (f.hasPath("example")) {
      ConfigValue v = f.getValue("example");
      if (v.valueType() == ConfigValueType.STRING) {
        example = v.unwrapped();
      } else if (v.valueType() == ConfigValueType.LIST) {
        example = f.getStringList("example");
      } else {
        throw invalid(at + ".example", v.render(), "must be a string or a list of strings");
      }
    }
    String description = f.hasPath("description") ? f.getString("description") : null;
    return description == null && example == null
        ? rule
        : rule.withDescription(description, example);
  }

  private static void checkName(String name, String at) {
    if (!FIELD_NAME.matcher(name).matches() || RESERVED.contains(name)) {
      throw invalid(
          at,
          name,
          "field names are identifiers ([A-Za-z_][A-Za-z0-9_]*) other than "
              + String.join(", ", new TreeSet<>(RESERVED)));
    }
  }

  private static int positive(Config f, String key, int dflt, String at) {
    int v = f.hasPath(key) ? f.getInt(key) : dflt;
    if (v < 1) {
      throw invalid(at + "." + key, String.valueOf(v), "must be >= 1");
    }
    return v;
  }

  private static void checkKeys(Config c, Set<String> allowed, String at) {
    for (String key : c.root().keySet()) {
      if (!allowed.contains(key)) {
        throw new QaforgeException(
            "Unknown setting " + at + "." + key,
            "the keys of this block are " + String.join(", ", new TreeSet<>(allowed)),
            "correct or remove the key");
      }
    }
  }

  private static QaforgeException invalid(String key, String value, String rule) {
    return new QaforgeException("Invalid " + key + ": " + value, rule, CUSTOM_FIX);
  }

  // ------------------------------------------------------------------ what the pipeline uses

  /** The sample's keys in the seed's column order (without {@code is_few_shot}). */
  public List<String> columns() {
    return fields.stream().map(FieldRule::name).toList();
  }

  /** The published dataset columns: {@link #columns()} then {@code is_few_shot}. */
  public List<String> finalColumns() {
    List<String> c = new ArrayList<>(columns());
    c.add(IS_FEW_SHOT);
    return List.copyOf(c);
  }

  /** Every error category {@link CraftParsing#parse} can report for this task. */
  public List<String> errorCategories() {
    List<String> c = new ArrayList<>(CraftParsing.GENERIC_CATEGORIES);
    for (FieldRule f : fields) {
      c.addAll(f.categories());
    }
    return List.copyOf(c);
  }

  /**
   * The JSON schema (structured output) of one sample: every field required, no other keys; lists
   * as arrays of strings with {@code minItems}/{@code maxItems}; letters as an {@code enum}.
   */
  public String jsonSchema() {
    ObjectNode schema = MAPPER.createObjectNode().put("type", "object");
    ObjectNode props = schema.putObject("properties");
    ArrayNode required = MAPPER.createArrayNode();
    for (FieldRule f : fields) {
      ObjectNode p = props.putObject(f.name());
      switch (f.type()) {
        case STRING:
          p.put("type", "string");
          break;
        case LIST:
          p.put("type", "array");
          p.putObject("items").put("type", "string");
          p.put("minItems", f.count() > 0 ? f.count() : f.min());
          if (f.count() > 0) {
            p.put("maxItems", f.count());
          }
          break;
        default:
          p.put("type", "string");
          ArrayNode e = p.putArray("enum");
          f.letters().codePoints().forEach(cp -> e.add(Character.toString(cp)));
      }
      if (f.description() != null) {
        p.put("description", f.description());
      }
      required.add(f.name());
    }
    schema.set("required", required);
    schema.put("additionalProperties", false);
    return schema.toString();
  }

  /**
   * The output format to show the model, in the seed's JSON style: each field's example, or a
   * placeholder {@code <description>} (lists: one placeholder per required item, or two and {@code
   * "..."}; letters: {@code <one of A, B>}).
   */
  public String formatExample() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    for (FieldRule f : fields) {
      String what = "<" + (f.description() != null ? f.description() : f.name()) + ">";
      Object v = f.example();
      if (v == null) {
        switch (f.type()) {
          case STRING:
            v = what;
            break;
          case LIST:
            List<String> items = new ArrayList<>();
            for (int i = 0; i < Math.max(f.count(), Math.max(f.min(), 1)); i++) {
              items.add(what);
            }
            if (f.count() == 0) {
              items.add("...");
            }
            v = items;
            break;
          default:
            v = "<one of " + f.letterList() + ">";
        }
      }
      m.put(f.name(), v);
    }
    return PyJson.dumps(m);
  }

  /** What a few-shot line of this task must hold (for error messages). */
  public String fewShotFormat() {
    switch (kind) {
      case MULTIPLE_CHOICE:
      case YES_NO:
        return "a "
            + name
            + " few-shot has Text, Instruction (the question line, then one line per option: "
            + (kind == Kind.YES_NO ? "A. Yes, B. No" : "A. ..., B. ..., C. ..., D. ...")
            + ") and Output (starting with the answer letter, e.g. \"B.\")";
      case RECIPE:
        return "a recipegen few-shot has Text, Instruction (a one-sentence request) and Output (an"
            + " 'Ingredients:' line and one ingredient per line, then a 'Steps:' line and one step"
            + " per line)";
      case SUMMARIZATION:
        return "a summarization few-shot has Text, Instruction (the instruction line, then the long"
            + " text) and Output (the summary)";
      default:
        return "a "
            + name
            + " few-shot has Text plus either the task fields ("
            + String.join(", ", columns())
            + ") or an Output holding the task JSON";
    }
  }

  /**
   * The few-shot as a sample in column order (the JSON the model is shown, and a row of the final
   * dataset with {@code is_few_shot = 1}). Built-in tasks convert Instruction/Output as the seed
   * does, without validating (the seed's data is kept as it is, e.g. csqa's answer {@code N});
   * custom tasks take the fields or the Output JSON and validate them.
   *
   * @throws IllegalArgumentException if the line cannot be converted (missing key, no {@code
   *     Steps:}, a custom sample that breaks the task's rules); the message says what is wrong
   */
  public LinkedHashMap<String, Object> toSample(FewShot fs) {
    LinkedHashMap<String, Object> s = new LinkedHashMap<>();
    switch (kind) {
      case MULTIPLE_CHOICE:
      case YES_NO:
        {
          String[] lines = require(fs, FewShot.INSTRUCTION).split("\n", -1);
          String output = require(fs, FewShot.OUTPUT);
          if (output.isEmpty()) {
            throw new IllegalArgumentException(
                "few-shot "
                    + fs.idx()
                    + ": Output is empty (it must start with the answer letter)");
          }
          s.put("question", PyText.strip(lines[0]));
          s.put("options", nonBlank(lines, 1));
          s.put("answer", PyText.strip(PyText.first(output)));
          return s;
        }
      case RECIPE:
        {
          String[] parts = require(fs, FewShot.OUTPUT).split(Pattern.quote("Steps:"), -1);
          if (parts.length < 2) {
            throw new IllegalArgumentException(
                "few-shot " + fs.idx() + ": Output has no 'Steps:' line");
          }
          s.put("instruction", PyText.strip(require(fs, FewShot.INSTRUCTION)));
          s.put("ingredients", nonBlank(parts[0].split("\n", -1), 1));
          s.put("steps", nonBlank(parts[1].split("\n", -1), 0));
          return s;
        }
      case SUMMARIZATION:
        {
          List<String> lines = nonBlank(require(fs, FewShot.INSTRUCTION).split("\n", -1), 0);
          if (lines.isEmpty()) {
            throw new IllegalArgumentException("few-shot " + fs.idx() + ": Instruction is empty");
          }
          s.put("instruction", lines.get(0));
          s.put("summary", PyText.strip(require(fs, FewShot.OUTPUT)));
          s.put("long_but_clean_text", String.join("\n", lines.subList(1, lines.size())));
          return s;
        }
      default:
        return customSample(fs);
    }
  }

  private LinkedHashMap<String, Object> customSample(FewShot fs) {
    CraftParsing.Parsed p;
    boolean direct = fields.stream().flatMap(f -> f.keys().stream()).anyMatch(fs::has);
    if (direct) {
      ObjectNode node = MAPPER.createObjectNode();
      for (FieldRule f : fields) {
        for (String key : f.keys()) {
          String v = fs.get(key);
          if (v != null) {
            node.set(key, f.type() == Type.LIST ? CraftParsing.listOrText(v) : node.textNode(v));
          }
        }
      }
      p = CraftParsing.validate(this, node);
    } else if (fs.output() != null) {
      p = CraftParsing.parse(this, fs.output());
    } else {
      throw new IllegalArgumentException(
          "few-shot "
              + fs.idx()
              + " has neither the task fields ("
              + String.join(", ", columns())
              + ") nor an Output holding the task JSON");
    }
    if (!p.ok()) {
      throw new IllegalArgumentException(
          "few-shot "
              + fs.idx()
              + " breaks the "
              + name
              + " rules: "
              + p.error()
              + " ("
              + p.errorCategory()
              + ")");
    }
    return p.sample();
  }

  private static String require(FewShot fs, String key) {
    String v = fs.get(key);
    if (v == null) {
      throw new IllegalArgumentException("few-shot " + fs.idx() + ": missing key '" + key + "'");
    }
    return v;
  }

  /** Items {@code from..} stripped (Python strip), blank ones dropped. */
  private static List<String> nonBlank(String[] lines, int from) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < lines.length; i++) {
      String s = PyText.strip(lines[i]);
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return List.copyOf(out);
  }
}
