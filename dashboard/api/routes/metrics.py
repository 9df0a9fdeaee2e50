"""The Metrics page: the analytics workflow's tables (KPIs per period, daily profit, top products, ads)."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.deps import End, Limit, Offset, Start, StoreDep, Text, check_range, page_of
from dashboard.api.store import page
from dropship_pipelines.store.analytics_tables import (
    analytics_ad_performance,
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
    analytics_top_products,
)
from dropship_pipelines.store.fulfillment_tables import store_orders

router = APIRouter(prefix="/metrics", tags=["metrics"])

# The same test as the profit rule's (analytics_queries.refunds_column): refunds count once recorded.
REFUNDS_NOTE = (
    "refunds are taken from store_orders.refunds"
    if "refunds" in store_orders.c
    else "refunds count as 0: the order ledger has no refunds column yet"
)
PERIOD_ORDER = {"all_time": 0, "last_30_days": 1, "last_7_days": 2, "today": 3}


def kpi_rows(conn: Connection) -> list[dict[str, Any]]:
    order = sa.case(PERIOD_ORDER, value=analytics_kpis.c.period, else_=len(PERIOD_ORDER))
    return [dict(r) for r in conn.execute(sa.select(analytics_kpis).order_by(order)).mappings()]


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
    ).select_from(analytics_daily_profit.outerjoin(analytics_daily_sales, s.day == p.day))
    if start:
        query = query.where(p.day >= start)
    if end:
        query = query.where(p.day <= end)
    return [dict(r) for r in conn.execute(query.order_by(p.day)).mappings()]


@router.get("/kpis", response_model=m.KpiReport)
def kpis(store: StoreDep) -> dict:
    with store.connect() as conn:
        return {"periods": kpi_rows(conn), "refunds_note": REFUNDS_NOTE}


@router.get("/daily", response_model=list[m.DailyPoint])
def daily(store: StoreDep, start: Start = None, end: End = None) -> list:
    check_range(start, end)
    with store.connect() as conn:
        return daily_rows(conn, start, end)


@router.get("/top-products", response_model=m.Page[m.TopProduct])
def top_products(store: StoreDep, limit: Limit = 20, offset: Offset = 0) -> dict:
    t = analytics_top_products
    with store.connect() as conn:
        return page_of(*page(conn, sa.select(t), [t.c.rank], limit, offset), limit, offset)


@router.get("/ad-performance", response_model=m.Page[m.AdPerformance])
def ad_performance(store: StoreDep, platform: Text = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    t = analytics_ad_performance
    query = sa.select(t)
    if platform:
        query = query.where(t.c.platform == platform)
    order = [t.c.spend.desc(), t.c.platform, t.c.campaign_id]
    with store.connect() as conn:
        return page_of(*page(conn, query, order, limit, offset), limit, offset)
