"""Guards of the analytics: the money the dashboard shows reconciles with the ledger to the cent."""

from datetime import timedelta

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from dropship_pipelines.assets.analytics.assets import daily_profit, daily_sales, kpis
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.profit import to_cents
from dropship_pipelines.store import analytics_queries as q
from dropship_pipelines.store.analytics_tables import (
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
)


def _table_frame(conn: sa.Connection, table: sa.Table, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(
        conn.execute(sa.select(*(table.c[c] for c in columns))).all(), columns=columns
    )
    if len(frame):
        frame["day"] = pd.to_datetime(frame["day"].astype(str)).dt.date
    return frame


# Ledger stamps are the database's clock, analytics stamps the run's: a change within this margin of a
# computation may or may not be in it, so it counts as after.
STAMP_RESOLUTION = timedelta(milliseconds=50)


def _settled(conn: sa.Connection, ours: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The days whose orders have not changed since they were computed, and the days that have: orders
    keep arriving while a run computes, and those days are recomputed by the next run (the ledger sensor
    asks for them), so they are reported as pending instead of failing the check."""
    if not len(ours):
        return ours, []
    computed = {day: q.as_utc_datetime(at) for day, at in zip(ours["day"], ours["computed_at"], strict=True)}
    changed = q.order_days_changed_since(conn, min(computed.values()) - STAMP_RESOLUTION)
    pending = {
        day for day, at in changed.items() if day in computed and at >= computed[day] - STAMP_RESOLUTION
    }
    return ours[~ours["day"].isin(pending)], sorted(day.isoformat() for day in pending)


def _mismatches(analytics: pd.DataFrame, ledger: pd.DataFrame, pairs: dict[str, str]) -> list[dict]:
    """Days present in the analytics table whose totals differ from the ledger's."""
    merged = analytics.merge(ledger, on="day", how="left").fillna(0)
    wrong = []
    for row in merged.to_dict("records"):
        for ours, theirs in pairs.items():
            if int(row[ours]) != int(row[theirs]):
                wrong.append(
                    {"day": row["day"], "field": ours, "analytics": row[ours], "ledger": row[theirs]}
                )
    return wrong


def _result(checked: int, wrong: list[dict], pending: list[str] | None = None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not wrong,
        metadata={
            "days_checked": checked,
            "days_changed_since_computed": dg.MetadataValue.json(pending or []),
            "mismatches": len(wrong),
            "records": preview_table(wrong[:20], ("day", "field", "analytics", "ledger")),
        },
    )


@dg.asset_check(
    asset=daily_sales,
    blocking=True,
    description="Orders and sales of every day in daily_sales equal the order ledger's, to the cent.",
)
def daily_sales_reconcile_with_ledger(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        ours = _table_frame(conn, analytics_daily_sales, ["day", "orders", "sales", "computed_at"])
        ours, pending = _settled(conn, ours)
        ledger = q.ledger_totals_by_day(conn)
    ours = ours.drop(columns="computed_at")
    ours["sales_cents_ours"] = [to_cents(v) for v in ours["sales"]]
    return _result(
        len(ours),
        _mismatches(ours, ledger, {"orders_x": "orders_y", "sales_cents_ours": "sales_cents"})
        if len(ours)
        else [],
        pending,
    )


@dg.asset_check(
    asset=daily_profit,
    blocking=True,
    description="Revenue and ad spend per day equal the ledger's to the cent, and every day's profit is "
    "revenue - product cost - shipping - payment fees - ad spend - refunds.",
)
def daily_profit_reconciles_with_ledger(store_db: StoreDatabase) -> dg.AssetCheckResult:
    columns = [
        "day",
        "revenue",
        "product_cost",
        "shipping_cost",
        "payment_fees",
        "ad_spend",
        "refunds",
        "profit",
    ]
    with store_db.engine().connect() as conn:
        ours = _table_frame(conn, analytics_daily_profit, [*columns, "computed_at"])
        ours, pending = _settled(conn, ours)
        ledger = q.ledger_totals_by_day(conn)
    ours = ours.drop(columns="computed_at")
    if not len(ours):
        return _result(0, [], pending)
    for col in columns[1:]:
        ours[col] = [to_cents(v) for v in ours[col]]
    wrong = _mismatches(ours, ledger, {"revenue": "sales_cents", "ad_spend": "ad_spend_cents"})
    identity = ours["revenue"] - ours[columns[2:7]].sum(axis=1)
    for day, expected, actual in zip(ours["day"], identity, ours["profit"], strict=True):
        if int(expected) != int(actual):
            wrong.append({"day": day, "field": "profit", "analytics": actual, "ledger": expected})
    return _result(len(ours), wrong, pending)


@dg.asset_check(
    asset=kpis,
    blocking=True,
    description="All-time sales, profit and orders in the KPIs equal the sums of the daily tables.",
)
def kpis_match_daily_totals(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        overall = (
            conn.execute(sa.select(analytics_kpis).where(analytics_kpis.c.period == "all_time"))
            .mappings()
            .first()
        )
        sums = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(analytics_daily_profit.c.revenue), 0),
                sa.func.coalesce(sa.func.sum(analytics_daily_profit.c.profit), 0),
                sa.func.coalesce(sa.func.sum(analytics_daily_profit.c.orders), 0),
            )
        ).one()
    if overall is None:
        return dg.AssetCheckResult(passed=False, metadata={"problem": "no all_time KPI row"})
    wrong = {
        name: {"kpis": str(ours), "daily": str(theirs)}
        for name, ours, theirs in (
            ("sales", to_cents(overall["sales"]), to_cents(sums[0])),
            ("profit", to_cents(overall["profit"]), to_cents(sums[1])),
            ("orders", int(overall["orders"]), int(sums[2])),
        )
        if ours != theirs
    }
    return dg.AssetCheckResult(passed=not wrong, metadata={"mismatches": dg.MetadataValue.json(wrong)})
