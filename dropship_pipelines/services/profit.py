"""True profit's facts from the store: each order's payment as its transactions tell it (the gateway,
the fees it reports, what was refunded) and the currency the customer paid in. Read with the orders
(`fulfillment.read_store_orders`), so they are as fresh as the order ledger."""

from decimal import Decimal
from typing import Any

from dropship_pipelines.resources.shopify.models import StoreOrder

PAID_KINDS = ("SALE", "CAPTURE")


def payment_row(order: StoreOrder) -> dict[str, Any]:
    """The `order_payments` row of one store order. `fees` is None when no successful payment reports
    any (a gateway other than Shopify Payments): the configured rate of that gateway applies then."""
    paid = [p for p in order.payments if p.kind in PAID_KINDS and p.status == "SUCCESS"]
    refunds = [p for p in order.payments if p.kind == "REFUND" and p.status == "SUCCESS"]
    reported = [fee for p in paid for fee in p.fees]
    return {
        "order_id": order.id,
        "gateway": (paid[0].gateway if paid else None),
        # The page reads the first transaction only (the sale: Shopify's query-cost cap); the sale
        # amount is the order's total.
        "paid": sum((p.amount if p.amount is not None else order.total_price for p in paid), Decimal(0)),
        "fees": sum(reported, Decimal(0)) if reported else None,
        "refunded": sum((p.amount or Decimal(0) for p in refunds), Decimal(0)),
        "shop_currency": order.currency,
        "presentment_currency": order.presentment_currency,
    }
