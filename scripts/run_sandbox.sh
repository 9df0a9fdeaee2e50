#!/usr/bin/env bash
# The whole system on the sandbox, from a fresh machine: no credentials, no internet.
#   sandbox world (CJ, Shopify, OpenAI, Meta, TikTok, helpdesk on loopback) -> :8710
#   dashboard (API + web app + Shopify webhook receiver)                   -> :8720
#   dagster dev (webserver + daemon: schedules and sensors on)              -> :3000
# Ctrl-C stops everything. State survives restarts in .sandbox/ (world), .data/ (store), .dagster_home/.
# Settings: SANDBOX_SPEED (simulated seconds per real second, default 120), SANDBOX_START_DAYS_AGO (a new
# world's clock starts that many days before now, default 5: it passes the real date after about an hour,
# so the daily partitions and the hourly ad-metrics pulls find the world's days), DASHBOARD_TOKEN, DAGSTER_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
DROPSHIP_SKIP_BROWSER=1 scripts/install.sh

set -a
# shellcheck disable=SC1091
. ./.env.sandbox
set +a
export DAGSTER_HOME="$ROOT/.dagster_home"
mkdir -p "$DAGSTER_HOME" .data .sandbox artifacts/logs
cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
DAGSTER_PORT="${DAGSTER_PORT:-3000}"
DASHBOARD_PORT="${DASHBOARD_PORT:-8720}"
export DAGSTER_PORT DASHBOARD_PORT
export DASHBOARD_TOKEN="${DASHBOARD_TOKEN:-$(uv run python -c 'import secrets; print(secrets.token_urlsafe(18))')}"
VENV="$ROOT/.venv/bin"

# Each service in its own process group (set -m): `dagster dev` ignores SIGINT/SIGTERM when started from a
# script without job control, and its children would hang on exit.
set -m
PIDS=()
stop_all() {
    trap - INT TERM EXIT
    echo; echo "stopping..."
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all INT TERM EXIT

wait_for() {  # url, name
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.5
    done
    echo "$2 did not come up; see artifacts/logs/" >&2
    exit 1
}

"$VENV/python" -m dropship_sandbox --port "$SANDBOX_PORT" --state .sandbox/world.db \
    --speed "${SANDBOX_SPEED:-120}" --start-days-ago "${SANDBOX_START_DAYS_AGO:-5}" --webhook-url "http://127.0.0.1:$DASHBOARD_PORT/webhooks/shopify" \
    >artifacts/logs/sandbox.log 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SANDBOX_PORT/_sandbox/health" sandbox

"$VENV/python" -m dashboard >artifacts/logs/dashboard.log 2>&1 &
PIDS+=($!)

"$VENV/dagster" dev -h 127.0.0.1 -p "$DAGSTER_PORT" -w workspace.yaml >artifacts/logs/dagster.log 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$DAGSTER_PORT/server_info" "dagster dev"
wait_for "http://127.0.0.1:$DASHBOARD_PORT/api/health" dashboard

# Fill the store now rather than at the top of the hour; the schedules and sensors take it from there.
"$VENV/python" -c 'import os; from dashboard.api.runs import DagsterLauncher
print("first discovery run:", DagsterLauncher("127.0.0.1", int(os.environ["DAGSTER_PORT"])).launch("product_discovery_job"))'

cat <<INFO

  Dagster UI        http://127.0.0.1:$DAGSTER_PORT
  Dashboard         http://127.0.0.1:$DASHBOARD_PORT   (token: $DASHBOARD_TOKEN)
  Sandbox control   http://127.0.0.1:$SANDBOX_PORT/_sandbox/docs
  Logs              artifacts/logs/

  Ctrl-C stops everything.
INFO
set +m
wait
