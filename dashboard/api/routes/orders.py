"""The Orders page: the fulfillment ledger (store order, supplier order, fulfillment) and what needs help."""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.deps import End, Limit, Offset, Start, StoreDep, Text, check_range, page_of
from dashboard.api.store import bind_time, page
from dropship_pipelines.store.analytics_queries import utc_start
from dropship_pipelines.store.fulfillment_tables import (
    FULFILLMENT_FAILED,
    SUPPLIER_TROUBLE,
    fulfillments,
    store_orders,
    supplier_orders,
)

router = APIRouter(tags=["orders"])

# Per row of the orders query (its outer joins): shown as a flag on each order of a page.
NEEDS_ATTENTION = sa.or_(store_orders.c.state == "problem", SUPPLIER_TROUBLE, FULFILLMENT_FAILED)


def attention_order_ids() -> sa.CompoundSelect:
    """The same set as NEEDS_ATTENTION, as order ids each read from an index (a filter over the joined
    rows would scan every order); the partial indexes hold only the few rows in trouble."""
    return sa.union(
        sa.select(store_orders.c.order_id).where(store_orders.c.state == "problem"),
        sa.select(supplier_orders.c.order_id).where(SUPPLIER_TROUBLE),
        sa.select(fulfillments.c.order_id).where(FULFILLMENT_FAILED),
    )


def order_rows(
    conn: Connection,
    state: str | None,
    needs_attention: bool | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    o, so, f = store_orders.c, supplier_orders.c, fulfillments.c
    query = sa.select(
        o.order_id,
        o.name,
        o.customer_name,
        o.placed_at,
        o.total_price,
        o.state,
        o.source,
        o.financial_status,
        o.problem,
        so.state.label("supplier_state"),
        so.supplier_status,
        so.last_error.label("supplier_error"),
        sa.func.coalesce(so.track_number, f.track_number).label("track_number"),
        sa.func.coalesce(so.carrier, f.carrier).label("carrier"),
        sa.func.coalesce(so.tracking_url, f.tracking_url).label("tracking_url"),
        f.state.label("fulfillment_state"),
        sa.case((NEEDS_ATTENTION, True), else_=False).label("needs_attention"),
    ).select_from(
        store_orders.outerjoin(supplier_orders, so.order_id == o.order_id).outerjoin(
            fulfillments, f.order_id == o.order_id
        )
    )
    # Every filter is on store_orders, so the count needs no join (one supplier order and at most one
    # fulfillment per order: the outer joins never add rows).
    where: list[sa.ColumnElement[bool]] = []
    if state:
        where.append(o.state == state)
    if needs_attention is not None:
        ids = attention_order_ids()
        where.append(o.order_id.in_(ids) if needs_attention else o.order_id.not_in(ids))
    if start:
        where.append(o.placed_at >= bind_time(conn, utc_start(start)))
    if end:
        where.append(o.placed_at < bind_time(conn, utc_start(end + timedelta(days=1))))
    count = sa.select(sa.func.count()).select_from(store_orders).where(*where)
    rows, total = page(conn, query.where(*where), [o.placed_at.desc(), o.order_id], limit, offset, count)
    for row in rows:
        row["needs_attention"] = bool(row["needs_attention"])
    return rows, total


@router.get("/orders", response_model=m.Page[m.Order])
def orders(
    store: StoreDep,
    state: Text = None,
    needs_attention: bool | None = None,
    start: Start = None,
    end: End = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    check_range(start, end)
    with store.connect() as conn:
        rows, total = order_rows(conn, state, needs_attention, start, end, limit, offset)
    return page_of(rows, total, limit, offset)
