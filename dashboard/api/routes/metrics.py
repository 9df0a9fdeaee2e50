"""The Metrics page: the analytics workflow's tables (KPIs per period, daily profit, top products, ads).

Each KPI period also carries what the page needs to be read truthfully: conversion split into the ads'
own (the platforms' attributed purchases per ad click) and organic orders (no rate: the store's sessions
are not recorded), the daily tables' sums over the same window (a card that disagrees with them is
flagged: the snapshot is stale), when each figure was computed, and the store's own "today"."""

import functools
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.cache import Cached
from dashboard.api.clock import store_today
from dashboard.api.deps import DashboardDep, End, Limit, Offset, Start, StoreDep, Text, check_range, page_of
from dashboard.api.store import Store, in_thread, page
from dropship_pipelines.store.analytics_tables import (
    analytics_ad_performance,
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
    analytics_top_products,
)
from dropship_pipelines.store.dashboard_tables import ad_metrics_day_totals
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import order_counts_daily

router = APIRouter(prefix="/metrics", tags=["metrics"])

# Where the profit rule's refunds come from (analytics_queries.refunds_column).
REFUNDS_NOTE = "refunds are those made at the store (each order action's refund, once)"
PERIOD_ORDER = {"all_time": 0, "last_30_days": 1, "last_7_days": 2, "today": 3}
# How each card's figure is computed, stated once; the page prints it under the card.
DEFINITIONS = {
    "sales": "total price of the orders placed in the period, cancelled orders excluded",
    "profit": "sales - product cost - shipping - payment fees - ad spend - refunds",
    "orders": "orders placed in the period, cancelled orders excluded, from every source",
    "ad_spend": "what Meta and TikTok report as spent on the days of the period",
    "roi": "profit / (product cost + shipping + payment fees + ad spend)",
    "attributed_conversion": "purchases the ad platforms attribute to their ads / ad clicks",
    "organic_orders": (
        "orders with no ad attribution (source organic); no rate: the store's sessions are not recorded"
    ),
    "aov": "sales / orders",
    "roas": "sales / ad spend",
}
# KPI fields checked against the daily tables (what a stale snapshot gets wrong first).
CHECKED = ("sales", "orders", "ad_spend", "profit")


# The KPI reads are built once per shape (how many periods, which bounds each has) and reused with the
# period's days bound as parameters: building a statement of 20 conditional sums per request cost more
# CPU than running it.
KPI_ROWS = sa.select(analytics_kpis).order_by(
    sa.case(PERIOD_ORDER, value=analytics_kpis.c.period, else_=len(PERIOD_ORDER))
)


def kpi_rows(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(KPI_ROWS).mappings().all()]


Period = tuple[date | None, date | None]  # inclusive days, None open
Shape = tuple[tuple[bool, bool], ...]  # per period: has a first day, has a last day


def _shape(periods: list[Period]) -> Shape:
    return tuple((start is not None, end is not None) for start, end in periods)


def _bounds(periods: list[Period]) -> dict[str, date]:
    bound = {f"start_{i}": start for i, (start, _) in enumerate(periods) if start is not None}
    return bound | {f"end_{i}": end for i, (_, end) in enumerate(periods) if end is not None}


def _within(column: sa.ColumnElement, i: int, has_start: bool, has_end: bool) -> sa.ColumnElement[bool]:
    """Period `i`'s days, its bounds as the parameters `start_i` / `end_i` (`_bounds`)."""
    first = column >= sa.bindparam(f"start_{i}", type_=column.type) if has_start else None
    last = column <= sa.bindparam(f"end_{i}", type_=column.type) if has_end else None
    return sa.and_(sa.true(), *(c for c in (first, last) if c is not None))


def _sum_within(column: sa.ColumnElement, within: sa.ColumnElement[bool], label: str) -> sa.Label:
    return sa.func.coalesce(sa.func.sum(sa.case((within, column))), 0).label(label)


@functools.lru_cache(maxsize=32)
def _daily_sums_query(shape: Shape) -> sa.Select:
    p = analytics_daily_profit.c
    fields = (("sales", p.revenue), ("orders", p.orders), ("ad_spend", p.ad_spend), ("profit", p.profit))
    columns: list[sa.ColumnElement] = []
    for i, bounds in enumerate(shape):
        within = _within(p.day, i, *bounds)
        columns += [_sum_within(column, within, f"{field}_{i}") for field, column in fields]
        columns.append(sa.func.max(sa.case((within, p.computed_at))).label(f"computed_at_{i}"))
    return sa.select(*columns)


