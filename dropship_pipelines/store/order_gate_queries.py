"""Reads and writes of the order gate's holds: the claim before the Shopify call, its outcome, the list."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders
from dropship_pipelines.store.order_gate_tables import order_holds

OPEN_STATES = ("claimed", "held", "releasing", "failed")  # what the dashboard lists as needing a decision


def now() -> datetime:
    return datetime.now(UTC)


def claim_hold(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert the hold in 'claimed'; False when the order already has a hold row (anyone's)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(order_holds)
    result = conn.execute(insert.values(state="claimed", **row).on_conflict_do_nothing())
    return result.rowcount == 1


def get_hold(conn: Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(order_holds).where(order_holds.c.order_id == order_id)).first()
    return dict(row._mapping) if row else None


def holds_of(conn: Connection, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not order_ids:
        return {}
    rows = conn.execute(sa.select(order_holds).where(order_holds.c.order_id.in_(order_ids)))
    return {r.order_id: dict(r._mapping) for r in rows}


def set_hold(conn: Connection, order_id: str, **values: Any) -> None:
    conn.execute(
        sa.update(order_holds).where(order_holds.c.order_id == order_id).values(updated_at=now(), **values)
    )


def move_hold(conn: Connection, order_id: str, from_states: tuple[str, ...], to: str, **values: Any) -> bool:
    """One atomic state change; False when another caller moved the row first."""
    result = conn.execute(
        sa.update(order_holds)
        .where(order_holds.c.order_id == order_id, order_holds.c.state.in_(from_states))
        .values(state=to, updated_at=now(), **values)
    )
    return result.rowcount == 1


def mark_order_held(conn: Connection, order_id: str, reason: str) -> None:
    """The ledger's order shows the hold as its problem (the fulfillment lists and checks read it)."""
    conn.execute(
        sa.update(store_orders)
        .where(store_orders.c.order_id == order_id, store_orders.c.state.in_(("new", "problem")))
        .values(state="problem", problem=reason[:2000])
    )


def open_holds(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Holds waiting for a decision, newest first, with the order's total and country."""
    query = (
        sa.select(
            order_holds,
            store_orders.c.total_price,
            store_orders.c.currency,
            store_orders.c.country_code,
            store_orders.c.placed_at,
        )
        .join(store_orders, store_orders.c.order_id == order_holds.c.order_id, isouter=True)
        .where(
            order_holds.c.state.in_(OPEN_STATES),
            # cancelled elsewhere (the orders page, the store): no decision left to make
            sa.or_(store_orders.c.state.is_(None), store_orders.c.state != "cancelled"),
        )
        .order_by(order_holds.c.created_at.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def paid_while_held(conn: Connection) -> list[dict[str, Any]]:
    """Supplier orders made for an order the gate holds and nobody released: money the gate should have
    kept (the fulfillment check guards it; the soak audit checks the same at the sandbox)."""
    query = (
        sa.select(
            order_holds.c.order_id,
            order_holds.c.order_name,
            order_holds.c.reason,
            order_holds.c.state,
            supplier_orders.c.order_number,
        )
        .join(supplier_orders, supplier_orders.c.order_id == order_holds.c.order_id)
        .where(order_holds.c.state.in_(OPEN_STATES), supplier_orders.c.state == "created")
        .order_by(order_holds.c.created_at)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
