"""A sandbox with customers who write about seeded orders, and the support workflow pointed at it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from dropship_sandbox.world import API_NAMES, ApiFaults, WorldSettings
from dropship_testkit.ledger_seed import SeededOrder, seed_support_orders
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox
from dropship_testkit.sandbox_world import customers_write


@dataclass
class SupportWorld:
    sandbox: RunningSandbox
    store_url: str
    orders: list[SeededOrder]
    instance: dg.DagsterInstance

    def run(self) -> dg.ExecuteInProcessResult:
        from dropship_pipelines.assets.support.defs import support_defs
        from dropship_pipelines.resources.catalog import build_resources

        defs = dg.Definitions.merge(support_defs, dg.Definitions(resources=build_resources()))
        job = defs.resolve_job_def("customer_service_job")
        return job.execute_in_process(instance=self.instance, raise_on_error=False)


@pytest.fixture
def support_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., SupportWorld]]:
    """`make(orders=12, daily_rate=0.7)`: orders seeded, one simulated day of customer messages."""
    faults = {name: ApiFaults() for name in API_NAMES}
    faults["helpdesk"] = ApiFaults(rate_limits=False)  # rate limiting has its own test
    with (
        running_sandbox(tmp_path / "world.db", WorldSettings(faults=faults)) as sandbox,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        store_url = f"sqlite:///{tmp_path}/store.db"
        for key, value in sandbox.env(store_url, tmp_path / "tokens").items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("HELPDESK_REQUESTS_PER_SECOND", "0")

        def make(orders: int = 12, daily_rate: float = 0.7) -> SupportWorld:
            seeded = seed_support_orders(store_url, sandbox.world, orders)
            customers_write(sandbox.world, daily_rate)
            return SupportWorld(sandbox, store_url, seeded, instance)

        yield make
