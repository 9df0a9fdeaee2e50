"""The discovery workflow's ledger protocol, step by step: what is read from the supplier, what is decided,
what is claimed in the store database before the store is written, and how a re-run resolves a crash.

The assets in `assets/discovery/` call one function each and turn its result into metadata."""

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError, TransientApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.models import ProductInput, VariantInput
from dropship_pipelines.resources.shopify.shipping import shipping_profiles
from dropship_pipelines.resources.supplier import BasketLine, CatalogProduct, FreightOption, Supplier
from dropship_pipelines.rules.catalog import CatalogPolicy
from dropship_pipelines.rules.listing_dedupe import Offer, duplicates
from dropship_pipelines.rules.pricing import (
    PriceRule,
    cents_of,
    compare_at_prices,
    money,
    retail_prices,
    unit_profit,
)
from dropship_pipelines.rules.product_copy import (
    COPY_SYSTEM_PROMPT,
    MAX_TAGS,
    ProductCopy,
    copy_facts,
    copy_problems,
    copy_prompt,
    facts_hash,
)
from dropship_pipelines.rules.scoring import Candidates, ProductFacts, Thresholds, evaluate_batch, rank_hint
from dropship_pipelines.rules.shipping_claims import (
    free_shipping_over,
    tags_with_claim,
    without_shipping_claims,
)
from dropship_pipelines.services.catalog_sync import (
    as_the_store_has_it,
    record_listed_prices,
    variants_allowed_today,
)
from dropship_pipelines.services.in_flight import InFlight, each_in_flight
from dropship_pipelines.store import discovery_queries as q
from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.discovery_tables import product_candidates, supplier_products

# Listings on the store carry the supplier's short name in their handle and tags ("cj-<sku>", "source:cj").
# The handle is how a re-run finds its product on the store, so it never changes for existing listings.
LISTING_SOURCE = "cj"
SOURCE_TAG = f"source:{LISTING_SOURCE}"
MAX_LISTING_IMAGES = 5
# Items in flight at once per step. Each spends most of its time waiting on an answer (CJ's detail then
# freight, the model, the store), so only with several at once do the limiters, not the round trips, set the
# pace: CJ's 4/s per endpoint, and the store's 2,000-point bucket, which 100 listings never empty.
LOOKUPS_IN_FLIGHT = 8
COPY_IN_FLIGHT = 8
LISTINGS_IN_FLIGHT = 8
CATALOG_PAGES_IN_FLIGHT = 3  # CJ's per-endpoint bucket (its QPS, 4) less one spare: they go at once
VARIANT_CAP_REACHED = "VARIANT_THROTTLE_EXCEEDED"  # productSet's userError code past the daily cap

Log = logging.Logger | logging.LoggerAdapter[Any]  # a Dagster context's `log` is one


# --- catalog ------------------------------------------------------------------------------------------
@dataclass
class CatalogRefresh:
    supplier_total: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)
    new: int = 0
    changed: int = 0


def _catalog_row(product: CatalogProduct, fetched_at: Any) -> dict[str, Any]:
    problem = product.malformed or (None if product.sell_price else "no price in the supplier's list")
    return {
        "pid": product.pid,
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "sell_price": product.sell_price,
        "listed_num": product.listed_num,
        "image_url": product.image_url,
        "supplier_created_at": product.created_at,
        "content_hash": product.content_hash,
        "problem": problem,
        "fetched_at": fetched_at,
    }


