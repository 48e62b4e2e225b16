#!/usr/bin/env bash
# Run qaforge in Spark local mode from this checkout, with no Spark installation:
#   submit/local.sh run ingest            submit/local.sh sql "select split, count(*) from triviaqa.questions group by split"
#   submit/local.sh plan ingest           submit/local.sh tables          submit/local.sh --help
# Builds the jar on first use (mvn package), then runs it through SparkSubmit on the Spark jars Maven
# laid out in target/spark-dist/jars (the same layout as an official Spark distribution).
# conf/<pipeline>.conf is layered automatically for `run` and `plan`.
# Environment: QAFORGE_MASTER (default local[*]), QAFORGE_DRIVER_MEMORY (default 4g).
# Run it from the project root: relative paths in settings (data-samples/, lake/) resolve from there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

find_jar() { ls "$ROOT"/target/qaforge*.jar 2>/dev/null | grep -v '/original-' | head -n 1 || true; }
JAR="$(find_jar)"
SPARK_JARS="$ROOT/target/spark-dist/jars"
if [[ -z "$JAR" || ! -d "$SPARK_JARS" ]]; then
  echo "qaforge: building the application jar (first run only): mvn -B -q -DskipTests package" >&2
  (cd "$ROOT" && mvn -B -q -DskipTests package)
  JAR="$(find_jar)"
fi

args=("$@")
if [[ $# -ge 2 && ( "$1" == "run" || "$1" == "plan" ) && -f "$ROOT/conf/$2.conf" ]]; then
  args+=(--conf "$ROOT/conf/$2.conf")
fi

cmd=(java "-Xmx${QAFORGE_DRIVER_MEMORY:-4g}" @"$ROOT/submit/java17.opts"
  "-Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties"
  -cp "$SPARK_JARS/*"
  org.apache.spark.deploy.SparkSubmit
  --master "${QAFORGE_MASTER:-local[*]}"
  --properties-file "$ROOT/conf/spark-defaults.conf"
  --class io.qaforge.Main
  "$JAR" "${args[@]}")
echo "+ ${cmd[*]}" >&2
exec "${cmd[@]}"
