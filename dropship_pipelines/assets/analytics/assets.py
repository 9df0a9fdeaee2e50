"""The analytics assets: sales and profit per order day, and the KPI, top-product and ad snapshots.

Each reads the ledger through `store/analytics_queries.py`, computes with `rules/profit.py` and rewrites
its `analytics_*` table; when they run is told in this package's docstring.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.cadence import DAILY_ON_LEDGER_CHANGE, ORDER_DAYS, SNAPSHOT_ON_CHANGE
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules import profit as money
from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.store import analytics_queries as q
from dropship_pipelines.store.analytics_tables import (
    analytics_ad_performance,
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
    analytics_top_products,
)

if TYPE_CHECKING:  # pandas/numpy cost ~0.3 s to import: loaded by the functions that compute
    import pandas as pd

GROUP = "analytics"
OWNERS = ["team:store"]
KINDS = {"python", "sql", "pandas"}

# Upstream ledger assets of the other workflows (their tables are what we read).
STORE_ORDERS = dg.AssetKey("store_orders")
SUPPLIER_ORDERS = dg.AssetKey("supplier_orders")
AD_METRICS = dg.AssetKey("ad_metrics")
AD_CAMPAIGNS = dg.AssetKey("ad_campaigns")
STORE_LISTINGS = dg.AssetKey("store_listings")


def _now() -> datetime:
    return datetime.now(UTC)


def _days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The partition window as days [first, end) — one day, or a range when a backfill runs as one run."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def _money(value: object) -> float:
    return float(value)  # for metadata only; tables keep Decimal


# Metadata keys under which an asset records the snapshot of its inputs it computed from: its blocking
# check compares the table with that snapshot, not with a ledger that kept changing after the read.
LEDGER_READ = "ledger_read"
DAILY_READ = "daily_read"


def daily_frame(
    store_db: StoreDatabase, pricing: PricingPolicy, first: date, end: date
) -> tuple["pd.DataFrame", dict[str, dict[str, int]]]:
    """Sales and profit for days [first, end): one row per day that had an order or ad spend; and the
    ledger's own totals of those days (orders, sales, ad spend), read in the same snapshot. The database
    sums the orders by day (`analytics_queries.daily_sums`): a few hundred rows come back, not every order."""
    with q.consistent_read(store_db.engine()) as conn:
        sums = q.daily_sums(conn, q.utc_start(first), q.utc_start(end), pricing.rule())
        spend = q.ad_spend_frame(conn, first, end)
        ledger = q.ledger_totals_by_day(conn, first, end)
    ledger_read = {
        row.day.isoformat(): {
            "orders": int(row.orders),
            "sales_cents": int(row.sales_cents),
            "ad_spend_cents": int(row.ad_spend_cents),
        }
        for row in ledger.itertuples()
    }
    return money.daily_profit_from_sums(sums, spend), ledger_read


# daily_sales and daily_profit are the same daily frame, told two ways: within one run (both assets of a
# backfill, in-process) the first computes it and the second takes it, so the ledger is read once per run
# and both tables come from one snapshot. Keyed by run and window; an entry is taken once, and a run that
# materialises only one of the two leaves at most one small frame behind (the oldest is dropped).
_SHARED_DAILY: dict[tuple[str, date, date, PriceRule], tuple[datetime, "pd.DataFrame", dict]] = {}
_SHARED_DAILY_KEEP = 4


def shared_daily_frame(
    context: dg.AssetExecutionContext, store_db: StoreDatabase, pricing: PricingPolicy
) -> tuple[datetime, "pd.DataFrame", dict[str, dict[str, int]]]:
    """The window's daily frame, its ledger read and the moment stamped before the read: computed by the
    first of the two daily assets to run in this run, reused by the other."""
    first, end = _days(context)
    rule = pricing.rule()
    key = (context.run.run_id, first, end, rule)
    if key in _SHARED_DAILY:
        return _SHARED_DAILY.pop(key)
    # Stamped before the read: a ledger change during the read counts as after the computation.
    computed_at = _now()
    daily, ledger_read = daily_frame(store_db, pricing, first, end)
    others = {daily_sales.key, daily_profit.key} - set(context.selected_asset_keys)
    if others & set(context.run.asset_selection or others):
        while len(_SHARED_DAILY) >= _SHARED_DAILY_KEEP:
            _SHARED_DAILY.pop(next(iter(_SHARED_DAILY)))
        _SHARED_DAILY[key] = (computed_at, daily, ledger_read)
    return computed_at, daily, ledger_read


def _read_metadata(computed_at: datetime, snapshot: dict) -> dg.MetadataValue:
    return dg.MetadataValue.json({"computed_at": computed_at.isoformat(), **snapshot})


def record_partitions(
    context: dg.AssetExecutionContext,
    rows: list[dict],
    fields: tuple[str, ...],
    computed_at: datetime,
    ledger_read: dict[str, dict[str, int]],
) -> None:
    """Each partition's materialisation carries its own day only: its figures and the ledger's totals of
    that day as read (what the blocking check compares with). Metadata given to the whole result would be
    copied onto every partition of a range: a 300-day backfill then stored and serialised 300 x 300 days."""
    by_day = {row["day"].isoformat(): row for row in rows}
    for key in context.partition_keys:
        row = by_day.get(key)
        figures = {
            name: _money(row[name]) if isinstance(row[name], Decimal) else row[name]
            for name in fields
            if row is not None and row[name] is not None
        }
        read = {"days": {key: ledger_read[key]}} if key in ledger_read else {"days": {}}
        context.add_asset_metadata(
            {**figures, LEDGER_READ: _read_metadata(computed_at, read)}, partition_key=key
        )


def _replace_days(store_db: StoreDatabase, table: sa.Table, first: date, end: date, rows: list[dict]) -> None:
    """Delete-then-insert the window in one transaction, so re-runs and backfills are idempotent."""
    with store_db.engine().begin() as conn:
        conn.execute(table.delete().where(table.c.day >= first, table.c.day < end))
        if rows:
            conn.execute(table.insert(), rows)


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    partitions_def=ORDER_DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[STORE_ORDERS, SUPPLIER_ORDERS],
    automation_condition=DAILY_ON_LEDGER_CHANGE,
)
def daily_sales(
    context: dg.AssetExecutionContext, store_db: StoreDatabase, pricing: PricingPolicy
) -> dg.MaterializeResult:
    """Sales per day: orders, items sold, revenue and average order value (cancelled orders excluded)."""
    first, end = _days(context)
    computed_at, daily, ledger_read = shared_daily_frame(context, store_db, pricing)
    rows = [
        {
            "day": r.day,
            "orders": int(r.orders),
            "items": int(r.items),
            "sales": r.revenue,
            "aov": r.aov,
            "computed_at": computed_at,
        }
        for r in daily.itertuples()
        if r.orders
    ]
    _replace_days(store_db, analytics_daily_sales, first, end, rows)
    context.log.info("daily_sales %s..%s: %d day(s) with orders", first, end, len(rows))
    record_partitions(context, rows, ("orders", "items", "sales", "aov"), computed_at, ledger_read)
    return dg.MaterializeResult()


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    partitions_def=ORDER_DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[STORE_ORDERS, SUPPLIER_ORDERS, AD_METRICS, STORE_LISTINGS],
    automation_condition=DAILY_ON_LEDGER_CHANGE,
)
def daily_profit(
    context: dg.AssetExecutionContext, store_db: StoreDatabase, pricing: PricingPolicy
) -> dg.MaterializeResult:
    """True profit per day: revenue - product cost - shipping - payment fees - ad spend - refunds -
    chargebacks + supplier refunds (rules/profit.py).

    Costs are what the supplier charged (its order detail once shipped, its answer at order time before
    that), the listing's costs before the order was sent; fees are the gateway's reported fees, else its
    configured rate."""
    first, end = _days(context)
    computed_at, daily, ledger_read = shared_daily_frame(context, store_db, pricing)
    rows = [
        {
            "day": r.day,
            "orders": int(r.orders),
            "revenue": r.revenue,
            "product_cost": r.product_cost,
            "shipping_cost": r.shipping_cost,
            "payment_fees": r.payment_fees,
            "ad_spend": r.ad_spend,
            "refunds": r.refunds,
            "chargebacks": r.chargebacks,
            "supplier_refunds": r.supplier_refunds,
            "profit": r.profit,
            "estimated_cost_orders": int(r.estimated_cost_orders),
            "computed_at": computed_at,
        }
        for r in daily.itertuples()
    ]
    _replace_days(store_db, analytics_daily_profit, first, end, rows)
    context.log.info(
        "daily_profit %s..%s: %d day(s), profit %s", first, end, len(rows), sum(r["profit"] for r in rows)
    )
    fields = ("orders", "revenue", "ad_spend", "payment_fees", "profit", "estimated_cost_orders")
    record_partitions(context, rows, fields, computed_at, ledger_read)
    return dg.MaterializeResult()


def kpi_periods(today: date) -> dict[str, tuple[date | None, date | None]]:
    """Periods as [start, end) days; None is open."""
    tomorrow = today + timedelta(days=1)
    return {
        "all_time": (None, None),
        "last_30_days": (today - timedelta(days=29), tomorrow),
        "last_7_days": (today - timedelta(days=6), tomorrow),
        "today": (today, tomorrow),
    }


def daily_profit_sums(conn: sa.Connection) -> dict[str, int]:
    """All-time sums of the daily profit table in cents, by SQL (independent of `money.kpis`)."""
    t = analytics_daily_profit.c
    sales, profit, orders, ad_spend = conn.execute(
        sa.select(
            q.cents(sa.func.sum(t.revenue)),
            q.cents(sa.func.sum(t.profit)),
            sa.func.coalesce(sa.func.sum(t.orders), 0),
            q.cents(sa.func.sum(t.ad_spend)),
        )
    ).one()
    return {
        "sales_cents": int(sales),
        "profit_cents": int(profit),
        "orders": int(orders),
        "ad_spend_cents": int(ad_spend),
    }


def compute_kpis(store_db: StoreDatabase, today: date) -> tuple[list[dict], dict[str, int]]:
    """KPI rows per period, from the daily profit table and the ad platforms' clicks; and the daily
    table's all-time sums read in the same snapshot."""
    import pandas as pd

    with q.consistent_read(store_db.engine()) as conn:
        sums = daily_profit_sums(conn)
        daily = pd.DataFrame.from_records(
            conn.execute(sa.select(analytics_daily_profit)).mappings().all(),
            columns=[c.name for c in analytics_daily_profit.c],
        )
        if len(daily):
            daily["day"] = pd.to_datetime(daily["day"].astype(str)).dt.date
        rows = []
        computed_at = _now()
        for period, (start, end) in kpi_periods(today).items():
            chosen = daily
            if start is not None:
                chosen = chosen[(chosen["day"] >= start) & (chosen["day"] < end)]
            k = money.kpis(chosen, q.ad_clicks(conn, start, end))
            rows.append(
                {
                    "period": period,
                    "start_day": start,
                    "end_day": end - timedelta(days=1) if end else None,
                    "sales": k.sales,
                    "profit": k.profit,
                    "orders": k.orders,
                    "ad_spend": k.ad_spend,
                    "ad_clicks": k.ad_clicks,
                    "total_cost": k.total_cost,
                    "roi": k.roi,
                    "roas": k.roas,
                    "conversion_rate": k.conversion_rate,
                    "aov": k.aov,
                    "computed_at": computed_at,
                }
            )
    return rows, sums


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=[daily_sales, daily_profit, AD_METRICS],
    automation_condition=SNAPSHOT_ON_CHANGE,
)
def kpis(context: dg.AssetExecutionContext, store_db: StoreDatabase) -> dg.MaterializeResult:
    """The store's headline numbers — sales, profit, orders, ad spend, ROI, ROAS, conversion rate
    (orders / ad clicks) and AOV — for all time, the last 30 and 7 days and today (UTC)."""
    rows, daily_read = compute_kpis(store_db, _now().date())
    with store_db.engine().begin() as conn:
        conn.execute(analytics_kpis.delete())
        conn.execute(analytics_kpis.insert(), rows)
    overall = rows[0]
    return dg.MaterializeResult(
        metadata={
            "sales": _money(overall["sales"]),
            "profit": _money(overall["profit"]),
            "orders": overall["orders"],
            "ad_spend": _money(overall["ad_spend"]),
            "roi": overall["roi"],
            "periods": preview_table(rows, ("period", "sales", "profit", "orders", "ad_spend", "roi", "aov")),
            DAILY_READ: _read_metadata(overall["computed_at"], daily_read),
        }
    )


