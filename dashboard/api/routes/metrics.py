"""The Metrics page: the analytics workflow's tables (KPIs per period, daily profit, top products, ads).

Each KPI period also carries what the page needs to be read truthfully: conversion split into the ads'
own (the platforms' attributed purchases per ad click) and organic orders (no rate: the store's sessions
are not recorded), the daily tables' sums over the same window (a card that disagrees with them is
flagged: the snapshot is stale), when each figure was computed, and the store's own "today"."""

from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter
from sqlalchemy.engine import Connection

from dashboard.api import models as m
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


def kpi_rows(conn: Connection) -> list[dict[str, Any]]:
    order = sa.case(PERIOD_ORDER, value=analytics_kpis.c.period, else_=len(PERIOD_ORDER))
    return [dict(r) for r in conn.execute(sa.select(analytics_kpis).order_by(order)).mappings()]


def _days(column: sa.ColumnElement, start: date | None, end: date | None) -> list[sa.ColumnElement[bool]]:
    return [c for c in (column >= start if start else None, column <= end if end else None) if c is not None]


def daily_sums(conn: Connection, start: date | None, end: date | None) -> dict[str, Any]:
    """The daily profit table summed over [start, end] (inclusive days, None open), and when the newest
    of those days was computed."""
    p = analytics_daily_profit.c
    row = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(p.revenue), 0).label("sales"),
            sa.func.coalesce(sa.func.sum(p.orders), 0).label("orders"),
            sa.func.coalesce(sa.func.sum(p.ad_spend), 0).label("ad_spend"),
            sa.func.coalesce(sa.func.sum(p.profit), 0).label("profit"),
            sa.func.max(p.computed_at).label("computed_at"),
        ).where(*_days(p.day, start, end))
    ).one()
    cent = Decimal("0.01")
    return {
        "sales": Decimal(str(row.sales)).quantize(cent),
        "orders": int(row.orders),
        "ad_spend": Decimal(str(row.ad_spend)).quantize(cent),
        "profit": Decimal(str(row.profit)).quantize(cent),
        "computed_at": row.computed_at,
    }


def attributed_purchases(conn: Connection, start: date | None, end: date | None) -> int:
    """The platforms' attributed purchases over [start, end]: summed from the per-day totals the database
    keeps (`ad_metrics_day_totals`, two rows a day), not from every campaign's row of the period."""
    d = ad_metrics_day_totals.c
    query = sa.select(sa.func.coalesce(sa.func.sum(d.purchases), 0)).where(*_days(d.day, start, end))
    return int(conn.execute(query).scalar_one())


def organic_orders(conn: Connection, start: date | None, end: date | None) -> int:
    """Organic orders not cancelled, placed on [start, end] (UTC days): summed from the per-day counts
    the database keeps (`order_counts_daily`), not counted over every order of the period."""
    c = order_counts_daily.c
    query = sa.select(sa.func.coalesce(sa.func.sum(c.orders), 0)).where(
        c.source == "organic", *_days(c.day, start, end)
    )
    return int(conn.execute(query).scalar_one())


def _disagreements(kpi: dict[str, Any], sums: dict[str, Any]) -> list[str]:
    return [field for field in CHECKED if Decimal(str(kpi[field])) != Decimal(str(sums[field]))]


def kpi_report(conn: Connection, today: date, zone: str) -> dict[str, Any]:
    periods = []
    for kpi in kpi_rows(conn):
        start, end = kpi["start_day"], kpi["end_day"]
        sums = daily_sums(conn, start, end)
        attributed, clicks = attributed_purchases(conn, start, end), kpi["ad_clicks"]
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
                "organic_orders": organic_orders(conn, start, end),
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


def _kpis(store: Store, zone: ZoneInfo) -> dict[str, Any]:
    with store.connect() as conn:
        return kpi_report(conn, store_today(zone), zone.key)


@router.get("/kpis", response_model=m.KpiReport)
async def kpis(dashboard: DashboardDep) -> dict:
    return await in_thread(_kpis, dashboard.store, dashboard.store_timezone)


def _daily(store: Store, start: date | None, end: date | None) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return daily_rows(conn, start, end)


@router.get("/daily", response_model=list[m.DailyPoint])
async def daily(store: StoreDep, start: Start = None, end: End = None) -> list:
    check_range(start, end)
    return await in_thread(_daily, store, start, end)


def _top_products(store: Store, limit: int, offset: int) -> dict[str, Any]:
    t = analytics_top_products
    with store.connect() as conn:
        return page_of(*page(conn, sa.select(t), [t.c.rank], limit, offset), limit, offset)


@router.get("/top-products", response_model=m.Page[m.TopProduct])
async def top_products(store: StoreDep, limit: Limit = 20, offset: Offset = 0) -> dict:
    return await in_thread(_top_products, store, limit, offset)


def _ad_performance(store: Store, platform: str | None, limit: int, offset: int) -> dict[str, Any]:
    t = analytics_ad_performance
    query = sa.select(t, listings.c.title).select_from(t.outerjoin(listings, listings.c.pid == t.c.pid))
    if platform:
        query = query.where(t.c.platform == platform)
    order = [t.c.spend.desc(), t.c.platform, t.c.campaign_id]
    with store.connect() as conn:
        return page_of(*page(conn, query, order, limit, offset), limit, offset)


@router.get("/ad-performance", response_model=m.Page[m.AdPerformance])
async def ad_performance(
    store: StoreDep, platform: Text = None, limit: Limit = 50, offset: Offset = 0
) -> dict:
    return await in_thread(_ad_performance, store, platform, limit, offset)
