"""The blocking analytics checks compare a table with the ledger snapshot its asset computed from: rows
written between the asset and its check do not fail the run; a table that disagrees with its own read
still does. And the snapshot checks fail when a snapshot no longer follows the daily tables."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.analytics import assets, checks
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store.ads_tables import ad_metrics_daily
from dropship_pipelines.store.analytics_tables import analytics_daily_profit, analytics_kpis
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import seed_hand_computed_ledger, seeding

DAILY = [assets.daily_sales, assets.daily_profit]
SNAPSHOTS = [assets.kpis, assets.top_products, assets.ad_performance]
CHECKS = dg.load_asset_checks_from_modules([checks])
RANGE = {
    "dagster/asset_partition_range_start": "2026-11-20",
    "dagster/asset_partition_range_end": "2026-11-21",
}


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url_for(request.param, tmp_path) as url:
        seed_hand_computed_ledger(get_engine(url))
        yield url


def _resources(url: str) -> dict:
    return {"store_db": StoreDatabase(url=url), "pricing": PricingPolicy()}


def _between_asset_and_check(
    monkeypatch: pytest.MonkeyPatch, asset: dg.AssetsDefinition, write: Callable[[], None]
) -> None:
    """Runs `write` once, when the asset's blocking check starts (after the asset computed)."""
    original = checks._recorded_read
    done: list[bool] = []

    def recorded_read(
        context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey, key: str
    ) -> dict | None:
        if asset_key == asset.key and not done:
            done.append(True)
            write()
        return original(context, asset_key, key)

    monkeypatch.setattr(checks, "_recorded_read", recorded_read)


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _daily_run(url: str, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*DAILY, *CHECKS],
        resources=_resources(url),
        selection=dg.AssetSelection.assets(*DAILY),
        tags=RANGE,
        instance=instance,
        raise_on_error=False,
    )


def _snapshot_run(url: str, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*DAILY, *SNAPSHOTS, *CHECKS],
        resources=_resources(url),
        selection=dg.AssetSelection.assets(*SNAPSHOTS),
        instance=instance,
        raise_on_error=False,
    )


def _new_order_and_ad_spend(url: str) -> None:
    """What arrives mid-run: an order on 11-20 and TikTok's spend of 11-21."""
    with seeding(get_engine(url)) as seed:
        seed.rows(
            store_orders,
            [
                {
                    "order_id": "O5",
                    "name": "#1005",
                    "email": "b@example.com",
                    "customer_name": "Bo Park",
                    "placed_at": datetime(2026, 11, 20, 21, tzinfo=UTC),
                    "store_updated_at": datetime(2026, 11, 20, 21, tzinfo=UTC),
                    "total_price": Decimal("19.99"),
                    "financial_status": "PAID",
                    "fulfillment_status": "UNFULFILLED",
                    "currency": "USD",
                    "state": "received",
                    "source": "organic",
                    "country_code": "US",
                }
            ],
        )
        seed.rows(
            store_order_lines,
            [
                {
                    "line_id": "L5",
                    "order_id": "O5",
                    "title": "Galaxy Lamp",
                    "quantity": 1,
                    "unit_price": Decimal("19.99"),
                    "pid": "P1",
                    "vid": "V1",
                }
            ],
        )
        seed.rows(
            ad_metrics_daily,
            [
                {
                    "day": date(2026, 11, 21),
                    "platform": "tiktok",
                    "campaign_id": "t1",
                    "pid": "P2",
                    "spend": Decimal("119.74"),
                    "impressions": 900,
                    "clicks": 9,
                    "purchases": 0,
                    "revenue": Decimal("0.00"),
                }
            ],
        )


@pytest.mark.parametrize("asset", DAILY, ids=lambda a: a.key.path[-1])
def test_ledger_rows_written_after_the_daily_asset_do_not_fail_its_check(
    store_url: str, monkeypatch: pytest.MonkeyPatch, asset: dg.AssetsDefinition
) -> None:
    _between_asset_and_check(monkeypatch, asset, lambda: _new_order_and_ad_spend(store_url))
    result = _daily_run(store_url)
    assert result.success
    checked = _evaluations(result)
    name = {
        "daily_sales": "daily_sales_reconcile_with_ledger",
        "daily_profit": "daily_profit_reconciles_with_ledger",
    }
    evaluation = checked[name[asset.key.path[-1]]]
    assert evaluation.passed, evaluation.metadata
    changed = evaluation.metadata["days_changed_since_computed"].value
    assert "2026-11-20" in changed
    if asset is assets.daily_profit:
        assert "2026-11-21" in changed


