"""Reads and writes of the fulfillment tables, kept out of the assets so they stay thin.

The ledger protocol for every side effect: `begin_*` writes the row (pending, attempts + 1) in its own
transaction BEFORE the external call; `finish_*` / `fail_*` record the outcome after it. A row found
pending at the start of a run means a run died between the two: the external system is asked first.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.resources.supplier import SupplierOrder
from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.discovery_tables import listing_variants
from dropship_pipelines.store.fulfillment_tables import (
    freight_quotes,
    fulfillments,
    store_order_lines,
    store_orders,
    supplier_orders,
    webhook_events,
)
from dropship_pipelines.store.schema import sync_cursors

ORDER_UPDATE_COLUMNS = (
    "name",
    "email",
    "customer_name",
    "store_updated_at",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "total_price",
    "shipping_address",
    "country_code",
)


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- cursors ------------------------------------------------------------------------------------------
def get_cursor(conn: Connection, name: str) -> str | None:
    return conn.scalar(sa.select(sync_cursors.c.value).where(sync_cursors.c.name == name))


def set_cursor(conn: Connection, name: str, value: str) -> None:
    upsert(conn, sync_cursors, [{"name": name, "value": value, "updated_at": now()}], keys=["name"])


# --- store orders -------------------------------------------------------------------------------------
def variant_map(conn: Connection) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """(store variant GID -> (vid, pid), sku -> (vid, pid)) from the listing ledger."""
    by_variant, by_sku = {}, {}
    for row in conn.execute(
        sa.select(
            listing_variants.c.vid,
            listing_variants.c.pid,
            listing_variants.c.store_variant_id,
            listing_variants.c.sku,
        )
    ):
        if row.store_variant_id:
            by_variant[row.store_variant_id] = (row.vid, row.pid)
        by_sku[row.sku] = (row.vid, row.pid)
    return by_variant, by_sku


def known_order_ids(conn: Connection, order_ids: list[str]) -> set[str]:
    if not order_ids:
        return set()
    return set(conn.scalars(sa.select(store_orders.c.order_id).where(store_orders.c.order_id.in_(order_ids))))


def save_orders(conn: Connection, orders: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
    """Insert new orders as state 'new'; refresh what the store may change on known ones (never `state`)."""
    upsert(conn, store_orders, orders, keys=["order_id"], update=ORDER_UPDATE_COLUMNS)
    upsert(conn, store_order_lines, lines, keys=["line_id"], update=["pid", "vid", "quantity", "sku"])


def orders_to_send(conn: Connection, limit: int, among: list[str] | None = None) -> list[dict[str, Any]]:
    """Orders not yet at the supplier (new, held, or pending after a killed run), oldest first, with lines;
    `among`: only these orders (the page just read)."""
    done = sa.select(supplier_orders.c.order_id).where(supplier_orders.c.state.in_(("created", "failed")))
    query = sa.select(store_orders).where(
        store_orders.c.state.in_(("new", "problem")), store_orders.c.order_id.not_in(done)
    )
    if among is not None:
        query = query.where(store_orders.c.order_id.in_(among))
    rows = conn.execute(query.order_by(store_orders.c.placed_at, store_orders.c.order_id).limit(limit)).all()
    orders = [dict(r._mapping) for r in rows]
    if not orders:
        return []
    by_order: dict[str, list[dict[str, Any]]] = {o["order_id"]: [] for o in orders}
    for line in conn.execute(
        sa.select(store_order_lines)
        .where(store_order_lines.c.order_id.in_(list(by_order)))
        .order_by(store_order_lines.c.line_id)
    ):
        by_order[line.order_id].append(dict(line._mapping))
    for order in orders:
        order["lines"] = by_order[order["order_id"]]
    return orders


def set_line_mapping(conn: Connection, line_id: str, vid: str | None, pid: str | None) -> None:
    conn.execute(
        sa.update(store_order_lines).where(store_order_lines.c.line_id == line_id).values(vid=vid, pid=pid)
    )


def hold_order(conn: Connection, order_id: str, reason: str, state: str = "problem") -> None:
    conn.execute(
        sa.update(store_orders).where(store_orders.c.order_id == order_id).values(state=state, problem=reason)
    )


# --- supplier orders ----------------------------------------------------------------------------------
def supplier_order(conn: Connection, order_number: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(supplier_orders).where(supplier_orders.c.order_number == order_number)
    ).first()
    return dict(row._mapping) if row else None


def _claim(conn: Connection, table: sa.Table, key: str, row: dict[str, Any], renew: dict[str, Any]) -> None:
    """Claim a side effect under its unique key in one statement: INSERT the pending row, or count one more
    attempt on the row another run (or an earlier one) inserted. Never a read-then-write: two overlapping
    runs both land here without an IntegrityError, and the remote's own key (CJ's order number, the
    store's open fulfillment order) plus the lookup after a refusal make the write itself happen once."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    conn.execute(
        insert.values(**row, attempts=1).on_conflict_do_update(
            index_elements=[key], set_={**renew, "attempts": table.c.attempts + 1}
        )
    )


