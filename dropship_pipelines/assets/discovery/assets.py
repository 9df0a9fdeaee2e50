"""Product discovery assets: supplier catalog -> priced candidates -> AI copy -> listings on the store."""

from datetime import timedelta
from decimal import Decimal

import dagster as dg

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.rules.scoring import Thresholds
from dropship_pipelines.rules.shipping_claims import shipping_claim
from dropship_pipelines.services import discovery

GROUP = "discovery"
OWNERS = ["team:store"]


class CatalogConfig(dg.Config):
    page_size: int = 200  # the supplier's maximum; each page costs the same however large
    max_pages: int = 100


class CandidateConfig(dg.Config):
    """What makes a product worth selling. (The price rule is the `pricing` resource.)"""

    country: str = "US"
    min_margin: float = 0.20
    min_popularity: int = 20
    max_shipping_days: int = 12
    max_price: float = 80.0
    detail_lookups_per_run: int = 40  # supplier detail + freight calls are rate-limited and cost points
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
    # The country the store sells to: its shipping terms there are the only shipping claim a listing makes.
    country: str = "US"


@dg.asset(group_name=GROUP, kinds={"python", "cj"}, owners=OWNERS, pool="cj")
def supplier_catalog(
    context: dg.AssetExecutionContext,
    config: CatalogConfig,
    supplier: dg.ResourceParam[Supplier],
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Every product the supplier (CJ Dropshipping) offers, refreshed from its product list.

    Malformed records are kept with the reason they cannot be used, never dropped silently."""
    result = discovery.refresh_catalog(supplier, store_db.engine(), config.page_size, config.max_pages)
    rows = result.rows
    context.log.info(
        "catalog: %d products (%d new, %d changed, %d malformed)",
        len(rows),
        result.new,
        result.changed,
        len(result.malformed),
    )
    return dg.MaterializeResult(
        metadata={
            "supplier_total": result.supplier_total,
            "products": len(rows),
            "new": result.new,
            "changed": result.changed,
            "malformed": len(result.malformed),
            "malformed_records": reasons_table(result.malformed[:20], ("pid", "reason")),
            "preview": preview_table(rows[:10], ("pid", "name", "sell_price", "listed_num", "category")),
        }
    )


@dg.asset(group_name=GROUP, kinds={"python", "cj"}, owners=OWNERS, pool="cj", deps=[supplier_catalog])
def product_candidates(
    context: dg.AssetExecutionContext,
    config: CandidateConfig,
    supplier: dg.ResourceParam[Supplier],
    pricing: PricingPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Supplier products worth selling: popular, shipping fast enough and priced for a real margin.

    Detail and freight lookups go to the most promising products first (the supplier limits calls per
    second and per day); every rejection is recorded with its reason."""
    rule = pricing.rule()
    run = discovery.pick_candidates(
        supplier,
        store_db.engine(),
        config.thresholds(),
        rule,
        country=config.country,
        max_lookups=config.detail_lookups_per_run,
        max_age=timedelta(hours=config.detail_max_age_hours),
        log=context.log,
    )
    accepted = run.accepted
    context.log.info(
        "candidates: %d evaluated, %d accepted, %d looked up, %d lookups failed",
        len(run.rows),
        len(accepted),
        run.looked_up,
        len(run.lookup_failures),
    )
    best = sorted(accepted, key=lambda r: -(r["score"] or 0))[:10]
    reasons = run.rejections_by_reason()
    return dg.MaterializeResult(
        metadata={
            "evaluated": len(run.rows),
            "accepted": len(accepted),
            "rejected": len(run.rows) - len(accepted),
            "detail_lookups": run.looked_up,
            "lookup_failures": len(run.lookup_failures),
            "rule_fingerprint": rule.fingerprint(),
            "rejections_by_reason": reasons_table(
                sorted(reasons.items(), key=lambda kv: -kv[1]), ("reason", "count")
            ),
            "lookup_failure_records": reasons_table(run.lookup_failures[:20], ("pid", "error")),
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
    run = discovery.write_copy(
        llm, store_db.engine(), config.max_generations_per_run, config.max_attempts, context.log
    )
    return dg.MaterializeResult(
        metadata={
            "accepted_products": run.accepted_products,
            "cached": run.cached,
            "generated": run.generated,
            "failed": len(run.failures),
            "deferred": run.deferred,
            "llm_tokens": run.tokens,
            "failures": reasons_table(run.failures[:20], ("pid", "reason")),
        }
    )


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
    run killed half way and run again never lists a product twice. Changed prices or copy are re-sent,
    and so are all listings when the store's shipping terms change (their claim is rendered from them)."""
    free_over = discovery.store_free_shipping_over(shopify, config.country)
    run = discovery.list_products(
        shopify,
        store_db.engine(),
        pricing.rule(),
        vendor=config.vendor,
        max_listings=config.max_listings_per_run,
        log=context.log,
        free_over=free_over,
        run_id=context.run.run_id,
    )
    return dg.MaterializeResult(
        metadata={
            "shipping_claim": shipping_claim(free_over) or "(none: the store charges shipping)",
            "listed": len(run.listed),
            "updated": run.updated,
            "failed": len(run.failures),
            "waiting": run.waiting,
            "failures": reasons_table(run.failures[:20], ("pid", "reason")),
            "new_listings": preview_table(run.listed[:10], ("pid", "title", "handle", "price", "product_id")),
        }
    )
