"""Test/benchmark helper: products listed on the sandbox store, and the listing ledger that maps them.

Discovery normally does this (supplier catalog -> LLM copy -> productSet); for fulfillment tests the
listing is written directly so a test starts with orders, not with an LLM.
"""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine, upsert
from dropship_pipelines.store.discovery_tables import listing_variants
from dropship_sandbox.catalog import visible
from dropship_sandbox.world import World


def list_products(world: World, store_url: str, count: int) -> list[str]:
    """List `count` clean supplier products (every variant in stock) on the store; returns their pids."""
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
    with get_engine(store_url).begin() as conn:
        upsert(conn, listing_variants, rows, keys=["vid"])
    return pids


def count_rows(store_url: str, table: sa.Table, **where: Any) -> int:
    with get_engine(store_url).connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return int(conn.execute(query).scalar_one())
