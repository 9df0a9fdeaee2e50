"""Changes to an order after checkout: `orderCancel`, `refundCreate`, `orderUpdate` (shipping address),
`fulfillmentTrackingInfoUpdate` (tracking, and the shipping email sent again with `notifyCustomer`).

Shapes and refusals as the Admin GraphQL API gives them: `orderCancel` answers a job and
`orderCancelUserErrors` (codes NOT_FOUND, INVALID), `refundCreate` and `orderUpdate` answer `userErrors`.
Every change is counted at the source (`orders_cancelled`, `refunds_created`, `order_addresses_updated`,
`shipping_confirmations_sent` per order GID), so a test sees a change made twice at the store, not just in
our ledger.
"""

import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox import order_aftermath as aftermath
from dropship_sandbox.apis.shopify.common import gid, gid_number, world_of
from dropship_sandbox.apis.shopify.orders import order_view, refunded_amount, sale_transaction_id
from dropship_sandbox.apis.shopify.registry import mutation_field
from dropship_sandbox.shop_orders import PLACES, iso
from dropship_sandbox.world import World


def _order(world: World, order_gid: str) -> dict[str, Any] | None:
    number = gid_number(order_gid, "Order")
    return world.state.get("shopify_order", number) if number else None


def _cancel_refused(field: list[str], message: str, code: str) -> dict[str, Any]:
    return {
        "job": None,
        "orderCancelUserErrors": [{"field": field, "message": message, "code": code}],
        "userErrors": [{"field": field, "message": message}],
    }


def _record_refund(
    world: World, order: dict[str, Any], amount: Decimal, note: str | None, *, emit: bool = True
) -> dict[str, Any]:
    now = iso(world.now())
    refund = {
        "id": world.new_id("refund", 8_300_000_000_000),
        "note": note,
        "createdAt": now,
        "amount": f"{amount:.2f}",
    }
    order.setdefault("refunds", []).append(refund)
    refunded = refunded_amount(order)
    total = Decimal(order["totalPrice"])
    order["displayFinancialStatus"] = "REFUNDED" if refunded >= total else "PARTIALLY_REFUNDED"
    order["updatedAt"] = now
    world.state.audit_increment("refunds_created", gid("Order", order["id"]))
    if emit:  # the `refunds/create` webhook Shopify sends for every refund
        aftermath.store_changed(world, order, "refunds/create", aftermath.refund_payload(order, refund))
    return refund


def refund_view(refund: dict[str, Any], currency: str) -> dict[str, Any]:
    money = {"amount": refund["amount"], "currencyCode": currency}
    return {
        "id": gid("Refund", refund["id"]),
        "note": refund.get("note"),
        "createdAt": refund["createdAt"],
        "totalRefundedSet": {"shopMoney": money, "presentmentMoney": money},
    }


