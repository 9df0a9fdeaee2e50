"""Shadow mode (DROPSHIP_WRITE_MODE=shadow): the four workflows run for an hour of sandbox time against
the live read endpoints, and not one write reaches the sandbox (counted at the server by its request
tally, with its own rule of what a write is), while every write they meant to make is in the ledger's
shadow_writes: listings, supplier orders, fulfillments, replies, campaigns, budget and status changes.

A live stretch first gives them something to act on: products listed, orders at the supplier (shipped by
the time shadow mode starts), one product's campaigns with days of metrics, customers who wrote.
"""

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.write_mode_tables import shadow_writes
from dropship_sandbox.world import DEFAULT_SIM_START
from dropship_testkit.api_tally import ApiTally
from dropship_testkit.pipelines import SMALL_VIDEO
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox
from dropship_testkit.sandbox_world import customers_write
from tests.conftest import fast_settings
from tests.test_overlap import every_workflow

DISCOVERY = {
    "ops": {
        "product_candidates": {"config": {"detail_lookups_per_run": 8}},
        "store_listings": {"config": {"max_listings_per_run": 2}},
    }
}
ONE_LAUNCH = {"ops": {"ad_creatives": {"config": {**SMALL_VIDEO, "max_per_run": 1}}}}
LAUNCH = {"ops": {"ad_creatives": {"config": SMALL_VIDEO}}}


@pytest.fixture
def tallied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    tally = ApiTally()
    store_url = f"sqlite:///{tmp_path}/store.db"
    with running_sandbox(tmp_path / "world.db", fast_settings(), wrap=tally.wrap) as sandbox:
        for key, value in sandbox.env(store_url, tmp_path / "tokens").items():
            monkeypatch.setenv(key, value)
        sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
        yield sandbox, tally, store_url


def _run(defs: dg.Definitions, job: str, config: dict | None = None, **kw: Any) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        run_config=config or {}, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, **kw
    )


def _metrics(defs: dg.Definitions, sandbox: RunningSandbox) -> None:
    first, last = DEFAULT_SIM_START.date(), sandbox.world.now().date()
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    assert _run(defs, "ad_metrics_job", tags=tags).success


@pytest.mark.system
def test_an_hour_in_shadow_mode_sends_nothing_and_records_every_intended_write(
    tallied, tmp_path, monkeypatch
):
    sandbox, tally, store_url = tallied
    defs = every_workflow(tmp_path / "media")

    # Live: listings, orders at the supplier, one product's ads with five days of metrics.
    assert _run(defs, "product_discovery_job", DISCOVERY).success
    sandbox.control("POST", "/orders", {"count": 4})
    _run(defs, "order_fulfillment_job")
    assert sandbox.audit().get("supplier_orders_created"), "nothing sent to the supplier live"
    _run(defs, "ad_launch_job", ONE_LAUNCH)
    assert sandbox.audit().get("campaigns_created"), "no live campaign to optimise"
    customers_write(sandbox.world, daily_rate=1.0, days=6)  # the supplier ships; customers write
    sandbox.control("POST", "/clock", {"advance_seconds": 5 * 86400})
    _metrics(defs, sandbox)
    sandbox.control("POST", "/orders", {"count": 3})  # placed after the live stretch: shadow meets them

    # Shadow: an hour of sandbox time, every workflow run each quarter of it.
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    writes_before = sum(tally.writes.values())
    audit_before = sandbox.audit()
    for quarter in range(4):
        sandbox.control("POST", "/clock", {"advance_seconds": 900})
        _run(defs, "product_discovery_job", DISCOVERY)
        _run(defs, "order_fulfillment_job")
        _run(defs, "customer_service_job")
        if quarter in (0, 3):  # a launch renders its video first: twice is enough to see it repeat
            _run(defs, "ad_launch_job", LAUNCH)
            _run(defs, "ad_optimization_job")

    arrived = {k: v for k, v in tally.writes.items()}
    assert sum(tally.writes.values()) == writes_before, f"writes reached the sandbox: {arrived}"
    changed = {
        kind: {k: n for k, n in counts.items() if audit_before.get(kind, {}).get(k) != n}
        for kind, counts in sandbox.audit().items()
    }
    # What moved at the sandbox are only the model's counters: completions are reads.
    assert {kind for kind, moved in changed.items() if moved} <= {"llm_calls", "llm_drafts", "llm_intents"}

    with get_engine(store_url).connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(shadow_writes))]
    operations = {(r["service"], r["operation"]) for r in rows}
    assert ("shopify", "ListProduct") in operations  # listings
    assert ("cj", "POST /shopping/order/createOrderV2") in operations  # supplier orders
    assert ("shopify", "FulfillmentCreate") in operations  # fulfillments
    assert any(s == "helpdesk" and "/messages" in o for s, o in operations)  # replies
    assert any(s in ("meta", "tiktok") and "campaign" in o for s, o in operations)  # campaigns
    assert ("tiktok", "POST /campaign/status/update/") in operations  # the optimiser's pause
    assert ("meta", "POST act_1000000000001/campaigns") in operations
    assert all(r["run_id"] for r in rows)  # each recorded by the run that meant it
    assert len({r["write_key"] for r in rows}) == len(rows)  # a write repeated each quarter: one row
    listing = next(r for r in rows if r["operation"] == "ListProduct")
    assert listing["summary"]["input"]["title"]  # what it would have listed, readable
    secrets = [v for k, v in os.environ.items() if k.endswith(("_TOKEN", "_API_KEY")) and len(v) > 8]
    assert not any(secret in json.dumps(r["summary"]) for r in rows for secret in secrets)
