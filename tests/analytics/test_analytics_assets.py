"""The analytics assets on a hand-computed ledger, on SQLite and PostgreSQL, through Dagster."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines import cadence
from dropship_pipelines.assets.analytics import assets, checks
from dropship_pipelines.assets.analytics.defs import analytics_defs
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store.analytics_tables import (
    analytics_ad_performance,
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
    analytics_top_products,
)
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import seed_hand_computed_ledger, table_rows
from tests.analytics.expected import EXPECTED_ADS, EXPECTED_ALL_TIME, EXPECTED_DAILY, EXPECTED_TOP

DAILY_ASSETS = [assets.daily_sales, assets.daily_profit]
SNAPSHOT_ASSETS = [assets.kpis, assets.top_products, assets.ad_performance]
CHECKS = dg.load_asset_checks_from_modules([checks])


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url_for(request.param, tmp_path) as url:
        seed_hand_computed_ledger(get_engine(url))
        yield url


def resources(url: str) -> dict:
    return {"store_db": StoreDatabase(url=url), "pricing": PricingPolicy()}


def materialize_all(url: str) -> list[dg.AssetCheckEvaluation]:
    """Both fixture days as one single-run backfill of the daily assets, then the snapshots."""
    daily = dg.materialize(
        [*DAILY_ASSETS, *CHECKS],
        resources=resources(url),
        selection=dg.AssetSelection.assets(*DAILY_ASSETS),
        tags={
            "dagster/asset_partition_range_start": "2026-11-20",
            "dagster/asset_partition_range_end": "2026-11-21",
        },
    )
    assert daily.success
    snapshots = dg.materialize(
        [*DAILY_ASSETS, *SNAPSHOT_ASSETS, *CHECKS],
        resources=resources(url),
        selection=dg.AssetSelection.assets(*SNAPSHOT_ASSETS),
    )
    assert snapshots.success
    return daily.get_asset_check_evaluations() + snapshots.get_asset_check_evaluations()


def test_analytics_match_hand_computed_ledger(store_url: str) -> None:
    evaluations = materialize_all(store_url)
    assert {e.check_name for e in evaluations} == {
        "daily_sales_reconcile_with_ledger",
        "daily_profit_reconciles_with_ledger",
        "kpis_match_daily_totals",
        "kpis_follow_daily_tables",
        "top_products_follow_ledger",
        "ad_performance_follows_metrics",
    }
    assert all(e.passed for e in evaluations)
    engine = get_engine(store_url)

    profit = {r["day"]: r for r in table_rows(engine, analytics_daily_profit)}
    sales = {r["day"]: r for r in table_rows(engine, analytics_daily_sales)}
    assert set(profit) == set(EXPECTED_DAILY) == set(sales)
    for day, expected in EXPECTED_DAILY.items():
        for field in (
            "orders",
            "revenue",
            "product_cost",
            "shipping_cost",
            "payment_fees",
            "ad_spend",
            "refunds",
            "profit",
            "estimated_cost_orders",
        ):
            assert profit[day][field] == expected[field], (day, field)
        assert (sales[day]["orders"], sales[day]["items"], sales[day]["sales"], sales[day]["aov"]) == (
            expected["orders"],
            expected["items"],
            expected["revenue"],
            expected["aov"],
        )

    kpis = {r["period"]: r for r in table_rows(engine, analytics_kpis)}
    assert set(kpis) == {"all_time", "last_30_days", "last_7_days", "today"}
    for field, expected in EXPECTED_ALL_TIME.items():
        assert kpis["all_time"][field] == pytest.approx(expected), field

    top = sorted(table_rows(engine, analytics_top_products), key=lambda r: r["rank"])
    assert [{k: r[k] for k in EXPECTED_TOP[0]} for r in top] == EXPECTED_TOP

    ads = {(r["platform"], r["campaign_id"]): r for r in table_rows(engine, analytics_ad_performance)}
    assert set(ads) == set(EXPECTED_ADS)
    for key, expected in EXPECTED_ADS.items():
        for field, value in expected.items():
            assert ads[key][field] == pytest.approx(value), (key, field)
        assert ads[key]["state"] == "active"


def test_rerun_is_idempotent_and_reflects_a_cancellation(store_url: str) -> None:
    materialize_all(store_url)
    engine = get_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.update(store_orders).where(store_orders.c.order_id == "O4").values(state="cancelled"))
    materialize_all(store_url)
    profit = {r["day"]: r for r in table_rows(engine, analytics_daily_profit)}
    assert len(profit) == 2  # the ad spend of 11-21 keeps its day
    last = profit[max(profit)]
    assert (last["orders"], last["revenue"], last["profit"]) == (0, 0, -12.25)
    assert len(table_rows(engine, analytics_daily_sales)) == 1


def test_reconciliation_check_blocks_on_a_wrong_total(tmp_path: Path) -> None:
    with store_url_for("sqlite", tmp_path) as url:
        seed_hand_computed_ledger(get_engine(url))
        materialize_all(url)
        with get_engine(url).begin() as conn:
            conn.execute(sa.update(analytics_daily_sales).values(sales=analytics_daily_sales.c.sales + 0.01))
        result = checks.daily_sales_reconcile_with_ledger(
            dg.build_asset_check_context(), StoreDatabase(url=url)
        )
        assert not result.passed
        assert result.metadata["mismatches"].value == 2


def test_definitions_load_with_automation_sensor() -> None:
    defs = dg.Definitions.merge(analytics_defs, dg.Definitions(resources=resources("sqlite:///:memory:")))
    assert defs.resolve_job_def("analytics_job") is not None
    sensor = defs.resolve_sensor_def("analytics_automation_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    spec = {s.key.path[-1]: s for s in defs.resolve_all_asset_specs()}
    assert spec["daily_profit"].automation_condition is cadence.DAILY_ON_LEDGER_CHANGE
    assert spec["kpis"].automation_condition is cadence.SNAPSHOT_ON_CHANGE