@mutation_field("orderCancel")
def resolve_order_cancel(
    root: Any,
    info: GraphQLResolveInfo,
    orderId: str,
    reason: str,
    restock: bool,
    refund: bool | None = None,
    refundMethod: dict[str, Any] | None = None,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict[str, Any]:
    world = world_of(info)
    order = _order(world, orderId)
    if order is None:
        return _cancel_refused(["orderId"], "Order does not exist", "NOT_FOUND")
    if refund is not None and refundMethod is not None:
        return _cancel_refused(["refund"], "Cannot specify both refund and refundMethod.", "INVALID")
    if order.get("cancelledAt"):
        return _cancel_refused(["orderId"], "Order has already been cancelled.", "INVALID")
    if order.get("fulfillments"):
        return _cancel_refused(
            ["orderId"], "Cannot cancel an order with fulfillments. Cancel the fulfillments first.", "INVALID"
        )
    now = iso(world.now())
    wants_refund = bool(refund) or bool((refundMethod or {}).get("originalPaymentMethodsRefund"))
    if wants_refund:
        left = Decimal(order["totalPrice"]) - refunded_amount(order)
        if left > 0:
            _record_refund(world, order, left, staffNote)
    order["cancelledAt"] = now
    order["cancelReason"] = reason
    order["updatedAt"] = now
    for fo in order.get("fulfillmentOrders", []):
        fo["status"], fo["requestStatus"] = "CANCELLED", "CLOSED"
    order.setdefault("_sim", {})["cancelled_real_at"] = time.time()  # ground truth (order_aftermath.py)
    world.state.put("shopify_order", str(order["id"]), order)
    world.state.audit_increment("orders_cancelled", gid("Order", order["id"]))
    aftermath.store_changed(world, order, "orders/cancelled", aftermath.cancelled_payload(world, order))
    return {
        "job": {"id": gid("Job", uuid.uuid4()), "done": True},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }


def _refused(field: list[str], message: str, key: str = "refund") -> dict[str, Any]:
    return {key: None, "order": None, "userErrors": [{"field": field, "message": message}]}


@mutation_field("refundCreate")
def resolve_refund_create(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    world = world_of(info)
    order = _order(world, input["orderId"])
    if order is None:
        return _refused(["orderId"], "Order does not exist")
    amount = Decimal(0)
    for position, transaction in enumerate(input.get("transactions") or []):
        field = ["transactions", str(position)]
        if transaction["kind"] != "REFUND":
            return _refused([*field, "kind"], "Transaction kind must be refund.")
        parent = transaction.get("parentId")
        if parent and parent != sale_transaction_id(order):
            return _refused([*field, "parentId"], "Parent transaction does not exist.")
        try:
            value = Decimal(str(transaction["amount"]))
        except InvalidOperation:
            return _refused([*field, "amount"], "Amount is invalid.")
        if value <= 0:
            return _refused([*field, "amount"], "Amount must be greater than zero.")
        amount += value
    shipping = input.get("shipping") or {}
    if shipping.get("fullRefund"):
        amount += Decimal(order.get("shippingPrice") or "0")
    elif shipping.get("amount") is not None:
        amount += Decimal(str(shipping["amount"]))
    if amount <= 0:
        return _refused(["transactions"], "Refund must have at least one transaction with an amount.")
    refundable = Decimal(order["totalPrice"]) - refunded_amount(order)
    if amount > refundable:
        return _refused(
            ["transactions", "0", "amount"],
            f"Refund amount {amount:.2f} is greater than the refundable amount {refundable:.2f}.",
        )
    refund = _record_refund(world, order, amount, input.get("note"))
    world.state.put("shopify_order", str(order["id"]), order)
    return {
        "refund": refund_view(refund, order["currencyCode"]),
        "order": order_view(world, order, info.context.base_url),
        "userErrors": [],
    }


COUNTRY_NAMES = {code: place[0] for code, place in PLACES.items()} | {"BR": "Brazil"}


@mutation_field("orderUpdate")
def resolve_order_update(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    world = world_of(info)
    order = _order(world, input["id"])
    if order is None:
        return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
    if order.get("cancelledAt") and input.get("shippingAddress") is not None:
        return {
            "order": None,
            "userErrors": [{"field": ["shippingAddress"], "message": "A cancelled order cannot be edited."}],
        }
    new = input.get("shippingAddress")
    if new is not None:
        country = str(new.get("countryCode") or "").upper()
        if country not in COUNTRY_NAMES:
            return {
                "order": None,
                "userErrors": [
                    {"field": ["shippingAddress", "countryCode"], "message": "Country is not supported"}
                ],
            }
        first, last = new.get("firstName"), new.get("lastName")
        order["shippingAddress"] = {
            "name": " ".join(p for p in (first, last) if p) or None,
            "firstName": first,
            "lastName": last,
            "address1": new.get("address1"),
            "address2": new.get("address2"),
            "city": new.get("city"),
            "province": new.get("provinceCode"),
            "provinceCode": new.get("provinceCode"),
            "zip": new.get("zip"),
            "country": COUNTRY_NAMES[country],
            "countryCodeV2": country,
            "phone": new.get("phone") or (order.get("shippingAddress") or {}).get("phone"),
        }
        world.state.audit_increment("order_addresses_updated", gid("Order", order["id"]))
    for key in ("email", "note"):
        if input.get(key) is not None:
            order[key] = input[key]
    if input.get("tags") is not None:
        order["tags"] = list(input["tags"])
    order["updatedAt"] = iso(world.now())
    world.state.put("shopify_order", str(order["id"]), order)
    return {"order": order_view(world, order, info.context.base_url), "userErrors": []}


@mutation_field("fulfillmentTrackingInfoUpdate")
def resolve_fulfillment_tracking_info_update(
    root: Any,
    info: GraphQLResolveInfo,
    fulfillmentId: str,
    trackingInfoInput: dict[str, Any],
    notifyCustomer: bool | None = None,
) -> dict[str, Any]:
    world = world_of(info)
    number = gid_number(fulfillmentId, "Fulfillment")
    for order in world.state.all("shopify_order"):
        record = next((f for f in order.get("fulfillments", []) if str(f["id"]) == number), None)
        if record is None:
            continue
        numbers = trackingInfoInput.get("numbers") or (
            [trackingInfoInput["number"]] if trackingInfoInput.get("number") else []
        )
        urls = trackingInfoInput.get("urls") or (
            [trackingInfoInput["url"]] if trackingInfoInput.get("url") else []
        )
        if numbers:
            record["trackingInfo"] = [
                {
                    "company": trackingInfoInput.get("company"),
                    "number": n,
                    "url": urls[i] if i < len(urls) else None,
                }
                for i, n in enumerate(numbers)
            ]
        order["updatedAt"] = iso(world.now())
        world.state.put("shopify_order", str(order["id"]), order)
        if notifyCustomer:
            world.state.audit_increment("shipping_confirmations_sent", gid("Order", order["id"]))
        return {
            "fulfillment": {**record, "id": gid("Fulfillment", record["id"])},
            "userErrors": [],
        }
    return {
        "fulfillment": None,
        "userErrors": [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}],
    }
