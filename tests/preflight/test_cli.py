"""`dagster job execute -j preflight_job` prints the readiness table (what an operator runs before going
live), here against a sandbox whose CJ wallet is empty: the failure and its fix are in the output."""

import os
import subprocess
import sys
from pathlib import Path

DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_preflight_job_prints_the_readiness_table(sandbox, store_url, tmp_path):
    sandbox.control("POST", "/settings", {"cj_balance": 0})
    env = {**os.environ, **sandbox.env(store_url, tmp_path / "tokens"), "WEBHOOK_BASE_URL": ""}
    env.pop("DAGSTER_HOME", None)  # a throwaway instance
    done = subprocess.run(
        [DAGSTER, "job", "execute", "-m", "dropship_pipelines.definitions", "-j", "preflight_job"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "Readiness" in out and "wallet balance" in out and "FAIL" in out
    assert "top up the CJ wallet" in out and "WEBHOOK_BASE_URL is not set" in out
    assert "logistics US" in out and "OK" in out
