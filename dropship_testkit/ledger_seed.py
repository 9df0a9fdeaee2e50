"""The one ledger seeder of tests and benchmarks: rows written into the store database's own tables.

`seeding(engine)` opens one transaction and yields a `LedgerSeeder` with two ways in:
- `rows(table, dicts)`: typed Python values (Decimal, datetime) through SQLAlchemy, exactly as the
  pipelines write them; for the small hand-made ledgers that tests assert on.
- `bulk(table, columns, tuples)`: values already encoded (`ts`, `money`) handed to the driver's bulk path
  (sqlite3 `executemany`, PostgreSQL `COPY`), chunk by chunk from any iterable, so memory stays flat; for
  the million-order store of `benchmarks/bench_dashboard.py`.

And the ledgers the tests share:
- `seed_hand_computed_ledger`: the small ledger whose analytics `tests/analytics/expected.py` computed by hand
- `seed_support_tickets`: two helpdesk tickets, one answered and one escalated (the dashboard's support pages)
- `seed_support_orders`: orders in the store and in the sandbox world, whose customers then write
- `list_products`: supplier products listed on the sandbox store, with the listing ledger that maps them
"""

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

import sqlalchemy as sa

from dropship_pipelines.store.ads_tables import ad_campaigns, ad_metrics_daily
from dropship_pipelines.store.database import get_engine, upsert
from dropship_pipelines.store.discovery_tables import listing_variants, listings, product_candidates
from dropship_pipelines.store.fulfillment_tables import (
    fulfillments,
    store_order_lines,
    store_orders,
    supplier_orders,
)
from dropship_pipelines.store.support_tables import support_messages, support_replies, support_tickets
from dropship_sandbox.catalog import visible
from dropship_sandbox.world import DEFAULT_SIM_START, World

BULK_CHUNK = 50_000  # rows per bulk round trip: big enough to amortise, small enough to keep memory flat
BulkRow = tuple[Any, ...]


# --- the seeder ---------------------------------------------------------------------------------------
def ts(moment: datetime) -> str:
    """A UTC timestamp as SQLAlchemy writes it to SQLite (naive, with microseconds; SQLite compares
    timestamps as strings, so a shorter form would sort before the bounds the analytics bind)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def money(cents: int) -> str:
    """An amount in cents as the text both drivers' bulk paths read into a NUMERIC column."""
    return f"{cents // 100}.{cents % 100:02d}"


class LedgerSeeder:
    """Writes ledger rows inside one open transaction (see `seeding`)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.rows_written = 0

    def rows(self, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Typed values through SQLAlchemy; every row of one call has the same columns."""
        if rows:
            self.conn.execute(table.insert(), list(rows))
            self.rows_written += len(rows)

    def bulk(self, table: sa.Table, columns: Sequence[str], rows: Iterable[BulkRow]) -> None:
        """Encoded values (text, numbers, None, bool) straight to the driver, `BULK_CHUNK` rows a trip."""
        iterator = iter(rows)
        while chunk := list(islice(iterator, BULK_CHUNK)):
            cursor = self.conn.connection.cursor()
            try:
                if self.conn.dialect.name == "postgresql":
                    cursor.copy_expert(
                        f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", _copy_text(chunk)
                    )
                else:
                    marks = ", ".join("?" * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", chunk
                    )
            finally:
                cursor.close()
            self.rows_written += len(chunk)


def _copy_text(rows: Sequence[BulkRow]) -> io.StringIO:
    """COPY's text format; generated values never hold tabs, newlines or backslashes."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


@contextmanager
def seeding(engine: sa.Engine, *, durable: bool = True) -> Iterator[LedgerSeeder]:
    """One transaction of seeding, committed on exit. `durable=False` lets SQLite skip its fsyncs: for a
    benchmark's fixture, where a half-loaded file after a crash does not matter and load speed does."""
    with engine.connect() as conn:
        sqlite_file = conn.dialect.name == "sqlite"
        if sqlite_file and not durable:
            conn.connection.driver_connection.execute("PRAGMA synchronous=OFF")  # before the transaction
        try:
            with conn.begin():
                yield LedgerSeeder(conn)
        finally:
            if sqlite_file and not durable:
                conn.connection.driver_connection.execute("PRAGMA synchronous=NORMAL")  # the engine's own


