"""Shopify Admin GraphQL for the catalog sync: a listing's variants (price, compare-at price, whether a
sold-out variant may still be sold) and its status, read back and written.

- `productVariantsBulkUpdate(productId:, variants: [ProductVariantsBulkInput!]!)`: `price`,
  `compareAtPrice`, `inventoryPolicy` (DENY: not sold at zero stock) and `inventoryItem { tracked }`. A
  sold-out variant is tracked with policy DENY (a tracked item holds 0 units until stock is set); a
  variant on sale is policy CONTINUE.
- `productUpdate(product: ProductUpdateInput!)` (2024-10+): `status` ACTIVE (published) or DRAFT.
- `product(id:) { status variants { ... } }` reads what the store holds, to resolve a write a dead run left.
"""

from dataclasses import dataclass
from decimal import Decimal

from pydantic import AliasPath, Field

from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, ShopifyUserError, _parse
from dropship_pipelines.resources.shopify.models import ShopifyModel

ON_SALE, SOLD_OUT = "CONTINUE", "DENY"


class StoreVariant(ShopifyModel):
    id: str
    sku: str | None = None
    price: Decimal
    compare_at_price: Decimal | None = Field(default=None, alias="compareAtPrice")
    inventory_policy: str = Field(alias="inventoryPolicy")
    tracked: bool = Field(default=False, validation_alias=AliasPath("inventoryItem", "tracked"))

    @property
    def in_stock(self) -> bool:
        return not (self.tracked and self.inventory_policy == SOLD_OUT)


class StoreListing(ShopifyModel):
    id: str
    status: str
    variants: list[StoreVariant] = Field(validation_alias=AliasPath("variants", "nodes"))

    @property
    def published(self) -> bool:
        return self.status == "ACTIVE"


@dataclass(frozen=True)
class VariantChange:
    """What one variant should become on the store (None: leave that field as it is)."""

    variant_id: str
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    in_stock: bool | None = None

    def bulk_input(self) -> dict[str, object]:
        change: dict[str, object] = {"id": self.variant_id}
        if self.price is not None:
            change["price"] = str(self.price)
        if self.compare_at_price is not None:
            change["compareAtPrice"] = str(self.compare_at_price)
        if self.in_stock is not None:
            change["inventoryPolicy"] = ON_SALE if self.in_stock else SOLD_OUT
            change["inventoryItem"] = {"tracked": True}
        return change


LISTING_STATE = """
query ListingState($id: ID!) {
  product(id: $id) {
    id status
    variants(first: 100) {
      nodes { id sku price compareAtPrice inventoryPolicy inventoryItem { tracked } }
    }
  }
}
"""

VARIANTS_UPDATE = """
mutation CatalogVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price }
    userErrors { field message }
  }
}
"""

STATUS_UPDATE = """
mutation CatalogStatus($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}
"""


def listing_state(shopify: ShopifyAdminResource, product_id: str) -> StoreListing | None:
    product = shopify.execute(LISTING_STATE, {"id": product_id})["product"]
    return _parse(StoreListing, product, f"product {product_id}") if product else None


def update_variants(shopify: ShopifyAdminResource, product_id: str, changes: list[VariantChange]) -> None:
    """Set prices and sale state of some variants in one call (absolute values: repeating it is harmless)."""
    if not changes:
        return
    payload = shopify.execute(
        VARIANTS_UPDATE, {"productId": product_id, "variants": [c.bulk_input() for c in changes]}
    )["productVariantsBulkUpdate"]
    if payload["userErrors"]:
        raise ShopifyUserError("productVariantsBulkUpdate", payload["userErrors"])


def set_published(shopify: ShopifyAdminResource, product_id: str, published: bool) -> None:
    payload = shopify.execute(
        STATUS_UPDATE, {"product": {"id": product_id, "status": "ACTIVE" if published else "DRAFT"}}
    )["productUpdate"]
    if payload["userErrors"]:
        raise ShopifyUserError("productUpdate", payload["userErrors"])


VARIANTS_COUNT = """
query StoreVariants { productVariantsCount { count precision } }
"""


def store_variant_count(shopify: ShopifyAdminResource) -> int:
    """`productVariantsCount`: how many variants the store holds (all products)."""
    return int(shopify.execute(VARIANTS_COUNT)["productVariantsCount"]["count"])