TOP_PRODUCTS_LIMIT = 100


def compute_top_products(
    store_db: StoreDatabase, limit: int = TOP_PRODUCTS_LIMIT, rule: PriceRule | None = None
) -> list[dict]:
    """Products by revenue. `product_cost`, `shipping_cost` and `contribution` are the listing's (units x
    listing costs); `profit` is the true one: each order's actual supplier charges, gateway fees and
    money given back shared among its lines by line revenue (rules/profit.py `product_profit`), less the
    product's ad spend."""
    with q.consistent_read(store_db.engine()) as conn:
        # the sales and the per-order sharing of `money.product_profit` (to the cent) in one pass
        frame = q.product_figures(conn, rule or PriceRule())
        spend = q.product_ad_spend(conn)
    frame = frame.merge(spend, on="pid", how="left").fillna({"ad_spend": 0})
    frame["ad_spend"] = frame["ad_spend"].astype("int64")
    frame["contribution"] = (
        frame["revenue"] - frame["product_cost"] - frame["shipping_cost"] - frame["ad_spend"]
    )
    frame["profit"] = frame["order_profit"] - frame["ad_spend"] if len(frame) else frame["contribution"]
    frame = frame.sort_values(["revenue", "units", "pid"], ascending=[False, False, True]).head(limit)
    computed_at = _now()
    return [
        {
            "pid": r.pid,
            "rank": rank,
            "title": r.title[:300],
            "orders": int(r.orders),
            "units": int(r.units),
            "revenue": money.from_cents(r.revenue),
            "product_cost": money.from_cents(r.product_cost),
            "shipping_cost": money.from_cents(r.shipping_cost),
            "ad_spend": money.from_cents(r.ad_spend),
            "contribution": money.from_cents(r.contribution),
            "payment_fees": money.from_cents(r.payment_fees),
            "money_back": money.from_cents(r.money_back),
            "profit": money.from_cents(r.profit),
            "computed_at": computed_at,
        }
        for rank, r in enumerate(frame.itertuples(), start=1)
    ]


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=[STORE_ORDERS, STORE_LISTINGS, AD_METRICS],
    automation_condition=SNAPSHOT_ON_CHANGE,
)
def top_products(
    context: dg.AssetExecutionContext, store_db: StoreDatabase, pricing: PricingPolicy
) -> dg.MaterializeResult:
    """What sells: products ranked by revenue, with units, costs, ad spend, contribution (revenue -
    product cost - shipping - ad spend) and true profit (less each order's gateway fees, refunds and
    chargebacks net of supplier refunds, shared among its lines by revenue)."""
    rows = compute_top_products(store_db, rule=pricing.rule())
    with store_db.engine().begin() as conn:
        conn.execute(analytics_top_products.delete())
        if rows:
            conn.execute(analytics_top_products.insert(), rows)
    losing = [r for r in rows if r["contribution"] < 0]
    return dg.MaterializeResult(
        metadata={
            "products": len(rows),
            "losing_money": len(losing),
            "losing_money_after_fees_and_refunds": sum(1 for r in rows if r["profit"] < 0),
            "preview": preview_table(rows[:10], ("rank", "pid", "title", "units", "revenue", "contribution")),
        }
    )


