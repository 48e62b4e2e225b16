package io.qaforge.it;

import org.apache.spark.sql.SparkSession;

/**
 * A user's own program: a plain SparkSession with Delta and the embedded Hive metastore qaforge
 * writes, built without any qaforge code. {@link LauncherTest} runs it as a child JVM on the Spark
 * distribution's jars plus the application jar, to prove that tables written by {@code run ingest}
 * are visible by name to any Spark program pointed at the same catalog folder.
 *
 * <p>Usage: {@code UserSessionProbe <catalogDir> <query>}; prints {@code result=<first column of
 * the first row>}.
 */
public final class UserSessionProbe {
  private UserSessionProbe() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: UserSessionProbe <catalogDir> <query>");
      System.exit(2);
    }
    String catalog = args[0];
    SparkSession spark =
        SparkSession.builder()
            .appName("user-session-probe")
            .master("local[1]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config(
                "spark.sql.catalog.spark_catalog",
                "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config(
                "spark.hadoop.javax.jdo.option.ConnectionURL",
                "jdbc:derby:;databaseName=" + catalog + "/metastore_db;create=true")
            .config("spark.sql.warehouse.dir", catalog + "/warehouse")
            .enableHiveSupport()
            .getOrCreate();
    try {
      Object value = spark.sql(args[1]).first().get(0);
      System.out.println("result=" + value);
    } finally {
      spark.stop();
    }
  }
}
