"""Benchmark the dashboard on a big store: bulk-load orders, recompute the analytics, load the read API.

    python benchmarks/bench_dashboard.py [--orders 1000000] [--url URL] [--requests 200] [--clients 8]
                                         [--days 300] [--reuse] [--keep] [--json PATH]

1. Fills a store database (a fresh SQLite file by default; ``--url postgresql+psycopg2://...`` for an
   existing, empty PostgreSQL database) with ``--orders`` orders and their lines, supplier orders and
   fulfillments, plus listings, candidates, campaigns with daily ad metrics and support tickets. Rows go
   in through the driver's bulk path (sqlite3 ``executemany``, PostgreSQL ``COPY``), in chunks, so memory
   stays flat at any size.
2. Times the analytics recompute the way production runs it: the daily assets over the whole date range
   as one run (``analytics_daily_job``'s single-run backfill), then the snapshots (``analytics_job``),
   each with its asset checks, through ``dagster.materialize``; then the same two runs with stand-in assets
   and checks that read nothing (``recompute_floor``): Dagster's own cost for the run, which no query can
   take away (open-source Dagster writes a planned and a materialisation event per day per daily asset).
3. Starts the dashboard API with uvicorn in a separate process (as ``python -m dashboard`` runs it) and
   hits every read endpoint, with the query strings the web app sends, from ``--clients`` concurrent
   clients in this process; prints p50/p95 latency and requests/s per endpoint, and the latency of its
   first request alone ("cold": the page read from the ledger; the repeats may be answered from the page
   the dashboard keeps while its tables are unchanged, as they are during the run).

``--reuse`` skips the load when the database already holds orders (to re-measure after a change) and
creates any index the table definitions gained since. Figures on a shared 2-core box move with whatever
else runs, and the load generator shares those cores with the server: the load average is printed.
"""

import argparse
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.schema import metadata
from dropship_testkit.bench import Figure, add_json_option, percentile, report_figures
from dropship_testkit.ledger_seed import BulkRow, LedgerSeeder, money, seeding, ts
from dropship_testkit.sandbox_server import free_port

TOKEN = "bench-dashboard-token-0123456789"
PARTITIONS_START = date(2026, 1, 1)  # the earliest first day the load uses (DROPSHIP_PARTITIONS_START)
PRODUCTS = 500
VARIANTS_PER_PRODUCT = 2
CANDIDATES = 5_000
ADVERTISED_PRODUCTS = 200  # x 2 platforms = 400 campaigns, one metrics row per campaign per day
TICKETS = 20_000
CHUNK = 50_000  # orders generated at a time: memory stays flat at any size
SLOW_P95_MS = 500.0
GOAL_RECOMPUTE_S = 2.0  # the goals at 1M orders
GOAL_P95_MS = 50.0

console = Console(width=None if sys.stdout.isatty() else 150)  # logs and CI: no truncated paths


# --- the generated store ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Product:
    pid: str
    title: str
    price_cents: int
    cost_cents: int
    shipping_cents: int


