#!/usr/bin/env bash
# Installs everything the system and its tests need, from the package registries only; safe to re-run.
#   - uv, then the locked Python environment (.venv)
#   - Debian's Chromium (the dashboard's browser test drives it; Playwright never downloads a browser)
#   - Debian's Dovecot IMAP server (the email-channel tests start their own from a temporary config)
#   - the dashboard web app's npm packages, and its production build (served by the dashboard API)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet uv
fi
uv sync --frozen --all-groups --compile-bytecode --quiet
# The project's own modules too: uv compiles only what it installs, and with PYTHONDONTWRITEBYTECODE=1 (set
# on this kind of machine) every `dagster job execute` would compile them again (~0.4 CPU s a run).
uv run --frozen python -m compileall -q -j 0 dropship_pipelines dropship_sandbox dropship_testkit \
    dashboard/__init__.py dashboard/__main__.py dashboard/api >/dev/null

if ! command -v chromium >/dev/null 2>&1 && [ "${DROPSHIP_SKIP_BROWSER:-0}" != "1" ]; then
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ] && [ "${DROPSHIP_SKIP_DOVECOT:-0}" != "1" ]; then
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # policy-rc.d exit 101 stops the package from starting the system service (it would hold port 143);
    # the tests never use that service, they run their own Dovecot on a free port.
    POLICY=/usr/sbin/policy-rc.d
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null && $SUDO chmod +x "$POLICY"
        trap '$SUDO rm -f "$POLICY"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd >/dev/null
    # In case a service manager started it anyway (policy-rc.d already present and permissive).
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true
    fi
fi

if [ ! -f dashboard/web/dist/index.html ] || [ -n "$(find dashboard/web/src dashboard/web/index.html dashboard/web/package-lock.json -newer dashboard/web/dist/index.html 2>/dev/null | head -1)" ]; then
    (cd dashboard/web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi
