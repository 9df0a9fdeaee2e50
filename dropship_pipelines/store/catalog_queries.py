"""Reads and writes of the catalog sync's ledger (`store/catalog_tables.py`).

For other workflows: `unpublished_product_ids(conn)` (store product ids of the listings taken off sale,
the ads workflow pauses their ads) and `listing_status(conn, pids)` (each listing's published state)."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dropship_pipelines.store.catalog_tables import (
    catalog_writes,
    listing_publication,
    market_shipping,
    price_lineage,
    supplier_events,
    variant_supply,
)
from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.discovery_tables import listing_variants, listings, product_details

MONEY_KEYS = frozenset(
    {"price", "compare_at_price", "previous_price", "rule_price", "supplier_cost", "shipping_cost"}
)


def now() -> datetime:
    return datetime.now(UTC)


# --- for other workflows --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListingStatus:
    pid: str
    store_product_id: str | None
    published: bool
    reason: str | None  # why it is off sale
    changed_at: datetime | None


def unpublished_product_ids(conn: Connection) -> set[str]:
    """Store product ids (`gid://shopify/Product/...`) of listed products the catalog sync took off sale."""
    rows = conn.execute(
        sa.select(listings.c.store_product_id)
        .select_from(listings.join(listing_publication, listing_publication.c.pid == listings.c.pid))
        .where(listing_publication.c.published.is_(False), listings.c.store_product_id.is_not(None))
    )
    return {r.store_product_id for r in rows}


def unpublished_pids(conn: Connection) -> set[str]:
    """Supplier product ids of the listings off sale."""
    rows = conn.execute(
        sa.select(listing_publication.c.pid).where(listing_publication.c.published.is_(False))
    )
    return {r.pid for r in rows}


def listing_status(conn: Connection, pids: Iterable[str] | None = None) -> dict[str, ListingStatus]:
    """Each listed product's published state (a listing the sync never touched is published)."""
    query = (
        sa.select(
            listings.c.pid,
            listings.c.store_product_id,
            listing_publication.c.published,
            listing_publication.c.reason,
            listing_publication.c.changed_at,
        )
        .select_from(listings.outerjoin(listing_publication, listing_publication.c.pid == listings.c.pid))
        .where(listings.c.status == "listed")
    )
    if pids is not None:
        query = query.where(listings.c.pid.in_(list(pids)))
    return {
        r.pid: ListingStatus(r.pid, r.store_product_id, r.published is not False, r.reason, r.changed_at)
        for r in conn.execute(query)
    }