@functools.lru_cache(maxsize=32)
def _attributed_query(shape: Shape) -> sa.Select:
    d = ad_metrics_day_totals.c
    return sa.select(*(_sum_within(d.purchases, _within(d.day, i, *b), f"p{i}") for i, b in enumerate(shape)))


@functools.lru_cache(maxsize=32)
def _organic_query(shape: Shape) -> sa.Select:
    c = order_counts_daily.c
    columns = (_sum_within(c.orders, _within(c.day, i, *b), f"o{i}") for i, b in enumerate(shape))
    return sa.select(*columns).where(c.source == "organic")


def period_daily_sums(conn: Connection, periods: list[Period]) -> list[dict[str, Any]]:
    """The daily profit table summed over each period, and when the newest of its days was computed: one
    pass over the table for every period (conditional sums), not one query per period."""
    if not periods:
        return []
    row = conn.execute(_daily_sums_query(_shape(periods)), _bounds(periods)).one()._mapping
    cent = Decimal("0.01")
    return [
        {
            "sales": Decimal(str(row[f"sales_{i}"])).quantize(cent),
            "orders": int(row[f"orders_{i}"]),
            "ad_spend": Decimal(str(row[f"ad_spend_{i}"])).quantize(cent),
            "profit": Decimal(str(row[f"profit_{i}"])).quantize(cent),
            "computed_at": row[f"computed_at_{i}"],
        }
        for i in range(len(periods))
    ]


def daily_sums(conn: Connection, start: date | None, end: date | None) -> dict[str, Any]:
    """The daily profit table summed over [start, end], and when the newest of those days was computed."""
    return period_daily_sums(conn, [(start, end)])[0]


def period_attributed_purchases(conn: Connection, periods: list[Period]) -> list[int]:
    """The platforms' attributed purchases over each period: summed from the per-day totals the database
    keeps (`ad_metrics_day_totals`, two rows a day), not from every campaign's row, in one pass."""
    if not periods:
        return []
    return [int(n) for n in conn.execute(_attributed_query(_shape(periods)), _bounds(periods)).one()]


def attributed_purchases(conn: Connection, start: date | None, end: date | None) -> int:
    return period_attributed_purchases(conn, [(start, end)])[0]


def period_organic_orders(conn: Connection, periods: list[Period]) -> list[int]:
    """Organic orders not cancelled, placed in each period (UTC days): summed from the per-day counts the
    database keeps (`order_counts_daily`), not counted over every order of the period."""
    if not periods:
        return []
    return [int(n) for n in conn.execute(_organic_query(_shape(periods)), _bounds(periods)).one()]


def organic_orders(conn: Connection, start: date | None, end: date | None) -> int:
    return period_organic_orders(conn, [(start, end)])[0]


def _disagreements(kpi: dict[str, Any], sums: dict[str, Any]) -> list[str]:
    return [field for field in CHECKED if Decimal(str(kpi[field])) != Decimal(str(sums[field]))]


def kpi_report(conn: Connection, today: date, zone: str) -> dict[str, Any]:
    kpis = kpi_rows(conn)
    spans: list[Period] = [(kpi["start_day"], kpi["end_day"]) for kpi in kpis]
    every_sums = period_daily_sums(conn, spans)
    every_attributed = period_attributed_purchases(conn, spans)
    every_organic = period_organic_orders(conn, spans)
    periods = []
    for kpi, sums, attributed, organic in zip(kpis, every_sums, every_attributed, every_organic, strict=True):
        start = kpi["start_day"]
        clicks = kpi["ad_clicks"]
        warnings = []
        disagrees = _disagreements(kpi, sums)
        if disagrees:
            shown = ", ".join(f"{field} {kpi[field]} vs {sums[field]}" for field in disagrees)
            warnings.append(f"the cards disagree with the daily tables over the same days ({shown})")
        if kpi["period"] == "today" and start != today:
            warnings.append(f"computed for {start}, but the store's today ({zone}) is {today}: recompute")
        periods.append(
            {
                **kpi,
                "attributed_orders": attributed,
                "attributed_conversion_rate": round(attributed / clicks, 4) if clicks else None,
                "organic_orders": organic,
                "store_sessions": None,
                "organic_conversion_rate": None,
                "daily_sums": {field: sums[field] for field in CHECKED},
                "daily_computed_at": sums["computed_at"],
                "disagrees": disagrees,
                "warnings": warnings,
            }
        )
    return {
        "periods": periods,
        "refunds_note": REFUNDS_NOTE,
        "store_timezone": zone,
        "store_today": today,
        "definitions": DEFINITIONS,
    }


