"""Reads and writes of the discovery tables, kept out of the assets so they stay thin."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.discovery_tables import (
    listing_variants,
    listings,
    product_candidates,
    product_copy,
    product_details,
    supplier_products,
    supplier_variants,
)


def now() -> datetime:
    return datetime.now(UTC)


def listed_pids(conn: Connection) -> set[str]:
    return set(conn.scalars(sa.select(listings.c.pid).where(listings.c.status == "listed")))


def products_needing_detail(conn: Connection, max_age: datetime) -> list[sa.Row[Any]]:
    """Catalog rows whose detail is missing, stale or older than `max_age`."""
    query = (
        sa.select(supplier_products, product_details.c.fetched_at.label("detail_fetched_at"))
        .select_from(
            supplier_products.outerjoin(product_details, product_details.c.pid == supplier_products.c.pid)
        )
        .where(supplier_products.c.problem.is_(None))
    )
    return [
        row
        for row in conn.execute(query)
        if row.detail_fetched_at is None
        or row.detail_hash != row.content_hash
        or _aware(row.detail_fetched_at) < max_age
    ]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def save_detail(
    conn: Connection, pid: str, detail: dict[str, Any], variants: list[dict[str, Any]], content_hash: str
) -> None:
    upsert(conn, product_details, [{"pid": pid, **detail, "fetched_at": now()}], keys=["pid"])
    conn.execute(sa.delete(supplier_variants).where(supplier_variants.c.pid == pid))
    if variants:
        conn.execute(sa.insert(supplier_variants), [{"pid": pid, **v} for v in variants])
    conn.execute(
        sa.update(supplier_products).where(supplier_products.c.pid == pid).values(detail_hash=content_hash)
    )


def evaluation_inputs(conn: Connection, pids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every catalog product with a fresh detail (or only `pids`), with its variants' costs folded in."""
    variant_cost = (
        sa.select(
            supplier_variants.c.pid,
            sa.func.max(supplier_variants.c.price).label("max_cost"),
            sa.func.count().label("variant_count"),
            sa.func.count(supplier_variants.c.price).label("priced_variants"),
        )
        .group_by(supplier_variants.c.pid)
        .subquery()
    )
    query = (
        sa.select(
            supplier_products.c.pid,
            supplier_products.c.name,
            supplier_products.c.image_url,
            supplier_products.c.listed_num,
            product_details.c.shipping_cost,
            product_details.c.shipping_days_max,
            variant_cost.c.max_cost,
            variant_cost.c.variant_count,
            variant_cost.c.priced_variants,
        )
        .select_from(
            supplier_products.join(
                product_details, product_details.c.pid == supplier_products.c.pid
            ).outerjoin(variant_cost, variant_cost.c.pid == supplier_products.c.pid)
        )
        .where(supplier_products.c.detail_hash == supplier_products.c.content_hash)
    )
    if pids is not None:
        query = query.where(supplier_products.c.pid.in_(pids))
    return [dict(row._mapping) for row in conn.execute(query)]


def save_candidates(conn: Connection, rows: list[dict[str, Any]]) -> None:
    upsert(conn, product_candidates, rows, keys=["pid"])


def accepted_for_copy(conn: Connection, pids: list[str] | None = None) -> list[dict[str, Any]]:
    query = (
        sa.select(
            product_candidates.c.pid,
            supplier_products.c.name,
            supplier_products.c.category,
            product_details.c.weight_g,
            product_details.c.shipping_days_max,
            product_copy.c.content_hash.label("copy_hash"),
            product_copy.c.status.label("copy_status"),
            product_copy.c.attempts.label("copy_attempts"),
        )
        .select_from(
            product_candidates.join(supplier_products, supplier_products.c.pid == product_candidates.c.pid)
            .join(product_details, product_details.c.pid == product_candidates.c.pid)
            .outerjoin(product_copy, product_copy.c.pid == product_candidates.c.pid)
        )
        .where(product_candidates.c.status == "accepted")
        .order_by(product_candidates.c.score.desc())
    )
    if pids is not None:
        query = query.where(product_candidates.c.pid.in_(pids))
    return [dict(row._mapping) for row in conn.execute(query)]


def variant_values(conn: Connection, pid: str) -> list[str]:
    return list(
        conn.scalars(
            sa.select(supplier_variants.c.option_value)
            .where(supplier_variants.c.pid == pid)
            .order_by(supplier_variants.c.sku)
        )
    )


def save_copy(conn: Connection, row: dict[str, Any]) -> None:
    upsert(conn, product_copy, [row], keys=["pid"])


def listing_work(conn: Connection, pids: list[str] | None = None) -> list[dict[str, Any]]:
    """Accepted products with good copy (or only `pids`), joined to their ledger row if they have one."""
    query = (
        sa.select(
            product_candidates,
            product_copy.c.title.label("copy_title"),
            product_copy.c.description_html,
            product_copy.c.tags,
            product_copy.c.content_hash,
            supplier_products.c.sku.label("product_sku"),
            supplier_products.c.category,
            product_details.c.image_urls,
            product_details.c.option_name,
            listings.c.status.label("listing_status"),
            listings.c.rule_fingerprint.label("listed_rule"),
            listings.c.copy_hash.label("listed_copy"),
            listings.c.handle,
        )
        .select_from(
            product_candidates.join(product_copy, product_copy.c.pid == product_candidates.c.pid)
            .join(supplier_products, supplier_products.c.pid == product_candidates.c.pid)
            .join(product_details, product_details.c.pid == product_candidates.c.pid)
            .outerjoin(listings, listings.c.pid == product_candidates.c.pid)
        )
        .where(product_candidates.c.status == "accepted", product_copy.c.status == "ok")
        .order_by(product_candidates.c.score.desc())
    )
    if pids is not None:
        query = query.where(product_candidates.c.pid.in_(pids))
    return [dict(row._mapping) for row in conn.execute(query)]


def variants_of(conn: Connection, pid: str) -> list[dict[str, Any]]:
    return [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(supplier_variants)
            .where(supplier_variants.c.pid == pid)
            .order_by(supplier_variants.c.sku)
        )
    ]


def begin_listing(conn: Connection, row: dict[str, Any]) -> None:
    """Write the ledger row *before* calling the store, so a killed run leaves a trace to resume from."""
    upsert(
        conn,
        listings,
        [row],
        keys=["pid"],
        update=["status", "title", "price", "compare_at_price", "unit_cost", "shipping_cost", "image_url"],
    )
    conn.execute(
        sa.update(listings)
        .where(listings.c.pid == row["pid"])
        .values(attempts=listings.c.attempts + 1, updated_at=now())
    )


def finish_listing(
    conn: Connection,
    pid: str,
    product_id: str,
    variants: list[dict[str, Any]],
    rule_fingerprint: str,
    copy_hash: str,
) -> None:
    conn.execute(
        sa.update(listings)
        .where(listings.c.pid == pid)
        .values(
            status="listed",
            store_product_id=product_id,
            last_error=None,
            updated_at=now(),
            rule_fingerprint=rule_fingerprint,
            copy_hash=copy_hash,
            listed_at=sa.func.coalesce(listings.c.listed_at, now()),
        )
    )
    conn.execute(sa.delete(listing_variants).where(listing_variants.c.pid == pid))
    conn.execute(sa.insert(listing_variants), variants)


def fail_listing(conn: Connection, pid: str, error: str, *, permanent: bool) -> None:
    values: dict[str, Any] = {"last_error": error[:2000], "updated_at": now()}
    if permanent:
        values["status"] = "failed"
    conn.execute(sa.update(listings).where(listings.c.pid == pid).values(**values))


def as_money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