# --- webhook events -------------------------------------------------------------------------------------
def record_event(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert one delivery unless its message id is there already; True when it was new."""
    dialect_insert = (
        sa.dialects.postgresql.insert if conn.dialect.name == "postgresql" else sa.dialects.sqlite.insert
    )
    statement = (
        dialect_insert(supplier_events).values(**row).on_conflict_do_nothing(index_elements=["message_id"])
    )
    return bool(conn.execute(statement).rowcount)


def rejected_message_id(raw: bytes) -> str:
    """The key of a delivery that could not be read: its body's hash (a redelivery is recorded once)."""
    return "rejected:" + hashlib.sha256(raw).hexdigest()[:48]


def pending_events(conn: Connection, limit: int) -> list[sa.Row[Any]]:
    return list(
        conn.execute(
            sa.select(supplier_events)
            .where(supplier_events.c.status == "pending")
            .order_by(supplier_events.c.seq)
            .limit(limit)
        )
    )


def newest_pending_seq(conn: Connection, after: int) -> tuple[int, int]:
    """(the newest pending event's seq, how many are pending after `after`) for the sensor."""
    row = conn.execute(
        sa.select(sa.func.max(supplier_events.c.seq), sa.func.count()).where(
            supplier_events.c.status == "pending", supplier_events.c.seq > after
        )
    ).one()
    return int(row[0] or after), int(row[1] or 0)


def finish_events(conn: Connection, seqs: list[int], status: str, outcome: str) -> None:
    if seqs:
        conn.execute(
            sa.update(supplier_events)
            .where(supplier_events.c.seq.in_(seqs))
            .values(status=status, outcome=outcome[:2000], processed_at=now())
        )


# --- what is listed, and the supplier's word on it ------------------------------------------------------
def listed(conn: Connection, pids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Listed products with their variants as the store has them and the supplier last said."""
    query = sa.select(
        listings.c.pid,
        listings.c.store_product_id,
        listings.c.shipping_cost,
        listings.c.rule_fingerprint,
    ).where(listings.c.status == "listed", listings.c.store_product_id.is_not(None))
    if pids is not None:
        query = query.where(listings.c.pid.in_(list(pids)))
    products = {r.pid: {**r._mapping, "variants": []} for r in conn.execute(query)}
    if not products:
        return []
    variants = conn.execute(
        sa.select(
            listing_variants,
            variant_supply.c.stock,
            variant_supply.c.cost.label("supply_cost"),
            variant_supply.c.offered,
            variant_supply.c.store_in_stock,
        )
        .select_from(
            listing_variants.outerjoin(variant_supply, variant_supply.c.vid == listing_variants.c.vid)
        )
        .where(listing_variants.c.pid.in_(list(products)))
        .order_by(listing_variants.c.sku)
    )
    for v in variants:
        products[v.pid]["variants"].append(dict(v._mapping))
    publication = conn.execute(
        sa.select(listing_publication).where(listing_publication.c.pid.in_(list(products)))
    )
    for p in publication:
        products[p.pid]["publication"] = dict(p._mapping)
    return list(products.values())


def pids_of_variants(conn: Connection, vids: Iterable[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.select(listing_variants.c.vid, listing_variants.c.pid).where(
            listing_variants.c.vid.in_(list(vids))
        )
    )
    return {r.vid: r.pid for r in rows}


def save_supply(conn: Connection, rows: list[dict[str, Any]]) -> None:
    upsert(
        conn, variant_supply, rows, keys=["vid"], update=[k for k in rows[0] if k != "vid"] if rows else None
    )


def save_stock(conn: Connection, stock: dict[str, int], pid_of: dict[str, str], source: str) -> None:
    """Stock figures of a message, for the listed variants it names (the cost stays as last seen)."""
    for vid, units in stock.items():
        if vid not in pid_of:
            continue
        updated = conn.execute(
            sa.update(variant_supply)
            .where(variant_supply.c.vid == vid)
            .values(stock=units, source=source, checked_at=now())
        ).rowcount
        if not updated:
            conn.execute(
                sa.insert(variant_supply).values(
                    vid=vid, pid=pid_of[vid], stock=units, source=source, checked_at=now()
                )
            )


def save_shipping(conn: Connection, rows: list[dict[str, Any]]) -> None:
    upsert(conn, market_shipping, rows, keys=["pid", "country"])


def day_start_prices(conn: Connection, vids: Iterable[str], day_start: datetime) -> dict[str, Decimal]:
    """Each variant's price as the day began: its last lineage row before `day_start`, or, for a variant
    first priced today, the first price it got today."""
    vids = list(vids)
    before = (
        sa.select(price_lineage.c.vid, sa.func.max(price_lineage.c.id).label("id"))
        .where(price_lineage.c.vid.in_(vids), price_lineage.c.set_at < day_start)
        .group_by(price_lineage.c.vid)
    ).subquery()
    prices = {
        r.vid: Decimal(str(r.price))
        for r in conn.execute(
            sa.select(price_lineage.c.vid, price_lineage.c.price).join(
                before, before.c.id == price_lineage.c.id
            )
        )
    }
    first_today = (
        sa.select(price_lineage.c.vid, sa.func.min(price_lineage.c.id).label("id"))
        .where(
            price_lineage.c.vid.in_([v for v in vids if v not in prices]), price_lineage.c.set_at >= day_start
        )
        .group_by(price_lineage.c.vid)
    ).subquery()
    for r in conn.execute(
        sa.select(price_lineage.c.vid, price_lineage.c.price).join(
            first_today, first_today.c.id == price_lineage.c.id
        )
    ):
        prices[r.vid] = Decimal(str(r.price))
    return prices


def has_lineage(conn: Connection, vids: Iterable[str]) -> set[str]:
    return {
        r.vid
        for r in conn.execute(
            sa.select(price_lineage.c.vid).where(price_lineage.c.vid.in_(list(vids))).distinct()
        )
    }


# --- claims ----------------------------------------------------------------------------------------------
def ensure_publication(conn: Connection, pid: str, store_product_id: str) -> None:
    upsert(
        conn,
        listing_publication,
        [{"pid": pid, "store_product_id": store_product_id}],
        keys=["pid"],
        update=["store_product_id"],
    )


def live_claim(conn: Connection, pid: str, lease: timedelta) -> sa.Row[Any] | None:
    """A claimed write of this listing that a run may still be making (younger than the lease)."""
    return conn.execute(
        sa.select(catalog_writes)
        .where(
            catalog_writes.c.pid == pid,
            catalog_writes.c.state == "claimed",
            catalog_writes.c.created_at > now() - lease,
        )
        .limit(1)
    ).first()


def dead_claims(conn: Connection, pid: str, lease: timedelta) -> list[sa.Row[Any]]:
    return list(
        conn.execute(
            sa.select(catalog_writes).where(
                catalog_writes.c.pid == pid,
                catalog_writes.c.state == "claimed",
                catalog_writes.c.created_at <= now() - lease,
            )
        )
    )


def claim_write(
    conn: Connection, pid: str, kind: str, detail: dict[str, Any], run_id: str | None, seq: int
) -> str | None:
    """Take the listing's next write number (compare-and-set from `seq`, the number the decision was made
    at) and record the write under it, before the store is called; None when another run wrote since."""
    taken = conn.execute(
        sa.update(listing_publication)
        .where(listing_publication.c.pid == pid, listing_publication.c.write_seq == seq)
        .values(write_seq=seq + 1)
    ).rowcount
    if not taken:
        return None
    key = f"{pid}:{seq + 1}"
    conn.execute(
        sa.insert(catalog_writes).values(
            write_key=key, pid=pid, kind=kind, state="claimed", detail=detail, run_id=run_id
        )
    )
    return key


def finish_write(conn: Connection, key: str, state: str, error: str | None = None) -> None:
    conn.execute(
        sa.update(catalog_writes)
        .where(catalog_writes.c.write_key == key)
        .values(state=state, error=(error or None) and error[:2000], updated_at=now())
    )


def save_prices(
    conn: Connection, pid: str, priced: list[dict[str, Any]], rule_version: str, run_id: str | None
) -> None:
    """The store has these prices now: the listing's variants and their lineage rows."""
    stamp = now()
    for row in priced:
        conn.execute(
            sa.update(listing_variants)
            .where(listing_variants.c.vid == row["vid"])
            .values(
                price=row["price"], compare_at_price=row["compare_at_price"], unit_cost=row["supplier_cost"]
            )
        )
    insert_lineage(conn, pid, priced, rule_version, run_id)
    if priced:
        conn.execute(
            sa.update(listings)
            .where(listings.c.pid == pid)
            .values(
                price=min(r["price"] for r in priced_all(conn, pid)),
                unit_cost=max(r["supplier_cost"] for r in priced),
                shipping_cost=priced[0]["shipping_cost"],
                rule_fingerprint=rule_version,
                updated_at=stamp,
            )
        )


def priced_all(conn: Connection, pid: str) -> list[dict[str, Any]]:
    return [
        dict(r._mapping)
        for r in conn.execute(sa.select(listing_variants.c.price).where(listing_variants.c.pid == pid))
    ]


def save_stock_state(conn: Connection, vids: dict[str, bool]) -> None:
    for vid, in_stock in vids.items():
        conn.execute(
            sa.update(variant_supply).where(variant_supply.c.vid == vid).values(store_in_stock=in_stock)
        )


def save_publication(
    conn: Connection, pid: str, published: bool, still_sold: bool, reason: str | None, run_id: str | None
) -> None:
    conn.execute(
        sa.update(listing_publication)
        .where(listing_publication.c.pid == pid)
        .values(published=published, still_sold=still_sold, reason=reason, changed_at=now(), run_id=run_id)
    )


def lineage_of(conn: Connection, vid: str) -> list[sa.Row[Any]]:
    return list(
        conn.execute(sa.select(price_lineage).where(price_lineage.c.vid == vid).order_by(price_lineage.c.id))
    )


def insert_lineage(
    conn: Connection, pid: str, priced: list[dict[str, Any]], rule_version: str, run_id: str | None
) -> None:
    if not priced:
        return
    stamp = now()
    conn.execute(
        sa.insert(price_lineage),
        [
            {
                "vid": row["vid"],
                "pid": pid,
                "price": row["price"],
                "compare_at_price": row["compare_at_price"],
                "previous_price": row.get("previous_price"),
                "rule_price": row["rule_price"],
                "supplier_cost": row["supplier_cost"],
                "shipping_cost": row["shipping_cost"],
                "rule_version": rule_version,
                "run_id": run_id,
                "reason": row["reason"],
                "set_at": stamp,
            }
            for row in priced
        ],
    )


def variants_listed_since(conn: Connection, since: datetime) -> int:
    """Variants of the listings first listed at or after `since` (what the store created for us)."""
    return int(
        conn.scalar(
            sa.select(sa.func.count())
            .select_from(listing_variants.join(listings, listings.c.pid == listing_variants.c.pid))
            .where(listings.c.listed_at >= since)
        )
        or 0
    )


def prices_without_lineage(conn: Connection) -> list[dict[str, Any]]:
    """Listed variants whose price has no lineage row, or differs from the last one."""
    last = (
        sa.select(price_lineage.c.vid, sa.func.max(price_lineage.c.id).label("id"))
        .group_by(price_lineage.c.vid)
        .subquery()
    )
    query = (
        sa.select(
            listing_variants.c.pid,
            listing_variants.c.vid,
            listing_variants.c.price,
            price_lineage.c.price.label("lineage_price"),
        )
        .select_from(
            listing_variants.join(listings, listings.c.pid == listing_variants.c.pid)
            .outerjoin(last, last.c.vid == listing_variants.c.vid)
            .outerjoin(price_lineage, price_lineage.c.id == last.c.id)
        )
        .where(listings.c.status == "listed")
    )
    return [
        {"pid": r.pid, "vid": r.vid, "price": r.price}
        for r in conn.execute(query)
        if r.lineage_price is None or Decimal(str(r.lineage_price)) != Decimal(str(r.price))
    ]


def unshippable_on_sale(conn: Connection, min_stock: int) -> list[dict[str, Any]]:
    """Variants the store sells (in stock, listing published) that the supplier's last word rules out."""
    query = (
        sa.select(
            variant_supply.c.pid, variant_supply.c.vid, variant_supply.c.stock, variant_supply.c.offered
        )
        .select_from(
            variant_supply.join(listings, listings.c.pid == variant_supply.c.pid).outerjoin(
                listing_publication, listing_publication.c.pid == variant_supply.c.pid
            )
        )
        .where(
            listings.c.status == "listed",
            variant_supply.c.store_in_stock.is_(True),
            sa.or_(listing_publication.c.published.is_(None), listing_publication.c.published.is_(True)),
            sa.or_(
                variant_supply.c.offered.is_(False),
                variant_supply.c.stock < min_stock,
                listing_publication.c.still_sold.is_(False),
            ),
        )
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def listing_routes(conn: Connection) -> dict[str, str]:
    """The shipping route each listed product was priced with (pid -> logistic name)."""
    rows = conn.execute(
        sa.select(product_details.c.pid, product_details.c.logistic_name)
        .join(listings, listings.c.pid == product_details.c.pid)
        .where(listings.c.status == "listed", product_details.c.logistic_name.is_not(None))
    )
    return {r.pid: r.logistic_name for r in rows}
