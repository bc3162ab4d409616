#!/usr/bin/env bash
# Runs the production commands of the README's ops section on this machine, as ops would type them, and fails if
# any of them does: the case store and a Prefect server both on PostgreSQL, the `qixian` process work pool,
# `prefect deploy --all` from deployments/prefect.yaml, two workers, the scan deployment triggered and completed.
# Databases are made for the run (names end in the process id) and dropped after it.
#
# Run: deployments/check-production.sh      (or `make check-production`; PostgreSQL at $PGHOST:$PGPORT, user $PGUSER)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
# shellcheck disable=SC1091
. .venv/bin/activate
WORK=$(mktemp -d)
CASES_DB="qixian_check_$$"
PREFECT_DB="prefect_check_$$"
PORT=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STARTED=()

cleanup() {  # what this script started, by process group: Ctrl-C first (workers stop on it), then for sure
  for pid in "${STARTED[@]}"; do kill -INT -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 40); do
    alive=0
    for pid in "${STARTED[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${STARTED[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -d postgres -q -c "DROP DATABASE IF EXISTS $CASES_DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $PREFECT_DB WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
healthy() { python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$PREFECT_API_URL/health" 2>/dev/null; }

# Prefect talks to nobody else, keeps its files under $WORK, and polls quickly so the check is short.
export PREFECT_HOME="$WORK/prefect" DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_WORKER_QUERY_SECONDS=2 PREFECT_WORKER_PREFETCH_SECONDS=5

step "case store on PostgreSQL"
createdb "$CASES_DB"
export QIXIAN_DB="postgresql://$PGUSER@$PGHOST:$PGPORT/$CASES_DB"
qixian db upgrade
qixian directory load notify/directory.yaml

step "Prefect server on PostgreSQL"
createdb "$PREFECT_DB"
export PREFECT_API_DATABASE_CONNECTION_URL="postgresql+asyncpg://$PGUSER@$PGHOST:$PGPORT/$PREFECT_DB"
setsid prefect server start --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
STARTED+=($!)
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
for _ in $(seq 180); do
  healthy && break
  kill -0 "${STARTED[0]}" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.5
done
healthy || { echo "Prefect server did not come up"; cat "$WORK/server.log"; exit 1; }

step "work pool, deployments"
prefect work-pool create qixian --type process
mkdir -p "$WORK/drop"
QIXIAN_HOME="$ROOT" QIXIAN_DROP="$WORK/drop" prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml

step "two workers"
for name in worker-a worker-b; do
  setsid prefect worker start --pool qixian --name "$name" >"$WORK/$name.log" 2>&1 &
  STARTED+=($!)
done

step "scan, triggered by hand"
if ! prefect deployment run qixian-scan/scan-every-minute --watch --watch-timeout 240 | tee "$WORK/run.log"; then
  tail -n 40 "$WORK"/worker-*.log
  exit 1
fi
grep -q "Flow run finished successfully in 'Completed'" "$WORK/run.log"
echo "production check passed: case store and Prefect server on PostgreSQL, deployments from deployments/prefect.yaml," \
  "the scan completed on $(grep -o 'submitted-flow-run \* worker-[ab]' "$WORK/run.log" | grep -o 'worker-[ab]')"
