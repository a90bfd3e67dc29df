#!/usr/bin/env bash
# Starts and stops the real engines the test suites run against (no Docker here):
#   scripts/engines.sh start   -> PostgreSQL on 127.0.0.1:${REELKIT_PG_PORT:-54329} and schemathesis
#                                 in .reelkit-engines/venv; prints the exports
#   scripts/engines.sh stop
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

case "${1:-}" in
  start)
    start_postgres
    install_schemathesis
    ;;
  stop) stop_postgres ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
