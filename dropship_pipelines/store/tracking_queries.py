"""Reads and writes of the tracking and true-profit tables (`tracking_tables`, `profit_tables`)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.fulfillment_queries import aware, now
from dropship_pipelines.store.fulfillment_tables import fulfillments, store_orders, supplier_orders
from dropship_pipelines.store.profit_tables import order_payments, supplier_costs
from dropship_pipelines.store.tracking_tables import parcel_tracking, tracking_updates

OPEN_SUPPLIER_STATUSES_DONE = ("DELIVERED", "CANCELLED")


def open_parcels(conn: Connection) -> list[dict[str, Any]]:
    """Supplier orders still on their way (created at the supplier, not delivered nor cancelled), with
    their fulfillment (posted or not) and their parcel row: what each tracking run looks at."""
    query = (
        sa.select(
            supplier_orders.c.order_number,
            supplier_orders.c.order_id,
            supplier_orders.c.supplier_order_id,
            supplier_orders.c.supplier_status,
            supplier_orders.c.track_number,
            supplier_orders.c.carrier,
            supplier_orders.c.tracking_url,
            supplier_orders.c.created_at.label("ordered_at"),
            fulfillments.c.state.label("fulfillment_state"),
            fulfillments.c.fulfillment_id,
            fulfillments.c.track_number.label("posted_number"),
            fulfillments.c.attempts.label("fulfillment_attempts"),
            parcel_tracking.c.carrier_status,
            parcel_tracking.c.shipped_at,
            parcel_tracking.c.first_scan_at,
            parcel_tracking.c.last_scan_at,
            parcel_tracking.c.stall,
            parcel_tracking.c.stalled_since,
            parcel_tracking.c.failure_reported_at,
            store_orders.c.name.label("order_name"),
        )
        .select_from(
            supplier_orders.outerjoin(fulfillments, fulfillments.c.order_id == supplier_orders.c.order_id)
            .outerjoin(parcel_tracking, parcel_tracking.c.order_id == supplier_orders.c.order_id)
            .outerjoin(store_orders, store_orders.c.order_id == supplier_orders.c.order_id)
        )
        .where(
            supplier_orders.c.state == "created",
            sa.or_(
                supplier_orders.c.supplier_status.is_(None), supplier_orders.c.supplier_status != "CANCELLED"
            ),
            sa.or_(
                supplier_orders.c.supplier_status.is_(None),
                supplier_orders.c.supplier_status.not_in(OPEN_SUPPLIER_STATUSES_DONE),
                # a delivered order whose fulfillment is not posted yet still needs its post
                sa.or_(fulfillments.c.state.is_(None), fulfillments.c.state != "posted"),
            ),
        )
        .order_by(supplier_orders.c.order_number)
    )
    rows = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        for key in ("ordered_at", "shipped_at", "first_scan_at", "last_scan_at", "stalled_since"):
            item[key] = aware(item[key])
        rows.append(item)
    return rows


def save_parcel(conn: Connection, row: dict[str, Any]) -> None:
    save_parcels(conn, [row])


def save_parcels(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Parcel rows with the same columns, in one statement (a run's 300 took 0.3 s one by one, before the
    first fulfillment post could go)."""
    stamp = now()
    upsert(conn, parcel_tracking, [{**row, "updated_at": stamp} for row in rows], keys=["order_id"])


def report_failure(conn: Connection, order_id: str, outcome: str, reported: bool) -> None:
    values: dict[str, Any] = {"failure_outcome": outcome[:2000], "updated_at": now()}
    if reported:
        values["failure_reported_at"] = now()
    conn.execute(sa.update(parcel_tracking).where(parcel_tracking.c.order_id == order_id).values(**values))


