#!/usr/bin/env bash
# Installs everything the system and its tests need, from the package registries only; safe to re-run.
#   - uv, then the locked Python environment (.venv)
#   - Debian's Chromium (the dashboard's browser test drives it; Playwright never downloads a browser)
#   - the dashboard web app's npm packages, and its production build (served by the dashboard API)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet uv
fi
uv sync --frozen --all-groups --quiet

if ! command -v chromium >/dev/null 2>&1 && [ "${DROPSHIP_SKIP_BROWSER:-0}" != "1" ]; then
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -f dashboard/web/dist/index.html ] || [ -n "$(find dashboard/web/src dashboard/web/index.html dashboard/web/package-lock.json -newer dashboard/web/dist/index.html 2>/dev/null | head -1)" ]; then
    (cd dashboard/web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi
