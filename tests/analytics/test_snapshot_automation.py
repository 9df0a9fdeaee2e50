"""The snapshots refresh every time their inputs change, also while some other input is still running
(with orders arriving, one always is)."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import Engine

from dropship_pipelines.assets.analytics import assets, checks
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store.database import get_engine
from dropship_testkit.databases import store_url_for
from dropship_testkit.ledger_seed import seed_hand_computed_ledger

DAILY = [assets.daily_sales, assets.daily_profit]
SNAPSHOTS = [assets.kpis, assets.top_products, assets.ad_performance]
RELEASE = threading.Event()
STARTED = threading.Event()


class HeldStore(StoreDatabase):
    """A store whose first use waits until the test releases it: a run that stays in progress."""

    def engine(self) -> Engine:
        STARTED.set()
        RELEASE.wait(timeout=60)
        return super().engine()


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    with store_url_for("sqlite", tmp_path) as url:
        seed_hand_computed_ledger(get_engine(url))
        yield url


def _materialize(
    url: str,
    instance: dg.DagsterInstance,
    selection: list,
    store: StoreDatabase | None = None,
    partition: str | None = None,
) -> None:
    result = dg.materialize(
        [*DAILY, *SNAPSHOTS],
        resources={"store_db": store or StoreDatabase(url=url), "pricing": PricingPolicy()},
        selection=dg.AssetSelection.assets(*selection),
        partition_key=partition,
        instance=instance,
    )
    assert result.success


def test_kpis_refresh_after_a_daily_update_while_another_day_is_still_running(store_url: str) -> None:
    resources = {"store_db": StoreDatabase(url=store_url), "pricing": PricingPolicy()}
    defs = dg.Definitions(assets=[*DAILY, *SNAPSHOTS], resources=resources)
    selection = dg.AssetSelection.assets(*SNAPSHOTS)
    with dg.instance_for_test() as instance:
        for day in ("2026-11-20", "2026-11-21"):
            _materialize(store_url, instance, DAILY, partition=day)
        _materialize(store_url, instance, SNAPSHOTS)
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
        # One more tick: the snapshots have just been handled, nothing new upstream.
        quiet = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=settled.cursor
        )
        assert quiet.total_requested == 0

        _materialize(store_url, instance, [assets.daily_profit], partition="2026-11-21")
        RELEASE.clear()
        STARTED.clear()
        held = threading.Thread(
            target=_materialize,
            args=(store_url, instance, [assets.daily_sales]),
            kwargs={"store": HeldStore(url=store_url), "partition": "2026-11-20"},
        )
        held.start()
        try:
            assert STARTED.wait(timeout=60)
            tick = dg.evaluate_automation_conditions(
                defs=defs, instance=instance, asset_selection=selection, cursor=quiet.cursor
            )
        finally:
            RELEASE.set()
            held.join(timeout=60)
        assert tick.get_num_requested(assets.kpis.key) == 1


def test_the_follow_checks_run_on_their_own_every_quarter_hour(store_url: str) -> None:
    follow = [
        checks.kpis_follow_daily_tables,
        checks.top_products_follow_ledger,
        checks.ad_performance_follows_metrics,
    ]
    defs = dg.Definitions(
        assets=[*DAILY, *SNAPSHOTS],
        asset_checks=follow,
        resources={"store_db": StoreDatabase(url=store_url), "pricing": PricingPolicy()},
    )
    selection = dg.AssetSelection.checks(*follow)
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(
            defs=defs,
            instance=instance,
            asset_selection=selection,
            evaluation_time=datetime(2026, 12, 1, 10, 1, tzinfo=UTC),
        )
        later = dg.evaluate_automation_conditions(
            defs=defs,
            instance=instance,
            asset_selection=selection,
            cursor=first.cursor,
            evaluation_time=datetime(2026, 12, 1, 10, 16, tzinfo=UTC),
        )
        assert later.total_requested == 3
