"""The demo launcher stops everything it started, within seconds, when told to stop (SIGTERM, as `kill` or a
service manager sends it; Ctrl-C reaches the script the same way). `dagster dev` once outlived a stop for
minutes; the launcher now ends each service's process group and SIGKILLs whatever outlives the grace."""

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from dropship_testkit.demo_audit import in_session
from dropship_testkit.sandbox_server import free_port

ROOT = Path(__file__).parents[1]
BANNER = "Ctrl-C stops everything."


def kill_all(session: int) -> None:
    for pid in in_session(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.system
@pytest.mark.skipif(not (ROOT / ".venv/bin/dagster").exists(), reason="needs the installed environment")
def test_sigterm_ends_every_process_of_the_demo_within_seconds(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DAGSTER_", "STORE_", "DROPSHIP_", "SANDBOX_", "DASHBOARD_"))
    }
    env |= {
        "DROPSHIP_SKIP_INSTALL": "1",
        "DROPSHIP_STATE_DIR": str(tmp_path),
        "SANDBOX_PORT": str(free_port()),
        "DAGSTER_PORT": str(free_port()),
        "DASHBOARD_PORT": str(free_port()),
        "SANDBOX_SPEED": "1",
        "DASHBOARD_TOKEN": "stop-test-token-0123456789",
    }
    script = subprocess.Popen(
        ["bash", str(ROOT / "scripts/run_sandbox.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the session holds everything the script starts, in any process group
    )
    lines: queue.Queue[str] = queue.Queue()
    assert script.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in script.stdout], daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any(BANNER in line for line in output):
            assert script.poll() is None, "".join(output) + _logs(tmp_path)
            assert time.monotonic() < deadline, "did not come up:\n" + "".join(output) + _logs(tmp_path)
            with contextlib.suppress(queue.Empty):
                output.append(lines.get(timeout=1))
        started = in_session(script.pid)
        assert len(started) >= 4, started  # the script, the sandbox, the dashboard, dagster dev (+ its own)

        script.send_signal(signal.SIGTERM)
        stopped_by = time.monotonic() + 15
        while in_session(script.pid) and time.monotonic() < stopped_by:
            time.sleep(0.2)
        left = in_session(script.pid)
        assert not left, f"still running 15 s after SIGTERM: {_commands(left)}"
        assert script.wait(timeout=5) is not None
    finally:
        kill_all(script.pid)


def _commands(pids: set[int]) -> list[str]:
    commands = []
    for pid in pids:
        with contextlib.suppress(OSError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
    return commands


def _logs(state: Path) -> str:
    logs = state / "artifacts/logs"
    return "".join(f"\n--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted(logs.glob("*.log")))
