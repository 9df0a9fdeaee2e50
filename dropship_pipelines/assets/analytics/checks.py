"""Guards of the analytics: the money the dashboard shows reconciles with the ledger to the cent, and the
snapshots follow the tables they are computed from.

The blocking checks compare a table with the snapshot of the ledger its asset computed from (recorded in
the materialisation's metadata, read in the same transaction as the computation): orders and ad metrics
keep arriving between the asset and its check, and a check fails only on a real disagreement. The days
whose ledger changed since are named in the result (the ledger sensor recomputes them).
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.analytics.assets import (
    AD_CAMPAIGNS,
    AD_METRICS,
    DAILY_READ,
    LEDGER_READ,
    STORE_LISTINGS,
    STORE_ORDERS,
    ad_performance,
    daily_profit,
    daily_profit_sums,
    daily_sales,
    kpis,
    top_products,
)
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.cadence import SNAPSHOT_AUDIT
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.profit import to_cents
from dropship_pipelines.store import analytics_queries as q
from dropship_pipelines.store.ads_tables import ad_metrics_daily
from dropship_pipelines.store.analytics_tables import (
    analytics_ad_performance,
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
    analytics_top_products,
)

if TYPE_CHECKING:  # pandas/numpy cost ~0.3 s to import: loaded by the functions that compute
    import pandas as pd


def _recorded_read(context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey, key: str) -> dict | None:
    """The input snapshot the asset recorded: from its materialisations in this run (a blocking check runs
    right after its asset), else from its latest materialisation. A daily asset records each day on that
    day's partition (`assets.record_partitions`): the days of the run's partitions are merged; they share
    one `computed_at`, the moment of the run's one read."""
    instance = context.instance
    try:
        run_id = context.run.run_id
    except dg.DagsterError:  # invoked directly, outside a run: only the latest materialisation is known
        run_id = None
    records = (
        instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
        if run_id
        else []
    )
    events = [
        record.event_log_entry
        for record in records
        if record.asset_key == asset_key and record.event_log_entry.asset_materialization is not None
    ]
    if not events:
        latest = instance.get_latest_materialization_event(asset_key)
        events = [latest] if latest is not None and latest.asset_materialization is not None else []
    reads = []
    for event in events:
        value = event.asset_materialization.metadata.get(key)  # type: ignore[union-attr]
        if isinstance(value, dg.JsonMetadataValue) and isinstance(value.value, dict):
            reads.append(value.value)
    if not reads:
        return None
    merged = dict(reads[-1])
    if "days" in merged:
        merged["days"] = {
            day: totals
            for read in reads
            if read.get("computed_at") == merged.get("computed_at")
            for day, totals in read.get("days", {}).items()
        }
    return merged


def _same_moment(stamp: object, recorded: str | None) -> bool:
    return recorded is not None and q.as_utc_datetime(stamp) == datetime.fromisoformat(recorded)


def _table_frame(conn: sa.Connection, table: sa.Table, columns: list[str]) -> "pd.DataFrame":
    import pandas as pd

    frame = pd.DataFrame.from_records(
        conn.execute(sa.select(*(table.c[c] for c in columns))).all(), columns=columns
    )
    if len(frame):
        frame["day"] = pd.to_datetime(frame["day"].astype(str)).dt.date
    return frame


# Ledger stamps are the database's clock, analytics stamps the run's: a change within this margin of a
# computation may or may not be in it, so it counts as after.
STAMP_RESOLUTION = timedelta(milliseconds=50)


def _settled(conn: sa.Connection, ours: "pd.DataFrame") -> tuple["pd.DataFrame", list[str]]:
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


def _against_recorded_read(
    conn: sa.Connection, ours: "pd.DataFrame", read: dict | None
) -> tuple["pd.DataFrame", "pd.DataFrame", list[str]]:
    """The rows to compare and the ledger totals to compare them with, and the days not compared.

    Rows this asset's recorded read computed are compared with that read; the other rows (another run's)
    with the ledger now, except the days whose orders changed since those rows were computed. The days
    whose ledger changed since the read are also named."""
    import pandas as pd

    ledger_now = q.ledger_totals_by_day(conn)
    recorded_days = (read or {}).get("days", {})
    mine = ours["day"].map(lambda d: d.isoformat() in recorded_days) & ours["computed_at"].map(
        lambda at: _same_moment(at, (read or {}).get("computed_at"))
    )
    recorded = pd.DataFrame.from_records(
        [{"day": ours_day, **recorded_days[ours_day.isoformat()]} for ours_day in ours["day"][mine]],
        columns=["day", "orders", "sales_cents", "ad_spend_cents"],
    )
    others, pending = _settled(conn, ours[~mine])
    compared = pd.concat([ours[mine], others]).drop(columns="computed_at")
    now = ledger_now.set_index("day")
    changed = [
        day.isoformat()
        for day, orders, sales, spend in recorded.itertuples(index=False)
        if day not in now.index
        or tuple(now.loc[day, ["orders", "sales_cents", "ad_spend_cents"]]) != (orders, sales, spend)
    ]
    expected = pd.concat([recorded, ledger_now[~ledger_now["day"].isin(set(recorded["day"]))]])
    return compared.reset_index(drop=True), expected.reset_index(drop=True), sorted({*pending, *changed})