def begin_supplier_order(
    conn: Connection, order_number: str, order_id: str, logistic_name: str | None
) -> None:
    row = {
        "order_number": order_number,
        "order_id": order_id,
        "state": "pending",
        "logistic_name": logistic_name,
    }
    _claim(conn, supplier_orders, "order_number", row, {"logistic_name": logistic_name, "updated_at": now()})


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))


def finish_supplier_order(conn: Connection, order_number: str, order_id: str, placed: SupplierOrder) -> None:
    """The supplier has the order (created now, or found there after a killed run / a duplicate refusal)."""
    conn.execute(
        sa.update(supplier_orders)
        .where(supplier_orders.c.order_number == order_number)
        .values(
            state="created",
            supplier_order_id=placed.supplier_order_id,
            supplier_status=placed.status,
            logistic_name=placed.route or supplier_orders.c.logistic_name,
            product_amount=_money(placed.product_amount),
            postage_amount=_money(placed.postage_amount),
            total_amount=_money(placed.total_amount),
            last_error=None,
            updated_at=now(),
        )
    )
    conn.execute(
        sa.update(store_orders).where(store_orders.c.order_id == order_id).values(state="sent", problem=None)
    )


def fail_supplier_order(
    conn: Connection, order_number: str, order_id: str, error: str, *, permanent: bool
) -> None:
    failed = conn.execute(
        sa.update(supplier_orders)
        .where(supplier_orders.c.order_number == order_number, supplier_orders.c.state != "created")
        .values(state="failed" if permanent else "pending", last_error=error[:2000], updated_at=now())
    )
    if permanent and failed.rowcount:  # not when an overlapping run placed it meanwhile
        hold_order(conn, order_id, f"supplier refused: {error}"[:2000])


