"""The analytics sensor asks for exactly the order days whose ledger rows changed, on SQLite and Postgres."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.analytics.defs import analytics_daily_job, analytics_defs
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors.analytics import build_ledger_days_sensor
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import seed_hand_computed_ledger

SENSOR = build_ledger_days_sensor(analytics_daily_job)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreDatabase]:
    with store_url_for(request.param, tmp_path) as url:
        store_db = StoreDatabase(url=url)
        seed_hand_computed_ledger(store_db.engine())
        yield store_db


def evaluate(store_db: StoreDatabase, cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    defs = dg.Definitions.merge(
        analytics_defs, dg.Definitions(resources={"store_db": store_db, "pricing": PricingPolicy()})
    )
    context = dg.build_sensor_context(cursor=cursor, resources={"store_db": store_db}, definitions=defs)
    result = SENSOR.evaluate_tick(context)
    return list(result.run_requests or []), result.cursor


def test_first_tick_asks_for_every_order_day_then_nothing_new(store: StoreDatabase) -> None:
    requests, cursor = evaluate(store, None)
    assert sorted(r.partition_key for r in requests) == ["2026-11-20", "2026-11-21"]
    assert cursor

    again, same_cursor = evaluate(store, cursor)
    # Rows stamped in the cursor's own second are read again; their run keys repeat, so no new run.
    assert {r.run_key for r in again} <= {r.run_key for r in requests}
    assert same_cursor == cursor


def test_a_late_change_recomputes_only_its_order_day(store: StoreDatabase) -> None:
    first, cursor = evaluate(store, None)
    later = sa.func.now() if store.engine().dialect.name == "postgresql" else sa.text("'2999-01-01 00:00:00'")
    with store.engine().begin() as conn:
        conn.execute(
            store_orders.update()
            .where(store_orders.c.name == "#1004")
            .values(state="cancelled", updated_at=later)
        )
    requests, _ = evaluate(store, cursor)
    new_keys = {r.run_key for r in requests} - {r.run_key for r in first}
    assert [r.partition_key for r in requests if r.run_key in new_keys] == ["2026-11-21"]


def test_a_day_whose_run_still_waits_in_the_queue_is_not_asked_for_again(store: StoreDatabase) -> None:
    # A loaded demo queued seven runs of one day while the first had yet to start: the KPI snapshot
    # waited behind all of them. A queued run reads the ledger when it starts, so it sees the change too.
    defs = dg.Definitions.merge(
        analytics_defs, dg.Definitions(resources={"store_db": store, "pricing": PricingPolicy()})
    )
    job = defs.resolve_job_def("analytics_daily_job")
    with dg.instance_for_test() as instance:
        # Dequeued, its worker not started (a QUEUED run needs a code location's origin to be made here;
        # the sensor treats both alike).
        queued = instance.create_run_for_job(
            job, tags={"dagster/partition": "2026-11-21"}, status=dg.DagsterRunStatus.NOT_STARTED
        )
        started = instance.create_run_for_job(
            job, tags={"dagster/partition": "2026-11-20"}, status=dg.DagsterRunStatus.STARTED
        )
        context = dg.build_sensor_context(instance=instance, resources={"store_db": store}, definitions=defs)
        result = SENSOR.evaluate_tick(context)
        # The started run may have read the ledger already: its day is asked for again.
        assert [r.partition_key for r in result.run_requests or []] == ["2026-11-20"]
        assert result.cursor
        instance.report_run_canceled(queued)
        again = SENSOR.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources={"store_db": store}, definitions=defs)
        )
        assert sorted(r.partition_key for r in again.run_requests or []) == ["2026-11-20", "2026-11-21"]
        assert started.run_id
