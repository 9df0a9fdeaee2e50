"""Fulfillment rules: can an order go to the supplier, under which number, by which shipping route.

Plain functions, no Dagster and no I/O: this is where a reader looks for "why was this order held".
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

# Countries the supplier ships to from its warehouse (it refuses orders to the rest).
SUPPORTED_COUNTRIES = frozenset({"US", "CA", "GB", "DE", "FR", "AU", "NL", "ES", "IT"})
ADDRESS_FIELDS = ("name", "address1", "city", "zip", "countryCodeV2")
MAX_ORDER_NUMBER = 50  # the supplier's limit on an order number
MAX_PHONE = 20  # the supplier's limit on a phone number


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str | None
    quantity: int
    vid: str | None  # supplier variant, when the listing ledger maps this line


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    name: str
    financial_status: str
    cancelled: bool
    address: dict[str, str | None] | None
    lines: tuple[OrderLine, ...] = field(default_factory=tuple)


def supplier_order_number(order_name: str, prefix: str = "shopify") -> str:
    """ "#1001" -> "shopify-1001": derived from the store order, so a retry can never invent a new one."""
    digits = re.sub(r"[^0-9A-Za-z-]", "", order_name)
    if not digits:
        raise ValueError(f"order name {order_name!r} has no number")
    number = f"{prefix}-{digits}"
    if len(number) > MAX_ORDER_NUMBER:
        raise ValueError(f"supplier order number {number!r} is longer than {MAX_ORDER_NUMBER}")
    return number


def order_problem(order: OrderFacts) -> str | None:
    """Why this order cannot be sent to the supplier as it is, or None when it can."""
    if order.cancelled:
        return "cancelled by the customer or the store"
    if order.financial_status.upper() not in ("PAID", "PARTIALLY_REFUNDED"):
        return f"not paid (financial status {order.financial_status})"
    address = order.address
    if not address:
        return "no shipping address"
    missing = [name for name in ADDRESS_FIELDS if not (address.get(name) or "").strip()]
    if missing:
        return f"shipping address incomplete: missing {', '.join(missing)}"
    if not (address.get("phone") or "").strip():
        return "no phone number for the carrier"
    country = (address.get("countryCodeV2") or "").upper()
    if country not in SUPPORTED_COUNTRIES:
        return f"the supplier does not ship to {country}"
    if not order.lines:
        return "order has no line items"
    unmapped = [line.sku or line.line_id for line in order.lines if not line.vid]
    if unmapped:
        return f"no supplier variant for {', '.join(sorted(unmapped))}"
    if any(line.quantity <= 0 for line in order.lines):
        return "a line has no quantity"
    return None


def carrier_phone(phone: str) -> str:
    """Digits and a leading +, cut to the supplier's 20 characters."""
    cleaned = re.sub(r"[^0-9+]", "", phone)
    return cleaned[:MAX_PHONE]


@dataclass(frozen=True)
class ShippingChoice:
    name: str
    price: Decimal
    days_min: int
    days_max: int


def choose_shipping(
    options: list[ShippingChoice], max_days: int = 15, day_value: Decimal = Decimal("0.50")
) -> ShippingChoice | None:
    """The route with the lowest price + `day_value` per worst-case transit day, within `max_days`.

    A day is worth money (refund requests and "where is my order" tickets grow with it), so a slightly
    dearer route that is a week faster wins. Nothing within `max_days`: the fastest route, if any."""
    if not options:
        return None
    within = [o for o in options if o.days_max <= max_days]
    if not within:
        return min(options, key=lambda o: (o.days_max, o.price))
    return min(within, key=lambda o: (o.price + day_value * o.days_max, o.days_max, o.name))


def tracking_url(carrier: str | None, number: str, supplier_url: str | None) -> str:
    """The supplier's tracking page when it gives one, else a universal tracker."""
    if supplier_url:
        return supplier_url
    return f"https://t.17track.net/en#nums={number}"
