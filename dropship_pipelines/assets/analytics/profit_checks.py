"""The reconciliation covers the money given back: each day's refunds, chargebacks and supplier refunds
in `analytics_daily_profit` equal the sums of the ledger's own rows, recomputed here from the raw rows
(not through the analytics' SQL): per order the most any refund ledger knows (order actions done, the
refunds recorded per order, the store's refund transactions), a chargeback's amount unless won plus its
dispute fee, and what the supplier paid back. Days whose orders or refunds changed since the day was
computed are reported as pending (the ledger sensor recomputes them)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.analytics.assets import daily_profit
from dropship_pipelines.assets.analytics.checks import STAMP_RESOLUTION, _settled, _table_frame
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.profit import DISPUTE_FEE, to_cents
from dropship_pipelines.store import analytics_queries as q
from dropship_pipelines.store.analytics_tables import analytics_daily_profit
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_pipelines.store.profit_tables import order_payments
from dropship_pipelines.store.refund_tables import order_refunds

FIELDS = ("refunds", "chargebacks", "supplier_refunds")


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def ledger_money_back(conn: sa.Connection) -> tuple[dict[date, dict[str, int]], dict[date, Any]]:
    """Per order day: refunds, chargebacks and supplier refunds in cents from the raw ledger rows; and
    per day the newest change of a refund row (what may postdate the analytics)."""
    day_of = q.day_of(conn, store_orders.c.placed_at)
    orders = {
        r.order_id: _day(r.day)
        for r in conn.execute(sa.select(store_orders.c.order_id, day_of.label("day")).where(q.COUNTED))
    }
    actions: dict[str, int] = defaultdict(int)
    for r in conn.execute(
        sa.select(order_actions.c.order_id, order_actions.c.amount).where(
            order_actions.c.kind == "refund", order_actions.c.state == "done"
        )
    ):
        actions[r.order_id] += to_cents(r.amount)
    reported = {
        r.order_id: to_cents(r.refunded)
        for r in conn.execute(sa.select(order_payments.c.order_id, order_payments.c.refunded))
    }
    recorded: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    changed: dict[date, Any] = {}
    for r in conn.execute(sa.select(order_refunds)):
        if r.kind == "refund":
            recorded[r.order_id]["refunds"] += to_cents(r.amount)
        elif r.kind == "chargeback":
            lost = 0 if (r.status or "") == "WON" else to_cents(r.amount)
            fee = to_cents(r.fee if r.fee is not None else DISPUTE_FEE)
            recorded[r.order_id]["chargebacks"] += lost + fee
        elif r.kind == "supplier_refund":
            recorded[r.order_id]["supplier_refunds"] += to_cents(r.amount)
        if r.order_id in orders:
            day, stamp = orders[r.order_id], q.as_utc_datetime(r.updated_at)
            changed[day] = max(changed.get(day, stamp), stamp)
    totals: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for order_id, day in orders.items():
        mine = recorded.get(order_id, {})
        refund = max(actions.get(order_id, 0), mine.get("refunds", 0), reported.get(order_id, 0))
        totals[day]["refunds"] += refund
        totals[day]["chargebacks"] += mine.get("chargebacks", 0)
        totals[day]["supplier_refunds"] += mine.get("supplier_refunds", 0)
    return dict(totals), changed


@dg.asset_check(
    asset=daily_profit,
    description="Each day's refunds, chargebacks (with the dispute fee) and supplier refunds equal the "
    "ledger's own rows to the cent (recomputed from the raw rows, days changed since computed pending).",
)
def daily_profit_money_back_reconciles(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with q.consistent_read(store_db.engine()) as conn:
        ours = _table_frame(conn, analytics_daily_profit, ["day", *FIELDS, "computed_at"])
        ours, pending = _settled(conn, ours)
        totals, changed = ledger_money_back(conn)
    wrong: list[dict[str, Any]] = []
    checked = 0
    for row in ours.to_dict("records"):
        day = row["day"]
        if day in changed and changed[day] >= q.as_utc_datetime(row["computed_at"]) - STAMP_RESOLUTION:
            pending.append(day.isoformat())
            continue
        checked += 1
        theirs = totals.get(day, dict.fromkeys(FIELDS, 0))
        for name in FIELDS:
            if to_cents(row[name]) != theirs[name]:
                wrong.append(
                    {
                        "day": day,
                        "field": name,
                        "analytics": str(row[name]),
                        "ledger": str(Decimal(theirs[name]) / 100),
                    }
                )
    return dg.AssetCheckResult(
        passed=not wrong,
        metadata={
            "days_checked": checked,
            "days_changed_since_computed": dg.MetadataValue.json(sorted(set(pending))),
            "mismatches": len(wrong),
            "records": preview_table(wrong[:20], ("day", "field", "analytics", "ledger")),
        },
    )
