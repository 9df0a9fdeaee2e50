"""Product discovery: supplier catalog -> priced candidates -> AI copy -> listings on the store."""

import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
from pydantic import ValidationError

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.cj import CJDropshippingResource
from dropship_pipelines.resources.cj_models import CjListedProduct
from dropship_pipelines.resources.errors import ApiError, PermanentApiError, TransientApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.pricing import PriceRule, compare_at_price, retail_price
from dropship_pipelines.rules.product_copy import (
    COPY_SYSTEM_PROMPT,
    ProductCopy,
    copy_facts,
    copy_problems,
    copy_prompt,
    facts_hash,
)
from dropship_pipelines.rules.scoring import ProductFacts, Thresholds, evaluate, rank_hint
from dropship_pipelines.store import discovery_queries as q
from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.discovery_tables import supplier_products

GROUP = "discovery"
OWNERS = ["team:store"]


class CatalogConfig(dg.Config):
    page_size: int = 200  # CJ's maximum; each page costs 50 points however large
    max_pages: int = 100


class CandidateConfig(dg.Config):
    """What makes a product worth selling. (The price rule is the `pricing` resource.)"""

    country: str = "US"
    min_margin: float = 0.20
    min_popularity: int = 20
    max_shipping_days: int = 12
    max_price: float = 80.0
    detail_lookups_per_run: int = 40  # CJ detail + freight calls are rate-limited and cost points
    detail_max_age_hours: int = 24

    def thresholds(self) -> Thresholds:
        return Thresholds(
            min_margin=self.min_margin,
            min_popularity=self.min_popularity,
            max_shipping_days=self.max_shipping_days,
            max_price=Decimal(str(self.max_price)),
        )


class CopyConfig(dg.Config):
    max_generations_per_run: int = 25  # bounds LLM spend per run
    max_attempts: int = 3  # after this many bad answers a product waits for a human


class ListingConfig(dg.Config):
    max_listings_per_run: int = 25
    vendor: str = "Dropship Store"