def make_products(rng: random.Random) -> list[Product]:
    products = []
    for i in range(PRODUCTS):
        cost = rng.randrange(200, 2500)
        shipping = rng.randrange(150, 800)
        price = ((cost + shipping) * 2 // 100) * 100 + 99  # roughly 2x landed cost, ending in .99
        products.append(Product(f"P{i:05d}", f"Product {i:05d}", price, cost, shipping))
    return products


def load_catalog(seed: LedgerSeeder, products: list[Product], rng: random.Random, now: datetime) -> None:
    t = metadata.tables
    seed.bulk(
        t["listings"],
        (
            "pid",
            "handle",
            "status",
            "store_product_id",
            "title",
            "price",
            "unit_cost",
            "shipping_cost",
            "attempts",
            "last_error",
            "listed_at",
        ),
        [
            (
                p.pid,
                f"product-{i:05d}",
                "failed" if i % 97 == 0 else "listed",
                None if i % 97 == 0 else f"gid://shopify/Product/{i + 1}",
                p.title,
                money(p.price_cents),
                money(p.cost_cents),
                money(p.shipping_cents),
                1,
                "Shopify: title too long" if i % 97 == 0 else None,
                None if i % 97 == 0 else ts(now - timedelta(days=300)),
            )
            for i, p in enumerate(products)
        ],
    )
    seed.bulk(
        t["listing_variants"],
        ("vid", "pid", "store_variant_id", "sku", "option_value", "price", "unit_cost"),
        [
            (
                f"V{i:05d}-{k}",
                p.pid,
                f"gid://shopify/ProductVariant/{i * VARIANTS_PER_PRODUCT + k + 1}",
                f"SKU-{i:05d}-{k}",
                f"Option {k}",
                money(p.price_cents),
                money(p.cost_cents),
            )
            for i, p in enumerate(products)
            for k in range(VARIANTS_PER_PRODUCT)
        ],
    )
    seed.bulk(
        t["product_candidates"],
        (
            "pid",
            "status",
            "reason",
            "name",
            "unit_cost",
            "shipping_cost",
            "price",
            "profit",
            "margin",
            "popularity",
            "shipping_days_max",
            "score",
            "rule_fingerprint",
            "evaluated_at",
        ),
        [
            (
                f"P{i:05d}",
                "accepted" if i < PRODUCTS else "rejected",
                None if i < PRODUCTS else "shipping takes 21 days (max 12)",
                f"Product {i:05d}",
                "5.00",
                "2.50",
                "19.99",
                "11.61",
                0.58,
                rng.randrange(0, 5000),
                rng.randrange(5, 25),
                round(rng.random(), 4),
                "bench",
                ts(now),
            )
            for i in range(CANDIDATES)
        ],
    )


def load_ads(seed: LedgerSeeder, products: list[Product], days: list[date], rng: random.Random) -> None:
    t = metadata.tables
    campaigns = [(p, platform) for p in products[:ADVERTISED_PRODUCTS] for platform in ("meta", "tiktok")]
    seed.bulk(
        t["ad_campaigns"],
        ("pid", "platform", "campaign_id", "state", "daily_budget", "launched_at", "attempts"),
        [
            (
                p.pid,
                platform,
                f"{platform[0]}{p.pid}",
                "paused" if i % 9 == 0 else "active",
                "20.00",
                ts(datetime.combine(days[0], datetime.min.time())),
                1,
            )
            for i, (p, platform) in enumerate(campaigns)
        ],
    )
    columns = (
        "day",
        "platform",
        "campaign_id",
        "pid",
        "spend",
        "impressions",
        "clicks",
        "purchases",
        "revenue",
        "ctr",
        "cpc",
        "roas",
    )
    rows: list[BulkRow] = []
    for day in days:
        for p, platform in campaigns:
            spend = rng.randrange(500, 3000)
            impressions = rng.randrange(1000, 20000)
            clicks = max(1, impressions // rng.randrange(40, 120))
            purchases = rng.randrange(0, 6)
            revenue = purchases * p.price_cents
            rows.append(
                (
                    day.isoformat(),
                    platform,
                    f"{platform[0]}{p.pid}",
                    p.pid,
                    money(spend),
                    impressions,
                    clicks,
                    purchases,
                    money(revenue),
                    round(clicks / impressions, 4),
                    money(spend // clicks),
                    round(revenue / spend, 4),
                )
            )
        if len(rows) >= CHUNK:
            seed.bulk(t["ad_metrics_daily"], columns, rows)
            rows = []
    seed.bulk(t["ad_metrics_daily"], columns, rows)


ORDER_COLUMNS = (
    "order_id",
    "name",
    "email",
    "customer_name",
    "placed_at",
    "store_updated_at",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "currency",
    "total_price",
    "country_code",
    "state",
    "problem",
    "source",
)
LINE_COLUMNS = ("line_id", "order_id", "sku", "title", "quantity", "unit_price", "pid", "vid")
SUPPLIER_COLUMNS = (
    "order_number",
    "order_id",
    "supplier_order_id",
    "state",
    "supplier_status",
    "product_amount",
    "postage_amount",
    "total_amount",
    "track_number",
    "carrier",
    "tracking_url",
    "attempts",
    "last_error",
)
FULFILLMENT_COLUMNS = (
    "order_id",
    "fulfillment_id",
    "state",
    "track_number",
    "carrier",
    "tracking_url",
    "customer_notified",
    "attempts",
    "posted_at",
)


@dataclass
class OrderChunk:
    orders: list[BulkRow] = field(default_factory=list)
    lines: list[BulkRow] = field(default_factory=list)
    supplier: list[BulkRow] = field(default_factory=list)
    fulfillments: list[BulkRow] = field(default_factory=list)


def order_chunks(
    count: int, products: list[Product], days: list[date], rng: random.Random
) -> Iterator[OrderChunk]:
    """Orders in placement order over the days, with the state mix of a store that has run for a while:
    most shipped, some in flight, a few cancelled or stuck (out of stock, supplier refused)."""
    chunk = OrderChunk()
    sources = ("organic", "meta", "tiktok")
    for n in range(count):
        day = days[n * len(days) // count]
        placed = datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(86_400))
        roll = rng.random()
        state = (
            "cancelled"
            if roll < 0.04
            else "problem"
            if roll < 0.06
            else "new"
            if roll < 0.12
            else "sent"
            if roll < 0.35
            else "shipped"
        )
        order_id = f"gid://shopify/Order/{n + 1}"
        total = cost = shipping = 0
        for k in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1)):
            p = products[int(len(products) * rng.random() ** 2)]  # a few products sell most
            quantity = 1 + (rng.random() < 0.2)
            total += quantity * p.price_cents
            cost += quantity * p.cost_cents
            shipping += quantity * p.shipping_cents
            variant = f"V{p.pid[1:]}-{k % VARIANTS_PER_PRODUCT}"
            chunk.lines.append(
                (
                    f"L{n + 1}-{k}",
                    order_id,
                    f"SKU-{variant[1:]}",
                    p.title,
                    quantity,
                    money(p.price_cents),
                    p.pid,
                    variant,
                )
            )
        chunk.orders.append(
            (
                order_id,
                f"#{n + 1001}",
                f"c{n % 300_000}@example.com",
                f"Customer {n % 300_000}",
                ts(placed),
                ts(placed + timedelta(hours=1)),
                "REFUNDED" if state == "cancelled" else "PAID",
                "FULFILLED" if state == "shipped" else "UNFULFILLED",
                ts(placed + timedelta(hours=2)) if state == "cancelled" else None,
                "USD",
                money(total),
                "US",
                state,
                "variant out of stock at the supplier" if state == "problem" else None,
                sources[n % 3],
            )
        )
        number = f"DS-{n + 1001}"
        if state in ("sent", "shipped"):
            track = f"YT{n + 1:012d}" if state == "shipped" else None
            chunk.supplier.append(
                (
                    number,
                    order_id,
                    f"CJ{n + 1}",
                    "created",
                    "SHIPPED" if track else "CREATED",
                    money(cost),
                    money(shipping),
                    money(cost + shipping),
                    track,
                    "YunExpress" if track else None,
                    f"https://t.17track.net/en#nums={track}" if track else None,
                    1,
                    None,
                )
            )
            if track:
                chunk.fulfillments.append(
                    (
                        order_id,
                        f"gid://shopify/Fulfillment/{n + 1}",
                        "posted",
                        track,
                        "YunExpress",
                        f"https://t.17track.net/en#nums={track}",
                        True,
                        1,
                        ts(placed + timedelta(days=3)),
                    )
                )
        elif state == "new" and roll > 0.115:  # the supplier refused a few: the order needs a human
            chunk.supplier.append(
                (
                    number,
                    order_id,
                    None,
                    "failed",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    3,
                    "CJ: balance too low",
                )
            )
        if len(chunk.orders) >= CHUNK:
            yield chunk
            chunk = OrderChunk()
    if chunk.orders:
        yield chunk


def load_support(seed: LedgerSeeder, days: list[date], rng: random.Random) -> None:
    t = metadata.tables
    tickets, messages, replies = [], [], []
    for i in range(TICKETS):
        at = ts(datetime.combine(days[i * len(days) // TICKETS], datetime.min.time()) + timedelta(hours=9))
        escalated = rng.random() < 0.05
        tickets.append(
            (
                f"T{i}",
                "email",
                "open" if escalated else "closed",
                f"Where is order #{i + 1001}?",
                f"c{i}@example.com",
                f"Customer {i}",
                at,
                at,
            )
        )
        messages.append((f"M{i}", f"T{i}", False, f"Where is my order #{i + 1001}?", at, at))
        replies.append(
            (
                f"T{i}:M{i}",
                f"T{i}",
                f"M{i}",
                "escalated" if escalated else "sent",
                "refund" if escalated else "tracking",
                0.4 if escalated else 0.93,
                "refund requests need a human" if escalated else None,
                f"Your order #{i + 1001} is on its way.",
                at,
                None if escalated else at,
            )
        )
    seed.bulk(
        t["support_tickets"],
        (
            "ticket_id",
            "channel",
            "status",
            "subject",
            "customer_email",
            "customer_name",
            "last_received_at",
            "fetched_at",
        ),
        tickets,
    )
    seed.bulk(
        t["support_messages"],
        ("message_id", "ticket_id", "from_agent", "body_text", "sent_at", "fetched_at"),
        messages,
    )
    seed.bulk(
        t["support_replies"],
        (
            "reply_key",
            "ticket_id",
            "message_id",
            "state",
            "intent",
            "confidence",
            "reason",
            "reply_text",
            "received_at",
            "answered_at",
        ),
        replies,
    )


def fill_store(engine: sa.Engine, orders: int, days: list[date], seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    products = make_products(rng)
    now = datetime.now(UTC).replace(tzinfo=None)
    t = metadata.tables
    started = time.perf_counter()
    with seeding(engine, durable=False) as ledger:
        load_catalog(ledger, products, rng, now)
        load_ads(ledger, products, days, rng)
        load_support(ledger, days, rng)
        for chunk in order_chunks(orders, products, days, rng):
            ledger.bulk(t["store_orders"], ORDER_COLUMNS, chunk.orders)
            ledger.bulk(t["store_order_lines"], LINE_COLUMNS, chunk.lines)
            ledger.bulk(t["supplier_orders"], SUPPLIER_COLUMNS, chunk.supplier)
            ledger.bulk(t["fulfillments"], FULFILLMENT_COLUMNS, chunk.fulfillments)
    seconds = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # What autovacuum does shortly after a load this size (an insert-driven vacuum, PostgreSQL
            # 13+): statistics, and the visibility map that lets a count read an index alone.
            conn.exec_driver_sql("VACUUM ANALYZE")
    return {"rows": ledger.rows_written, "seconds": seconds}


# --- the API under load -------------------------------------------------------------------------------
# What the web app requests when each page opens (dashboard/web/src/pages/*.tsx), plus deeper pages.
ENDPOINTS = (
    "/api/metrics/kpis",
    "/api/metrics/daily?",
    "/api/metrics/top-products?limit=10&offset=0",
    "/api/metrics/ad-performance?limit=20",
    "/api/products/candidates?limit=25&offset=0",
    "/api/products/listings?limit=25&offset=0",
    "/api/orders?limit=25&offset=0",
    "/api/orders?needs_attention=true&limit=50",
    "/api/orders?limit=25&offset=0&state=problem",
    "/api/orders?limit=25&offset=0&start={day}&end={day}",
    "/api/orders?limit=25&offset=2500",
    "/api/ads/campaigns?limit=25&offset=0",
    "/api/ads/daily",
    "/api/ads/actions?limit=25",
    "/api/support/status",
    "/api/support/escalations?limit=50",
    "/api/support/replies?limit=25&offset=0",
    "/api/support/tickets?limit=25",
    "/api/runs/jobs",
)


class NoDagster:
    def launch(self, job_name: str) -> str:
        from dashboard.api.runs import RunLaunchError

        raise RunLaunchError("the benchmark runs no Dagster webserver")


def serve(url: str, port: int) -> None:
    """The dashboard as `python -m dashboard` serves it: one uvicorn process."""
    import uvicorn

    from dashboard.api import create_app
    from dashboard.api.app import freeze_startup_heap

    app = create_app(url, TOKEN, launcher=NoDagster())
    freeze_startup_heap()  # as `python -m dashboard` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@contextlib.contextmanager
def dashboard_process(url: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--url", url],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the dashboard exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class EndpointResult:
    path: str
    latencies_ms: list[float]
    errors: int
    wall_s: float
    # The first request, alone: the server read the page (the later ones may be answered from the page
    # kept while its tables are unchanged, dashboard/api/cache.py), what a page costs after a write.
    cold_ms: float = 0.0

    def percentile(self, share: float) -> float:
        return percentile(self.latencies_ms, share)


def hammer(base: str, path: str, requests: int, clients: int, budget_s: float) -> EndpointResult:
    """`requests` GETs of `path` from `clients` threads, each with its own keep-alive connection; after
    `budget_s` seconds no new request starts (a pathologically slow endpoint reports what it managed)."""
    local = threading.local()
    deadline = float("inf")  # the warm-up always runs
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, headers=headers, timeout=60)
        return local.client

    def one(_: int, target: str = path) -> tuple[float, bool] | None:
        if time.perf_counter() > deadline:
            return None
        http = client()  # made outside the timing (an SSL context each: tens of ms)
        started = time.perf_counter()
        response = http.get(target)
        return (time.perf_counter() - started) * 1000, response.status_code == 200

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda n: one(n, "/api/health"), range(clients)))  # connections open
        cold = pool.submit(one, 0).result()
        list(pool.map(one, range(clients)))  # warm-up: caches filled
        started = time.perf_counter()
        deadline = started + budget_s
        results = [r for r in pool.map(one, range(requests)) if r is not None]
        wall = time.perf_counter() - started
        pool.submit(lambda: local.__dict__.get("client") and local.client.close())
    errors = sum(1 for r in results if not r[1]) + (0 if cold is None or cold[1] else 1)
    return EndpointResult(path, [r[0] for r in results], errors, wall, cold[0] if cold else 0.0)


# --- main ---------------------------------------------------------------------------------------------
def date_range(days: int) -> list[date]:
    today = datetime.now(UTC).date()
    first = max(PARTITIONS_START, today - timedelta(days=days - 1))
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


def order_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM store_orders")).scalar_one())


def create_missing_indexes(engine: sa.Engine) -> None:
    """`create_all` adds missing tables only; an index added to a table definition since needs this."""
    metadata.create_all(engine)  # a table defined since the load (its indexes come with it)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            try:
                index.create(engine, checkfirst=True)
            except sa.exc.DBAPIError as error:  # on a column added since the load: nothing reads it here
                console.print(f"[yellow]index {index.name} not created: {error.orig}[/yellow]")


def print_timings(title: str, timings: dict[str, float]) -> None:
    table = Table(title=title)
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step, seconds in timings.items():
        table.add_row(step, f"{seconds:.1f}")
    console.print(table)


def one_pass_over_orders(engine: sa.Engine) -> float:
    """Seconds for one SQL statement that reads every order and sums it by day: what any recompute of the
    daily figures must at least read, the ceiling the analytics recompute is measured against."""
    from dropship_pipelines.store.fulfillment_tables import store_orders

    day = sa.func.substr(sa.cast(store_orders.c.placed_at, sa.String), 1, 10)
    query = sa.select(day, sa.func.count(), sa.func.sum(store_orders.c.total_price)).group_by(day)
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(query).all()
    return time.perf_counter() - started


# --- the baseline: the same daily aggregation in a columnar engine ------------------------------------
# The ledger's columns the daily analytics read, copied into DuckDB once (money as integer cents, the
# placement moment as naive UTC), outside the timing: a columnar store kept beside the ledger, not one
# re-imported per recompute.
DUCK_COLUMNS: dict[str, tuple[str, ...]] = {
    "store_orders": ("order_id", "placed_at", "state", "cancelled_at", "total_price"),
    "store_order_lines": ("order_id", "quantity", "pid", "vid"),
    "supplier_orders": ("order_id", "product_amount", "postage_amount"),
    "supplier_costs": ("order_id", "product_amount", "postage_amount"),
    "order_payments": ("order_id", "gateway", "fees", "refunded"),
    "order_refunds": ("order_id", "kind", "status", "amount", "fee"),
    "order_actions": ("order_id", "kind", "state", "amount"),
    "listings": ("pid", "unit_cost", "shipping_cost"),
    "listing_variants": ("vid", "unit_cost"),
    "ad_metrics_daily": ("day", "spend"),
}
MONEY_COLUMNS = {
    "total_price",
    "product_amount",
    "postage_amount",
    "fees",
    "refunded",
    "amount",
    "fee",
    "unit_cost",
    "shipping_cost",
    "spend",
}


def duckdb_copy(engine: sa.Engine) -> Any:
    """An in-memory DuckDB holding the ledger columns of DUCK_COLUMNS."""
    import duckdb
    import pandas as pd

    from dropship_pipelines.store import analytics_queries as q

    duck = duckdb.connect()
    with engine.connect() as conn:
        for name, columns in DUCK_COLUMNS.items():
            table = metadata.tables[name]
            selected = [
                q.cents(table.c[c]).label(c)
                if c in MONEY_COLUMNS and not table.c[c].nullable
                else sa.case((table.c[c].is_(None), None), else_=q.cents(table.c[c])).label(c)
                if c in MONEY_COLUMNS
                else sa.cast(table.c[c], sa.String).label(c)
                if c in ("placed_at", "cancelled_at", "day")
                else table.c[c]
                for c in columns
            ]
            frame = pd.DataFrame.from_records(conn.execute(sa.select(*selected)).all(), columns=list(columns))
            for c in ("placed_at", "cancelled_at"):
                if c in frame:
                    frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601").dt.tz_localize(None)
            if "day" in frame:
                frame["day"] = pd.to_datetime(frame["day"]).dt.date
            for c in columns:
                if c in MONEY_COLUMNS:
                    frame[c] = frame[c].astype("Int64")
            duck.register("incoming", frame)
            duck.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
            duck.unregister("incoming")
    return duck


def _duck_fee(terms: Any) -> str:
    return f"(2 * (o.total_price * {terms.per_cent} + {terms.base}) + {terms.scale}) // (2 * {terms.scale})"


def duckdb_daily_sql() -> str:
    """The daily profit aggregation (rules/profit.py's definition) in DuckDB's SQL."""
    from dropship_pipelines.rules.pricing import PriceRule
    from dropship_pipelines.rules.profit import unreported_fee_rules

    configured, default = unreported_fee_rules(PriceRule())
    gateways = " ".join(
        f"WHEN lower(coalesce(p.gateway, '')) = '{name}' THEN {_duck_fee(terms)}"
        for name, terms in configured.items()
    )
    return f"""
    WITH money_back AS (
        SELECT order_id,
            sum(CASE WHEN kind = 'refund' THEN amount ELSE 0 END) AS recorded,
            sum(CASE WHEN kind = 'chargeback'
                THEN (CASE WHEN coalesce(status, '') = 'WON' THEN 0 ELSE amount END) + coalesce(fee, 1500)
                ELSE 0 END) AS chargebacks,
            sum(CASE WHEN kind = 'supplier_refund' THEN amount ELSE 0 END) AS supplier_refunds
        FROM order_refunds GROUP BY order_id),
    actions AS (
        SELECT order_id, sum(amount) AS refunded FROM order_actions
        WHERE kind = 'refund' AND state = 'done' GROUP BY order_id),
    counted AS (
        SELECT o.order_id, CAST(o.placed_at AS DATE) AS day, o.total_price,
            sc.order_id IS NOT NULL OR so.product_amount IS NOT NULL AS known,
            CASE WHEN sc.order_id IS NOT NULL THEN sc.product_amount
                 WHEN so.product_amount IS NOT NULL THEN so.product_amount ELSE 0 END AS product_cost,
            CASE WHEN sc.order_id IS NOT NULL THEN sc.postage_amount
                 WHEN so.product_amount IS NOT NULL THEN so.postage_amount ELSE 0 END AS shipping_cost,
            CASE WHEN p.fees IS NOT NULL THEN p.fees {gateways} ELSE {_duck_fee(default)} END AS payment_fees,
            greatest(coalesce(a.refunded, 0), coalesce(m.recorded, 0), coalesce(p.refunded, 0)) AS refunds,
            coalesce(m.chargebacks, 0) AS chargebacks, coalesce(m.supplier_refunds, 0) AS supplier_refunds
        FROM store_orders o
        LEFT JOIN supplier_orders so USING (order_id) LEFT JOIN supplier_costs sc USING (order_id)
        LEFT JOIN order_payments p USING (order_id) LEFT JOIN money_back m USING (order_id)
        LEFT JOIN actions a USING (order_id)
        WHERE o.state <> 'cancelled' AND o.cancelled_at IS NULL),
    by_order AS (
        SELECT day, count(*) AS orders, sum(total_price) AS revenue, sum(product_cost) AS product_cost,
            sum(shipping_cost) AS shipping_cost, sum(payment_fees) AS payment_fees, sum(refunds) AS refunds,
            sum(chargebacks) AS chargebacks, sum(supplier_refunds) AS supplier_refunds
        FROM counted GROUP BY day),
    by_line AS (
        SELECT c.day, sum(li.quantity) AS items,
            sum(CASE WHEN c.known THEN 0 ELSE li.quantity * coalesce(v.unit_cost, l.unit_cost, 0) END)
                AS product_cost,
            sum(CASE WHEN c.known THEN 0 ELSE li.quantity * coalesce(l.shipping_cost, 0) END) AS shipping_cost
        FROM store_order_lines li JOIN counted c USING (order_id)
        LEFT JOIN listings l ON l.pid = li.pid LEFT JOIN listing_variants v ON v.vid = li.vid
        GROUP BY c.day),
    spend AS (SELECT day, sum(spend) AS ad_spend FROM ad_metrics_daily GROUP BY day)
    SELECT coalesce(o.day, s.day) AS day, coalesce(o.revenue, 0) AS revenue,
        coalesce(o.product_cost, 0) + coalesce(li.product_cost, 0) AS product_cost,
        coalesce(o.shipping_cost, 0) + coalesce(li.shipping_cost, 0) AS shipping_cost,
        coalesce(o.payment_fees, 0) AS payment_fees, coalesce(s.ad_spend, 0) AS ad_spend,
        coalesce(o.refunds, 0) AS refunds, coalesce(o.chargebacks, 0) AS chargebacks,
        coalesce(o.supplier_refunds, 0) AS supplier_refunds,
        coalesce(o.revenue, 0) - coalesce(o.product_cost, 0) - coalesce(li.product_cost, 0)
            - coalesce(o.shipping_cost, 0) - coalesce(li.shipping_cost, 0) - coalesce(o.payment_fees, 0)
            - coalesce(s.ad_spend, 0) - coalesce(o.refunds, 0) - coalesce(o.chargebacks, 0)
            + coalesce(o.supplier_refunds, 0) AS profit
    FROM by_order o FULL JOIN spend s ON s.day = o.day LEFT JOIN by_line li ON li.day = o.day
    ORDER BY 1"""


DUCK_MONEY = (
    "revenue",
    "product_cost",
    "shipping_cost",
    "payment_fees",
    "ad_spend",
    "refunds",
    "chargebacks",
    "supplier_refunds",
    "profit",
)


def duckdb_baseline(engine: sa.Engine, first: date, last: date) -> tuple[float, bool]:
    """Seconds of the daily aggregation in DuckDB (the best of three, after the one-time copy), and
    whether it equals the analytics_daily_profit table the recompute wrote, to the cent."""
    from dropship_pipelines.rules.profit import to_cents
    from dropship_pipelines.store.analytics_tables import analytics_daily_profit

    started = time.perf_counter()
    duck = duckdb_copy(engine)
    console.print(f"DuckDB copy of the ledger (once, not timed): {time.perf_counter() - started:.1f} s")
    sql = duckdb_daily_sql()
    best, rows = float("inf"), []
    for _ in range(3):
        started = time.perf_counter()
        rows = duck.execute(sql).fetchall()
        best = min(best, time.perf_counter() - started)
    duck.close()
    theirs = {row[0]: tuple(int(v) for v in row[1:]) for row in rows if first <= row[0] <= last}
    t = analytics_daily_profit.c
    with engine.connect() as conn:
        ours_rows = conn.execute(sa.select(t.day, *(t[c] for c in DUCK_MONEY))).all()
    ours = {date.fromisoformat(str(row[0])[:10]): tuple(to_cents(v) for v in row[1:]) for row in ours_rows}
    return best, ours == theirs


def run(args: argparse.Namespace) -> int:
    workdir: Path | None = None
    url = args.url
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        url = f"sqlite:///{workdir}/store.db"
    engine = get_engine(url)
    days = date_range(args.days)
    backend = engine.dialect.name
    console.print(
        f"[bold]dashboard benchmark[/bold]: {args.orders:,} orders over {len(days)} days "
        f"({days[0]}..{days[-1]}) on {backend}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    figures: list[Figure] = []
    analytics_failed = False
    try:
        existing = order_count(engine)
        if existing and not args.reuse:
            console.print(
                f"[red]the database already holds {existing:,} orders: pass --reuse or an empty one"
            )
            return 2
        if existing:
            console.print(f"reusing {existing:,} orders already loaded")
            create_missing_indexes(engine)
        else:
            loaded = fill_store(engine, args.orders, days)
            console.print(
                f"loaded {loaded['rows']:,.0f} rows in {loaded['seconds']:.1f} s "
                f"({loaded['rows'] / loaded['seconds']:,.0f} rows/s)"
            )
        if args.only != "endpoints" and not args.skip_analytics:
            # The store's first day of trading, as a deployment sets it: the daily partitions (fixed when
            # the definitions are first imported, just below) must reach back to the first loaded day.
            os.environ.setdefault("DROPSHIP_PARTITIONS_START", days[0].isoformat())
            from dropship_testkit.pipelines import (  # Dagster: not in the server process
                recompute_analytics,
                recompute_floor,
            )

            cpu_started = time.process_time()
            recompute = recompute_analytics(url, days[0], days[-1])
            recompute_cpu = time.process_time() - cpu_started
            if recompute.failed_checks:
                console.print(f"[red]asset checks failed: {', '.join(recompute.failed_checks)}[/red]")
            timings = dict(recompute.seconds)
            timings["total"] = sum(timings.values())
            print_timings(f"analytics recompute, {len(days)} days", timings)
            console.print(
                f"CPU seconds of this process (SQLite's work included, PostgreSQL's not): {recompute_cpu:.1f}"
            )
            # What Dagster itself costs for this run (one planned and one materialisation event per day per
            # daily asset, the checks, the snapshots' runs), with stand-ins that read nothing: the part of
            # the total no query can take away.
            dagster_s = sum(recompute_floor(days[0], days[-1]).seconds.values())
            console.print(
                f"the same runs with stand-ins that read nothing (Dagster's own floor): {dagster_s:.2f} s;"
                f" the recompute's own work: {timings['total'] - dagster_s:.2f} s"
            )
            floor_s = one_pass_over_orders(engine)
            console.print(f"one SQL pass summing every order by day: {floor_s:.2f} s")
            duck_s, duck_equal = duckdb_baseline(engine, days[0], days[-1])
            console.print(
                f"the same daily aggregation in DuckDB: {duck_s:.2f} s; "
                f"equal to the cent to analytics_daily_profit: {'yes' if duck_equal else '[red]NO[/red]'}"
            )
            figures.append(
                Figure(
                    f"analytics recompute, {args.orders:,} orders on {backend} "
                    "(baseline: the same daily aggregation in DuckDB)",
                    timings["total"],
                    "s",
                    duck_s,
                    "baseline",
                    goal=GOAL_RECOMPUTE_S,
                    higher_is_better=False,
                )
            )
            figures.append(
                Figure(
                    "analytics recompute: Dagster's own floor, the same runs with stand-in assets "
                    "(baseline: the whole recompute)",
                    dagster_s,
                    "s",
                    timings["total"],
                    "baseline",
                    goal=GOAL_RECOMPUTE_S,
                    higher_is_better=False,
                )
            )
            if recompute.failed_checks or not duck_equal:
                analytics_failed = True

        if args.only == "analytics":
            report_figures(console, figures, args.json)
            return 1 if analytics_failed else 0
        with dashboard_process(url) as base:
            rows = []
            for template in ENDPOINTS:
                path = template.format(day=days[len(days) // 2].isoformat())
                rows.append(hammer(base, path, args.requests, args.clients, args.budget))
        table = Table(title=f"dashboard API: {args.requests} requests per endpoint, {args.clients} clients")
        for column, justify in (
            ("endpoint", "left"),
            ("requests", "right"),
            ("errors", "right"),
            ("cold ms", "right"),
            ("p50 ms", "right"),
            ("p95 ms", "right"),
            ("max ms", "right"),
            ("req/s", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        slow = []
        for r in rows:
            p95 = r.percentile(0.95)
            if p95 > SLOW_P95_MS:
                slow.append(r.path)
            table.add_row(
                r.path,
                str(len(r.latencies_ms)),
                str(r.errors) if r.errors == 0 else f"[red]{r.errors}[/red]",
                f"{r.cold_ms:.1f}",
                f"{r.percentile(0.5):.1f}",
                f"[red]{p95:.1f}[/red]" if p95 > SLOW_P95_MS else f"{p95:.1f}",
                f"{max(r.latencies_ms):.1f}",
                f"{len(r.latencies_ms) / r.wall_s:.1f}",
            )
        console.print(table)
        console.print(f"load average after: {os.getloadavg()[0]:.1f}")
        if slow:
            console.print(f"[red]p95 above {SLOW_P95_MS:.0f} ms:[/red] {', '.join(slow)}")
        slowest = max(rows, key=lambda r: r.percentile(0.95))
        fastest = min(rows, key=lambda r: r.percentile(0.95))
        figures.append(
            Figure(
                f"dashboard p95 of the slowest endpoint ({slowest.path}), {args.clients} clients, "
                f"{backend} (baseline: the fastest endpoint, {fastest.path})",
                slowest.percentile(0.95),
                "ms",
                fastest.percentile(0.95),
                "baseline",
                goal=GOAL_P95_MS,
                higher_is_better=False,
            )
        )
        report_figures(console, figures, args.json)
        return 1 if slow or any(r.errors for r in rows) else 0
    finally:
        engine.dispose()
        if workdir is not None:
            if args.keep:
                console.print(f"kept the store at {url}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to load (default 1,000,000)")
    parser.add_argument("--url", help="store database URL (default: a fresh SQLite file in a temp directory)")
    parser.add_argument("--days", type=int, default=300, help="days the orders spread over, ending today")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per endpoint after which no new request starts"
    )
    parser.add_argument("--reuse", action="store_true", help="measure a database that already holds orders")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file")
    parser.add_argument("--skip-analytics", action="store_true", help="do not time the analytics recompute")
    parser.add_argument(
        "--only",
        choices=("analytics", "endpoints"),
        help="run one part: the analytics recompute, or the API under load (default: both)",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: the server process
    add_json_option(parser)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.url, args.serve)
        return 0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
