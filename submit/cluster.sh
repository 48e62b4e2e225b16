#!/usr/bin/env bash
# Submit qaforge to a Spark cluster (standalone, YARN, Kubernetes) with spark-submit:
#   QAFORGE_MASTER=spark://host:7077 submit/cluster.sh run ingest --set output.root=s3a://bucket/lake
#
# Environment:
#   QAFORGE_MASTER       (required) master URL: spark://host:7077, yarn, k8s://https://host:443
#   QAFORGE_DEPLOY_MODE  client (default) or cluster
#   SPARK_HOME           a Spark 3.5.x installation; uses $SPARK_HOME/bin/spark-submit, or, when it has
#                        only jars/ (as target/spark-dist does), runs SparkSubmit from those jars
#   QAFORGE_SPARK_CONF   extra "--conf k=v" words for spark-submit (e.g. executor sizes), space-separated
#   QAFORGE_JAR          the application jar (default: target/qaforge.jar, built if missing)
# Secrets are never passed as Spark conf (it shows in the UI and event logs): export OPENAI_API_KEY /
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the driver's environment; qaforge hands S3 credentials
# to executors inside the job's Hadoop configuration at run time. In cluster deploy mode the driver
# runs on a worker, so the secrets must be in that worker's environment (spark-env.sh, a Kubernetes
# secret, an instance profile).
# In cluster deploy mode, --conf FILE paths must exist on the driver's machine: prefer --set, or put
# the files on shared storage.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${QAFORGE_MASTER:?set QAFORGE_MASTER to the master URL of the cluster, e.g. spark://host:7077}"
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5.x installation (or target/spark-dist)}"
MODE="${QAFORGE_DEPLOY_MODE:-client}"

JAR="${QAFORGE_JAR:-}"
if [[ -z "$JAR" ]]; then
  JAR="$(ls "$ROOT"/target/qaforge*.jar 2>/dev/null | grep -v '/original-' | head -n 1 || true)"
  if [[ -z "$JAR" ]]; then
    echo "qaforge: building the application jar: mvn -B -q -DskipTests package" >&2
    (cd "$ROOT" && mvn -B -q -DskipTests package)
    JAR="$(ls "$ROOT"/target/qaforge*.jar | grep -v '/original-' | head -n 1)"
  fi
fi

OPENS="$(grep -v '^#' "$ROOT/submit/java17.opts" | tr '\n' ' ')"
if [[ -x "$SPARK_HOME/bin/spark-submit" ]]; then
  submit=("$SPARK_HOME/bin/spark-submit")
else
  # a jars-only Spark (like target/spark-dist): the driver is this JVM in client mode
  submit=(java -Xmx"${QAFORGE_DRIVER_MEMORY:-2g}" @"$ROOT/submit/java17.opts"
    "-Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties"
    -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit)
fi

extra=()
if [[ -n "${QAFORGE_SPARK_CONF:-}" ]]; then
  read -r -a extra <<< "$QAFORGE_SPARK_CONF"
fi

cmd=("${submit[@]}"
  --master "$QAFORGE_MASTER"
  --deploy-mode "$MODE"
  --name qaforge
  --properties-file "$ROOT/conf/spark-defaults.conf"
  --conf "spark.driver.extraJavaOptions=$OPENS"
  --conf "spark.executor.extraJavaOptions=$OPENS"
  --conf spark.standalone.submit.waitAppCompletion=true
  "${extra[@]}"
  --class io.qaforge.Main
  "$JAR" "$@")
echo "+ ${cmd[*]}" >&2
exec "${cmd[@]}"