def stalled_parcels(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Parcels that need attention, longest stalled first (the dashboard's list, the checks' rows)."""
    query = (
        sa.select(
            parcel_tracking.c.order_id,
            store_orders.c.name.label("order_name"),
            parcel_tracking.c.order_number,
            parcel_tracking.c.track_number,
            parcel_tracking.c.carrier_status,
            parcel_tracking.c.stall,
            parcel_tracking.c.stalled_since,
            parcel_tracking.c.shipped_at,
            parcel_tracking.c.last_scan_at,
            parcel_tracking.c.failure_reported_at,
            parcel_tracking.c.failure_outcome,
        )
        .select_from(
            parcel_tracking.outerjoin(store_orders, store_orders.c.order_id == parcel_tracking.c.order_id)
        )
        .where(parcel_tracking.c.stall.is_not(None))
        .order_by(parcel_tracking.c.stalled_since, parcel_tracking.c.order_id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def stall_of(conn: Connection, order_id: str) -> str | None:
    return conn.execute(
        sa.select(parcel_tracking.c.stall).where(parcel_tracking.c.order_id == order_id)
    ).scalar_one_or_none()


# --- a changed tracking number, re-posted once ---------------------------------------------------------
def claim_tracking_update(
    conn: Connection, order_id: str, fulfillment_id: str, old: str | None, new: str
) -> dict[str, Any]:
    """Claim the re-post of `new` for this order in one statement; the row as it stands after the claim
    (state 'done' means an earlier run made it: nothing to do)."""
    key = f"{order_id}|{new}"[:200]
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(tracking_updates)
    conn.execute(
        insert.values(
            update_key=key,
            order_id=order_id,
            fulfillment_id=fulfillment_id,
            old_number=old,
            new_number=new,
            state="pending",
            attempts=1,
        ).on_conflict_do_update(
            index_elements=["update_key"],
            set_={"attempts": tracking_updates.c.attempts + 1, "updated_at": now()},
            where=tracking_updates.c.state != "done",
        )
    )
    row = conn.execute(sa.select(tracking_updates).where(tracking_updates.c.update_key == key)).one()
    return dict(row._mapping)


def finish_tracking_update(conn: Connection, update_key: str, order_id: str, new: str, url: str) -> None:
    conn.execute(
        sa.update(tracking_updates)
        .where(tracking_updates.c.update_key == update_key)
        .values(state="done", last_error=None, updated_at=now())
    )
    conn.execute(
        sa.update(fulfillments)
        .where(fulfillments.c.order_id == order_id)
        .values(track_number=new, tracking_url=url)
    )


def fail_tracking_update(conn: Connection, update_key: str, error: str, *, permanent: bool) -> None:
    conn.execute(
        sa.update(tracking_updates)
        .where(tracking_updates.c.update_key == update_key, tracking_updates.c.state != "done")
        .values(state="failed" if permanent else "pending", last_error=error[:2000], updated_at=now())
    )


# --- true profit's facts -------------------------------------------------------------------------------
def save_supplier_cost(
    conn: Connection,
    order_number: str,
    order_id: str,
    product: Decimal,
    postage: Decimal,
    total: Decimal | None,
    status: str | None,
) -> None:
    upsert(
        conn,
        supplier_costs,
        [
            {
                "order_number": order_number,
                "order_id": order_id,
                "product_amount": product,
                "postage_amount": postage,
                "total_amount": total,
                "supplier_status": status,
                "updated_at": now(),
            }
        ],
        keys=["order_number"],
    )


def save_payments(conn: Connection, rows: list[dict[str, Any]]) -> None:
    upsert(conn, order_payments, [{**r, "updated_at": now()} for r in rows], keys=["order_id"])


def as_aware(moment: datetime | None) -> datetime | None:
    return aware(moment)


def lost_unreported(conn: Connection) -> list[dict[str, Any]]:
    """Lost parcels not yet handed to the supplier-failure path (refund and dispute)."""
    return [
        r
        for r in stalled_parcels(conn, limit=10_000)
        if r["stall"] == "lost" and r["failure_reported_at"] is None
    ]


def tracking_updates_open(conn: Connection) -> list[dict[str, Any]]:
    """Changed tracking numbers not (yet) on the store: refused, or an attempt that will be retried."""
    query = (
        sa.select(tracking_updates)
        .where(tracking_updates.c.state != "done")
        .order_by(tracking_updates.c.created_at)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
