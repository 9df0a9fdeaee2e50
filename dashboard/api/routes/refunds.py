"""Refunds and cancellations on the Orders page: the money that went back (store refunds, chargebacks and
their fees, what the supplier paid back), and the cancellations and supplier failures that need a human.

Read-only, from the ledger the fulfillment workflow keeps (`store/refund_tables.py`)."""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, Field

from dashboard.api.deps import StoreDep
from dashboard.api.store import utc
from dropship_pipelines.store import refund_queries as q
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_pipelines.store.refund_tables import order_refunds

router = APIRouter(prefix="/refunds", tags=["refunds"])
RECENT = 25


class MoneyBack(BaseModel):
    refunds: Decimal = Field(description="refunded at the store (ours and the staff's), shop currency")
    chargebacks: Decimal = Field(description="charged back and not won")
    chargeback_fees: Decimal
    supplier_refunds: Decimal = Field(description="paid back by the supplier")
    orders: int = Field(description="orders with any money back")


class RefundRow(BaseModel):
    order_id: str
    order_name: str | None
    kind: str = Field(description="refund | chargeback | inquiry | supplier_refund")
    status: str | None
    amount: Decimal
    currency: str
    presentment_amount: Decimal | None
    presentment_currency: str | None
    fee: Decimal | None
    reason: str | None
    occurred_at: str


class CaseRow(BaseModel):
    order_id: str
    order_name: str | None
    side: str = Field(description="store (cancelled there) | supplier (it failed the order)")
    reason: str
    decision: str | None
    state: str = Field(description="open | done | escalated")
    escalation: str | None
    known_at: str


class RefundsView(BaseModel):
    totals: MoneyBack
    recent: list[RefundRow]
    needs_a_human: list[CaseRow] = Field(description="escalated cases, newest first")
    open_cases: int
    cases: dict[str, int] = Field(description="'side:state' -> count")


@router.get("", response_model=RefundsView)
def refunds_view(store: StoreDep) -> dict[str, Any]:
    """The money back and the cases, from the ledger."""
    money = q.money_back_per_order()
    with store.connect() as conn:
        sums = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(money.c.refunds), 0),
                sa.func.coalesce(sa.func.sum(money.c.chargebacks), 0),
                sa.func.coalesce(sa.func.sum(money.c.chargeback_fees), 0),
                sa.func.coalesce(sa.func.sum(money.c.supplier_refunds), 0),
                sa.func.count(),
            )
        ).one()
        recent = conn.execute(
            sa.select(order_refunds, store_orders.c.name)
            .outerjoin(store_orders, store_orders.c.order_id == order_refunds.c.order_id)
            .order_by(order_refunds.c.occurred_at.desc())
            .limit(RECENT)
        ).all()
        escalated = q.cases(conn, state="escalated", limit=RECENT)
        counts = q.case_counts(conn)
    return {
        "totals": dict(
            zip(
                ("refunds", "chargebacks", "chargeback_fees", "supplier_refunds", "orders"), sums, strict=True
            )
        ),
        "recent": [
            {
                **{
                    k: r._mapping[k] for k in RefundRow.model_fields if k not in ("order_name", "occurred_at")
                },
                "order_name": r.name,
                "occurred_at": utc(r.occurred_at).isoformat(),
            }
            for r in recent
        ],
        "needs_a_human": [
            {
                **{k: c[k] for k in CaseRow.model_fields if k != "known_at"},
                "known_at": utc(c["known_at"]).isoformat(),
            }
            for c in escalated
        ],
        "open_cases": sum(n for key, n in counts.items() if key.endswith(":open")),
        "cases": counts,
    }
