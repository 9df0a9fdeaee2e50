"""Reads and writes of the cancellation and refund tables: money back per order, cases, their claimed
steps, which orders' money to read again."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.rules.order_cancellations import NOT_SHIPPING
from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders
from dropship_pipelines.store.fulfillment_tables import webhook_events as webhook_table
from dropship_pipelines.store.refund_tables import (
    order_case_steps,
    order_cases,
    order_money_synced,
    order_refunds,
)

REFUND_UPDATE = (
    "status",
    "amount",
    "currency",
    "presentment_amount",
    "presentment_currency",
    "fee",
    "reason",
)
# The financial statuses of an order nothing happened to since checkout.
UNCHANGED_STATUSES = ("PAID", "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "UNKNOWN")
# A chargeback's money is gone unless the store wins it (an open one is counted: it is held from payout).
CHARGEBACK_KEPT_STATUSES = ("WON",)


def now() -> datetime:
    return datetime.now(UTC)


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


# --- money back -----------------------------------------------------------------------------------------
def save_refunds(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Upsert refunds, chargebacks and supplier refunds by key; how many were new."""
    if not rows:
        return 0
    keys = [r["refund_key"] for r in rows]
    known = set(
        conn.execute(
            sa.select(order_refunds.c.refund_key).where(order_refunds.c.refund_key.in_(keys))
        ).scalars()
    )
    for row in rows:
        statement = _insert(conn, order_refunds).values(**row)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["refund_key"],
                set_={name: statement.excluded[name] for name in REFUND_UPDATE if name in row},
            )
        )
    return len(set(keys) - known)


def refunds_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    query = sa.select(order_refunds).where(order_refunds.c.order_id == order_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(order_refunds.c.occurred_at))]


def money_back_per_order() -> sa.Subquery:
    """Per order, in the shop currency: refunds made at the store, chargebacks not won and their fees, and
    what the supplier paid back (a subquery for the true-profit and dashboard queries to join on order_id).
    """
    t = order_refunds
    lost = sa.and_(t.c.kind == "chargeback", t.c.status.not_in(CHARGEBACK_KEPT_STATUSES))

    def total(condition: Any, column: Any = t.c.amount) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, column), else_=0)), 0)

    return (
        sa.select(
            t.c.order_id,
            total(t.c.kind == "refund").label("refunds"),
            total(lost).label("chargebacks"),
            total(t.c.kind == "chargeback", sa.func.coalesce(t.c.fee, 0)).label("chargeback_fees"),
            total(t.c.kind == "supplier_refund").label("supplier_refunds"),
        )
        .group_by(t.c.order_id)
        .subquery("money_back")
    )


