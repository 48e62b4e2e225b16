package io.qaforge.spark;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.struct;

import io.qaforge.llm.Message;
import io.qaforge.prompt.PromptTemplate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Renders a {@link PromptTemplate} per row into the {@code messages} column that {@link Generation}
 * reads. Placeholders are bound to the input's columns of the same name, and checked against the
 * input schema before any Spark job runs.
 */
public final class Prompts {
  private Prompts() {}

  /**
   * {@code rows} with a {@code messages} column rendered from {@code template}; every placeholder
   * must be a column of {@code rows} (checked now, before any job). A row with a null placeholder
   * value gets no messages (an empty list), which Generation reports as a failed row without a
   * call; filter such rows out first when they need a clearer reason.
   */
  public static Dataset<Row> render(Dataset<Row> rows, PromptTemplate template, String input) {
    template.requireFields(List.of(rows.columns()), input);
    List<String> names = new ArrayList<>(template.placeholders());
    String udf = "qaforge_prompt_" + template.name().replace('/', '_') + "_" + template.hash();
    UDF1<Row, List<Row>> render =
        values -> {
          Map<String, String> map = new HashMap<>();
          for (int i = 0; i < names.size(); i++) {
            if (values.isNullAt(i)) {
              return List.of();
            }
            map.put(names.get(i), String.valueOf(values.get(i)));
          }
          List<Row> out = new ArrayList<>();
          for (Message m : template.render(map)) {
            out.add(RowFactory.create(m.role(), m.content()));
          }
          return out;
        };
    rows.sparkSession().udf().register(udf, render, Generation.MESSAGES);
    Column[] cols = names.stream().map(n -> col(n).cast("string").as(n)).toArray(Column[]::new);
    Column args = cols.length == 0 ? struct(org.apache.spark.sql.functions.lit(0)) : struct(cols);
    return rows.withColumn("messages", callUDF(udf, args));
  }
}
