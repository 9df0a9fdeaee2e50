#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/rules -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
scripts/ensure_postgres.sh
uv run ruff check .
uv run ruff format --check .
# Two workers on the two cores: the sandbox tests mostly wait on I/O and rate limits.
exec uv run pytest -n "${PYTEST_WORKERS:-2}" "$@"