def refresh_catalog(supplier: Supplier, engine: Engine, page_size: int, max_pages: int) -> CatalogRefresh:
    """Every product of the supplier's list upserted by pid; malformed records kept with their reason."""
    fetched_at = q.now()
    result = CatalogRefresh()
    # The first page says how many there are; the rest are asked for together (each endpoint's pacer
    # sends them as fast as CJ's limit allows) and read in page order.
    first = supplier.catalog_page(1, page_size)
    pages = min(max_pages, -(-first.total // page_size)) if first.products else 1
    with ThreadPoolExecutor(max_workers=CATALOG_PAGES_IN_FLIGHT, thread_name_prefix="catalog") as pool:
        rest = list(pool.map(lambda page: supplier.catalog_page(page, page_size), range(2, pages + 1)))
    for listed in [first, *rest]:
        result.supplier_total = listed.total
        for product in listed.products:
            if product.malformed:
                result.malformed.append((product.pid or "(no pid)", product.malformed))
                if not product.pid:
                    continue
            result.rows.append(_catalog_row(product, fetched_at))
        if not listed.products:
            break
    with engine.begin() as conn:
        known = {
            r.pid: r.content_hash
            for r in conn.execute(
                supplier_products.select().with_only_columns(
                    supplier_products.c.pid, supplier_products.c.content_hash
                )
            )
        }
        upsert(conn, supplier_products, result.rows, keys=["pid"])
    result.new = sum(1 for r in result.rows if r["pid"] not in known)
    result.changed = sum(1 for r in result.rows if r["pid"] in known and known[r["pid"]] != r["content_hash"])
    return result


# --- candidates ---------------------------------------------------------------------------------------
@dataclass
class CandidateRun:
    rows: list[dict[str, Any]] = field(default_factory=list)
    looked_up: int = 0
    lookup_failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == "accepted"]

    def rejections_by_reason(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for r in self.rows:
            if r["reason"]:
                reason = r["reason"]
                key = reason.split(" ")[0] if reason[0].isupper() else reason.split(" below")[0]
                reasons[key] = reasons.get(key, 0) + 1
        return reasons


def _route(options: list[FreightOption], max_days: int) -> FreightOption | None:
    """The cheapest route within `max_days` (the cheapest of all when none is that fast)."""
    fitting = [o for o in options if o.days_max <= max_days]
    return min(fitting or options, key=lambda o: (o.price, o.days_max)) if options else None


def look_up_details(
    supplier: Supplier,
    engine: Engine,
    thresholds: Thresholds,
    country: str,
    max_lookups: int,
    max_age: timedelta,
    log: Log,
    looked_up: Callable[[str], None] | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Detail and freight of the most promising stale products: (looked up, failures by pid).

    Listed products come first (their prices must stay right), then by a cheap demand/price hint. One
    product's failure never stops the batch; a transient one is looked up again next run. Products are
    looked up a few at a time, so the detail and freight endpoints are both kept at their limit.
    `looked_up(pid)` is called for each product whose detail is saved, on a lookup's thread and in
    lookup order, so a pipeline can carry it on while the next lookups are with the supplier (it should
    hand the product on and return: a later lookup's thread waits for it)."""
    with engine.connect() as conn:
        listed = q.listed_pids(conn)
        stale = q.products_needing_detail(conn, q.now() - max_age)
    stale.sort(key=lambda r: (r.pid not in listed, -rank_hint(r.listed_num, r.sell_price)))
    worth_a_look = [r for r in stale if r.pid in listed or r.listed_num >= thresholds.min_popularity]
    failures: list[tuple[str, str]] = []
    saved: set[str] = set()
    batch = worth_a_look[:max_lookups]
    # Answers come back in any order; `looked_up` is handed the products in lookup order (a product
    # waits for the ones looked up before it), so what a pipeline decides does not depend on timing.
    position = {row.pid: index for index, row in enumerate(batch)}
    finished: dict[int, str | None] = {}
    released = 0
    release = threading.Lock()

    def finish(pid: str) -> None:
        nonlocal released
        if looked_up is None:
            return
        with release:
            finished[position[pid]] = pid if pid in saved else None
            while released in finished:
                ready = finished.pop(released)
                released += 1
                if ready is not None:
                    looked_up(ready)

    def look_up(row: Any) -> None:
        try:
            _look_up(row)
        finally:
            finish(row.pid)

    def _look_up(row: Any) -> None:
        try:
            detail = supplier.product_detail(row.pid)
            route = None
            if detail.variants:
                basket = [BasketLine(detail.variants[0].vid, 1)]
                route = _route(supplier.freight_options(country, basket), thresholds.max_shipping_days)
        except (PermanentApiError, TransientApiError) as error:
            failures.append((row.pid, str(error)))
            log.warning("product %s: supplier lookup failed: %s", row.pid, error)
            return
        variants = [
            {
                "vid": v.vid,
                "sku": v.sku,
                "option_value": v.option_value,
                "price": v.price,
                "weight_g": v.weight_g,
                "image_url": v.image_url,
            }
            for v in detail.variants
        ]
        with engine.begin() as conn:
            q.save_detail(
                conn,
                row.pid,
                {
                    "description_html": detail.description_html,
                    "image_urls": detail.image_urls,
                    "option_name": detail.option_name or "Title",
                    "weight_g": detail.weight_g,
                    "shipping_country": country,
                    "logistic_name": route.name if route else None,
                    "shipping_cost": route.price if route else None,
                    "shipping_days_min": route.days_min if route else None,
                    "shipping_days_max": route.days_max if route else None,
                },
                variants,
                row.content_hash,
            )
        saved.add(row.pid)

    each_in_flight(look_up, batch, at_once=LOOKUPS_IN_FLIGHT)
    return len(saved), failures


def evaluate_candidates(engine: Engine, thresholds: Thresholds, rule: PriceRule) -> list[dict[str, Any]]:
    """Every product with a fresh detail accepted or rejected (with its reason) and priced; saved."""
    with engine.connect() as conn:
        inputs = q.evaluation_inputs(conn)
        listed = q.listed_pids(conn)
    rows = _candidate_rows(inputs, thresholds, rule)
    skip_duplicates(rows, {item["pid"]: item for item in inputs}, listed)
    with engine.begin() as conn:
        q.save_candidates(conn, rows)
    return rows


def _candidate_rows(
    inputs: list[dict[str, Any]], thresholds: Thresholds, rule: PriceRule
) -> list[dict[str, Any]]:
    """The candidate rows of these evaluation inputs, accepted or rejected with a reason, and priced."""
    evaluated_at, fingerprint = q.now(), rule.fingerprint()
    rows = []
    # a product's unit cost is its dearest variant's, known only when every variant has a price
    facts = [
        ProductFacts(
            pid=item["pid"],
            unit_cost=q.as_money(
                item["max_cost"] if item["priced_variants"] == item["variant_count"] else None
            ),
            shipping_cost=q.as_money(item["shipping_cost"]),
            shipping_days_max=item["shipping_days_max"],
            popularity=item["listed_num"],
            variant_count=item["variant_count"] or 0,
        )
        for item in inputs
    ]
    evaluations = evaluate_batch(Candidates.of(facts), thresholds, rule)
    for index, (item, product) in enumerate(zip(inputs, facts, strict=True)):
        verdict = evaluations.evaluation(index)
        rows.append(
            {
                "pid": item["pid"],
                "name": item["name"],
                "status": "accepted" if verdict.accepted else "rejected",
                "reason": verdict.reason,
                "unit_cost": product.unit_cost,
                "shipping_cost": product.shipping_cost,
                "price": verdict.price,
                "compare_at_price": verdict.compare_at,
                "profit": verdict.profit,
                "margin": verdict.margin,
                "popularity": product.popularity,
                "shipping_days_max": product.shipping_days_max,
                "score": verdict.score,
                "rule_fingerprint": fingerprint,
                "evaluated_at": evaluated_at,
            }
        )
    return rows


def skip_duplicates(rows: list[dict[str, Any]], inputs: dict[str, dict[str, Any]], listed: set[str]) -> None:
    """Accepted products that repeat another (a near-identical title or the same main image) are rejected
    with the reason: the listed one stays, else the better scored."""
    accepted = sorted(
        (row for row in rows if row["status"] == "accepted"),
        key=lambda row: (row["pid"] not in listed, -(row["score"] or 0), row["pid"]),
    )
    offers = [Offer(row["pid"], row["name"] or "", inputs[row["pid"]].get("image_url")) for row in accepted]
    skipped = duplicates(offers)
    for row in accepted:
        if row["pid"] in skipped:
            row.update(status="rejected", reason=skipped[row["pid"]])


def pick_candidates(
    supplier: Supplier,
    engine: Engine,
    thresholds: Thresholds,
    rule: PriceRule,
    *,
    country: str,
    max_lookups: int,
    max_age: timedelta,
    log: Log,
) -> CandidateRun:
    """Fresh details for the most promising products, then every product accepted or rejected and priced."""
    looked_up, failures = look_up_details(supplier, engine, thresholds, country, max_lookups, max_age, log)
    return CandidateRun(evaluate_candidates(engine, thresholds, rule), looked_up, failures)


# --- copy ---------------------------------------------------------------------------------------------
@dataclass
class CopyRun:
    accepted_products: int = 0
    cached: int = 0
    generated: int = 0
    deferred: int = 0
    tokens: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def _copy_facts(conn: Any, work: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        w["pid"]: copy_facts(
            w["name"], w["category"], q.variant_values(conn, w["pid"]), w["weight_g"], w["shipping_days_max"]
        )
        for w in work
    }


def _copy_due(item: dict[str, Any], digest: str, max_attempts: int) -> bool:
    """Not written from these facts yet, or written badly fewer than `max_attempts` times."""
    return not (
        item["copy_hash"] == digest and (item["copy_status"] == "ok" or item["copy_attempts"] >= max_attempts)
    )


def _generate_copy(
    llm: LlmResource,
    engine: Engine,
    item: dict[str, Any],
    digest: str,
    facts: Any,
    run: CopyRun,
    lock: threading.Lock,
    log: Log,
) -> bool:
    """One product's copy from the model, checked and saved (usable or with its problem): True if usable."""
    attempts = (item["copy_attempts"] or 0) + 1 if item["copy_hash"] == digest else 1
    row: dict[str, Any] = {
        "pid": item["pid"],
        "content_hash": digest,
        "attempts": attempts,
        "generated_at": q.now(),
    }
    ok = False
    try:
        result = llm.structured(
            system=COPY_SYSTEM_PROMPT,
            user=copy_prompt(facts),
            schema_name="product_copy",
            output=ProductCopy,
        )
        # A shipping tag of the model's is dropped: the listing's one is rendered from the store's terms.
        answer = result.value.model_copy(update={"tags": without_shipping_claims(result.value.tags)})
        problems = copy_problems(answer, facts)
        with lock:
            run.tokens += result.prompt_tokens + result.completion_tokens
        row.update(
            model=result.model,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
        )
        if problems:
            raise LlmOutputError("; ".join(problems))
        row.update(
            status="ok",
            title=answer.title.strip(),
            description_html=answer.description_html,
            tags=answer.tags,
            error=None,
        )
        with lock:
            run.generated += 1
        ok = True
    except (LlmOutputError, ApiError) as error:
        row.update(status="failed", error=str(error)[:2000])
        run.failures.append((item["pid"], str(error)[:200]))
        log.warning("product %s: copy rejected: %s", item["pid"], error)
    with engine.begin() as conn:
        q.save_copy(conn, row)
    return ok


def write_copy(
    llm: LlmResource,
    engine: Engine,
    max_generations: int,
    max_attempts: int,
    log: Log,
    skip: frozenset[str] = frozenset(),
) -> CopyRun:
    """Copy for each accepted product whose facts changed, cached by those facts: an unchanged product is
    never sent to the model again, and one answered badly `max_attempts` times waits for a human. A few
    products are with the model at a time. Products in `skip` (sent to the model earlier in this run)
    are left as they are."""
    with engine.connect() as conn:
        work = [w for w in q.accepted_for_copy(conn) if w["pid"] not in skip]
        facts_by_pid = _copy_facts(conn, work)
    run = CopyRun(accepted_products=len(work))
    todo = []
    for item in work:
        digest = facts_hash(facts_by_pid[item["pid"]])
        # Written from these facts already, and either usable or given up on: nothing to do.
        if not _copy_due(item, digest, max_attempts):
            run.cached += 1
            continue
        todo.append((item, digest))
    run.deferred = max(0, len(todo) - max_generations)
    lock = threading.Lock()

    def generate(work: tuple[dict[str, Any], str]) -> None:
        item, digest = work
        _generate_copy(llm, engine, item, digest, facts_by_pid[item["pid"]], run, lock, log)

    each_in_flight(generate, todo[:max_generations], at_once=COPY_IN_FLIGHT)
    return run


# --- listings -----------------------------------------------------------------------------------------
def listing_handle(sku: str) -> str:
    return f"{LISTING_SOURCE}-{sku.lower()}"


def store_free_shipping_over(shopify: ShopifyAdminResource, country: str) -> Decimal | None:
    """The `free_shipping_over` fact, from the store's own delivery profiles: the order value from which
    every order to `country` ships free (0: all do), None when some always pay or there is no profile."""
    return free_shipping_over(shipping_profiles(shopify), country)


def listed_copy_hash(copy_hash: str, free_over: Decimal | None) -> str:
    """What a listing was sent with: its copy and the store's shipping claim (rendered into its tags), so
    a change of the store's terms re-sends its listings. Without a claim it is the copy's own hash."""
    if free_over is None:
        return copy_hash
    return hashlib.sha256(f"{copy_hash}|free_shipping_over={free_over:.2f}".encode()).hexdigest()


def _priced_variants(
    item: dict[str, Any], variants: list[dict[str, Any]], rule: PriceRule
) -> list[dict[str, Any]]:
    """The ledger rows of a listing's variants, each priced from its own cost."""
    shipping = cents_of(Decimal(str(item["shipping_cost"])))
    costs = [cents_of(Decimal(str(v["price"]))) for v in variants]
    prices = retail_prices(costs, [shipping] * len(costs), rule)
    compare_at = compare_at_prices(prices, rule)
    return [
        {
            "vid": v["vid"],
            "pid": item["pid"],
            "sku": v["sku"],
            "option_value": v["option_value"],
            "price": money(prices[i]),
            "compare_at_price": None if compare_at is None else money(compare_at[i]),
            "unit_cost": money(cost),
        }
        for i, (v, cost) in enumerate(zip(variants, costs, strict=True))
    ]


def _product_input(
    item: dict[str, Any], priced: list[dict[str, Any]], vendor: str, free_over: Decimal | None
) -> ProductInput:
    tags = tags_with_claim(item["tags"] or [], free_over, MAX_TAGS - 2)
    return ProductInput(
        title=item["copy_title"],
        description_html=item["description_html"],
        vendor=vendor,
        product_type=(item["category"] or "").split("/")[-1].strip(),
        tags=sorted(set(tags) | {f"pid:{item['pid']}", SOURCE_TAG}),
        option_name=item["option_name"] or "Title",
        variants=[
            VariantInput(
                sku=v["sku"],
                option_value=v["option_value"],
                price=v["price"],
                compare_at_price=v["compare_at_price"],
                in_stock=v.get("in_stock", True),
            )
            for v in priced
        ],
        image_urls=(item["image_urls"] or [])[:MAX_LISTING_IMAGES],
        image_alt=item["copy_title"],
        active=item.get("published", True),
    )


@dataclass
class ListingRun:
    listed: list[dict[str, Any]] = field(default_factory=list)
    updated: int = 0
    waiting: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Lister:
    """Sends one product at a time to the store, each claimed in the ledger before its own store call."""

    shopify: ShopifyAdminResource
    engine: Engine
    rule: PriceRule
    vendor: str
    free_over: Decimal | None
    log: Log
    run_id: str | None
    run: ListingRun = field(default_factory=ListingRun)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, item: dict[str, Any]) -> None:
        engine, run, log, free_over = self.engine, self.run, self.log, self.free_over
        fingerprint = self.rule.fingerprint()
        already_listed = item["listing_status"] == "listed"
        with engine.connect() as conn:
            variants = q.variants_of(conn, item["pid"])
        if not variants or any(v["price"] is None for v in variants):
            run.failures.append((item["pid"], "supplier variants missing or unpriced"))
            return
        priced = _priced_variants(item, variants, self.rule)
        if already_listed:
            # Re-sent for its copy: prices, sold-out variants and status stay as the catalog sync set them.
            item, priced = as_the_store_has_it(engine, item, priced)
        handle = item["handle"] or listing_handle(item["product_sku"])
        with engine.begin() as conn:
            q.begin_listing(
                conn,
                {
                    "pid": item["pid"],
                    "handle": handle,
                    "status": "listed" if already_listed else "pending",
                    "title": item["copy_title"],
                    "price": min(v["price"] for v in priced),
                    "compare_at_price": min(
                        (v["compare_at_price"] for v in priced if v["compare_at_price"]), default=None
                    ),
                    "unit_cost": max(v["unit_cost"] for v in priced),
                    "shipping_cost": item["shipping_cost"],
                    "image_url": (item["image_urls"] or [None])[0],
                },
            )
        try:
            result = self.shopify.set_product(handle, _product_input(item, priced, self.vendor, free_over))
        except ApiError as error:
            # Shopify's daily cap on new variants passes by tomorrow: the listing waits, it is not broken.
            permanent = isinstance(error, PermanentApiError) and error.code != VARIANT_CAP_REACHED
            with engine.begin() as conn:
                q.fail_listing(conn, item["pid"], str(error), permanent=permanent)
            run.failures.append((item["pid"], str(error)[:200]))
            log.warning(
                "product %s: listing failed (%s): %s",
                item["pid"],
                "permanent" if permanent else "will retry",
                error,
            )
            return
        missing = [v["sku"] for v in priced if v["sku"] not in result.variants_by_sku]
        with engine.begin() as conn:
            q.finish_listing(
                conn,
                item["pid"],
                result.product_id,
                [
                    {
                        **{k: x for k, x in v.items() if k != "in_stock"},
                        "store_variant_id": result.variants_by_sku.get(v["sku"]),
                    }
                    for v in priced
                ],
                fingerprint,
                listed_copy_hash(item["content_hash"], free_over),
            )
            if not already_listed:
                record_listed_prices(conn, item, priced, fingerprint, self.run_id)
        if missing:
            run.failures.append((item["pid"], f"store did not return variants {missing}"))
        if already_listed:
            with self.lock:
                run.updated += 1
        else:
            run.listed.append(
                {
                    "pid": item["pid"],
                    "title": item["copy_title"],
                    "handle": result.handle,
                    "price": min(v["price"] for v in priced),
                    "product_id": result.product_id,
                }
            )
        done = "updated" if already_listed else "listed"
        log.info("product %s: %s as %s", item["pid"], done, result.product_id)


def _needs_update(item: dict[str, Any], free_over: Decimal | None) -> bool:
    """Listed, and its copy (or the store's shipping claim) changed since the store last got it."""
    return item["listing_status"] == "listed" and (
        item["listed_copy"] != listed_copy_hash(item["content_hash"], free_over)
    )


def list_products(
    shopify: ShopifyAdminResource,
    engine: Engine,
    rule: PriceRule,
    *,
    vendor: str,
    max_listings: int,
    log: Log,
    free_over: Decimal | None = None,
    run_id: str | None = None,
    skip: frozenset[str] = frozenset(),
) -> ListingRun:
    """Each accepted product with copy listed once on the store, and re-sent when its price or copy changed.

    The ledger row is written before the store is called and the store call is an upsert by handle, so a
    run killed half way and run again never lists a product twice. A few products are sent at a time,
    each claimed in the ledger before its own store call. `free_over` is the store's `free_shipping_over`:
    the one shipping claim a listing's tags carry is rendered from it. Products in `skip` (sent earlier
    in this run) are left as they are."""
    with engine.connect() as conn:
        work = [w for w in q.listing_work(conn) if w["pid"] not in skip]
    fresh = [w for w in work if w["listing_status"] != "listed"]
    # A listing is re-sent when the price rule or its copy changed since the store last got it.
    updates = [w for w in work if _needs_update(w, free_over)]
    lister = _Lister(shopify, engine, rule, vendor, free_over, log, run_id)
    run = lister.run
    run.waiting = max(0, len(fresh) - max_listings)
    batch = fresh[:max_listings]
    allowed = variants_allowed_today(shopify, engine, CatalogPolicy()) if batch else None
    if allowed is not None:  # a store this large takes only so many new variants a day (Shopify)
        with engine.connect() as conn:
            sizes = [len(q.variants_of(conn, w["pid"])) for w in batch]
        fits = 0
        while fits < len(batch) and sum(sizes[: fits + 1]) <= allowed:
            fits += 1
        run.waiting += len(batch) - fits
        if fits < len(batch):
            log.info(
                "daily variant cap: %d variants left today, %d listings wait", allowed, len(batch) - fits
            )
        batch = batch[:fits]
    each_in_flight(lister.send, batch + updates, at_once=LISTINGS_IN_FLIGHT)
    return run


def store_products_by_pid(shopify: ShopifyAdminResource) -> dict[str, list[str]]:
    """The store's product ids of each supplier product we listed (counted at the store, by tag)."""
    per_pid: dict[str, list[str]] = {}
    for product in shopify.products_tagged(SOURCE_TAG):
        for tag in product.tags:
            if tag.startswith("pid:"):
                per_pid.setdefault(tag[4:], []).append(product.id)
    return per_pid


# --- the whole chain at once ----------------------------------------------------------------------
@dataclass
class DiscoveryRun:
    candidates: CandidateRun
    copy: CopyRun
    listing: ListingRun
    free_over: Decimal | None  # the store's free_shipping_over the listings' claim was rendered from


def discover_and_list(
    supplier: Supplier,
    llm: LlmResource,
    shopify: ShopifyAdminResource,
    engine: Engine,
    thresholds: Thresholds,
    rule: PriceRule,
    *,
    country: str,
    max_lookups: int,
    max_age: timedelta,
    max_generations: int,
    max_attempts: int,
    max_listings: int,
    vendor: str,
    listing_country: str,
    log: Log,
    run_id: str | None = None,
) -> DiscoveryRun:
    """Candidates, copy and listings as one stream: each product goes on to the model and then to the store
    as soon as its own lookup is saved, while the next lookups are with the supplier, so CJ's limit (the
    slowest) is the only thing the run waits on, from its first lookup to its last.

    Each looked-up product is evaluated by the same rule as the batch, and a duplicate of one accepted
    before it (a listed one, or one looked up earlier: lookups go best hint first) is rejected. Copy
    and listings keep their per-run bounds, the listing claimed in the ledger before its store call, and
    no listing goes out priced at or under its cost. When the lookups are done, the batch steps run as
    they would alone over what the stream did not carry (products looked up in earlier runs, a changed
    rule, changed shipping terms): they decide the same way, and the stream's products are left alone."""
    stream = _Stream(llm, shopify, engine, thresholds, rule, log, run_id, vendor, listing_country)
    stream.budget(max_generations, max_attempts, max_listings)
    # Evaluation has a thread of its own (one, so products are decided in lookup order): a lookup's
    # thread only hands its product on and goes back to CJ, never waiting on the store database.
    with (
        InFlight(stream.list_one, at_once=LISTINGS_IN_FLIGHT) as listing_stage,
        InFlight[_Plan](stream.copy_one, at_once=COPY_IN_FLIGHT) as copy_stage,
        InFlight(stream.evaluate_one, at_once=1) as evaluation_stage,
    ):
        stream.stages(copy_stage, listing_stage)
        looked_up, failures = look_up_details(
            supplier,
            engine,
            thresholds,
            country,
            max_lookups,
            max_age,
            log,
            looked_up=evaluation_stage.submit,
        )
    # Leaving the block waited for every evaluation, then every copy (they hand on to listings), then
    # every listing.
    candidates = CandidateRun(evaluate_candidates(engine, thresholds, rule), looked_up, failures)
    # The batch steps get what the stream left of the run's bounds (a failed attempt spent its share,
    # as it does in the batch).
    copied = write_copy(llm, engine, stream.generations_left(), max_attempts, log, skip=stream.copied())
    listed = list_products(
        shopify,
        engine,
        rule,
        vendor=vendor,
        max_listings=stream.listings_left(),
        log=log,
        free_over=stream.free_over(),
        run_id=run_id,
        skip=stream.sent(),
    )
    copy = stream.copy
    copy.accepted_products = copied.accepted_products + len(stream.copied())
    copy.cached += copied.cached
    copy.generated += copied.generated
    copy.deferred = copied.deferred
    copy.tokens += copied.tokens
    copy.failures += copied.failures
    listing = stream.listing
    listing.listed += listed.listed
    listing.updated += listed.updated
    listing.waiting = listed.waiting
    listing.failures += listed.failures
    return DiscoveryRun(candidates, copy, listing, stream.free_over())


@dataclass(frozen=True)
class _Plan:
    """What the stream does with one accepted product: write its copy (when `facts` is given), list it."""

    pid: str
    item: dict[str, Any]
    digest: str
    facts: Any
    list_it: bool


class _Stream:
    """The per-product steps of `discover_and_list`, called on the stages' threads."""

    def __init__(
        self,
        llm: LlmResource,
        shopify: ShopifyAdminResource,
        engine: Engine,
        thresholds: Thresholds,
        rule: PriceRule,
        log: Log,
        run_id: str | None,
        vendor: str,
        listing_country: str,
    ) -> None:
        self.llm, self.shopify, self.engine = llm, shopify, engine
        self.thresholds, self.rule, self.log = thresholds, rule, log
        self.copy = CopyRun()
        self._lock = threading.Lock()
        self._copied: set[str] = set()
        self._sent: set[str] = set()
        # The store's shipping terms and its variant cap are read once, beside the first lookups: only
        # the first listing waits for them.
        self._store_facts = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-facts")
        self._free_over = self._store_facts.submit(store_free_shipping_over, shopify, listing_country)
        self._allowed = self._store_facts.submit(variants_allowed_today, shopify, engine, CatalogPolicy())
        self._store_facts.shutdown(wait=False)
        self._lister: _Lister | None = None
        self._variants_left: int | None = None  # the day's cap less what this stream listed
        self._vendor, self._run_id = vendor, run_id
        self.listing = ListingRun()
        with engine.connect() as conn:
            listed = q.listed_pids(conn)
            accepted = conn.execute(
                sa.select(product_candidates.c.pid, product_candidates.c.score)
                .where(product_candidates.c.status == "accepted")
                .order_by(product_candidates.c.score.desc())
            ).all()
            known = {i["pid"]: i for i in q.evaluation_inputs(conn, [r.pid for r in accepted])}
        # What a new product is checked against for duplicates: the listed ones, then the accepted by score.
        ranked = sorted(
            (r for r in accepted if r.pid in known), key=lambda r: (r.pid not in listed, -(r.score or 0))
        )
        self._offers = [
            Offer(r.pid, known[r.pid]["name"] or "", known[r.pid].get("image_url")) for r in ranked
        ]
        self._listed = listed

    def budget(self, max_generations: int, max_attempts: int, max_listings: int) -> None:
        self._generations_left, self._max_attempts = max_generations, max_attempts
        self._listings_left = self._max_listings = max_listings
        self._fresh_sent = 0

    def stages(self, copy_stage: "InFlight[_Plan]", listing_stage: InFlight[str]) -> None:
        self._copy_stage, self._listing_stage = copy_stage, listing_stage

    def generations_left(self) -> int:
        return max(0, self._generations_left)

    def listings_left(self) -> int:
        """New listings the run may still send: its bound less those the stream sent (a place reserved
        for a product whose copy then failed goes back, as the batch gives it to the next product)."""
        with self._lock:
            return max(0, self._max_listings - self._fresh_sent)

    def free_over(self) -> Decimal | None:
        return self._free_over.result()

    def copied(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._copied)

    def sent(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._sent)

    # --- the stages ---------------------------------------------------------------------------------
    def evaluate_one(self, pid: str) -> None:
        """A product just looked up, decided as the batch would. Called in lookup order (best hint
        first, on the evaluation stage's one thread), so what it is given of the run's copy, listings
        and variant cap does not depend on which answer came first: accepted, it goes on to the model
        with its place in the store reserved."""
        with self.engine.connect() as conn:
            inputs = q.evaluation_inputs(conn, [pid])
        if not inputs:
            return
        (row,) = _candidate_rows(inputs, self.thresholds, self.rule)
        if row["status"] == "accepted":
            offer = Offer(pid, inputs[0]["name"] or "", inputs[0].get("image_url"))
            others = [o for o in self._offers if o.pid != pid]
            skipped = duplicates([*others, offer]) if pid not in self._listed else {}
            if pid in skipped:
                row.update(status="rejected", reason=skipped[pid])
            else:
                self._offers = [*others, offer]
        with self.engine.begin() as conn:
            q.save_candidates(conn, [row])
        if row["status"] != "accepted":
            return
        with self.engine.connect() as conn:
            work = q.accepted_for_copy(conn, [pid])
            facts = _copy_facts(conn, work)
            size = len(q.variants_of(conn, pid))
        item = work[0]
        digest = facts_hash(facts[pid])
        due = _copy_due(item, digest, self._max_attempts)
        if due:
            if self._generations_left <= 0:
                return  # deferred: the batch step after the lookups counts it
            self._generations_left -= 1
        elif item["copy_status"] != "ok":
            return  # given up on after its attempts: waits for a human
        fresh = pid not in self._listed
        if fresh:
            allowed = self._variants_left if self._variants_left is not None else self._allowed.result()
            if self._listings_left <= 0 or (allowed is not None and size > allowed):
                fresh_slot = False  # waits for the batch step (which counts it) or for tomorrow
            else:
                self._listings_left -= 1
                if allowed is not None:
                    self._variants_left = allowed - size
                fresh_slot = True
            if not fresh_slot and not due:
                return
        with self._lock:
            if due:
                self._copied.add(pid)
        plan = _Plan(pid, item, digest, facts[pid] if due else None, list_it=not fresh or fresh_slot)
        self._copy_stage.submit(plan)

    def copy_one(self, plan: "_Plan") -> None:
        """Copy for one accepted product (unless its facts' copy is cached), then on to the store."""
        if plan.facts is not None:
            usable = _generate_copy(
                self.llm, self.engine, plan.item, plan.digest, plan.facts, self.copy, self._lock, self.log
            )
            if not usable:
                return
        if plan.list_it:
            self._listing_stage.submit(plan.pid)

    def list_one(self, pid: str) -> None:
        """One product with copy to the store: a new one in the place reserved for it, a listed one when
        its copy changed."""
        with self.engine.connect() as conn:
            work = q.listing_work(conn, [pid])
        if not work:
            return
        item = work[0]
        free_over = self.free_over()
        if item["listing_status"] == "listed" and not _needs_update(item, free_over):
            return
        if item["listing_status"] != "listed" and not self._covers_costs(item):
            return  # the candidates' blocking check fails on it; nothing priced under cost goes out
        with self._lock:
            self._sent.add(pid)
            self._fresh_sent += item["listing_status"] != "listed"
            if self._lister is None:
                self._lister = _Lister(
                    self.shopify,
                    self.engine,
                    self.rule,
                    self._vendor,
                    free_over,
                    self.log,
                    self._run_id,
                    self.listing,
                    self._lock,
                )
        self._lister.send(item)

    def _covers_costs(self, item: dict[str, Any]) -> bool:
        price, cost, shipping = item["price"], item["unit_cost"], item["shipping_cost"]
        if price is None or cost is None or shipping is None:
            return False
        return unit_profit(Decimal(str(price)), Decimal(str(cost)), Decimal(str(shipping)), self.rule) > 0
