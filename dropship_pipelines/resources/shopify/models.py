"""Shopify Admin GraphQL payloads as typed models, parsed in the client: nothing past it indexes a raw node.

Aliases are Shopify's field names; `model_dump(by_alias=True)` gives the node back as Shopify sent it (the
ledger keeps a shipping address in that shape)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator


class ShopifyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class MailingAddress(ShopifyModel):
    name: str | None = None
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = Field(default=None, alias="provinceCode")
    zip: str | None = None
    country: str | None = None
    country_code: str | None = Field(default=None, alias="countryCodeV2")
    phone: str | None = None


class OrderLine(ShopifyModel):
    id: str
    name: str | None = None
    sku: str | None = None
    quantity: int
    unit_price: Decimal = Field(validation_alias=AliasPath("originalUnitPriceSet", "shopMoney", "amount"))
    variant_id: str | None = Field(default=None, validation_alias=AliasPath("variant", "id"))


class Payment(ShopifyModel):
    """One transaction of an order as `orders_since` reads it: what the gateway took (or gave back), and
    its fees in the shop currency when the gateway reports them (Shopify Payments does; an empty list
    from another gateway means the store's configured rate applies)."""

    kind: str
    status: str
    gateway: str | None = None
    amount: Decimal | None = Field(
        default=None, validation_alias=AliasPath("amountSet", "shopMoney", "amount")
    )
    fees: list[Decimal] = Field(default_factory=list)

    @field_validator("fees", mode="before")
    @classmethod
    def _fees(cls, value: Any) -> list[Decimal]:
        return [Decimal(str(fee["amount"]["amount"])) for fee in value or []]


class StoreOrder(ShopifyModel):
    """An order as `orders_since` reads it."""

    id: str
    name: str
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    email: str | None = None
    cancelled_at: datetime | None = Field(default=None, alias="cancelledAt")
    financial_status: str | None = Field(default=None, alias="displayFinancialStatus")
    fulfillment_status: str | None = Field(default=None, alias="displayFulfillmentStatus")
    tags: list[str] = Field(default_factory=list)
    customer_first_name: str | None = Field(default=None, validation_alias=AliasPath("customer", "firstName"))
    customer_last_name: str | None = Field(default=None, validation_alias=AliasPath("customer", "lastName"))
    total_price: Decimal = Field(validation_alias=AliasPath("totalPriceSet", "shopMoney", "amount"))
    currency: str = Field(validation_alias=AliasPath("totalPriceSet", "shopMoney", "currencyCode"))
    shipping_address: MailingAddress | None = Field(default=None, alias="shippingAddress")
    lines: list[OrderLine] = Field(validation_alias=AliasPath("lineItems", "nodes"))
    presentment_currency: str | None = Field(default=None, alias="presentmentCurrencyCode")
    payments: list[Payment] = Field(default_factory=list, alias="transactions")

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        return list(value or [])

    @property
    def customer_name(self) -> str | None:
        return " ".join(p for p in (self.customer_first_name, self.customer_last_name) if p) or None

    def tag_value(self, prefix: str) -> str | None:
        """The rest of the first tag starting with `prefix` ("source:" -> "meta")."""
        return next((t[len(prefix) :] for t in self.tags if t.startswith(prefix)), None)


class OrderChange(ShopifyModel):
    """When an order last changed, as the store's change listing reads it."""

    id: str
    updated_at: datetime = Field(alias="updatedAt")


class OrderStamp(ShopifyModel):
    """The newest order, as the sensor's cheap probe reads it (`created_at` as Shopify spells it)."""

    id: str
    name: str
    created_at: str = Field(alias="createdAt")


class TrackingInfo(ShopifyModel):
    company: str | None = None
    number: str | None = None
    url: str | None = None


class Fulfillment(ShopifyModel):
    id: str
    status: str | None = None
    tracking: list[TrackingInfo] = Field(default_factory=list, alias="trackingInfo")


class FulfillmentOrder(ShopifyModel):
    id: str
    status: str

    @property
    def is_open(self) -> bool:
        return self.status in ("OPEN", "IN_PROGRESS")


class OrderFulfillments(ShopifyModel):
    """An order's fulfillment orders (what is left to fulfil) and the fulfillments it already has."""

    id: str
    fulfillment_status: str | None = Field(default=None, alias="displayFulfillmentStatus")
    fulfillment_orders: list[FulfillmentOrder] = Field(
        default_factory=list, validation_alias=AliasPath("fulfillmentOrders", "nodes")
    )
    fulfillments: list[Fulfillment] = Field(default_factory=list)

    @property
    def open_fulfillment_order_ids(self) -> list[str]:
        return [fo.id for fo in self.fulfillment_orders if fo.is_open]

    def fulfillment_tracking(self, number: str) -> Fulfillment | None:
        """The fulfillment carrying this tracking number, if the order has one."""
        return next((f for f in self.fulfillments if any(t.number == number for t in f.tracking)), None)


class TaggedProduct(ShopifyModel):
    id: str
    tags: list[str] = Field(default_factory=list)


class VariantInput(ShopifyModel):
    sku: str
    option_value: str
    price: Decimal
    compare_at_price: Decimal | None = None
    in_stock: bool = True  # False: tracked with policy DENY, so the store does not sell it (catalog sync)


class ProductInput(ShopifyModel):
    """What a listing sends to `productSet`: one option, its variants, up to five images."""

    title: str
    description_html: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = Field(default_factory=list)
    option_name: str = "Title"
    variants: list[VariantInput] = Field(default_factory=list)
    image_urls: list[str] = Field(default_factory=list)
    image_alt: str | None = None
    active: bool = True

    def product_set_input(self) -> dict[str, Any]:
        """The `ProductSetInput` of this listing."""
        return {
            "title": self.title,
            "descriptionHtml": self.description_html,
            "vendor": self.vendor,
            "productType": self.product_type,
            "status": "ACTIVE" if self.active else "DRAFT",
            "tags": self.tags,
            "productOptions": [
                {
                    "name": self.option_name,
                    "position": 1,
                    "values": [{"name": v.option_value} for v in self.variants],
                }
            ],
            "files": [
                {"originalSource": url, "contentType": "IMAGE", "alt": self.image_alt or self.title}
                for url in self.image_urls
            ],
            "variants": [
                {
                    "optionValues": [{"optionName": self.option_name, "name": v.option_value}],
                    "sku": v.sku,
                    "price": str(v.price),
                    "compareAtPrice": str(v.compare_at_price) if v.compare_at_price else None,
                    "inventoryPolicy": "CONTINUE" if v.in_stock else "DENY",
                    **({} if v.in_stock else {"inventoryItem": {"tracked": True}}),
                }
                for v in self.variants
            ],
        }


# --- changes to an order after checkout: cancel, refund, shipping address ------------------------------
class Refund(ShopifyModel):
    id: str
    note: str | None = None
    created_at: datetime = Field(alias="createdAt")
    amount: Decimal = Field(validation_alias=AliasPath("totalRefundedSet", "shopMoney", "amount"))
    currency: str = Field(validation_alias=AliasPath("totalRefundedSet", "shopMoney", "currencyCode"))


class OrderTransaction(ShopifyModel):
    id: str
    kind: str
    status: str
    gateway: str | None = None


class OrderState(ShopifyModel):
    """What an order action checks before it acts and reads after a crash: cancelled, refunded, where to."""

    id: str
    name: str
    email: str | None = None
    cancelled_at: datetime | None = Field(default=None, alias="cancelledAt")
    financial_status: str | None = Field(default=None, alias="displayFinancialStatus")
    fulfillment_status: str | None = Field(default=None, alias="displayFulfillmentStatus")
    total_price: Decimal = Field(validation_alias=AliasPath("totalPriceSet", "shopMoney", "amount"))
    total_refunded: Decimal = Field(validation_alias=AliasPath("totalRefundedSet", "shopMoney", "amount"))
    currency: str = Field(validation_alias=AliasPath("totalPriceSet", "shopMoney", "currencyCode"))
    shipping_address: MailingAddress | None = Field(default=None, alias="shippingAddress")
    refunds: list[Refund] = Field(default_factory=list)
    transactions: list[OrderTransaction] = Field(default_factory=list)
    fulfillments: list[Fulfillment] = Field(default_factory=list)

    @property
    def refundable(self) -> Decimal:
        return self.total_price - self.total_refunded

    def refund_noted(self, note: str) -> Refund | None:
        """The refund carrying our idempotency key as its note (how a crashed claim finds its refund)."""
        return next((r for r in self.refunds if r.note == note), None)

    @property
    def payment(self) -> OrderTransaction | None:
        """The successful sale or capture a refund goes back to."""
        return next(
            (t for t in self.transactions if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"), None
        )


class AddressInput(ShopifyModel):
    """A `MailingAddressInput`: a shipping address as the store takes it."""

    first_name: str | None = Field(default=None, serialization_alias="firstName")
    last_name: str | None = Field(default=None, serialization_alias="lastName")
    address1: str
    address2: str | None = None
    city: str
    province_code: str | None = Field(default=None, serialization_alias="provinceCode")
    zip: str
    country_code: str = Field(serialization_alias="countryCode")
    phone: str | None = None

    def matches(self, address: MailingAddress | None) -> bool:
        """Whether the store already holds this address (a crashed update that landed)."""
        if address is None:
            return False
        return (
            (address.address1 or "").strip().lower() == self.address1.strip().lower()
            and (address.city or "").strip().lower() == self.city.strip().lower()
            and (address.zip or "").replace(" ", "").lower() == self.zip.replace(" ", "").lower()
            and (address.country_code or "").upper() == self.country_code.upper()
        )
