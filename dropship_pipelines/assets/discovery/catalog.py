"""Catalog sync assets: the listings kept true to the supplier, by its webhook messages within seconds and
by an hourly reconcile of every listed product (thin: they call `services/catalog_sync.py`)."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.assets.discovery.assets import GROUP, OWNERS, store_listings
from dropship_pipelines.assets.metadata import reasons_table
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.catalog import CatalogPolicy
from dropship_pipelines.services import catalog_sync
from dropship_pipelines.services.catalog_sync import CatalogSupplier, SyncRun

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
