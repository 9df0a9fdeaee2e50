"""Tracking and true profit: the parcels that need a person (stalled, lost) and each order's true profit
(what the supplier charged, the gateway's fees, refunds, chargebacks, supplier refunds)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from fastapi import APIRouter
from pydantic import BaseModel

from dashboard.api.deps import End, Limit, Start, StoreDep, check_range
from dropship_pipelines.rules import profit as money
from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.store import analytics_queries as aq
from dropship_pipelines.store import tracking_queries as tq

router = APIRouter(prefix="/tracking", tags=["tracking"])


class StalledParcel(BaseModel):
    order_id: str
    order_name: str | None
    order_number: str
    track_number: str | None
    carrier_status: str | None
    stall: str  # no_tracking | no_scan | lost
    stalled_since: datetime | None
    shipped_at: datetime | None
    last_scan_at: datetime | None
    failure_reported_at: datetime | None  # a lost parcel handed to the refund-and-dispute path
    failure_outcome: str | None


class Stalls(BaseModel):
    items: list[StalledParcel]
    by_stall: dict[str, int]


class OrderProfit(BaseModel):
    order_id: str
    day: date
    gateway: str | None
    revenue: Decimal
    product_cost: Decimal
    shipping_cost: Decimal
    payment_fees: Decimal
    refunds: Decimal
    chargebacks: Decimal
    supplier_refunds: Decimal
    profit: Decimal  # before ad spend (ads are per day and product, not per order)
    cost_estimated: bool


class ProfitPage(BaseModel):
    start: date
    end: date
    orders: int
    totals: dict[str, Decimal]
    items: list[OrderProfit]  # the least profitable first


@router.get("/stalls", response_model=Stalls)
def stalls(store: StoreDep, limit: Limit = 200) -> dict:
    """Stalled and lost parcels, longest stalled first (what support and a person act on)."""
    with store.connect() as conn:
        rows = tq.stalled_parcels(conn, limit)
    by_stall: dict[str, int] = {}
    for row in rows:
        by_stall[row["stall"]] = by_stall.get(row["stall"], 0) + 1
    return {"items": rows, "by_stall": by_stall}


MONEY_COLUMNS = {
    "revenue": "revenue_cents",
    "product_cost": "product_cost_cents",
    "shipping_cost": "shipping_cents",
    "payment_fees": "fee_cents",
    "refunds": "refund_cents",
    "chargebacks": "chargeback_cents",
    "supplier_refunds": "supplier_refund_cents",
    "profit": "profit_cents",
}


@router.get("/profit", response_model=ProfitPage)
def order_profit(store: StoreDep, start: Start = None, end: End = None, limit: Limit = 100) -> dict:
    """True profit per order placed in [start, end] (UTC days; default the last 30 days), from the same
    rules as the daily analytics (rules/profit.py)."""
    check_range(start, end)
    last = end or datetime.now().date()
    first = start or last - timedelta(days=29)
    with store.connect() as conn:
        frame = aq.order_frame(conn, aq.utc_start(first), aq.utc_start(last + timedelta(days=1)))
    if len(frame):
        frame["fee_cents"] = money.payment_fee_cents(frame, PriceRule())
        frame["profit_cents"] = (
            frame["revenue_cents"]
            - frame["product_cost_cents"]
            - frame["shipping_cents"]
            - frame["fee_cents"]
            - frame["refund_cents"]
            - frame["chargeback_cents"]
            + frame["supplier_refund_cents"]
        )
        frame = frame.sort_values(["profit_cents", "order_id"])
    else:
        frame = pd.DataFrame(columns=[*frame.columns, "profit_cents"])
    totals = {name: money.from_cents(int(frame[col].sum())) for name, col in MONEY_COLUMNS.items()}
    items = [
        {
            "order_id": r["order_id"],
            "day": r["day"],
            "gateway": r["gateway"],
            **{name: money.from_cents(int(r[col])) for name, col in MONEY_COLUMNS.items()},
            "cost_estimated": bool(r["cost_estimated"]),
        }
        for r in frame.head(limit).to_dict("records")
    ]
    return {"start": first, "end": last, "orders": len(frame), "totals": totals, "items": items}