def daily_rows(conn: Connection, start: date | None, end: date | None) -> list[dict[str, Any]]:
    p, s = analytics_daily_profit.c, analytics_daily_sales.c
    query = sa.select(
        p.day,
        p.orders,
        sa.func.coalesce(s["items"], 0).label("items"),
        p.revenue.label("sales"),
        s.aov,
        p.product_cost,
        p.shipping_cost,
        p.payment_fees,
        p.ad_spend,
        p.refunds,
        p.profit,
        p.estimated_cost_orders,
        p.computed_at,
    ).select_from(analytics_daily_profit.outerjoin(analytics_daily_sales, s.day == p.day))
    if start:
        query = query.where(p.day >= start)
    if end:
        query = query.where(p.day <= end)
    return [dict(r) for r in conn.execute(query.order_by(p.day)).mappings()]


KPIS = Cached(m.KpiReport, ("analytics_kpis", "daily", "ad_metrics_day_totals", "order_counts_daily"))


@router.get("/kpis", response_model=m.KpiReport)
async def kpis(dashboard: DashboardDep) -> Response:
    zone = dashboard.store_timezone
    today = store_today(zone)  # part of the answer: a new day is a new answer
    key = ("kpis", today, zone.key)
    return await KPIS.respond(dashboard.store, key, lambda conn: kpi_report(conn, today, zone.key))


DAILY = Cached(list[m.DailyPoint], ("daily",))


def daily_body(store: Store, start: date | None, end: date | None) -> bytes:
    """/api/metrics/daily's JSON: kept while the daily tables' version (bumped by triggers on every write
    to them, migration 0014) is the one it was read at (dashboard/api/cache.py)."""
    body, _ = DAILY.answer(store, ("daily", start, end), lambda conn: (daily_rows(conn, start, end), {}))
    return body


@router.get("/daily", response_model=list[m.DailyPoint])
async def daily(store: StoreDep, start: Start = None, end: End = None) -> Response:
    check_range(start, end)
    return Response(await in_thread(daily_body, store, start, end), media_type="application/json")


TOP_PRODUCTS = Cached(m.Page[m.TopProduct], ("analytics_top_products",))
AD_PERFORMANCE = Cached(m.Page[m.AdPerformance], ("analytics_ad_performance", "listings"))


def top_product_page(conn: Connection, limit: int, offset: int) -> dict[str, Any]:
    t = analytics_top_products
    return page_of(*page(conn, sa.select(t), [t.c.rank], limit, offset), limit, offset)


@router.get("/top-products", response_model=m.Page[m.TopProduct])
async def top_products(store: StoreDep, limit: Limit = 20, offset: Offset = 0) -> Response:
    key = ("top-products", limit, offset)
    return await TOP_PRODUCTS.respond(store, key, lambda conn: top_product_page(conn, limit, offset))


def ad_performance_page(conn: Connection, platform: str | None, limit: int, offset: int) -> dict[str, Any]:
    t = analytics_ad_performance
    query = sa.select(t, listings.c.title).select_from(t.outerjoin(listings, listings.c.pid == t.c.pid))
    if platform:
        query = query.where(t.c.platform == platform)
    order = [t.c.spend.desc(), t.c.platform, t.c.campaign_id]
    return page_of(*page(conn, query, order, limit, offset), limit, offset)


@router.get("/ad-performance", response_model=m.Page[m.AdPerformance])
async def ad_performance(
    store: StoreDep, platform: Text = None, limit: Limit = 50, offset: Offset = 0
) -> Response:
    key = ("ad-performance", platform, limit, offset)
    return await AD_PERFORMANCE.respond(
        store, key, lambda conn: ad_performance_page(conn, platform, limit, offset)
    )
