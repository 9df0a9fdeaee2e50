"""What the discovery and fulfillment workflows need from any supplier, in supplier-neutral terms.

A supplier client (CJ Dropshipping is the first: `resources/cj/`) maps its API's payloads and error codes
onto these models, so assets, services and the ledger never spell a supplier's field names or codes.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from dropship_pipelines.resources.errors import PermanentApiError

# Supplier order statuses, in the order an order goes through them (the ledger's `supplier_status`).
SHIPPED_STATUSES = ("SHIPPED", "DELIVERED")
UNPAID_STATUSES = ("CREATED", "IN_CART", "UNPAID")  # the supplier has not been paid: it can be withdrawn


@dataclass(frozen=True)
class CatalogProduct:
    """One record of the supplier's product list; `malformed` says why it cannot be used, if so."""

    pid: str  # the supplier's product id ("" when a malformed record has none)
    sku: str
    name: str
    content_hash: str  # of the record as the supplier sent it: tells a changed product from an unchanged one
    category: str = ""
    sell_price: Decimal | None = None  # the cheapest variant's price in the list
    listed_num: int = 0  # how many stores list it at the supplier (a demand signal)
    image_url: str | None = None
    created_at: str | None = None
    malformed: str | None = None


@dataclass(frozen=True)
class CatalogPage:
    page: int
    total: int  # products in the whole catalog
    products: list[CatalogProduct]


@dataclass(frozen=True)
class ProductVariant:
    vid: str
    sku: str
    option_value: str  # what the customer picks ("Blue", "Default")
    price: Decimal | None
    weight_g: float | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class ProductDetail:
    pid: str
    sku: str
    name: str
    category: str = ""
    description_html: str = ""
    image_urls: list[str] = field(default_factory=list)
    option_name: str | None = None  # what the variants differ in ("Color")
    weight_g: float | None = None
    sell_price: Decimal | None = None
    variants: list[ProductVariant] = field(default_factory=list)


@dataclass(frozen=True)
class FreightOption:
    """One shipping route from the supplier's warehouse, with its price and transit days."""

    name: str
    price: Decimal
    days_min: int
    days_max: int


@dataclass(frozen=True)
class BasketLine:
    vid: str
    quantity: int
    store_line_id: str | None = None


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    address1: str
    city: str
    country_code: str
    zip: str = ""
    address2: str = ""
    province: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SupplierOrderRequest:
    """An order to place at the supplier; `order_number` is ours and the supplier refuses it twice."""

    order_number: str
    address: ShippingAddress
    email: str
    customer_paid: Decimal
    route: str  # a `FreightOption.name`
    lines: list[BasketLine]
    pay_from_balance: bool = True  # the supplier pays itself from our balance and ships at once


@dataclass(frozen=True)
class SupplierOrder:
    """An order as the supplier holds it."""

    supplier_order_id: str
    order_number: str | None = None
    status: str | None = None  # CREATED .. SHIPPED, DELIVERED (see `SHIPPED_STATUSES`)
    route: str | None = None
    product_amount: Decimal | None = None
    postage_amount: Decimal | None = None
    total_amount: Decimal | None = None
    track_number: str | None = None
    tracking_url: str | None = None
    # Why the supplier holds the order (CJ's `interceptOrderReasons`): an out-of-stock, an address review
    hold_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrackingEvent:
    """The carrier's latest word on one shipment."""

    track_number: str
    status: str | None
    carrier: str | None = None
    event_at: datetime | None = None  # when the carrier last scanned it (UTC), when the supplier says
    last_mile_carrier: str | None = None  # who delivers it in the destination country


class DuplicateOrderError(PermanentApiError):
    """The supplier already has an order with this number (an earlier attempt got through)."""


class OrderAlreadyPaidError(PermanentApiError):
    """The supplier order was paid (or is past payment): it can no longer be withdrawn."""


class Supplier(Protocol):
    """One dropshipping supplier, in the terms of our workflows (catalog -> detail -> order -> tracking)."""

    @property
    def supplier(self) -> str:
        """Short name of the supplier, as in logs and API errors."""
        ...

    def catalog_page(self, page: int, size: int) -> CatalogPage: ...
    def product_detail(self, pid: str) -> ProductDetail: ...
    def freight_options(self, country: str, basket: list[BasketLine]) -> list[FreightOption]: ...
    def create_order(self, order: SupplierOrderRequest) -> SupplierOrder:
        """Raises `DuplicateOrderError` when the order number is already there, never creates it twice."""
        ...

    def find_order(self, order_id_or_number: str) -> SupplierOrder | None: ...
    def orders(self, supplier_order_ids: list[str]) -> list[SupplierOrder]: ...
    def delete_unpaid_order(self, supplier_order_id: str) -> bool:
        """Withdraw an order the supplier has not been paid for: True when deleted now, False when the
        supplier has no such order (already gone); `OrderAlreadyPaidError` when it is paid."""
        ...

    def tracking(self, track_numbers: list[str]) -> list[TrackingEvent]: ...