def _mismatches(analytics: "pd.DataFrame", ledger: "pd.DataFrame", pairs: dict[str, str]) -> list[dict]:
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
    description="Orders and sales of every day in daily_sales equal the order ledger's, to the cent "
    "(the ledger as the asset read it).",
)
def daily_sales_reconcile_with_ledger(
    context: dg.AssetCheckExecutionContext, store_db: StoreDatabase
) -> dg.AssetCheckResult:
    read = _recorded_read(context, daily_sales.key, LEDGER_READ)
    with q.consistent_read(store_db.engine()) as conn:
        ours = _table_frame(conn, analytics_daily_sales, ["day", "orders", "sales", "computed_at"])
        ours, ledger, pending = _against_recorded_read(conn, ours, read)
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
    "revenue - product cost - shipping - payment fees - ad spend - refunds - chargebacks + supplier refunds.",
)
def daily_profit_reconciles_with_ledger(
    context: dg.AssetCheckExecutionContext, store_db: StoreDatabase
) -> dg.AssetCheckResult:
    columns = [
        "day",
        "revenue",
        "product_cost",
        "shipping_cost",
        "payment_fees",
        "ad_spend",
        "refunds",
        "chargebacks",
        "supplier_refunds",
        "profit",
    ]
    read = _recorded_read(context, daily_profit.key, LEDGER_READ)
    with q.consistent_read(store_db.engine()) as conn:
        ours = _table_frame(conn, analytics_daily_profit, [*columns, "computed_at"])
        ours, ledger, pending = _against_recorded_read(conn, ours, read)
    if not len(ours):
        return _result(0, [], pending)
    for col in columns[1:]:
        ours[col] = [to_cents(v) for v in ours[col]]
    wrong = _mismatches(ours, ledger, {"revenue": "sales_cents", "ad_spend": "ad_spend_cents"})
    identity = ours["revenue"] - ours[columns[2:8]].sum(axis=1) + ours["supplier_refunds"]
    for day, expected, actual in zip(ours["day"], identity, ours["profit"], strict=True):
        if int(expected) != int(actual):
            wrong.append({"day": day, "field": "profit", "analytics": actual, "ledger": expected})
    return _result(len(ours), wrong, pending)


def _kpi_differences(overall: Any, sums: dict[str, int]) -> dict[str, dict[str, str]]:
    return {
        name: {"kpis": str(ours), "daily": str(theirs)}
        for name, ours, theirs in (
            ("sales", to_cents(overall["sales"]), sums["sales_cents"]),
            ("profit", to_cents(overall["profit"]), sums["profit_cents"]),
            ("orders", int(overall["orders"]), sums["orders"]),
        )
        if ours != theirs
    }


@dg.asset_check(
    asset=kpis,
    blocking=True,
    description="All-time sales, profit and orders in the KPIs equal the sums of the daily tables "
    "(as the KPIs read them).",
)
def kpis_match_daily_totals(
    context: dg.AssetCheckExecutionContext, store_db: StoreDatabase
) -> dg.AssetCheckResult:
    read = _recorded_read(context, kpis.key, DAILY_READ)
    with q.consistent_read(store_db.engine()) as conn:
        overall = (
            conn.execute(sa.select(analytics_kpis).where(analytics_kpis.c.period == "all_time"))
            .mappings()
            .first()
        )
        sums_now = daily_profit_sums(conn)
    if overall is None:
        return dg.AssetCheckResult(passed=False, metadata={"problem": "no all_time KPI row"})
    # The KPI row of the recorded read is compared with the daily sums it read; a daily run that finished
    # since changed the daily tables, not the KPIs' correctness (the automation refreshes them).
    ours = read is not None and _same_moment(overall["computed_at"], read.get("computed_at"))
    sums = {k: int(read[k]) for k in sums_now} if ours and read is not None else sums_now
    wrong = _kpi_differences(overall, sums)
    return dg.AssetCheckResult(
        passed=not wrong,
        metadata={
            "mismatches": dg.MetadataValue.json(wrong),
            "daily_changed_since_computed": sums != sums_now,
        },
    )


# --- the snapshots follow their inputs (not blocking: they say the snapshot is stale; the automation,
# or "Recompute analytics", refreshes it) -------------------------------------------------------------
def _newer_inputs(
    context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey, inputs: list[dg.AssetKey]
) -> list[str]:
    """The inputs materialised after the snapshot's own latest materialisation."""
    instance = context.instance
    own = instance.get_latest_materialization_event(asset_key)
    if own is None:
        return [key.to_user_string() for key in inputs]
    newer = []
    for key in inputs:
        event = instance.get_latest_materialization_event(key)
        if event is not None and event.timestamp > own.timestamp:
            newer.append(key.to_user_string())
    return newer


