package io.qaforge.spark;

import io.qaforge.config.Settings;
import org.apache.hadoop.conf.Configuration;

/** Applies the {@code s3.*} settings to a Hadoop configuration for s3a:// paths. */
public final class S3 {
  private S3() {}

  public static void configure(Configuration hadoop, Settings settings) {
    String endpoint = settings.string("s3.endpoint");
    if (!endpoint.isEmpty()) {
      hadoop.set("fs.s3a.endpoint", endpoint);
      hadoop.setBoolean("fs.s3a.connection.ssl.enabled", endpoint.startsWith("https:"));
    }
    String region = settings.string("s3.region");
    if (!region.isEmpty()) {
      hadoop.set("fs.s3a.endpoint.region", region);
    }
    if (settings.bool("s3.path-style-access")) {
      hadoop.setBoolean("fs.s3a.path.style.access", true);
    }
    String access = settings.string("s3.access-key");
    String secret = settings.string("s3.secret-key");
    if (!access.isEmpty() && !secret.isEmpty()) {
      // runtime Hadoop conf only: shipped to executors with each job, never shown in the Spark UI
      hadoop.set(
          "fs.s3a.aws.credentials.provider",
          "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
      hadoop.set("fs.s3a.access.key", access);
      hadoop.set("fs.s3a.secret.key", secret);
    }
  }
}
