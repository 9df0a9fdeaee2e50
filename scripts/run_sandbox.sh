#!/usr/bin/env bash
# The whole system on the sandbox, from a fresh machine: no credentials, no internet.
#   sandbox world (CJ, Shopify, OpenAI, Meta, TikTok, helpdesk on loopback) -> :8710
#   dashboard (API + web app + Shopify webhook receiver)                   -> :8720
#   dagster dev (webserver + daemon: schedules and sensors on)              -> :3000
# Ctrl-C (or SIGTERM) stops everything within seconds. State survives restarts in .sandbox/ (world), .data/
# (store), .dagster_home/ (under DROPSHIP_STATE_DIR, default the checkout).
# Settings: SANDBOX_SPEED (simulated seconds per real second, default 120), SANDBOX_START_DAYS_AGO (a new
# world's clock starts that many days before now, default 5: it passes the real date after about an hour,
# so the daily partitions and the hourly ad-metrics pulls find the world's days), DASHBOARD_TOKEN,
# DAGSTER_PORT, DASHBOARD_PORT, SANDBOX_PORT, DROPSHIP_PARTITIONS_START (default: the world's first day),
# DROPSHIP_SKIP_INSTALL=1 (the environment is installed already), STOP_GRACE_SECONDS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
STATE="$(mkdir -p "${DROPSHIP_STATE_DIR:-$ROOT}" && cd "${DROPSHIP_STATE_DIR:-$ROOT}" && pwd)"
[ "${DROPSHIP_SKIP_INSTALL:-0}" = "1" ] || DROPSHIP_SKIP_BROWSER=1 scripts/install.sh

WANTED_SANDBOX_PORT="${SANDBOX_PORT:-}"
WANTED_WEBHOOK_BASE_URL="${WEBHOOK_BASE_URL:-}"  # .env.sandbox names the default port's
set -a
# shellcheck disable=SC1091
. ./.env.sandbox
set +a
if [ -n "$WANTED_SANDBOX_PORT" ] && [ "$WANTED_SANDBOX_PORT" != "$SANDBOX_PORT" ]; then
    # .env.sandbox spells the sandbox's port in every endpoint: move them all to the one asked for.
    for var in $(compgen -e); do
        value="${!var}"
        if [[ "$value" == *"127.0.0.1:$SANDBOX_PORT"* ]]; then
            export "$var=${value//127.0.0.1:$SANDBOX_PORT/127.0.0.1:$WANTED_SANDBOX_PORT}"
        fi
    done
    export SANDBOX_PORT="$WANTED_SANDBOX_PORT"
fi
export STORE_DATABASE_URL="sqlite:///$STATE/.data/store.db"
export DROPSHIP_TOKEN_CACHE_DIR="$STATE/.data/tokens"
export DROPSHIP_MEDIA_DIR="$STATE/.data/media"
export DAGSTER_HOME="$STATE/.dagster_home"
LOGS="$STATE/artifacts/logs"
mkdir -p "$DAGSTER_HOME" "$STATE/.data" "$STATE/.sandbox" "$LOGS"
cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# The daily partitions start on the world's first day, so the UI shows its days and no months of "missing"
# ones. Fixed when the world is made (every Dagster process must read the same date).
if [ -z "${DROPSHIP_PARTITIONS_START:-}" ]; then
    if [ ! -f "$STATE/.sandbox/partitions_start" ]; then
        date -u -d "-${SANDBOX_START_DAYS_AGO:-5} days" +%F >"$STATE/.sandbox/partitions_start"
    fi
    DROPSHIP_PARTITIONS_START="$(cat "$STATE/.sandbox/partitions_start")"
fi
export DROPSHIP_PARTITIONS_START
DAGSTER_PORT="${DAGSTER_PORT:-3000}"
DASHBOARD_PORT="${DASHBOARD_PORT:-8720}"
export DAGSTER_PORT DASHBOARD_PORT
# The dashboard's webhook receiver: the pipelines subscribe it at Shopify and CJ when they start (the
# sandbox, like the real services, delivers only to subscribed URLs).
export WEBHOOK_BASE_URL="${WANTED_WEBHOOK_BASE_URL:-http://127.0.0.1:$DASHBOARD_PORT}"
export DASHBOARD_TOKEN="${DASHBOARD_TOKEN:-$(uv run python -c 'import secrets; print(secrets.token_urlsafe(18))')}"
VENV="$ROOT/.venv/bin"

# Each service in its own process group (set -m): `dagster dev` ignores SIGINT/SIGTERM when started from a
# script without job control, and its children would hang on exit. A stop sends SIGTERM to every group,
# waits STOP_GRACE_SECONDS for them to end, then SIGKILLs what is left (dagster dev once outlived SIGTERM
# for minutes).
set -m
PIDS=()
alive() {
    for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && return 0; done
    return 1
}
stop_all() {
    trap - INT TERM EXIT
    echo; echo "stopping..."
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 1 $((${STOP_GRACE_SECONDS:-5} * 10))); do
        alive || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "stopped."
}
trap stop_all INT TERM EXIT

wait_for() {  # url, name
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.5
    done
    echo "$2 did not come up; see $LOGS/" >&2
    exit 1
}

"$VENV/python" -m dropship_sandbox --port "$SANDBOX_PORT" --state "$STATE/.sandbox/world.db" \
    --speed "${SANDBOX_SPEED:-120}" --start-days-ago "${SANDBOX_START_DAYS_AGO:-5}" \
    >"$LOGS/sandbox.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SANDBOX_PORT/_sandbox/health" sandbox
# A store's usual life (SANDBOX_STORE_LIFE=0 for a world where nothing goes wrong): risky orders and bad
# addresses for the gate, cancellations, refunds and chargebacks, CJ cancellations and stock-outs, stalled,
# lost and re-labelled parcels, at the rates dropship_sandbox/order_aftermath.py and parcels.py call realistic.
if [ "${SANDBOX_STORE_LIFE:-1}" != "0" ]; then
    control() { curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$2" \
        "http://127.0.0.1:$SANDBOX_PORT/_sandbox$1"; }
    control /aftermath/rates '{"realistic": true}'
    control /parcels/settings '{"realistic": true}'
    control /settings '{"order_risk_rate": 0.02, "invalid_address_rate": 0.02}'
fi

"$VENV/python" -m dashboard >"$LOGS/dashboard.log" 2>&1 &
PIDS+=($!)

"$VENV/dagster" dev -h 127.0.0.1 -p "$DAGSTER_PORT" -w "$ROOT/workspace.yaml" >"$LOGS/dagster.log" 2>&1 &
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
  Logs              $LOGS/

  Ctrl-C stops everything.
INFO
set +m
# Until a service ends on its own (then stop the others) or a signal comes (the trap stops them all).
wait -n "${PIDS[@]}" || true