def table_rows(engine: sa.Engine, table: sa.Table) -> list[dict[str, Any]]:
    """Every row of `table`, as dicts (to compare with what a test expects)."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


# --- the hand-computed ledger -------------------------------------------------------------------------
D = Decimal
FIRST_DAY = date(2026, 11, 20)
LAST_DAY = date(2026, 11, 21)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def seed_hand_computed_ledger(engine: sa.Engine) -> None:
    """The ledger of `tests/analytics/expected.py`: 4 orders over two days, 2 campaigns, 3 listings."""
    now = datetime(2026, 11, 22, tzinfo=UTC)
    with seeding(engine) as seed:
        seed.rows(
            listings,
            [
                {
                    "pid": "P1",
                    "handle": "galaxy-lamp",
                    "status": "listed",
                    "store_product_id": "gid://shopify/Product/1",
                    "title": "Galaxy Lamp",
                    "price": D("19.99"),
                    "unit_cost": D("5.00"),
                    "shipping_cost": D("2.50"),
                    "image_url": None,
                    "listed_at": now,
                    "last_error": None,
                },
                {
                    "pid": "P2",
                    "handle": "pet-brush",
                    "status": "listed",
                    "store_product_id": "gid://shopify/Product/2",
                    "title": "Pet Brush",
                    "price": D("29.99"),
                    "unit_cost": D("8.00"),
                    "shipping_cost": D("3.00"),
                    "image_url": None,
                    "listed_at": now,
                    "last_error": None,
                },
                {
                    "pid": "P3",
                    "handle": "broken-mug",
                    "status": "failed",
                    "store_product_id": None,
                    "title": "Broken Mug",
                    "price": D("14.99"),
                    "unit_cost": D("3.00"),
                    "shipping_cost": D("2.00"),
                    "image_url": None,
                    "listed_at": None,
                    "last_error": "Shopify: title too long",
                },
            ],
        )
        seed.rows(
            listing_variants,
            [
                {
                    "vid": "V1",
                    "pid": "P1",
                    "sku": "GL-1",
                    "option_value": "Default",
                    "price": D("19.99"),
                    "unit_cost": D("5.00"),
                },
                {
                    "vid": "V2",
                    "pid": "P2",
                    "sku": "PB-1",
                    "option_value": "Default",
                    "price": D("29.99"),
                    "unit_cost": D("8.00"),
                },
            ],
        )
        seed.rows(
            product_candidates,
            [
                {
                    "pid": pid,
                    "status": status,
                    "reason": reason,
                    "name": name,
                    "unit_cost": D("5.00"),
                    "shipping_cost": D("2.50"),
                    "price": D("19.99"),
                    "profit": D("11.61"),
                    "margin": 0.58,
                    "popularity": 50,
                    "shipping_days_max": 9,
                    "score": score,
                    "rule_fingerprint": "f",
                    "evaluated_at": now,
                }
                for pid, status, reason, name, score in (
                    ("P1", "accepted", None, "Galaxy Lamp", 0.91),
                    ("P2", "accepted", None, "Pet Brush", 0.84),
                    ("P9", "rejected", "shipping takes 21 days (max 12)", "Slow Chair", 0.12),
                )
            ],
        )
        order = {
            "email": "a@example.com",
            "customer_name": "Ann Lee",
            "store_updated_at": now,
            "financial_status": "PAID",
            "fulfillment_status": "UNFULFILLED",
            "currency": "USD",
            "cancelled_at": None,
            "problem": None,
            "source": "meta",
            "country_code": "US",
        }
        seed.rows(
            store_orders,
            [
                {
                    **order,
                    "order_id": "O1",
                    "name": "#1001",
                    "placed_at": _at(20, 10),
                    "total_price": D("19.99"),
                    "state": "sent",
                },
                {
                    **order,
                    "order_id": "O2",
                    "name": "#1002",
                    "placed_at": _at(20, 15, 30),
                    "total_price": D("59.98"),
                    "state": "problem",
                    "source": "tiktok",
                    "problem": "variant V2 out of stock at the supplier",
                },
                {
                    **order,
                    "order_id": "O3",
                    "name": "#1003",
                    "placed_at": _at(20, 18),
                    "total_price": D("29.99"),
                    "state": "cancelled",
                    "cancelled_at": _at(20, 19),
                    "source": "organic",
                },
                {
                    **order,
                    "order_id": "O4",
                    "name": "#1004",
                    "placed_at": _at(21, 9),
                    "total_price": D("49.98"),
                    "state": "shipped",
                    "fulfillment_status": "FULFILLED",
                },
            ],
        )
        seed.rows(
            store_order_lines,
            [
                {
                    "line_id": "L1",
                    "order_id": "O1",
                    "title": "Galaxy Lamp",
                    "quantity": 1,
                    "unit_price": D("19.99"),
                    "pid": "P1",
                    "vid": "V1",
                },
                {
                    "line_id": "L2",
                    "order_id": "O2",
                    "title": "Pet Brush",
                    "quantity": 2,
                    "unit_price": D("29.99"),
                    "pid": "P2",
                    "vid": "V2",
                },
                {
                    "line_id": "L3",
                    "order_id": "O3",
                    "title": "Pet Brush",
                    "quantity": 1,
                    "unit_price": D("29.99"),
                    "pid": "P2",
                    "vid": "V2",
                },
                {
                    "line_id": "L4a",
                    "order_id": "O4",
                    "title": "Galaxy Lamp",
                    "quantity": 1,
                    "unit_price": D("19.99"),
                    "pid": "P1",
                    "vid": "V1",
                },
                {
                    "line_id": "L4b",
                    "order_id": "O4",
                    "title": "Pet Brush",
                    "quantity": 1,
                    "unit_price": D("29.99"),
                    "pid": "P2",
                    "vid": "V2",
                },
            ],
        )
        seed.rows(
            supplier_orders,
            [
                {
                    "order_number": "DS-1001",
                    "order_id": "O1",
                    "supplier_order_id": "CJ1",
                    "state": "created",
                    "supplier_status": "UNSHIPPED",
                    "product_amount": D("5.10"),
                    "postage_amount": D("2.40"),
                    "total_amount": D("7.50"),
                    "track_number": None,
                    "carrier": None,
                    "tracking_url": None,
                },
                {
                    "order_number": "DS-1004",
                    "order_id": "O4",
                    "supplier_order_id": "CJ4",
                    "state": "created",
                    "supplier_status": "SHIPPED",
                    "product_amount": D("13.00"),
                    "postage_amount": D("5.50"),
                    "total_amount": D("18.50"),
                    "track_number": "YT2611210001",
                    "carrier": "YunExpress",
                    "tracking_url": "https://t.17track.net/en#nums=YT2611210001",
                },
            ],
        )
        seed.rows(
            ad_campaigns,
            [
                {
                    "pid": "P1",
                    "platform": "meta",
                    "campaign_id": "c1",
                    "state": "active",
                    "daily_budget": D("20.00"),
                    "launched_at": _at(19, 8),
                },
                {
                    "pid": "P2",
                    "platform": "tiktok",
                    "campaign_id": "t1",
                    "state": "active",
                    "daily_budget": D("15.00"),
                    "launched_at": _at(19, 8),
                },
            ],
        )
        metric = {"ctr": None, "cpc": None, "roas": None}
        seed.rows(
            ad_metrics_daily,
            [
                {
                    **metric,
                    "day": FIRST_DAY,
                    "platform": "meta",
                    "campaign_id": "c1",
                    "pid": "P1",
                    "spend": D("10.00"),
                    "impressions": 2000,
                    "clicks": 40,
                    "purchases": 1,
                    "revenue": D("19.99"),
                },
                {
                    **metric,
                    "day": FIRST_DAY,
                    "platform": "tiktok",
                    "campaign_id": "t1",
                    "pid": "P2",
                    "spend": D("5.50"),
                    "impressions": 1000,
                    "clicks": 20,
                    "purchases": 1,
                    "revenue": D("59.98"),
                },
                {
                    **metric,
                    "day": LAST_DAY,
                    "platform": "meta",
                    "campaign_id": "c1",
                    "pid": "P1",
                    "spend": D("12.25"),
                    "impressions": 2500,
                    "clicks": 50,
                    "purchases": 0,
                    "revenue": D("0.00"),
                },
            ],
        )


# --- helpdesk tickets ------------------------------------------------------------------------------------
ESCALATED_KEY = "T2:M2"
ESCALATED_DRAFT = (
    "Sorry for the wait! Your order #1002 is delayed; we can refund or reship, which do you prefer?"
)


def seed_support_tickets(engine: sa.Engine) -> None:
    """T1 answered automatically, T2 escalated with a draft waiting for a human (`ESCALATED_KEY`)."""
    at = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    with seeding(engine) as seed:
        seed.rows(
            support_tickets,
            [
                {
                    "ticket_id": "T1",
                    "channel": "email",
                    "status": "open",
                    "subject": "Where is my lamp?",
                    "customer_email": "ann@example.com",
                    "customer_name": "Ann Lee",
                    "last_received_at": at,
                    "fetched_at": at,
                },
                {
                    "ticket_id": "T2",
                    "channel": "email",
                    "status": "open",
                    "subject": "Order #1002 late, refund?",
                    "customer_email": "bob@example.com",
                    "customer_name": "Bob Roy",
                    "last_received_at": at,
                    "fetched_at": at,
                },
            ],
        )
        seed.rows(
            support_messages,
            [
                {
                    "message_id": "M1",
                    "ticket_id": "T1",
                    "from_agent": False,
                    "body_text": "Where is order #1001?",
                    "sent_at": at,
                    "fetched_at": at,
                },
                {
                    "message_id": "M2",
                    "ticket_id": "T2",
                    "from_agent": False,
                    "body_text": "My order #1002 is late. I want my money back.",
                    "sent_at": at,
                    "fetched_at": at,
                },
            ],
        )
        seed.rows(
            support_replies,
            [
                {
                    "reply_key": "T1:M1",
                    "ticket_id": "T1",
                    "message_id": "M1",
                    "state": "sent",
                    "order_name": "#1001",
                    "intent": "tracking",
                    "confidence": 0.93,
                    "reason": None,
                    "reply_text": "Your lamp shipped with YunExpress.",
                    "received_at": at,
                    "answered_at": at,
                },
                {
                    "reply_key": ESCALATED_KEY,
                    "ticket_id": "T2",
                    "message_id": "M2",
                    "state": "escalated",
                    "order_name": "#1002",
                    "intent": "refund",
                    "confidence": 0.41,
                    "reason": "refund requests need a human",
                    "reply_text": ESCALATED_DRAFT,
                    "received_at": at,
                    "answered_at": None,
                },
            ],
        )


# --- orders customers write about -----------------------------------------------------------------------
STATES = ("new", "sent", "shipped", "delivered")
FIRST_NAMES = (
    "Alex",
    "Maria",
    "Jonas",
    "Chloé",
    "Sam",
    "Lucía",
    "Emma",
    "Noah",
    "Léa",
    "Ben",
    "Mia",
    "Paul",
    "Ana",
)


@dataclass(frozen=True)
class SeededOrder:
    name: str
    email: str
    state: str
    total: Decimal
    track_number: str | None


def seed_support_orders(store_url: str, world: World, count: int, *, start: int = 1001) -> list[SeededOrder]:
    """`count` orders placed on the sandbox's first day, cycling through new/sent/shipped/delivered, in the
    store's ledger (what the pipelines read) and in the sandbox's Shopify (whose customers then write)."""
    seeded: list[SeededOrder] = []
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    at_supplier: list[dict[str, Any]] = []
    posted: list[dict[str, Any]] = []
    with world.lock, world.state:
        for i in range(count):
            number = start + i
            name, email = f"#{number}", f"customer{number}@example.com"
            state = STATES[i % len(STATES)]
            total = Decimal("19.90") if i % 3 else Decimal("64.50")  # some above the refund limit
            placed = DEFAULT_SIM_START + timedelta(minutes=i)
            order_id = f"gid://shopify/Order/{number}"
            track = f"YT{number:010d}" if state in ("shipped", "delivered") else None
            orders.append(
                {
                    "order_id": order_id,
                    "name": name,
                    "email": email,
                    "customer_name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} Doe",
                    "placed_at": placed,
                    "store_updated_at": placed,
                    "financial_status": "PAID",
                    "fulfillment_status": "FULFILLED" if track else "UNFULFILLED",
                    "currency": "USD",
                    "total_price": total,
                    "country_code": "US",
                    "state": "shipped" if track else ("sent" if state == "sent" else "new"),
                }
            )
            lines.append(
                {
                    "line_id": f"{order_id}/1",
                    "order_id": order_id,
                    "title": "LED Desk Lamp",
                    "quantity": 1,
                    "unit_price": total,
                }
            )
            if state != "new":
                at_supplier.append(
                    {
                        "order_number": f"shopify-{number}",
                        "order_id": order_id,
                        "supplier_order_id": f"CJ{number}",
                        "state": "created",
                        "supplier_status": {
                            "sent": "CREATED",
                            "shipped": "SHIPPED",
                            "delivered": "DELIVERED",
                        }[state],
                        "track_number": track,
                        "carrier": "YunExpress" if track else None,
                        "tracking_url": f"https://t.17track.net/en#nums={track}" if track else None,
                    }
                )
            if track:
                posted.append(
                    {
                        "order_id": order_id,
                        "state": "posted",
                        "track_number": track,
                        "carrier": "YunExpress",
                        "tracking_url": f"https://t.17track.net/en#nums={track}",
                        "posted_at": placed + timedelta(hours=30),
                    }
                )
            world.state.put(
                "shopify_order",
                str(number),
                {
                    "name": name,
                    "email": email,
                    "customer": {"firstName": FIRST_NAMES[i % len(FIRST_NAMES)], "lastName": "Doe"},
                    "lineItems": [{"title": "LED Desk Lamp", "quantity": 1}],
                    "createdAt": placed.isoformat(),
                },
            )
            seeded.append(SeededOrder(name, email, state, total, track))
        with seeding(get_engine(store_url)) as seed:
            seed.rows(store_orders, orders)
            seed.rows(store_order_lines, lines)
            seed.rows(supplier_orders, at_supplier)
            seed.rows(fulfillments, posted)
    return seeded


# --- products listed on the store --------------------------------------------------------------------
def list_products(world: World, store_url: str, count: int) -> list[str]:
    """List `count` clean supplier products (every variant in stock) on the store; returns their pids.

    Discovery normally does this (supplier catalog -> LLM copy -> productSet); for fulfillment tests and
    benchmarks the listing is written directly, so they start with orders, not with an LLM."""
    pids: list[str] = []
    rows: list[dict[str, Any]] = []
    with world.lock, world.state:
        now = world.now()
        for product in world.state.all("cj_product"):
            if len(pids) >= count:
                break
            variants = product["variants"]
            if (
                not visible(product, now)
                or product["_sim"].get("defect")
                or not variants
                or any(int(v["inventoryNum"]) < 50 for v in variants)
            ):
                continue
            store_id = world.new_id("product", 9_000_000_000)
            store_variants = []
            for variant in variants:
                variant_id = world.new_id("variant", 40_000_000_000)
                price = Decimal(str(variant["variantSellPrice"])) * Decimal("2.6")
                store_variants.append(
                    {
                        "id": variant_id,
                        "title": variant["variantKey"],
                        "sku": variant["variantSku"],
                        "price": f"{price:.2f}",
                        "compareAtPrice": None,
                        "inventoryPolicy": "DENY",
                        "selectedOptions": [{"name": "Option", "value": variant["variantKey"]}],
                    }
                )
                rows.append(
                    {
                        "vid": variant["vid"],
                        "pid": product["pid"],
                        "store_variant_id": f"gid://shopify/ProductVariant/{variant_id}",
                        "sku": variant["variantSku"],
                        "option_value": variant["variantKey"],
                        "price": price.quantize(Decimal("0.01")),
                        "compare_at_price": None,
                        "unit_cost": Decimal(str(variant["variantSellPrice"])),
                    }
                )
            doc = {
                "id": store_id,
                "handle": f"cj-{product['productSku'].lower()}",
                "title": product["productNameEn"],
                "createdAt": "2026-10-01T00:00:00Z",
                "updatedAt": "2026-10-01T00:00:00Z",
                "variants": store_variants,
                "media": [],
                "tags": [f"pid:{product['pid']}", "source:cj"],
                "vendor": "Dropship Store",
                "productType": "",
                "descriptionHtml": "",
                "status": "ACTIVE",
            }
            world.state.put("shopify_product", str(store_id), doc)
            world.state.put("shopify_handle", doc["handle"], {"product_id": str(store_id)})
            for variant in store_variants:
                world.state.put(
                    "shopify_variant", str(variant["id"]), {"product_id": str(store_id), **variant}
                )
            pids.append(product["pid"])
    with seeding(get_engine(store_url)) as seed:
        upsert(seed.conn, listing_variants, rows, keys=["vid"])
    return pids