def orders_awaiting_shipment(conn: Connection) -> list[dict[str, Any]]:
    """Supplier orders whose fulfillment is not yet posted on the store."""
    query = (
        sa.select(supplier_orders, fulfillments.c.state.label("fulfillment_state"))
        .select_from(
            supplier_orders.outerjoin(fulfillments, fulfillments.c.order_id == supplier_orders.c.order_id)
        )
        .where(
            supplier_orders.c.state == "created",
            sa.or_(fulfillments.c.state.is_(None), fulfillments.c.state != "posted"),
        )
        .order_by(supplier_orders.c.order_number)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def update_supplier_status(conn: Connection, order_number: str, found: SupplierOrder) -> None:
    conn.execute(
        sa.update(supplier_orders)
        .where(supplier_orders.c.order_number == order_number)
        .values(
            supplier_status=found.status,
            track_number=found.track_number,
            carrier=found.route,
            tracking_url=found.tracking_url,
            updated_at=now(),
        )
    )


# --- fulfillments -------------------------------------------------------------------------------------
def fulfillment(conn: Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(fulfillments).where(fulfillments.c.order_id == order_id)).first()
    return dict(row._mapping) if row else None


def begin_fulfillment(
    conn: Connection, order_id: str, track_number: str, carrier: str | None, url: str | None
) -> None:
    row = {"order_id": order_id, "state": "pending", "track_number": track_number, "carrier": carrier}
    _claim(
        conn,
        fulfillments,
        "order_id",
        {**row, "tracking_url": url},
        {"track_number": track_number, "carrier": carrier},
    )


def finish_fulfillment(conn: Connection, order_id: str, fulfillment_id: str | None, notified: bool) -> None:
    conn.execute(
        sa.update(fulfillments)
        .where(fulfillments.c.order_id == order_id)
        .values(
            state="posted",
            fulfillment_id=fulfillment_id,
            customer_notified=notified,
            last_error=None,
            posted_at=now(),
        )
    )
    conn.execute(sa.update(store_orders).where(store_orders.c.order_id == order_id).values(state="shipped"))


def fail_fulfillment(conn: Connection, order_id: str, error: str, *, permanent: bool) -> None:
    conn.execute(
        sa.update(fulfillments)
        .where(fulfillments.c.order_id == order_id, fulfillments.c.state != "posted")  # a winner's post stays
        .values(state="failed" if permanent else "pending", last_error=error[:2000])
    )


# --- shipping quotes ----------------------------------------------------------------------------------
def freight_quote(conn: Connection, key: str, fresh_after: datetime) -> list[dict[str, Any]] | None:
    row = conn.execute(sa.select(freight_quotes).where(freight_quotes.c.quote_key == key)).first()
    if row is None or aware(row.fetched_at) < fresh_after:
        return None
    return list(row.options)


def save_freight_quote(conn: Connection, key: str, options: list[dict[str, Any]]) -> None:
    upsert(
        conn,
        freight_quotes,
        [{"quote_key": key, "options": options, "fetched_at": now()}],
        keys=["quote_key"],
    )


# --- checks -------------------------------------------------------------------------------------------
def held_orders(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            store_orders.c.order_id, store_orders.c.name, store_orders.c.problem, store_orders.c.placed_at
        )
        .where(store_orders.c.state == "problem")
        .order_by(store_orders.c.placed_at)
    )
    return [dict(r._mapping) for r in rows]


def sent_without_supplier_id(conn: Connection) -> list[dict[str, Any]]:
    """Orders marked sent whose supplier order is not recorded as created with the supplier's order id."""
    query = (
        sa.select(
            store_orders.c.order_id,
            store_orders.c.name,
            supplier_orders.c.state,
            supplier_orders.c.supplier_order_id,
        )
        .select_from(
            store_orders.outerjoin(supplier_orders, supplier_orders.c.order_id == store_orders.c.order_id)
        )
        .where(
            store_orders.c.state.in_(("sent", "shipped")),
            sa.or_(
                supplier_orders.c.state.is_distinct_from("created"),
                supplier_orders.c.supplier_order_id.is_(None),
            ),
        )
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def posted_without_tracking(conn: Connection) -> list[dict[str, Any]]:
    query = sa.select(
        fulfillments.c.order_id, fulfillments.c.fulfillment_id, fulfillments.c.track_number
    ).where(
        fulfillments.c.state == "posted",
        sa.or_(
            fulfillments.c.track_number == "",
            fulfillments.c.fulfillment_id.is_(None),
            fulfillments.c.customer_notified.is_(False),
        ),
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def state_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(store_orders.c.state, sa.func.count()).group_by(store_orders.c.state))
    return {state: count for state, count in rows}


# --- webhook events -----------------------------------------------------------------------------------
def record_webhook(conn: Connection, event: dict[str, Any]) -> bool:
    """Store one delivery; False when this delivery id was already recorded (a duplicate)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(webhook_events).values(**event).on_conflict_do_nothing(index_elements=["webhook_id"])
    )
    return conn.execute(statement).rowcount == 1


def webhook_events_after(conn: Connection, seq: int, topic: str) -> tuple[int, int]:
    """(highest seq, how many) of `topic` events recorded after `seq`."""
    row = conn.execute(
        sa.select(sa.func.max(webhook_events.c.seq), sa.func.count()).where(
            webhook_events.c.seq > seq, webhook_events.c.topic == topic
        )
    ).one()
    return int(row[0] or seq), int(row[1])
