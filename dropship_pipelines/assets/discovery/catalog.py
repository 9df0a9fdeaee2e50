"""Catalog sync assets: the listings kept true to the supplier, by its webhook messages within seconds and
by an hourly reconcile of every listed product (thin: they call `services/catalog_sync.py`)."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.assets.discovery.assets import GROUP, OWNERS, store_listings
from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.catalog import CatalogPolicy
from dropship_pipelines.services import catalog_sync
from dropship_pipelines.services.catalog_sync import CatalogSupplier, SyncRun
from dropship_pipelines.store import catalog_queries

DEFAULT_POLICY = CatalogPolicy()


class CatalogSyncConfig(dg.Config):
    """How the store follows the supplier. (The price rule is the `pricing` resource.)"""

    home_market: str = "US"  # the market the listing's price includes shipping to
    markets: list[str] = ["US", "CA", "GB", "DE", "AU"]  # shipping is checked to each
    max_daily_move: float = float(DEFAULT_POLICY.max_daily_move)
    min_sellable_stock: int = DEFAULT_POLICY.min_sellable_stock

    def policy(self) -> CatalogPolicy:
        return CatalogPolicy(
            max_daily_move=Decimal(str(self.max_daily_move)), min_sellable_stock=self.min_sellable_stock
        )


class CatalogCheckConfig(dg.Config):
    min_sellable_stock: int = DEFAULT_POLICY.min_sellable_stock


def _metadata(run: SyncRun) -> dict[str, object]:
    return {
        "products": run.products,
        "variants": run.variants,
        "repriced_variants": run.repriced,
        "sold_out_variants": run.sold_out,
        "back_in_stock_variants": run.back_in_stock,
        "unpublished": run.unpublished,
        "republished": run.republished,
        "unchanged": run.unchanged,
        "busy": run.busy,
        "resolved_dead_claims": run.resolved,
        "failed": len(run.failures),
        "failures": reasons_table(run.failures[:20], ("pid", "reason")),
    }


@dg.asset(group_name=GROUP, kinds={"python", "cj", "shopify"}, owners=OWNERS, pool="cj")
def supplier_change_events(
    context: dg.AssetExecutionContext,
    config: CatalogSyncConfig,
    supplier: dg.ResourceParam[CatalogSupplier],
    shopify: ShopifyAdminResource,
    pricing: PricingPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """The supplier's webhook messages (CJ `PRODUCT` and `STOCK`) recorded by the receiver, applied to the
    store: re-priced, sold out or back, unpublished or published again, within seconds of the message."""
    run, handled = catalog_sync.process_events(
        supplier,
        shopify,
        store_db.engine(),
        pricing.rule(),
        config.policy(),
        home=config.home_market,
        run_id=context.run.run_id,
        log=context.log,
    )
    return dg.MaterializeResult(metadata={"messages": handled, **_metadata(run)})


@dg.asset(
    group_name=GROUP,
    kinds={"python", "cj", "shopify"},
    owners=OWNERS,
    pool="cj",
    deps=[store_listings, supplier_change_events],
)
def catalog_reconcile(
    context: dg.AssetExecutionContext,
    config: CatalogSyncConfig,
    supplier: dg.ResourceParam[CatalogSupplier],
    shopify: ShopifyAdminResource,
    pricing: PricingPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Every listed product checked at the supplier (variants, costs, stock, shipping to the main
    markets, still sold) and the store brought in line with it: the hourly net under the webhooks, and how
    a change of the price rule reaches the existing listings."""
    run = catalog_sync.reconcile(
        supplier,
        shopify,
        store_db.engine(),
        pricing.rule(),
        config.policy(),
        markets=config.markets,
        home=config.home_market,
        run_id=context.run.run_id,
        log=context.log,
    )
    per_minute = run.variants / run.seconds * 60 if run.seconds else 0.0
    return dg.MaterializeResult(
        metadata={
            **_metadata(run),
            "seconds": round(run.seconds, 2),
            "variants_per_minute": round(per_minute, 1),
        }
    )


@dg.asset_check(
    asset=catalog_reconcile,
    blocking=True,
    description="Every listed variant's store price has its lineage: the supplier cost, shipping, rule "
    "version and run that set it, and the price recorded matches the last lineage row.",
)
def prices_have_lineage(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        missing = catalog_queries.prices_without_lineage(conn)
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={
            "without_lineage": len(missing),
            "records": preview_table(missing[:20], ("pid", "vid", "price")),
        },
    )


@dg.asset_check(
    asset=catalog_reconcile,
    blocking=True,
    description="No variant is on sale at the store that the supplier, at its last word, cannot ship "
    "(sold out, no longer offered, or the product off its shelves).",
)
def nothing_unshippable_on_sale(store_db: StoreDatabase, config: CatalogCheckConfig) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        on_sale = catalog_queries.unshippable_on_sale(conn, config.min_sellable_stock)
    return dg.AssetCheckResult(
        passed=not on_sale,
        metadata={
            "unshippable_on_sale": len(on_sale),
            "records": preview_table(on_sale[:20], ("pid", "vid", "stock")),
        },
    )
