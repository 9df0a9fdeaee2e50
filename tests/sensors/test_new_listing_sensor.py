"""A backlog of listings without ads drains by successive ticks of the new-listing sensor, a batch per run
sized to the render budget, without waiting for the 6-hourly catch-up."""

from pathlib import Path

import dagster as dg
import pytest

from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors import ads as ads_sensors
from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.discovery_tables import listings
from dropship_testkit.pipelines import SMALL_VIDEO, build_ads_defs
from dropship_testkit.sandbox_server import RunningSandbox
from tests.ads import helpers as h

LISTINGS = 30
TINY_VIDEO = {**SMALL_VIDEO, "fps": 5}  # ads must last 10..20 s


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, store_url: str, cursor: str | None):
    sensor = defs.resolve_sensor_def("new_listings_get_ads")
    context = dg.build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources={"store_db": StoreDatabase(url=store_url)},
        definitions=defs,
    )
    return sensor.evaluate_tick(context)


@pytest.mark.system
def test_thirty_listings_without_ads_are_all_launched_by_sensor_ticks(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    defs = build_ads_defs({"min_spend": 10}, tmp_path / "media")
    h.list_products(defs, 20)  # two discovery runs (a run writes copy for a limited batch)
    h.list_products(defs, 20)
    listed = {r["pid"] for r in h.rows(store_url, listings) if r["status"] == "listed"}
    assert len(listed) >= LISTINGS

    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("ad_launch_job")
    cursor, runs, batches = None, 0, []
    for _ in range(6):
        tick = _tick(defs, instance, store_url, cursor)
        cursor = tick.cursor
        if not tick.run_requests:
            break
        [request] = tick.run_requests
        batch = request.run_config["ops"]["ad_creatives"]["config"]["max_per_run"]
        batches.append(batch)
        result = job.execute_in_process(
            run_config={"ops": {"ad_creatives": {"config": {**TINY_VIDEO, "max_per_run": batch}}}},
            instance=instance,
            tags=request.tags,
        )
        assert result.success
        runs += 1
    assert tick.skip_message and "every listed product has its ads" in tick.skip_message
    # More than one run was needed (a run's batch is within the launch budget: 25 products x 2 platforms).
    assert runs >= 2 and all(1 <= b <= ads_sensors.MAX_BATCH for b in batches)
    live = {(r["pid"], r["platform"]) for r in h.rows(store_url, ad_campaigns) if r["state"] == "active"}
    assert live == {(pid, platform) for pid in listed for platform in ("meta", "tiktok")}


def test_a_backlog_no_run_can_move_asks_for_nothing_more(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    defs = build_ads_defs({"min_spend": 10}, tmp_path / "media")
    h.list_products(defs, 2)
    instance = dg.DagsterInstance.ephemeral()
    first = _tick(defs, instance, store_url, None)
    assert len(first.run_requests) == 1
    # No run moved the backlog (none ran): the same backlog asks for nothing more.
    again = _tick(defs, instance, store_url, first.cursor)
    assert not again.run_requests and "moved none" in (again.skip_message or "")
