"""Reads and writes of order actions: the claim before the remote call, its outcome, the order it acts on."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders
from dropship_pipelines.store.order_action_tables import order_actions


def now() -> datetime:
    return datetime.now(UTC)


def action_key(origin: str, kind: str) -> str:
    return f"{origin}:{kind}"


def claim(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert the action in 'claimed'; False when (origin, kind) is already claimed (by anyone)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(order_actions)
    result = conn.execute(insert.values(state="claimed", **row).on_conflict_do_nothing())
    return result.rowcount == 1


def get(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(order_actions).where(order_actions.c.action_key == key)).first()
    return dict(row._mapping) if row else None


def finish(conn: Connection, key: str, state: str, **values: Any) -> None:
    done_at = now() if state == "done" else None
    conn.execute(
        sa.update(order_actions)
        .where(order_actions.c.action_key == key)
        .values(state=state, done_at=done_at, **values)
    )


def retake(conn: Connection, key: str, run_id: str) -> bool:
    """Take over a claim another (dead) run left, so one resolver settles it."""
    result = conn.execute(
        sa.update(order_actions)
        .where(order_actions.c.action_key == key, order_actions.c.state == "claimed")
        .values(run_id=run_id)
    )
    return result.rowcount == 1


def done_for_origin(conn: Connection, origin: str) -> list[dict[str, Any]]:
    query = sa.select(order_actions).where(order_actions.c.origin == origin, order_actions.c.state == "done")
    return [dict(r._mapping) for r in conn.execute(query.order_by(order_actions.c.created_at))]


def refunded_total(conn: Connection, order_id: str) -> Decimal:
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(order_actions.c.amount), 0)).where(
            order_actions.c.order_id == order_id,
            order_actions.c.kind == "refund",
            order_actions.c.state.in_(("done", "claimed")),
        )
    ).scalar_one()
    return Decimal(str(total))


def refunds_per_order() -> sa.Subquery:
    """Executed refunds summed per order (what analytics subtracts from profit)."""
    return (
        sa.select(order_actions.c.order_id, sa.func.sum(order_actions.c.amount).label("refunds"))
        .where(order_actions.c.kind == "refund", order_actions.c.state == "done")
        .group_by(order_actions.c.order_id)
        .subquery("refunds")
    )


# --- the order acted on ---------------------------------------------------------------------------------
def store_order(conn: Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(store_orders).where(store_orders.c.order_id == order_id)).first()
    return dict(row._mapping) if row else None


def supplier_order(conn: Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(supplier_orders).where(supplier_orders.c.order_id == order_id)).first()
    return dict(row._mapping) if row else None


def mark_cancelled(conn: Connection, order_id: str, cancelled_at: datetime) -> None:
    conn.execute(
        sa.update(store_orders)
        .where(store_orders.c.order_id == order_id)
        .values(state="cancelled", cancelled_at=cancelled_at)
    )


def mark_supplier_order_withdrawn(conn: Connection, order_id: str) -> None:
    conn.execute(
        sa.update(supplier_orders)
        .where(supplier_orders.c.order_id == order_id)
        .values(state="failed", supplier_status="CANCELLED", last_error="withdrawn: the order was cancelled")
    )


def set_shipping_address(conn: Connection, order_id: str, address: dict[str, Any]) -> None:
    conn.execute(
        sa.update(store_orders)
        .where(store_orders.c.order_id == order_id)
        .values(shipping_address=address, country_code=address.get("countryCode"))
    )
