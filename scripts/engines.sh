#!/usr/bin/env bash
# Starts and stops the real engines the test suites run against (no Docker here):
#   scripts/engines.sh start   -> PostgreSQL on 127.0.0.1:${REELKIT_PG_PORT:-54329}, schemathesis
#                                 in .reelkit-engines/venv, versitygw (S3) on 127.0.0.1:${REELKIT_S3_PORT:-57070},
#                                 Apache Kafka on 127.0.0.1:${REELKIT_KAFKA_PORT:-59092}; prints the exports
#   scripts/engines.sh stop
#   scripts/engines.sh start s3 kafka   -> only the engines named
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/.reelkit-engines"
PG_PORT="${REELKIT_PG_PORT:-54329}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"

pg_run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  [ -x "$PG_BIN/postgres" ] || { echo "postgresql server binaries not found (apt-get install postgresql)" >&2; return 1; }
  mkdir -p "$STATE"
  local data="$STATE/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres "$STATE"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    pg_run "$PG_BIN/initdb" -D "$data" -U reelkit --auth=trust -E UTF8 >/dev/null
  fi
  # Already running (a second `start` in the same checkout): reuse it.
  pg_run "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1 ||
    pg_run "$PG_BIN/pg_ctl" -D "$data" -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" -l "$STATE/pg.log" -w start >/dev/null
  for _ in $(seq 1 30); do
    if pg_run "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; then break; fi
    sleep 1
  done
  psql -h 127.0.0.1 -p "$PG_PORT" -U reelkit -d postgres -tAc "select 1 from pg_database where datname='reelkit_test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U reelkit -d postgres -qc "create database reelkit_test" >/dev/null
  echo "export DATABASE_URL_TEST=postgres://reelkit@127.0.0.1:$PG_PORT/reelkit_test"
}

# schemathesis (PyPI) fuzzes the HTTP API from its OpenAPI document; a venv keeps it off the system.
SCHEMATHESIS_VERSION=4.32.5
install_schemathesis() {
  local venv="$STATE/venv"
  if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    command -v python3 >/dev/null || { echo "python3 not found: schemathesis suites will be skipped" >&2; return 0; }
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" >&2
  fi
  echo "export SCHEMATHESIS_PATH=$venv/bin/schemathesis"
}

stop_postgres() {
  if [ -f "$STATE/pg/postmaster.pid" ]; then
    pg_run "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null || true
  fi
}

# Apache Kafka from Maven Central (no Docker, no tarball mirror): scripts/kafka/pom.xml names the
# broker jars; Maven collects them (its repository cached in ~/.m2) into .reelkit-engines/kafka/libs.
# One KRaft node in combined mode (broker + controller) with a small heap.
KAFKA_PORT="${REELKIT_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="$((KAFKA_PORT + 1))"
# REELKIT_KAFKA_DIR: a broker of its own (data, config, logs) elsewhere, e.g. one a test restarts.
KAFKA_DIR="${REELKIT_KAFKA_DIR:-$STATE/kafka}"
KAFKA_LIBS="$STATE/kafka-libs"

kafka_java() { java -Xmx128m -Xms64m -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"; }

kafka_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; }

start_kafka() {
  command -v java >/dev/null || { echo "java not found (apt-get install openjdk-17-jre-headless): kafka suites will be skipped" >&2; return 0; }
  command -v mvn >/dev/null || { echo "mvn not found (apt-get install maven): kafka suites will be skipped" >&2; return 0; }
  mkdir -p "$KAFKA_DIR"
  local pom="$ROOT/scripts/kafka/pom.xml"
  if [ ! -f "$KAFKA_LIBS/.pom" ] || ! cmp -s "$pom" "$KAFKA_LIBS/.pom"; then
    rm -rf "$KAFKA_LIBS"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2
    cp "$pom" "$KAFKA_LIBS/.pom"
  fi
  cat >"$KAFKA_DIR/log4j2.properties" <<LOG
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
LOG
  cat >"$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# The default (128 MiB) does not fit the 128 MiB heap.
log.cleaner.dedupe.buffer.size=16777216
PROPS
  # The shared test broker starts empty: every suite makes topics of its own, and thousands of
  # partitions left by earlier runs on a reused machine do not fit the small heap. (A broker of
  # a test's own, REELKIT_KAFKA_DIR, keeps its data across the restarts that test makes.)
  if [ -z "${REELKIT_KAFKA_DIR:-}" ] && ! kafka_answers; then rm -rf "$KAFKA_DIR/data"; fi
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    kafka_java kafka.tools.StorageTool format -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
      -c "$KAFKA_DIR/server.properties" >/dev/null
  fi
  # Already running (a second `start` in the same checkout): reuse it.
  if ! kafka_answers; then
    nohup java -Xmx128m -Xms64m -XX:+UseSerialGC -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/stdout.log" 2>&1 &
    echo $! >"$KAFKA_DIR/pid"
  fi
  for _ in $(seq 1 90); do
    if kafka_answers; then break; fi
    sleep 1
  done
  kafka_answers || { echo "kafka did not start; see $KAFKA_DIR/server.log" >&2; return 1; }
  echo "export KAFKA_BROKERS_TEST=127.0.0.1:$KAFKA_PORT"
}

