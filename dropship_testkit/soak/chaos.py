"""What goes wrong during a soak: faults in every API, a misbehaving LLM, and run workers killed mid-run."""

import os
import random
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dropship_sandbox.world import API_NAMES
from dropship_testkit.soak.dagster_api import DagsterApi

# Moderate: every kind of fault shows up many times in a few minutes, yet most calls still succeed, so the
# pipelines make progress and the retries (not a wall of errors) are what is exercised.
FAULTS: dict[str, float] = {
    "error_rate": 0.07,
    "rate_limit_rate": 0.07,
    "timeout_rate": 0.05,
    "lost_response_rate": 0.07,
    "timeout_seconds": 2.0,
}
LLM_MISBEHAVIOUR_MODES = ("invalid_json", "empty", "off_topic", "hallucinate", "obey_injection", "refusal")
LLM_MISBEHAVIOUR_RATE = 0.05
# The soak's store life: shares far above a store's usual ones (REALISTIC_RATES in the sandbox), so a short
# soak of ~15 orders meets each event at least once, with the world seed `SOAK_WORLD_SEED`: orders draw
# their fates from (seed, order id), and ids are sequential, so the first ten orders of that seed hold a
# risky order, invalid addresses, early and late cancellations, a CJ cancellation and stock-out, a lost
# parcel, a refund and a chargeback on orders not cancelled (whatever the timing of the runs).
STORE_LIFE: dict[str, dict[str, float]] = {
    "aftermath": {
        "customer_cancel_rate": 0.3,
        "store_refund_rate": 0.35,
        "chargeback_rate": 0.25,
        "supplier_cancel_rate": 0.2,
        "supplier_stockout_rate": 0.2,
    },
    "parcels": {"lost_rate": 0.3},
    "risk": {"order_risk_rate": 0.15, "invalid_address_rate": 0.15},
}
SOAK_WORLD_SEED = 151


class SandboxControl:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        response = httpx.request(method, f"{self.base_url}/_sandbox{path}", json=body, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def faults_on(self) -> None:
        for api in API_NAMES:
            self.call("POST", f"/faults/{api}", {**FAULTS, "expire_tokens": False})
        self.store_life_on()

    def store_life_on(self) -> None:
        """The store's life after checkout at the soak's rates (`STORE_LIFE`, far above a store's usual
        share, so ~15 orders meet every event): customers cancel, the staff refunds, cardholders charge
        back, CJ cancels and runs out of stock (dropship_sandbox/order_aftermath.py); parcels get lost,
        stall or are re-labelled, postage is re-weighed, customers pay by PayPal and in their own currency
        (parcels.py); Shopify flags orders as high fraud risk and addresses as invalid (order_risk.py)."""
        self.call("POST", "/aftermath/rates", STORE_LIFE["aftermath"])
        self.call("POST", "/parcels/settings", {"realistic": True, **STORE_LIFE["parcels"]})
        self.call("POST", "/settings", STORE_LIFE["risk"])

    def close_checkout(self) -> None:
        """No new order from now on (organic, ads or control), and no new customer message: the settle
        phase moves the clock on weeks for what follows checkout, with nothing new to catch up with."""
        self.call("POST", "/orders/settings", {"checkout_closed": True})
        self.call("POST", "/helpdesk", {"daily_rate": 0.0})

    def advance_clock(self, days: float) -> dict[str, Any]:
        """Move the world's clock on, then hold it there (speed 0): every event due on the way happens."""
        self.call("POST", "/clock", {"speed": 0})
        # Weeks of the world happen in this one request (every simulator catches up): give it time.
        return self.call("POST", "/clock", {"advance_seconds": days * 86400}, timeout=600)

    def truth(self) -> dict[str, Any]:
        return self.call("GET", "/aftermath/truth")

    def happen(self, event: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", f"/aftermath/{event}", body)

    def expire_tokens(self, api: str) -> None:
        self.call("POST", f"/faults/{api}", {"expire_tokens": True})

    def reauthorize(self, api: str) -> None:
        """End a token expiry. CJ's is one-shot (a fresh token works), but the ad platforms' long-lived
        tokens stay revoked while the switch is on: left on, it would be an outage, not an expiry."""
        self.call("POST", f"/faults/{api}", {"expire_tokens": False})

    def misbehave(self, mode: str) -> None:
        self.call("POST", "/llm", {"mode": mode, "rate": LLM_MISBEHAVIOUR_RATE})

    def calm(self) -> None:
        """Every fault off and the LLM honest: the settle phase must be able to finish everything."""
        for api in API_NAMES:
            self.call("POST", f"/faults/{api}", {"reset": True})
        self.call("POST", "/llm", {"mode": "good", "rate": 0.0})

    def freeze(self) -> dict[str, Any]:
        """Stop the world's clock: no new orders or messages, so the final runs catch up with all of it."""
        return self.call("POST", "/clock", {"speed": 0})

    def audit(self) -> dict[str, dict[str, int]]:
        return self.call("GET", "/audit")


@dataclass
class Kill:
    run_id: str
    job_name: str
    how: str  # sigkill | terminate
    pid: int | None


def _is_our_run_worker(pid: int, session: int) -> bool:
    """Only a process of our own `dagster dev` session that is a spawned multiprocessing child."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        return os.getsid(pid) == session and b"multiprocessing" in cmdline
    except (OSError, ProcessLookupError):
        return False


@dataclass
class RunKiller:
    """Kills one in-progress run at random moments (exponential gaps of `mean_interval_s` on average)."""

    api: DagsterApi
    session: int
    mean_interval_s: float
    seed: int = 7
    kills: list[Kill] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        if self.mean_interval_s <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="run-killer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)

    def _loop(self) -> None:
        rng = random.Random(self.seed)
        while not self._stop.wait(rng.expovariate(1.0 / self.mean_interval_s)):
            try:
                self.kill_one(rng)
            except Exception as exc:  # a webserver hiccup must not end the soak; it is reported
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def kill_one(self, rng: random.Random) -> Kill | None:
        # A retry is not retried again, and discovery's next trigger is an hour away: killing retries would
        # starve the soak of listings (so of orders and messages) instead of testing resume-after-kill.
        started = [r for r in self.api.runs(("STARTED",)) if "dagster/retry_number" not in r.tags]
        if not started:
            return None
        run = rng.choice(started)
        pid = self.api.worker_pid(run.run_id)
        if pid is not None and _is_our_run_worker(pid, self.session):
            os.kill(pid, signal.SIGKILL)  # a real crash: no cleanup, no event, the ledger is half-written
            kill = Kill(run.run_id, run.job_name, "sigkill", pid)
        else:
            # The worker has not logged its pid yet (or already exited): the API's own termination.
            self.api.terminate(run.run_id)
            kill = Kill(run.run_id, run.job_name, "terminate", None)
        self.kills.append(kill)
        return kill