def compute_ad_performance(store_db: StoreDatabase) -> list[dict]:
    import pandas as pd

    with store_db.engine().connect() as conn:
        frame = q.campaign_totals(conn)
    computed_at = _now()
    rows = []
    for r in frame.itertuples():
        spend, revenue = money.from_cents(r.spend), money.from_cents(r.revenue)
        rows.append(
            {
                "platform": r.platform,
                "campaign_id": r.campaign_id,
                "pid": r.pid,
                "state": None if pd.isna(r.state) else r.state,
                "days": int(r.days),
                "spend": spend,
                "impressions": int(r.impressions),
                "clicks": int(r.clicks),
                "purchases": int(r.purchases),
                "revenue": revenue,
                "ctr": round(r.clicks / r.impressions, 4) if r.impressions else None,
                "cpc": money.from_cents((r.spend * 2 + r.clicks) // (2 * r.clicks)) if r.clicks else None,
                "roas": money.roas(revenue, spend),
                "computed_at": computed_at,
            }
        )
    return rows


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=[AD_METRICS, AD_CAMPAIGNS],
    automation_condition=SNAPSHOT_ON_CHANGE,
)
def ad_performance(context: dg.AssetExecutionContext, store_db: StoreDatabase) -> dg.MaterializeResult:
    """What burns cash: spend, clicks, purchases, CTR, CPC and ROAS per platform and campaign, all time."""
    rows = compute_ad_performance(store_db)
    with store_db.engine().begin() as conn:
        conn.execute(analytics_ad_performance.delete())
        if rows:
            conn.execute(analytics_ad_performance.insert(), rows)
    return dg.MaterializeResult(
        metadata={
            "campaigns": len(rows),
            "spend": _money(sum(r["spend"] for r in rows)),
            "below_roas_1": sum(1 for r in rows if r["roas"] is not None and r["roas"] < 1),
            "preview": preview_table(rows[:10], ("platform", "campaign_id", "spend", "clicks", "roas")),
        }
    )


DAILY_ASSETS = (daily_sales, daily_profit)
