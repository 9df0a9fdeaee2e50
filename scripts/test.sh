#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/rules -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
scripts/ensure_postgres.sh
uv run ruff check .
uv run ruff format --check .
exec uv run pytest "$@"
