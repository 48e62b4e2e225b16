package io.qaforge.calibration;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * The calibration parsers ({@link CalibrationParsing}) as Spark SQL functions. Each parse function
 * returns {@code struct<value, reasoning, error>}: a value, or null and the reason; a null or blank
 * model output is an error, never an exception.
 */
final class CalibrationUdfs {
  private CalibrationUdfs() {}

  private static final DataType STRINGS = DataTypes.createArrayType(DataTypes.StringType);

  static void register(SparkSession spark) {
    var udf = spark.udf();
    udf.register(
        "cal_query",
        (UDF1<String, Row>) s -> row(CalibrationParsing.query(s)),
        parsed(DataTypes.StringType));
    udf.register(
        "cal_answers",
        (UDF1<String, Row>) s -> row(CalibrationParsing.extractAnswers(s)),
        parsed(STRINGS));
    udf.register(
        "cal_prob",
        (UDF1<String, Row>) s -> row(CalibrationParsing.forecastProbability(s)),
        parsed(DataTypes.DoubleType));
    udf.register(
        "cal_binary",
        (UDF1<String, Row>) s -> row(CalibrationParsing.binaryCorrectness(s)),
        parsed(DataTypes.IntegerType));
    udf.register(
        "cal_verdicts",
        (UDF2<String, Integer, Row>) (s, n) -> row(CalibrationParsing.equivalenceVerdicts(s, n)),
        parsed(STRINGS));
    udf.register(
        "cal_cut",
        (UDF1<String, String>) s -> s == null ? null : CalibrationParsing.cutAtBlankLine(s),
        DataTypes.StringType);
    udf.register(
        "cal_thoughts",
        (UDF1<Seq<String>, String>)
            s -> s == null ? null : CalibrationParsing.formatThoughts(list(s)),
        DataTypes.StringType);
    udf.register(
        "cal_items",
        (UDF1<Seq<Row>, String>)
            s -> {
              List<CalibrationParsing.EquivalenceItem> items = new ArrayList<>();
              for (Row r : JavaConverters.seqAsJavaList(s)) {
                items.add(
                    new CalibrationParsing.EquivalenceItem(
                        r.getString(1), r.getString(2), r.getString(3)));
              }
              return CalibrationParsing.renderEquivalenceItems(items);
            },
        DataTypes.StringType);
    udf.register(
        "cal_argmax",
        (UDF1<Seq<Row>, Row>)
            s -> {
              List<Row> sorted = new ArrayList<>(JavaConverters.seqAsJavaList(s));
              sorted.sort((a, b) -> Integer.compare(a.getInt(0), b.getInt(0)));
              List<String> answers = new ArrayList<>();
              List<Double> probs = new ArrayList<>();
              for (Row r : sorted) {
                answers.add(r.getString(1));
                probs.add(r.isNullAt(2) ? null : r.getDouble(2));
              }
              int i = CalibrationParsing.argmaxIndex(probs);
              return i < 0 ? null : RowFactory.create(answers.get(i), probs.get(i));
            },
        new StructType()
            .add("answer", DataTypes.StringType)
            .add("probability", DataTypes.DoubleType));
  }

  private static List<String> list(Seq<String> s) {
    return new ArrayList<>(JavaConverters.seqAsJavaList(s));
  }

  private static Row row(CalibrationParsing.Parsed<?> p) {
    return RowFactory.create(p.value(), p.reasoning(), p.error());
  }

  private static DataType parsed(DataType value) {
    return new StructType()
        .add("value", value)
        .add("reasoning", DataTypes.StringType)
        .add("error", DataTypes.StringType);
  }
}