def test_a_daily_row_that_disagrees_with_its_own_read_still_fails(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def corrupt() -> None:
        with get_engine(store_url).begin() as conn:
            conn.execute(
                sa.update(analytics_daily_profit).values(revenue=analytics_daily_profit.c.revenue + 1)
            )

    _between_asset_and_check(monkeypatch, assets.daily_profit, corrupt)
    result = _daily_run(store_url)
    assert not result.success
    evaluation = _evaluations(result)["daily_profit_reconciles_with_ledger"]
    assert not evaluation.passed
    assert evaluation.metadata["mismatches"].value >= 2


def test_daily_tables_rewritten_after_the_kpis_do_not_fail_the_kpi_check(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert _daily_run(store_url, instance).success

    def concurrent_daily_run() -> None:
        # What a daily run finishing meanwhile does: the day's row rewritten with five more orders.
        with get_engine(store_url).begin() as conn:
            conn.execute(
                sa.update(analytics_daily_profit)
                .where(analytics_daily_profit.c.day == date(2026, 11, 20))
                .values(
                    orders=analytics_daily_profit.c.orders + 5,
                    revenue=analytics_daily_profit.c.revenue + 100,
                    profit=analytics_daily_profit.c.profit + 100,
                    computed_at=datetime.now(UTC),
                )
            )

    _between_asset_and_check(monkeypatch, assets.kpis, concurrent_daily_run)
    result = _snapshot_run(store_url, instance)
    assert result.success
    checked = _evaluations(result)
    assert checked["kpis_match_daily_totals"].passed, checked["kpis_match_daily_totals"].metadata
    assert checked["kpis_match_daily_totals"].metadata["daily_changed_since_computed"].value is True


def test_a_kpi_row_that_disagrees_with_its_own_read_still_fails(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert _daily_run(store_url, instance).success

    def corrupt() -> None:
        with get_engine(store_url).begin() as conn:
            conn.execute(
                sa.update(analytics_kpis)
                .where(analytics_kpis.c.period == "all_time")
                .values(orders=analytics_kpis.c.orders + 1)
            )

    _between_asset_and_check(monkeypatch, assets.kpis, corrupt)
    result = _snapshot_run(store_url, instance)
    assert not result.success
    assert not _evaluations(result)["kpis_match_daily_totals"].passed


def test_a_snapshot_behind_the_daily_tables_fails_its_follow_check_until_refreshed(store_url: str) -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert _daily_run(store_url, instance).success
    first = _snapshot_run(store_url, instance)
    assert first.success
    assert all(e.passed for e in first.get_asset_check_evaluations())

    # The ledger changes and the daily tables are recomputed; the snapshots are not.
    _new_order_and_ad_spend(store_url)
    assert _daily_run(store_url, instance).success
    follow = [
        checks.kpis_follow_daily_tables,
        checks.top_products_follow_ledger,
        checks.ad_performance_follows_metrics,
    ]
    stale = dg.materialize(
        [*DAILY, *SNAPSHOTS, *follow],
        resources=_resources(store_url),
        selection=dg.AssetSelection.checks(*follow),
        instance=instance,
        raise_on_error=False,
    )
    evaluations = _evaluations(stale)
    assert set(evaluations) == {
        "kpis_follow_daily_tables",
        "top_products_follow_ledger",
        "ad_performance_follows_metrics",
    }
    assert not any(e.passed for e in evaluations.values()), {k: e.metadata for k, e in evaluations.items()}
    assert evaluations["kpis_follow_daily_tables"].metadata["disagreements"].value["orders"]

    refreshed = _snapshot_run(store_url, instance)
    assert refreshed.success
    assert all(e.passed for e in refreshed.get_asset_check_evaluations())
