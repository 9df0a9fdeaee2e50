#!/usr/bin/env bash
# Soak audit: the whole system (sandbox at high speed, dashboard, `dagster dev`) in a fresh temporary folder,
# faults in every API and run workers killed for N minutes, then the world audited against the ledger.
#   scripts/soak.sh --minutes 15 [--kill-every 60] [--speed 600] [--report artifacts/soak-report.json]
# Exit status 1 when an order, reply, listing or campaign was lost or duplicated, or the money is off by a cent.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m dropship_testkit.soak "$@"
