#!/usr/bin/env bash
# Demo audit: scripts/run_sandbox.sh (a new world on free ports, or --attach to one running) for N minutes,
# the README's `dagster job execute` commands run beside its daemon at every check, the KPI cards checked
# against the daily tables and the campaign tables, then the sandbox's audit: no duplicate of any kind.
#   scripts/demo_audit.sh --minutes 30 --check-every 120 [--json artifacts/demo-audit.json] [--attach --token T]
# Exit status 1 on a persisting disagreement, a duplicate or a failed CLI run.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m dropship_testkit.demo_audit "$@"
