"""Exactly once under any overlap: every workflow's job run twice at the same time, each run on a Dagster
instance of its own (as a `dagster job execute` without DAGSTER_HOME runs beside the daemon: no pool, run
queue or concurrency limit sees the other run), against one sandbox and one store database.

Only the claims in the store database stand between the two runs and a doubled side effect, so each is
checked where it lands, at the sandbox's ground truth: one listing per product, one supplier order per
order, one fulfillment per order, one reply per answered message, one campaign per product and platform,
one budget change per scaled campaign. On SQLite and on PostgreSQL.
"""

import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dropship_pipelines.assets.ads.defs import ads_defs
from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.assets.fulfillment.defs import fulfillment_defs
from dropship_pipelines.assets.support.defs import support_defs
from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_replies
from dropship_sandbox.world import DEFAULT_SIM_START
from dropship_testkit.databases import store_url_for
from dropship_testkit.ledger_seed import table_rows
from dropship_testkit.pipelines import SMALL_VIDEO
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox
from dropship_testkit.sandbox_world import customers_write, sendable_numbers
from tests.conftest import fast_settings

# Scale what earns, pause what does not, after one conversion of learning: both kinds of change are made.
POLICY = {"min_spend": 10, "learning_conversions": 1, "learning_max_spend": 50, "scale_multiple": 1.0}

RUN_CONFIG: dict[str, dict[str, Any]] = {
    "product_discovery_job": {
        "ops": {
            "product_candidates": {"config": {"detail_lookups_per_run": 8}},
            "store_listings": {"config": {"max_listings_per_run": 3}},
        }
    },
    "ad_launch_job": {"ops": {"ad_creatives": {"config": SMALL_VIDEO}}},
}


def every_workflow(media_dir: Path) -> dg.Definitions:
    """The workflows with resources from the environment (the sandbox's), the ad policy the test's."""
    resources = build_resources()
    resources["ad_policy"] = AdPolicyResource(
        store_url="https://sandbox-store.myshopify.com",
        image_hosts=resources["ad_policy"].image_hosts,  # the sandbox serves the product images
        media_dir=str(media_dir),
        **POLICY,
    )
    return dg.Definitions.merge(
        discovery_defs, fulfillment_defs, support_defs, ads_defs, dg.Definitions(resources=resources)
    )


def run_twice_at_once(defs: dg.Definitions, job_name: str, **execute: Any) -> list[dg.ExecuteInProcessResult]:
    """The job run by two threads released together, each on its own ephemeral Dagster instance."""
    job = defs.resolve_job_def(job_name)
    start = threading.Barrier(2)
    results: list[dg.ExecuteInProcessResult] = []
    errors: list[BaseException] = []

    def one_run() -> None:
        instance = dg.DagsterInstance.ephemeral()
        start.wait()
        try:
            results.append(
                job.execute_in_process(
                    run_config=RUN_CONFIG.get(job_name, {}),
                    instance=instance,
                    raise_on_error=False,
                    **execute,
                )
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one_run, name=f"{job_name}-{n}") for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(results) == 2
    return results


def once_each(counts: dict[str, int], what: str) -> None:
    doubled = {key: n for key, n in counts.items() if n != 1}
    assert not doubled, f"{what} made more than once: {doubled}"


@pytest.fixture(params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RunningSandbox, str]]:
    with (
        store_url_for(request.param, tmp_path) as url,
        running_sandbox(tmp_path / "world.db", fast_settings()) as sandbox,
    ):
        for key, value in sandbox.env(url, tmp_path / "tokens").items():
            monkeypatch.setenv(key, value)
        sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
        yield sandbox, url


def test_listings_orders_fulfillments_and_replies_once_under_two_overlapping_runs(
    world: tuple[RunningSandbox, str], tmp_path: Path
) -> None:
    sandbox, url = world
    jobs = every_workflow(tmp_path / "media")

    # Discovery: one listing per product.
    run_twice_at_once(jobs, "product_discovery_job")
    listed = sandbox.audit().get("listings_created", {})
    assert listed, "nothing was listed"
    once_each(listed, "listing")

    # Fulfillment: one supplier order per order, then one fulfillment per shipped order.
    orders = sandbox.control("POST", "/orders", {"count": 6})["orders"]
    run_twice_at_once(jobs, "order_fulfillment_job")
    at_supplier = sandbox.audit().get("supplier_orders_created", {})
    assert set(at_supplier) == sendable_numbers(orders)
    once_each(at_supplier, "supplier order")
    customers_write(sandbox.world, daily_rate=1.0, days=6)  # the supplier ships; customers write
    run_twice_at_once(jobs, "order_fulfillment_job")
    fulfilled = sandbox.audit().get("fulfillments_created", {})
    assert fulfilled, "no tracking posted"
    once_each(fulfilled, "fulfillment")

    # Support: every reply the helpdesk received is one the ledger sent, once.
    run_twice_at_once(jobs, "customer_service_job")
    replied = sandbox.audit().get("support_replies_sent", {})
    sent = Counter(
        r["ticket_id"] for r in table_rows(get_engine(url), support_replies) if r["state"] == "sent"
    )
    assert replied, "no reply sent"
    assert replied == dict(sent), "the helpdesk received replies the ledger does not hold once"


def test_campaigns_and_their_changes_once_under_two_overlapping_runs(
    world: tuple[RunningSandbox, str], tmp_path: Path
) -> None:
    sandbox, url = world
    jobs = every_workflow(tmp_path / "media")
    discovery = jobs.resolve_job_def("product_discovery_job")
    listed = discovery.execute_in_process(
        run_config=RUN_CONFIG["product_discovery_job"], instance=dg.DagsterInstance.ephemeral()
    )
    assert listed.success

    # Ads launch: one campaign per product and platform.
    run_twice_at_once(jobs, "ad_launch_job")
    campaigns = sandbox.audit().get("campaigns_created", {})
    ledger = table_rows(get_engine(url), ad_campaigns)
    assert campaigns and len(campaigns) == len(ledger)
    once_each(campaigns, "campaign")

    # Optimisation: each change made once (a budget scaled by one step, not two).
    sandbox.control("POST", "/clock", {"advance_seconds": 5 * 86400})
    first, last = DEFAULT_SIM_START.date(), sandbox.world.now().date()
    metrics = jobs.resolve_job_def("ad_metrics_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    assert metrics.success
    before = {r["campaign_id"]: r for r in table_rows(get_engine(url), ad_campaigns)}
    optimised = run_twice_at_once(jobs, "ad_optimization_job")
    applied = [a for a in table_rows(get_engine(url), ad_actions) if a["status"] == "applied"]
    judged = [r.asset_materializations_for_node("ad_optimizations") for r in optimised]
    assert applied, f"the optimiser changed nothing, the test proves nothing: {judged}"
    once_each(Counter(a["campaign_id"] for a in applied), "budget or status change")
    world_state = sandbox.world
    for action in applied:
        row = before[action["campaign_id"]]
        with world_state.lock, world_state.state:
            campaign = world_state.state.get(f"{row['platform']}_campaign", row["campaign_id"])
            adset = world_state.state.get(f"{row['platform']}_adset", row["adset_id"])
        if action["action"] == "pause":
            assert not campaign["active"]
        else:
            one_step = (Decimal(str(row["daily_budget"])) * Decimal("1.2")).quantize(Decimal("0.01"))
            assert Decimal(str(adset["budget"])).quantize(Decimal("0.01")) == min(one_step, Decimal("100"))
