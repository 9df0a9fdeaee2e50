"""Product discovery assets: supplier catalog -> priced candidates -> AI copy -> listings on the store.

The discovery service is imported by the assets that use it: loading the code location (every `dagster job
execute`, whatever its job) defines these assets but need not import the service and what it brings."""

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import dagster as dg

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.rules.scoring import Thresholds
from dropship_pipelines.rules.shipping_claims import shipping_claim

if TYPE_CHECKING:
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
    from dropship_pipelines.services import discovery  # here: see the module docstring

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


class DiscoveryConfig(dg.Config):
    """The three assets' settings, each under its asset's name (the job also takes them per asset)."""

    product_candidates: CandidateConfig = CandidateConfig()
    product_copy: CopyConfig = CopyConfig()
    store_listings: ListingConfig = ListingConfig()


CANDIDATES = dg.AssetSpec(
    "product_candidates",
    group_name=GROUP,
    kinds={"python", "cj"},
    owners=OWNERS,
    deps=[supplier_catalog],
    description="Supplier products worth selling: popular, shipping fast enough and priced for a real "
    "margin. Detail and freight lookups go to the most promising products first (the supplier limits "
    "calls per second and per day); every rejection is recorded with its reason.",
)
COPY = dg.AssetSpec(
    "product_copy",
    group_name=GROUP,
    kinds={"python", "openai"},
    owners=OWNERS,
    deps=[CANDIDATES],
    description="Listing copy (title, HTML description, tags) written by the LLM from the supplier's "
    "facts. Cached by the facts it was written from: an unchanged product is never sent to the model "
    "again. An unusable answer (invalid JSON, empty, off-topic, unsafe HTML) is recorded and retried "
    "next run.",
)
LISTINGS = dg.AssetSpec(
    "store_listings",
    group_name=GROUP,
    kinds={"python", "shopify"},
    owners=OWNERS,
    deps=[COPY],
    description="Products live on the Shopify store, one per supplier product, priced by the current "
    "rule. The ledger row is written before the store is called and the store call is an upsert by "
    "handle, so a run killed half way and run again never lists a product twice. Changed prices or copy "
    "are re-sent, and so are all listings when the store's shipping terms change (their claim is "
    "rendered from them).",
)
product_candidates, product_copy, store_listings = CANDIDATES.key, COPY.key, LISTINGS.key


# One step for the three: a product goes on to the model and the store as soon as its own lookup is in,
# while the next lookups are with CJ, whose limit is the slowest; as three steps, copy and listings waited
# for the last lookup. Its pool is CJ's (the binding limit); the model's and the store's clients pace
# themselves from those APIs' own limit signals. A selection of some of the three runs those alone.
@dg.multi_asset(specs=[CANDIDATES, COPY, LISTINGS], name="discover_and_list", can_subset=True, pool="cj")
def discover_and_list(
    context: dg.AssetExecutionContext,
    config: DiscoveryConfig,
    supplier: dg.ResourceParam[Supplier],
    pricing: PricingPolicy,
    llm: LlmResource,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
):
    """Candidates looked up, written up and listed, each product carried on as soon as it is ready."""
    from dropship_pipelines.services import discovery  # here: see the module docstring

    selected = context.selected_asset_keys
    candidates_config, copy_config, listing_config = (
        config.product_candidates,
        config.product_copy,
        config.store_listings,
    )
    engine, rule = store_db.engine(), pricing.rule()
    if selected == {product_candidates, product_copy, store_listings}:
        run = discovery.discover_and_list(
            supplier,
            llm,
            shopify,
            engine,
            candidates_config.thresholds(),
            rule,
            country=candidates_config.country,
            max_lookups=candidates_config.detail_lookups_per_run,
            max_age=timedelta(hours=candidates_config.detail_max_age_hours),
            max_generations=copy_config.max_generations_per_run,
            max_attempts=copy_config.max_attempts,
            max_listings=listing_config.max_listings_per_run,
            vendor=listing_config.vendor,
            listing_country=listing_config.country,
            log=context.log,
            run_id=context.run.run_id,
        )
        yield _candidates_result(context, run.candidates, rule)
        yield _copy_result(run.copy)
        yield _listings_result(run.listing, run.free_over)
        return
    if product_candidates in selected:
        yield _candidates_result(
            context,
            discovery.pick_candidates(
                supplier,
                engine,
                candidates_config.thresholds(),
                rule,
                country=candidates_config.country,
                max_lookups=candidates_config.detail_lookups_per_run,
                max_age=timedelta(hours=candidates_config.detail_max_age_hours),
                log=context.log,
            ),
            rule,
        )
    if product_copy in selected:
        yield _copy_result(
            discovery.write_copy(
                llm, engine, copy_config.max_generations_per_run, copy_config.max_attempts, context.log
            )
        )
    if store_listings in selected:
        free_over = discovery.store_free_shipping_over(shopify, listing_config.country)
        listed = discovery.list_products(
            shopify,
            engine,
            rule,
            vendor=listing_config.vendor,
            max_listings=listing_config.max_listings_per_run,
            log=context.log,
            free_over=free_over,
            run_id=context.run.run_id,
        )
        yield _listings_result(listed, free_over)


def _candidates_result(
    context: dg.AssetExecutionContext, run: "discovery.CandidateRun", rule: PriceRule
) -> dg.MaterializeResult:
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
        asset_key=product_candidates,
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
        },
    )


def _copy_result(run: "discovery.CopyRun") -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=product_copy,
        metadata={
            "accepted_products": run.accepted_products,
            "cached": run.cached,
            "generated": run.generated,
            "failed": len(run.failures),
            "deferred": run.deferred,
            "llm_tokens": run.tokens,
            "failures": reasons_table(run.failures[:20], ("pid", "reason")),
        },
    )


def _listings_result(run: "discovery.ListingRun", free_over: Decimal | None) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=store_listings,
        metadata={
            "shipping_claim": shipping_claim(free_over) or "(none: the store charges shipping)",
            "listed": len(run.listed),
            "updated": run.updated,
            "failed": len(run.failures),
            "waiting": run.waiting,
            "failures": reasons_table(run.failures[:20], ("pid", "reason")),
            "new_listings": preview_table(run.listed[:10], ("pid", "title", "handle", "price", "product_id")),
        },
    )
