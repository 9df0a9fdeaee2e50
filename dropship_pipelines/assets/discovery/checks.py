"""Data-quality guards of the discovery workflow; the blocking ones stand between us and a wrong price.

The discovery service is imported by the check that reads the store through it: loading the code location
(every `dagster job execute`) need not import it."""

from collections.abc import Sequence
from decimal import Decimal

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.discovery.assets import product_candidates, product_copy, store_listings
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.pricing import PriceRule, unit_profit
from dropship_pipelines.store.discovery_tables import (
    listing_variants,
    listings,
)
from dropship_pipelines.store.discovery_tables import (
    product_candidates as candidates_t,
)
from dropship_pipelines.store.discovery_tables import product_copy as copy_t


def _priced_over_cost(
    rows: Sequence[sa.Row], rule: PriceRule, counted: str, shown: tuple[str, ...]
) -> dg.AssetCheckResult:
    """Passes when every row's price leaves a profit after its cost, shipping and payment fees."""
    under = [
        {name: getattr(r, name) for name in shown}
        for r in rows
        if unit_profit(Decimal(r.price), Decimal(r.unit_cost), Decimal(r.shipping_cost), rule) <= 0
    ]
    return dg.AssetCheckResult(
        passed=not under,
        metadata={
            counted: len(rows),
            "under_cost": len(under),
            "records": preview_table(under[:20], shown),
        },
    )


def _failures(rows: Sequence[sa.Row], shown: tuple[str, ...]) -> dg.AssetCheckResult:
    """Warns when a step failed for some rows (each needs a human); the first 20 are shown."""
    records = [dict(r._mapping) for r in rows]
    return dg.AssetCheckResult(
        passed=not records,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": len(records), "records": preview_table(records[:20], shown)},
    )


@dg.asset_check(
    asset=product_candidates,
    blocking=True,
    description="Every accepted candidate's price covers product cost, shipping and payment fees.",
)
def candidates_cover_costs(store_db: StoreDatabase, pricing: PricingPolicy) -> dg.AssetCheckResult:
    rule = pricing.rule()
    with store_db.engine().connect() as conn:
        rows = conn.execute(sa.select(candidates_t).where(candidates_t.c.status == "accepted")).all()
    return _priced_over_cost(rows, rule, "accepted", ("pid", "price", "unit_cost", "shipping_cost"))


@dg.asset_check(
    asset=store_listings,
    blocking=True,
    description="No listed variant is priced at or under its cost + shipping + payment fees.",
)
def listings_priced_above_cost(store_db: StoreDatabase, pricing: PricingPolicy) -> dg.AssetCheckResult:
    rule = pricing.rule()
    query = (
        sa.select(
            listing_variants.c.vid,
            listing_variants.c.sku,
            listing_variants.c.price,
            listing_variants.c.unit_cost,
            listings.c.shipping_cost,
            listings.c.pid,
        )
        .select_from(listing_variants.join(listings, listings.c.pid == listing_variants.c.pid))
        .where(listings.c.status == "listed")
    )
    with store_db.engine().connect() as conn:
        rows = conn.execute(query).all()
    return _priced_over_cost(rows, rule, "variants", ("pid", "sku", "price", "unit_cost"))


@dg.asset_check(
    asset=store_listings,
    blocking=True,
    description="The store holds at most one product per supplier product (counted at the store).",
)
def no_duplicate_listings(shopify: ShopifyAdminResource, store_db: StoreDatabase) -> dg.AssetCheckResult:
    from dropship_pipelines.services.discovery import store_products_by_pid  # see the module docstring

    per_pid = store_products_by_pid(shopify)
    duplicates = [{"pid": pid, "products": ", ".join(ids)} for pid, ids in per_pid.items() if len(ids) > 1]
    with store_db.engine().connect() as conn:
        ledger = conn.scalar(
            sa.select(sa.func.count()).select_from(listings).where(listings.c.status == "listed")
        )
    return dg.AssetCheckResult(
        passed=not duplicates,
        metadata={
            "store_products": sum(len(v) for v in per_pid.values()),
            "ledger_listed": ledger,
            "duplicates": len(duplicates),
            "records": preview_table(duplicates[:20], ("pid", "products")),
        },
    )


@dg.asset_check(
    asset=store_listings, description="Listings the store refused, with the reason (need a human)."
)
def listing_failures(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        rows = conn.execute(
            sa.select(listings.c.pid, listings.c.title, listings.c.last_error).where(
                listings.c.status == "failed"
            )
        ).all()
    return _failures(rows, ("pid", "title", "last_error"))


@dg.asset_check(asset=product_copy, description="Products whose copy the model failed to write usably.")
def copy_failures(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        rows = conn.execute(
            sa.select(copy_t.c.pid, copy_t.c.attempts, copy_t.c.error).where(copy_t.c.status == "failed")
        ).all()
    return _failures(rows, ("pid", "attempts", "error"))