@dg.asset(group_name=GROUP, kinds={"python", "cj"}, owners=OWNERS, pool="cj")
def supplier_catalog(
    context: dg.AssetExecutionContext,
    config: CatalogConfig,
    cj: CJDropshippingResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Every product the supplier (CJ Dropshipping) offers, refreshed from its product list.

    Malformed records are kept with the reason they cannot be used, never dropped silently."""
    fetched_at = q.now()
    rows: list[dict[str, Any]] = []
    malformed: list[tuple[str, str]] = []
    total = 0
    for page in range(1, config.max_pages + 1):
        result = cj.list_products(page, config.page_size)
        total = result.total
        for raw in result.items:
            content_hash = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
            try:
                item = CjListedProduct.model_validate(raw)
            except ValidationError as exc:
                pid = str(raw.get("pid") or "")
                malformed.append((pid or "(no pid)", f"malformed record: {exc.errors()[0]['msg']}"))
                if pid:
                    rows.append(
                        {
                            "pid": pid,
                            "sku": str(raw.get("productSku") or ""),
                            "name": str(raw.get("productNameEn") or ""),
                            "category": "",
                            "sell_price": None,
                            "listed_num": 0,
                            "image_url": None,
                            "supplier_created_at": None,
                            "content_hash": content_hash,
                            "problem": f"malformed record: {exc.errors()[0]['msg']}",
                            "fetched_at": fetched_at,
                        }
                    )
                continue
            rows.append(
                {
                    "pid": item.pid,
                    "sku": item.sku,
                    "name": item.name,
                    "category": item.category,
                    "sell_price": item.sell_price,
                    "listed_num": item.listed_num,
                    "image_url": item.image_url,
                    "supplier_created_at": item.created,
                    "content_hash": content_hash,
                    "problem": None if item.sell_price else "no price in the supplier's list",
                    "fetched_at": fetched_at,
                }
            )
        if page * config.page_size >= result.total or not result.items:
            break
    with store_db.engine().begin() as conn:
        known = {
            r.pid: r.content_hash
            for r in conn.execute(
                supplier_products.select().with_only_columns(
                    supplier_products.c.pid, supplier_products.c.content_hash
                )
            )
        }
        upsert(conn, supplier_products, rows, keys=["pid"])
    new = sum(1 for r in rows if r["pid"] not in known)
    changed = sum(1 for r in rows if r["pid"] in known and known[r["pid"]] != r["content_hash"])
    context.log.info(
        "catalog: %d products (%d new, %d changed, %d malformed)", len(rows), new, changed, len(malformed)
    )
    return dg.MaterializeResult(
        metadata={
            "supplier_total": total,
            "products": len(rows),
            "new": new,
            "changed": changed,
            "malformed": len(malformed),
            "malformed_records": reasons_table(malformed[:20], ("pid", "reason")),
            "preview": preview_table(rows[:10], ("pid", "name", "sell_price", "listed_num", "category")),
        }
    )


@dg.asset(group_name=GROUP, kinds={"python", "cj"}, owners=OWNERS, pool="cj", deps=[supplier_catalog])
def product_candidates(
    context: dg.AssetExecutionContext,
    config: CandidateConfig,
    cj: CJDropshippingResource,
    pricing: PricingPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Supplier products worth selling: popular, shipping fast enough and priced for a real margin.

    Detail and freight lookups go to the most promising products first (CJ limits calls per second
    and per day); every rejection is recorded with its reason."""
    rule, thresholds = pricing.rule(), config.thresholds()
    engine = store_db.engine()
    with engine.connect() as conn:
        listed = q.listed_pids(conn)
        stale = q.products_needing_detail(conn, q.now() - timedelta(hours=config.detail_max_age_hours))
    # Listed products first (their prices must stay right), then by a cheap demand/price hint.
    stale.sort(key=lambda r: (r.pid not in listed, -rank_hint(r.listed_num, r.sell_price)))
    worth_a_look = [r for r in stale if r.pid in listed or r.listed_num >= thresholds.min_popularity]
    lookup_failures: list[tuple[str, str]] = []
    looked_up = 0
    for row in worth_a_look[: config.detail_lookups_per_run]:
        try:
            detail = cj.product_detail(row.pid)
            variants = [
                {
                    "vid": v.vid,
                    "sku": v.sku,
                    "option_value": v.key or v.name or "Default",
                    "price": v.price,
                    "weight_g": v.weight_g,
                    "image_url": v.image_url or None,
                }
                for v in detail.variants
            ]
            route = None
            if detail.variants:
                options = cj.freight_options(detail.variants[0].vid, config.country)
                fitting = [o for o in options if o.days[1] <= thresholds.max_shipping_days]
                route = min(fitting or options, key=lambda o: (o.price, o.days[1])) if options else None
        except (PermanentApiError, TransientApiError) as error:
            # One product's failure never stops the batch; a transient one is looked up again next run.
            lookup_failures.append((row.pid, str(error)))
            context.log.warning("product %s: supplier lookup failed: %s", row.pid, error)
            continue
        images = detail.image_urls or ([detail.image_url] if detail.image_url else [])
        with engine.begin() as conn:
            q.save_detail(
                conn,
                row.pid,
                {
                    "description_html": detail.description_html,
                    "image_urls": images,
                    "option_name": detail.option_name or "Title",
                    "weight_g": detail.weight_g,
                    "shipping_country": config.country,
                    "logistic_name": route.name if route else None,
                    "shipping_cost": route.price if route else None,
                    "shipping_days_min": route.days[0] if route else None,
                    "shipping_days_max": route.days[1] if route else None,
                },
                variants,
                row.content_hash,
            )
        looked_up += 1
    evaluated_at, fingerprint = q.now(), rule.fingerprint()
    rows = []
    with engine.connect() as conn:
        inputs = q.evaluation_inputs(conn)
    for item in inputs:
        facts = ProductFacts(
            pid=item["pid"],
            unit_cost=None
            if item["priced_variants"] != item["variant_count"]
            else q.as_money(item["max_cost"]),
            shipping_cost=q.as_money(item["shipping_cost"]),
            shipping_days_max=item["shipping_days_max"],
            popularity=item["listed_num"],
            variant_count=item["variant_count"] or 0,
        )
        verdict = evaluate(facts, thresholds, rule)
        rows.append(
            {
                "pid": item["pid"],
                "name": item["name"],
                "status": "accepted" if verdict.accepted else "rejected",
                "reason": verdict.reason,
                "unit_cost": facts.unit_cost,
                "shipping_cost": facts.shipping_cost,
                "price": verdict.price,
                "compare_at_price": verdict.compare_at,
                "profit": verdict.profit,
                "margin": verdict.margin,
                "popularity": facts.popularity,
                "shipping_days_max": facts.shipping_days_max,
                "score": verdict.score,
                "rule_fingerprint": fingerprint,
                "evaluated_at": evaluated_at,
            }
        )
    with engine.begin() as conn:
        q.save_candidates(conn, rows)
    accepted = [r for r in rows if r["status"] == "accepted"]
    reasons: dict[str, int] = {}
    for r in rows:
        if r["reason"]:
            key = r["reason"].split(" ")[0] if r["reason"][0].isupper() else r["reason"].split(" below")[0]
            reasons[key] = reasons.get(key, 0) + 1
    context.log.info(
        "candidates: %d evaluated, %d accepted, %d looked up, %d lookups failed",
        len(rows),
        len(accepted),
        looked_up,
        len(lookup_failures),
    )
    best = sorted(accepted, key=lambda r: -(r["score"] or 0))[:10]
    return dg.MaterializeResult(
        metadata={
            "evaluated": len(rows),
            "accepted": len(accepted),
            "rejected": len(rows) - len(accepted),
            "detail_lookups": looked_up,
            "lookup_failures": len(lookup_failures),
            "rule_fingerprint": fingerprint,
            "rejections_by_reason": reasons_table(
                sorted(reasons.items(), key=lambda kv: -kv[1]), ("reason", "count")
            ),
            "lookup_failure_records": reasons_table(lookup_failures[:20], ("pid", "error")),
            "top_candidates": preview_table(best, ("pid", "name", "price", "profit", "margin", "score")),
        }
    )


@dg.asset(group_name=GROUP, kinds={"python", "openai"}, owners=OWNERS, pool="llm", deps=[product_candidates])
def product_copy(
    context: dg.AssetExecutionContext, config: CopyConfig, llm: LlmResource, store_db: StoreDatabase
) -> dg.MaterializeResult:
    """Listing copy (title, HTML description, tags) written by the LLM from the supplier's facts.

    Cached by the facts it was written from: an unchanged product is never sent to the model again.
    An unusable answer (invalid JSON, empty, off-topic, unsafe HTML) is recorded and retried next run."""
    engine = store_db.engine()
    with engine.connect() as conn:
        work = q.accepted_for_copy(conn)
        facts_by_pid = {
            w["pid"]: copy_facts(
                w["name"],
                w["category"],
                q.variant_values(conn, w["pid"]),
                w["weight_g"],
                w["shipping_days_max"],
            )
            for w in work
        }
    todo = []
    cached = 0
    for item in work:
        digest = facts_hash(facts_by_pid[item["pid"]])
        if item["copy_hash"] == digest and (
            item["copy_status"] == "ok" or item["copy_attempts"] >= config.max_attempts
        ):
            cached += 1
            continue
        todo.append((item, digest))
    generated, failures, tokens = 0, [], 0
    for item, digest in todo[: config.max_generations_per_run]:
        facts = facts_by_pid[item["pid"]]
        attempts = (item["copy_attempts"] or 0) + 1 if item["copy_hash"] == digest else 1
        row: dict[str, Any] = {
            "pid": item["pid"],
            "content_hash": digest,
            "attempts": attempts,
            "generated_at": q.now(),
        }
        try:
            result = llm.structured(
                system=COPY_SYSTEM_PROMPT,
                user=copy_prompt(facts),
                schema_name="product_copy",
                output=ProductCopy,
            )
            problems = copy_problems(result.value, facts)
            tokens += result.prompt_tokens + result.completion_tokens
            row.update(
                model=result.model,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
            )
            if problems:
                raise LlmOutputError("; ".join(problems))
            row.update(
                status="ok",
                title=result.value.title.strip(),
                description_html=result.value.description_html,
                tags=result.value.tags,
                error=None,
            )
            generated += 1
        except (LlmOutputError, ApiError) as error:
            row.update(status="failed", error=str(error)[:2000])
            failures.append((item["pid"], str(error)[:200]))
            context.log.warning("product %s: copy rejected: %s", item["pid"], error)
        with engine.begin() as conn:
            q.save_copy(conn, row)
    return dg.MaterializeResult(
        metadata={
            "accepted_products": len(work),
            "cached": cached,
            "generated": generated,
            "failed": len(failures),
            "deferred": max(0, len(todo) - config.max_generations_per_run),
            "llm_tokens": tokens,
            "failures": reasons_table(failures[:20], ("pid", "reason")),
        }
    )


def _listing_input(
    item: dict[str, Any], variants: list[dict[str, Any]], rule: PriceRule, vendor: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The productSet input and the ledger rows of its variants, each variant priced from its own cost."""
    option = item["option_name"] or "Title"
    shipping = Decimal(str(item["shipping_cost"]))
    priced = []
    for v in variants:
        cost = Decimal(str(v["price"]))
        price = retail_price(cost, shipping, rule)
        priced.append(
            {
                "vid": v["vid"],
                "pid": item["pid"],
                "sku": v["sku"],
                "option_value": v["option_value"],
                "price": price,
                "compare_at_price": compare_at_price(price, rule),
                "unit_cost": cost,
            }
        )
    product_input = {
        "title": item["copy_title"],
        "descriptionHtml": item["description_html"],
        "vendor": vendor,
        "productType": (item["category"] or "").split("/")[-1].strip(),
        "status": "ACTIVE",
        "tags": sorted(set(item["tags"] or []) | {f"pid:{item['pid']}", "source:cj"}),
        "productOptions": [
            {"name": option, "position": 1, "values": [{"name": v["option_value"]} for v in priced]}
        ],
        "files": [
            {"originalSource": url, "contentType": "IMAGE", "alt": item["copy_title"]}
            for url in (item["image_urls"] or [])[:5]
        ],
        "variants": [
            {
                "optionValues": [{"optionName": option, "name": v["option_value"]}],
                "sku": v["sku"],
                "price": str(v["price"]),
                "compareAtPrice": str(v["compare_at_price"]) if v["compare_at_price"] else None,
                "inventoryPolicy": "CONTINUE",
            }
            for v in priced
        ],
    }
    return product_input, priced


@dg.asset(group_name=GROUP, kinds={"python", "shopify"}, owners=OWNERS, pool="shopify", deps=[product_copy])
def store_listings(
    context: dg.AssetExecutionContext,
    config: ListingConfig,
    pricing: PricingPolicy,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Products live on the Shopify store, one per supplier product, priced by the current rule.

    The ledger row is written before the store is called and the store call is an upsert by handle, so a
    run killed half way and run again never lists a product twice. Changed prices or copy are re-sent."""
    rule = pricing.rule()
    engine = store_db.engine()
    with engine.connect() as conn:
        work = q.listing_work(conn)
    fresh = [w for w in work if w["listing_status"] != "listed"]
    fingerprint = rule.fingerprint()
    # A listing is re-sent when the price rule or its copy changed since the store last got it.
    updates = [
        w
        for w in work
        if w["listing_status"] == "listed"
        and (w["listed_rule"] != fingerprint or w["listed_copy"] != w["content_hash"])
    ]
    listed, repriced, failures = [], 0, []
    for item in fresh[: config.max_listings_per_run] + updates:
        with engine.connect() as conn:
            variants = q.variants_of(conn, item["pid"])
        if not variants or any(v["price"] is None for v in variants):
            failures.append((item["pid"], "supplier variants missing or unpriced"))
            continue
        product_input, priced = _listing_input(item, variants, rule, config.vendor)
        handle = item["handle"] or f"cj-{item['product_sku'].lower()}"
        with engine.begin() as conn:
            q.begin_listing(
                conn,
                {
                    "pid": item["pid"],
                    "handle": handle,
                    "status": "pending" if item["listing_status"] != "listed" else "listed",
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
            result = shopify.set_product(handle, product_input)
        except ApiError as error:
            permanent = isinstance(error, PermanentApiError)
            with engine.begin() as conn:
                q.fail_listing(conn, item["pid"], str(error), permanent=permanent)
            failures.append((item["pid"], str(error)[:200]))
            context.log.warning(
                "product %s: listing failed (%s): %s",
                item["pid"],
                "permanent" if permanent else "will retry",
                error,
            )
            continue
        missing = [v["sku"] for v in priced if v["sku"] not in result.variants_by_sku]
        with engine.begin() as conn:
            q.finish_listing(
                conn,
                item["pid"],
                result.product_id,
                [{**v, "store_variant_id": result.variants_by_sku.get(v["sku"])} for v in priced],
                fingerprint,
                item["content_hash"],
            )
        if missing:
            failures.append((item["pid"], f"store did not return variants {missing}"))
        if item["listing_status"] == "listed":
            repriced += 1
        else:
            listed.append(
                {
                    "pid": item["pid"],
                    "title": item["copy_title"],
                    "handle": result.handle,
                    "price": min(v["price"] for v in priced),
                    "product_id": result.product_id,
                }
            )
        context.log.info(
            "product %s: %s as %s",
            item["pid"],
            "updated" if item["listing_status"] == "listed" else "listed",
            result.product_id,
        )
    return dg.MaterializeResult(
        metadata={
            "listed": len(listed),
            "updated": repriced,
            "failed": len(failures),
            "waiting": max(0, len(fresh) - config.max_listings_per_run),
            "failures": reasons_table(failures[:20], ("pid", "reason")),
            "new_listings": preview_table(listed[:10], ("pid", "title", "handle", "price", "product_id")),
        }
    )