def _follows(newer: list[str], wrong: dict[str, Any]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not newer and not wrong,
        metadata={
            "inputs_materialised_after": dg.MetadataValue.json(newer),
            "disagreements": dg.MetadataValue.json(wrong),
        },
    )


@dg.asset_check(
    asset=kpis,
    additional_deps=[daily_sales, daily_profit, AD_METRICS],
    automation_condition=SNAPSHOT_AUDIT,
    description="The KPIs are not older than the daily tables, and all time they equal the daily tables' "
    "sums (sales, profit, orders, ad spend) now.",
)
def kpis_follow_daily_tables(
    context: dg.AssetCheckExecutionContext, store_db: StoreDatabase
) -> dg.AssetCheckResult:
    with q.consistent_read(store_db.engine()) as conn:
        overall = (
            conn.execute(sa.select(analytics_kpis).where(analytics_kpis.c.period == "all_time"))
            .mappings()
            .first()
        )
        sums = daily_profit_sums(conn)
        daily_newest = conn.execute(
            sa.select(sa.func.max(analytics_daily_profit.c.computed_at))
        ).scalar_one_or_none()
    if overall is None:
        return _follows([], {"kpis": "no all_time KPI row"})
    wrong: dict[str, Any] = _kpi_differences(overall, sums)
    if to_cents(overall["ad_spend"]) != sums["ad_spend_cents"]:
        wrong["ad_spend"] = {"kpis": str(to_cents(overall["ad_spend"])), "daily": str(sums["ad_spend_cents"])}
    if daily_newest is not None and q.as_utc_datetime(daily_newest) > q.as_utc_datetime(
        overall["computed_at"]
    ):
        wrong["computed_at"] = {"kpis": str(overall["computed_at"]), "daily": str(daily_newest)}
    return _follows(_newer_inputs(context, kpis.key, [daily_sales.key, daily_profit.key, AD_METRICS]), wrong)


@dg.asset_check(
    asset=top_products,
    additional_deps=[STORE_ORDERS, STORE_LISTINGS, AD_METRICS],
    automation_condition=SNAPSHOT_AUDIT,
    description="Top products is not older than the orders and metrics it ranks, and each product's "
    "units and revenue equal the ledger's now.",
)
def top_products_follow_ledger(
    context: dg.AssetCheckExecutionContext, store_db: StoreDatabase
) -> dg.AssetCheckResult:
    with q.consistent_read(store_db.engine()) as conn:
        ours = conn.execute(
            sa.select(
                analytics_top_products.c.pid, analytics_top_products.c.units, analytics_top_products.c.revenue
            )
        ).all()
        ledger = q.product_units_revenue(conn).set_index("pid")
    wrong: dict[str, Any] = {}
    for pid, units, revenue in ours:
        theirs = (
            (int(ledger.loc[pid, "units"]), int(ledger.loc[pid, "revenue"]))
            if pid in ledger.index
            else (0, 0)
        )
        if (int(units), to_cents(revenue)) != theirs:
            wrong[pid] = {"top_products": [int(units), to_cents(revenue)], "ledger": list(theirs)}
    newer = _newer_inputs(context, top_products.key, [STORE_ORDERS, STORE_LISTINGS, AD_METRICS])
    return _follows(newer, wrong)


@dg.asset_check(
    asset=ad_performance,
    additional_deps=[AD_METRICS, AD_CAMPAIGNS],
    automation_condition=SNAPSHOT_AUDIT,
    description="Ad performance is not older than the ad metrics, and its spend and clicks equal the "
    "metrics' totals now.",
)
def ad_performance_follows_metrics(
    context: dg.AssetCheckExecutionContext, store_db: StoreDatabase
) -> dg.AssetCheckResult:
    with q.consistent_read(store_db.engine()) as conn:
        ours = conn.execute(
            sa.select(
                q.cents(sa.func.sum(analytics_ad_performance.c.spend)),
                sa.func.coalesce(sa.func.sum(analytics_ad_performance.c.clicks), 0),
            )
        ).one()
        theirs = conn.execute(
            sa.select(
                q.cents(sa.func.sum(ad_metrics_daily.c.spend)),
                sa.func.coalesce(sa.func.sum(ad_metrics_daily.c.clicks), 0),
            )
        ).one()
    wrong: dict[str, Any] = {}
    for name, a, b in (("spend_cents", ours[0], theirs[0]), ("clicks", ours[1], theirs[1])):
        if int(a) != int(b):
            wrong[name] = {"ad_performance": int(a), "ad_metrics": int(b)}
    return _follows(_newer_inputs(context, ad_performance.key, [AD_METRICS, AD_CAMPAIGNS]), wrong)
