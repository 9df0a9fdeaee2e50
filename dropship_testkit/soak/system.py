"""Start and stop the whole system (sandbox, dashboard + webhook receiver, `dagster dev`) in a new folder."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from dropship_testkit.sandbox_server import free_port, sandbox_env

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_GRACE_S = 30.0


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def stop(self) -> int | None:
        """SIGTERM to the service's own process group, SIGKILL if it outlives the grace period.

        `dagster dev` started from a script ignores a plain SIGTERM to itself and leaves its children (the
        code server, the daemon and run workers) behind; the group signal reaches all of them.
        """
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(10)
        # Run workers may linger in the group after their parent exits; they hold the SQLite files.
        self._signal_group(signal.SIGKILL)
        self.log.close()
        return self.process.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


@dataclass
class SoakSystem:
    """One fresh world: every file under `workdir`, every port free at start."""

    workdir: Path
    speed: float
    sandbox_port: int = field(default_factory=free_port)
    dashboard_port: int = field(default_factory=free_port)
    dagster_port: int = field(default_factory=free_port)
    services: list[Service] = field(default_factory=list)
    # The Dagster instance's dagster.yaml; None copies the repository's (SQLite storage).
    instance_yaml: str | None = None
    dashboard_token: str = field(default_factory=lambda: "soak-" + os.urandom(12).hex())
    world_seed: int | None = None  # the new world's seed (None: the sandbox's default)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def dagster_url(self) -> str:
        return f"http://127.0.0.1:{self.dagster_port}"

    @property
    def world_path(self) -> Path:
        return self.workdir / "sandbox" / "world.db"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.workdir / 'data' / 'store.db'}"

    @property
    def dagster_session(self) -> int | None:
        """Session id of `dagster dev` (its own session leader): run workers we may kill carry it."""
        for service in self.services:
            if service.name == "dagster":
                return service.process.pid
        return None

    def env(self) -> dict[str, str]:
        """The pipelines' environment, as `.env.sandbox` sets it, pointed at this world's ports and files."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "DASHBOARD_"))}
        env.update(sandbox_env(self.sandbox_url, self.store_url, self.workdir / "data" / "tokens"))
        env.update(
            {
                "SANDBOX_PORT": str(self.sandbox_port),
                "DROPSHIP_MEDIA_DIR": str(self.workdir / "data" / "media"),
                "DAGSTER_HOME": str(self.workdir / "dagster_home"),
                "DAGSTER_HOST": "127.0.0.1",
                "DAGSTER_PORT": str(self.dagster_port),
                "DASHBOARD_PORT": str(self.dashboard_port),
                "DASHBOARD_HOST": "127.0.0.1",
                "DASHBOARD_TOKEN": self.dashboard_token,
                # The pipelines subscribe the dashboard's receiver at start (the store sends only there).
                "WEBHOOK_BASE_URL": f"http://127.0.0.1:{self.dashboard_port}",
                # The store's own cancellation buffer (an hour of the world's clock: seconds at the soak's
                # speed), so customers cancel both before the supplier is paid and after.
                "ORDER_GATE_BUFFER_MINUTES": "60",
            }
        )
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / "logs" / f"{name}.log").open("wb")
        # A session of its own per service: stopped as a group, and never hit by our own Ctrl-C twice.
        process = subprocess.Popen(
            args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.services.append(Service(name, process, log))

    def _wait_for(self, url: str, name: str, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for service in self.services:
                if service.process.poll() is not None:
                    raise RuntimeError(
                        f"{service.name} exited early; see {self.workdir}/logs/{service.name}.log"
                    )
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} did not come up at {url}; see {self.workdir}/logs/")

    def start(self) -> None:
        for sub in ("logs", "sandbox", "data/tokens", "data/media", "dagster_home"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        if self.instance_yaml is None:
            shutil.copy(REPO_ROOT / "dagster.yaml", self.workdir / "dagster_home" / "dagster.yaml")
        else:
            (self.workdir / "dagster_home" / "dagster.yaml").write_text(self.instance_yaml)
        env = self.env()
        python = sys.executable
        self._spawn(
            "sandbox",
            [
                python, "-m", "dropship_sandbox", "--port", str(self.sandbox_port),
                "--state", str(self.world_path), "--speed", str(self.speed),
                *(["--seed", str(self.world_seed)] if self.world_seed is not None else []),
            ],
            env,
        )  # fmt: skip
        self._wait_for(f"{self.sandbox_url}/_sandbox/health", "sandbox")
        self._spawn("dashboard", [python, "-m", "dashboard"], env)
        dagster = str(Path(python).with_name("dagster"))
        self._spawn(
            "dagster",
            [
                dagster,
                "dev",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.dagster_port),
                "-w",
                str(REPO_ROOT / "workspace.yaml"),
            ],
            env,
        )
        self._wait_for(f"{self.dagster_url}/server_info", "dagster dev", timeout_s=180)
        self._wait_for(f"http://127.0.0.1:{self.dashboard_port}/api/health", "dashboard")

    def stop(self) -> dict[str, int | None]:
        """Stop in reverse order of start: runs first (they call the sandbox), the world last."""
        codes = {service.name: service.stop() for service in reversed(self.services)}
        self.services.clear()
        return codes