# --- cases ----------------------------------------------------------------------------------------------
def open_case(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert the case in 'open'; False when it exists (opened by anyone, in any state)."""
    values = {"state": "open", "known_at": now(), **row}
    result = conn.execute(_insert(conn, order_cases).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1


def lock_order_failures(conn: Connection, order_id: str) -> None:
    """Serialize, per order, the runs that claim a supplier failure: a no-op update of the order's supplier
    row takes its row lock on PostgreSQL and the write lock on SQLite, so what `supplier_case_reasons` reads
    next in this transaction stays true until it commits."""
    s = supplier_orders
    conn.execute(sa.update(s).where(s.c.order_id == order_id).values(order_id=s.c.order_id))


def supplier_case_reasons(conn: Connection, order_id: str) -> set[str]:
    """The reasons of the supplier failures the ledger has a case for, of one order."""
    c = order_cases
    rows = conn.execute(sa.select(c.c.reason).where(c.c.order_id == order_id, c.c.side == "supplier"))
    return {str(r.reason) for r in rows}


def get_case(conn: Connection, case_key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(order_cases).where(order_cases.c.case_key == case_key)).first()
    return dict(row._mapping) if row else None


def update_case(conn: Connection, case_key: str, **values: Any) -> None:
    if values.get("state") in ("done", "escalated"):
        values.setdefault("closed_at", now())
    conn.execute(sa.update(order_cases).where(order_cases.c.case_key == case_key).values(**values))


def open_cases(conn: Connection, side: str, limit: int) -> list[dict[str, Any]]:
    query = sa.select(order_cases).where(order_cases.c.state == "open", order_cases.c.side == side)
    return [dict(r._mapping) for r in conn.execute(query.order_by(order_cases.c.known_at).limit(limit))]


def cases(conn: Connection, *, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    query = sa.select(order_cases)
    if state:
        query = query.where(order_cases.c.state == state)
    return [
        dict(r._mapping) for r in conn.execute(query.order_by(order_cases.c.known_at.desc()).limit(limit))
    ]


def case_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        sa.select(order_cases.c.side, order_cases.c.state, sa.func.count()).group_by(
            order_cases.c.side, order_cases.c.state
        )
    )
    return {f"{side}:{state}": int(n) for side, state, n in rows}


# --- steps (claimed before the remote call) -------------------------------------------------------------
def claim_step(conn: Connection, case_key: str, step: str, run_id: str, detail: Any = None) -> bool:
    row = {
        "step_key": f"{case_key}:{step}",
        "case_key": case_key,
        "step": step,
        "state": "claimed",
        "run_id": run_id,
        "detail": detail,
    }
    return conn.execute(_insert(conn, order_case_steps).values(**row).on_conflict_do_nothing()).rowcount == 1


def get_step(conn: Connection, case_key: str, step: str) -> dict[str, Any] | None:
    key = f"{case_key}:{step}"
    row = conn.execute(sa.select(order_case_steps).where(order_case_steps.c.step_key == key)).first()
    return dict(row._mapping) if row else None


def retake_step(conn: Connection, case_key: str, step: str, run_id: str, stale_before: datetime) -> bool:
    """Take over a claim a dead run left (claimed, not touched since `stale_before`)."""
    t = order_case_steps
    result = conn.execute(
        sa.update(t)
        .where(t.c.step_key == f"{case_key}:{step}", t.c.state == "claimed", t.c.updated_at < stale_before)
        .values(run_id=run_id, updated_at=now())
    )
    return result.rowcount == 1


def finish_step(conn: Connection, case_key: str, step: str, state: str, **values: Any) -> None:
    done_at = now() if state == "done" else None
    conn.execute(
        sa.update(order_case_steps)
        .where(order_case_steps.c.step_key == f"{case_key}:{step}")
        .values(state=state, done_at=done_at, **values)
    )


# --- which orders ---------------------------------------------------------------------------------------
def cancelled_without_case(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Orders the store cancelled that have no store case yet, oldest cancellation first."""
    keys = sa.select(order_cases.c.order_id).where(order_cases.c.side == "store")
    query = (
        sa.select(store_orders)
        .where(store_orders.c.cancelled_at.is_not(None), store_orders.c.order_id.not_in(keys))
        .order_by(store_orders.c.cancelled_at)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def orders_to_sync(conn: Connection, limit: int) -> list[str]:
    """Orders the store changed after checkout since their money was last read (refunds, disputes)."""
    o, s = store_orders, order_money_synced
    query = (
        sa.select(o.c.order_id)
        .select_from(o.outerjoin(s, s.c.order_id == o.c.order_id))
        .where(
            sa.or_(
                s.c.store_updated_at < o.c.store_updated_at,
                # Never read: only once the store changed it (within the second it was placed, the
                # cancellation or the refund still shows in its status).
                sa.and_(
                    s.c.order_id.is_(None),
                    sa.or_(
                        o.c.store_updated_at > o.c.placed_at,
                        o.c.cancelled_at.is_not(None),
                        o.c.financial_status.not_in(UNCHANGED_STATUSES),
                    ),
                ),
            )
        )
        .order_by(o.c.store_updated_at)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def mark_synced(conn: Connection, order_id: str, store_updated_at: datetime) -> None:
    statement = _insert(conn, order_money_synced).values(order_id=order_id, store_updated_at=store_updated_at)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["order_id"], set_={"store_updated_at": statement.excluded.store_updated_at}
        )
    )


def note_store_change(
    conn: Connection, order_id: str, updated_at: datetime, cancelled_at: datetime | None
) -> None:
    """A webhook said the store changed the order: the ledger knows now, before the next poll."""
    values: dict[str, Any] = {"store_updated_at": updated_at}
    if cancelled_at is not None:
        values["cancelled_at"] = cancelled_at
    conn.execute(
        sa.update(store_orders)
        .where(store_orders.c.order_id == order_id, store_orders.c.store_updated_at < updated_at)
        .values(**values)
    )
    if cancelled_at is not None:  # an older updatedAt must not hide the cancellation
        conn.execute(
            sa.update(store_orders)
            .where(store_orders.c.order_id == order_id, store_orders.c.cancelled_at.is_(None))
            .values(cancelled_at=cancelled_at)
        )


def supplier_orders_to_watch(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Supplier orders accepted and not yet shipped nor closed: a supplier failure shows here first.

    One CJ cancelled is watched until its case exists: the tracking poll may be the first to read the
    CANCELLED status into the ledger, and the cancellation must still become a supplier failure."""
    s = supplier_orders
    # An order with a case for not shipping (held for stock, or cancelled) has its failure: not polled again.
    not_shipping = sa.select(order_cases.c.order_id).where(
        order_cases.c.reason.in_([r.value for r in NOT_SHIPPING])
    )
    query = (
        sa.select(s, store_orders.c.name, store_orders.c.cancelled_at)
        .join(store_orders, store_orders.c.order_id == s.c.order_id)
        .where(
            s.c.state == "created",
            s.c.supplier_order_id.is_not(None),
            s.c.order_id.not_in(not_shipping),
            sa.or_(
                s.c.supplier_status.is_(None),
                s.c.supplier_status.not_in(("SHIPPED", "DELIVERED", "CANCELLED")),
                sa.and_(s.c.supplier_status == "CANCELLED", store_orders.c.cancelled_at.is_(None)),
            ),
        )
        .order_by(s.c.created_at)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def balance_failures(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Supplier orders refused for an insufficient balance (CJ 1604000) with no case yet."""
    s = supplier_orders
    keys = sa.select(order_cases.c.order_id).where(order_cases.c.reason == "insufficient_balance")
    query = (
        sa.select(s, store_orders.c.name)
        .join(store_orders, store_orders.c.order_id == s.c.order_id)
        .where(s.c.last_error.like("%insufficient%"), s.c.order_id.not_in(keys))
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def set_supplier_status(conn: Connection, order_id: str, status: str, note: str | None = None) -> None:
    values: dict[str, Any] = {"supplier_status": status}
    if note is not None:
        values["last_error"] = note[:2000]
    conn.execute(sa.update(supplier_orders).where(supplier_orders.c.order_id == order_id).values(**values))


def webhook_events(conn: Connection, seq: int, topics: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
    """Webhook deliveries of `topics` recorded after `seq`, in the order they arrived."""
    w = webhook_table
    query = (
        sa.select(w.c.seq, w.c.topic, w.c.resource_id, w.c.received_at, w.c.payload)
        .where(w.c.seq > seq, w.c.topic.in_(topics))
        .order_by(w.c.seq)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def store_cancelled(conn: Connection, order_id: str) -> bool:
    """Whether the ledger knows the store cancelled the order (read right before a supplier is paid)."""
    query = sa.select(store_orders.c.cancelled_at).where(store_orders.c.order_id == order_id)
    return conn.execute(query).scalar() is not None


def withdraw_pending(conn: Connection, order_number: str) -> None:
    """A supplier order begun but never sent, because the store cancelled the order meanwhile: failed with
    no supplier id, so the store's case reads it as never sent."""
    conn.execute(
        sa.update(supplier_orders)
        .where(supplier_orders.c.order_number == order_number, supplier_orders.c.state == "pending")
        .values(state="failed", last_error="not sent: the store cancelled the order", updated_at=now())
    )


def disputes_awaiting_refund(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Supplier disputes opened (a done 'dispute' step) whose refund the ledger has not recorded yet."""
    st, c, s = order_case_steps, order_cases, supplier_orders
    recorded = sa.select(order_refunds.c.remote_id).where(order_refunds.c.kind == "supplier_refund")
    query = (
        sa.select(st.c.case_key, st.c.remote_id, c.c.order_id, s.c.supplier_order_id)
        .join(c, c.c.case_key == st.c.case_key)
        .join(s, s.c.order_id == c.c.order_id)
        .where(
            st.c.step == "dispute",
            st.c.state == "done",
            st.c.remote_id.is_not(None),
            st.c.remote_id.not_in(recorded),
            s.c.supplier_order_id.is_not(None),
        )
        .order_by(st.c.done_at)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