stop_kafka() {
  local pid
  pid="$(cat "$KAFKA_DIR/pid" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$KAFKA_DIR/pid"
}

# versitygw (an S3-compatible gateway in Go) on its posix backend: real SigV4, multipart, ranges.
# Built once with `go install`; the binary and Go's build and module caches live outside the
# checkout (~/.cache), so a fresh clone on the same machine does not build it again.
VERSITYGW_VERSION=v1.8.0
S3_PORT="${REELKIT_S3_PORT:-57070}"
S3_ACCESS_KEY=reelkit-test
S3_SECRET_KEY=reelkit-test-secret
S3_TEST_BUCKET=reelkit-test
CACHE_DIR="${REELKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reelkit}"

install_versitygw() {
  local bin="$CACHE_DIR/versitygw-$VERSITYGW_VERSION"
  if [ ! -x "$bin/versitygw" ]; then
    command -v go >/dev/null || { echo "go not found: cannot build versitygw" >&2; return 1; }
    mkdir -p "$bin"
    GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  fi
  echo "$bin/versitygw"
}

s3_answers() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3_PORT/" 2>/dev/null | grep -qE '^[1-5][0-9][0-9]$'; }

start_s3() {
  local bin; bin="$(install_versitygw)"
  local root="$STATE/s3"
  mkdir -p "$root/data" "$root/iam" "$root/data/$S3_TEST_BUCKET"
  if ! { [ -f "$root/pid" ] && kill -0 "$(cat "$root/pid")" 2>/dev/null; }; then
    ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
      nohup "$bin" --port "127.0.0.1:$S3_PORT" --iam-dir "$root/iam" --quiet posix "$root/data" \
      >"$root/versitygw.log" 2>&1 </dev/null &
    echo $! >"$root/pid"
  fi
  for _ in $(seq 1 60); do
    if s3_answers; then break; fi
    kill -0 "$(cat "$root/pid")" 2>/dev/null || { cat "$root/versitygw.log" >&2; echo "versitygw exited" >&2; return 1; }
    sleep 0.5
  done
  s3_answers || { echo "versitygw does not answer on 127.0.0.1:$S3_PORT" >&2; return 1; }
  echo "export S3_ENDPOINT_TEST=http://127.0.0.1:$S3_PORT"
  echo "export S3_BUCKET_TEST=$S3_TEST_BUCKET"
  echo "export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY"
  echo "export AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY"
}

stop_s3() {
  local pidfile="$STATE/s3/pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$pidfile"
}

# `start` / `stop` act on every engine; `start s3` (or `stop s3`) on the ones named.
cmd="${1:-}"; shift || true
engines=("$@"); [ ${#engines[@]} -gt 0 ] || engines=(postgres schemathesis s3 kafka)
has() { local e; for e in "${engines[@]}"; do [ "$e" = "$1" ] && return 0; done; return 1; }
case "$cmd" in
  start)
    if has postgres; then start_postgres; fi
    if has schemathesis; then install_schemathesis; fi
    if has s3; then start_s3; fi
    if has kafka; then start_kafka; fi
    ;;
  stop)
    if has kafka; then stop_kafka; fi
    if has s3; then stop_s3; fi
    if has postgres; then stop_postgres; fi
    ;;
  *) echo "usage: $0 start|stop [postgres|schemathesis|s3|kafka ...]" >&2; exit 2 ;;
esac
