"""Orders: `orders(query:, sortKey:)` with search filters, `order(id)`, and `fulfillmentCreate`."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox import parcels
from dropship_sandbox.apis.shopify import disputes
from dropship_sandbox.apis.shopify.common import (
    MAX_PAGE,
    connection,
    decode_cursor,
    encode_cursor,
    gid,
    gid_number,
    world_of,
)
from dropship_sandbox.apis.shopify.products import product_view
from dropship_sandbox.apis.shopify.registry import mutation_field, query_field
from dropship_sandbox.shop_orders import iso
from dropship_sandbox.world import World

_TERM = re.compile(r"""(\w+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+)""")
_SORT_FIELDS = {"CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt", "PROCESSED_AT": "processedAt"}
NOT_OPEN = "The fulfillment order is not in an open state."
NOT_ASSESSED = {"recommendation": "NONE", "assessments": []}  # an order from before risk was simulated


def _money(amount: str, currency: str = "USD") -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if op == ">":
        return actual > wanted
    if op == ">=":
        return actual >= wanted
    if op == "<":
        return actual < wanted
    if op == "<=":
        return actual <= wanted
    return actual == wanted


def matches(doc: dict[str, Any], query: str | None) -> bool:
    """Shopify search syntax for the terms stores use on orders; unknown terms are ignored (as Shopify)."""
    for name, op, raw in _TERM.findall(query or ""):
        value = raw.strip("'\"")
        if name in ("created_at", "updated_at", "processed_at"):
            field = {"created_at": "createdAt", "updated_at": "updatedAt", "processed_at": "processedAt"}[
                name
            ]
            try:
                wanted = _when(value)
            except ValueError:
                return False
            if not _compare(_when(doc[field]), op, wanted):
                return False
        elif name == "fulfillment_status":
            status = doc["displayFulfillmentStatus"].lower()
            wanted_status = {"shipped": "fulfilled", "unshipped": "unfulfilled"}.get(
                value.lower(), value.lower()
            )
            if wanted_status != "any" and status != wanted_status:
                return False
        elif name == "financial_status":
            if value.lower() != "any" and doc["displayFinancialStatus"].lower() != value.lower():
                return False
        elif name == "status":
            closed = doc["displayFulfillmentStatus"] == "FULFILLED"
            state = "cancelled" if doc["cancelledAt"] else ("closed" if closed else "open")
            if value.lower() != "any" and state != value.lower():
                return False
        elif name == "name":
            if doc["name"].lstrip("#") != value.lstrip("#"):
                return False
        elif name == "id" and not _compare(int(doc["id"]), op, int(value)):
            return False
    return True


def _variant_view(world: World, variant_id: int | None, base_url: str) -> dict[str, Any] | None:
    if variant_id is None:
        return None
    variant = world.state.get("shopify_variant", str(variant_id))
    if variant is None:
        return None
    product = world.state.get("shopify_product", str(variant["product_id"]))

    return {
        **variant,
        "id": gid("ProductVariant", variant["id"]),
        "inventoryItem": {"id": gid("InventoryItem", variant["id"]), "sku": variant.get("sku")},
        "product": (lambda info: product_view(world, product, base_url)) if product else None,
    }


def refunded_amount(doc: dict[str, Any]) -> Decimal:
    return sum((Decimal(r["amount"]) for r in doc.get("refunds", [])), Decimal(0))


def sale_transaction_id(doc: dict[str, Any]) -> str:
    """The order's payment (one SALE per order in the sandbox): the parent of its refunds."""
    return gid("OrderTransaction", doc["id"])


def _transactions(world: World, doc: dict[str, Any]) -> list[dict[str, Any]]:
    sale = {
        "id": sale_transaction_id(doc),
        "kind": "SALE",
        "status": "SUCCESS",
        "gateway": parcels.payment(world, doc)["gateway"],  # with its fees (parcels.py)
        "amountSet": parcels.presentment_money(world, doc, doc["totalPrice"]),
        "fees": parcels.sale_fees(world, doc),
        "parentTransaction": None,
    }
    refunds = [
        {
            "id": gid("OrderTransaction", r["id"]),
            "kind": "REFUND",
            "status": "SUCCESS",
            "gateway": sale["gateway"],
            "amountSet": parcels.presentment_money(world, doc, r["amount"]),
            "fees": [],
            "parentTransaction": sale,
        }
        for r in doc.get("refunds", [])
    ]
    return [sale, *refunds]


def order_view(world: World, doc: dict[str, Any], base_url: str) -> dict[str, Any]:
    """An order as resolvers see it: connections are callables taking GraphQL arguments."""
    lines_by_id = {line["id"]: line for line in doc["lineItems"]}

    def line_view(line: dict[str, Any]) -> dict[str, Any]:
        return {
            **line,
            "id": gid("LineItem", line["id"]),
            "variant": lambda info: _variant_view(world, line["variantId"], base_url),
            "originalUnitPriceSet": _money(line["price"]),
        }

    def fo_line_view(item: dict[str, Any]) -> dict[str, Any]:
        return {
            **item,
            "id": gid("FulfillmentOrderLineItem", item["id"]),
            "lineItem": line_view(lines_by_id[item["lineItemId"]]),
        }

    def fo_view(fo: dict[str, Any]) -> dict[str, Any]:
        return {
            **fo,
            "id": gid("FulfillmentOrder", fo["id"]),
            "fulfillmentHolds": fo.get("fulfillmentHolds", []),  # apis/shopify/order_holds.py
            "assignedLocation": {
                "name": "Shop location",
                "location": {"id": gid("Location", 1), "name": "Shop"},
            },
            "lineItems": lambda info, first=None, after=None: connection(
                fo["lineItems"], first, after, key=lambda i: i["id"], view=fo_line_view
            ),
        }

    customer = doc.get("customer")
    return {
        **{k: v for k, v in doc.items() if not k.startswith("_")},
        "id": gid("Order", doc["id"]),
        "customer": None
        if customer is None
        else {
            **customer,
            "id": gid("Customer", customer["id"]),
            "displayName": f"{customer['firstName']} {customer['lastName']}",
        },
        "totalPriceSet": parcels.presentment_money(world, doc, doc["totalPrice"]),
        "presentmentCurrencyCode": parcels.payment(world, doc)["presentment_currency"],
        "totalRefundedSet": _money(f"{refunded_amount(doc):.2f}", doc.get("currencyCode", "USD")),
        "cancelReason": doc.get("cancelReason"),
        "disputes": lambda info: disputes.summaries(doc),  # apis/shopify/disputes.py
        "risk": doc.get("risk") or NOT_ASSESSED,  # dropship_sandbox/order_risk.py
        "refunds": lambda info, first=None: [
            {
                "id": gid("Refund", r["id"]),
                "note": r.get("note"),
                "createdAt": r["createdAt"],
                "totalRefundedSet": _money(r["amount"], doc.get("currencyCode", "USD")),
            }
            for r in doc.get("refunds", [])[: first or None]
        ],
        "transactions": lambda info, first=None: _transactions(world, doc)[: first or None],
        "subtotalPriceSet": _money(doc["subtotalPrice"]),
        "lineItems": lambda info, first=None, after=None: connection(
            doc["lineItems"], first, after, key=lambda i: i["id"], view=line_view
        ),
        "fulfillmentOrders": lambda info, first=None, after=None: connection(
            doc["fulfillmentOrders"], first, after, key=lambda f: f["id"], view=fo_view
        ),
        "fulfillments": lambda info, first=None: [
            {
                **f,
                "id": gid("Fulfillment", f["id"]),
                "trackingInfo": lambda info, first=None, f=f: f["trackingInfo"][: first or None],
            }
            for f in doc["fulfillments"][: first or None]
        ],
    }


def _find_order(world: World, order_gid: str) -> dict[str, Any] | None:
    number = gid_number(order_gid, "Order")
    return world.state.get("shopify_order", number) if number else None


@query_field("order")
def resolve_order(root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    world = world_of(info)
    doc = _find_order(world, id)
    return order_view(world, doc, info.context.base_url) if doc else None


@query_field("fulfillmentOrder")
def resolve_fulfillment_order(root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    world = world_of(info)
    link = world.state.get("shopify_fulfillment_order", gid_number(id, "FulfillmentOrder") or "")
    doc = world.state.get("shopify_order", link["order_id"]) if link else None
    if doc is None:
        return None
    view = order_view(world, doc, info.context.base_url)
    return next(
        (fo for fo in view["fulfillmentOrders"](info, first=MAX_PAGE)["nodes"] if fo["id"] == id), None
    )


@query_field("orders")
def resolve_orders(
    root: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    query: str | None = None,
    sortKey: str | None = None,
    reverse: bool = False,
) -> dict[str, Any]:
    """Cursor pagination by (sort value, id): a cursor stays valid when later orders arrive or change."""
    if first is None:
        raise ValueError("you must provide one of first or last")
    if first > MAX_PAGE:
        raise ValueError(f"The first argument must be at most {MAX_PAGE}")
    world = world_of(info)
    field = _SORT_FIELDS.get(sortKey or "ID")

    def key(doc: dict[str, Any]) -> list[Any]:
        return [doc[field] if field else "", int(doc["id"])]

    docs = sorted(
        (d for d in world.state.all("shopify_order") if matches(d, query)), key=key, reverse=reverse
    )
    last = decode_cursor(after)
    if last is not None:
        docs = [d for d in docs if (key(d) < last if reverse else key(d) > last)]
    window = docs[:first]
    nodes = [order_view(world, d, info.context.base_url) for d in window]
    return {
        "nodes": nodes,
        "edges": [{"cursor": encode_cursor(key(d)), "node": n} for d, n in zip(window, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": len(docs) > first,
            "hasPreviousPage": last is not None,
            "startCursor": encode_cursor(key(window[0])) if window else None,
            "endCursor": encode_cursor(key(window[-1])) if window else None,
        },
    }


def _refuse(field: list[str], message: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [{"field": field, "message": message}]}


@mutation_field("fulfillmentCreate")
def resolve_fulfillment_create(
    root: Any, info: GraphQLResolveInfo, fulfillment: dict[str, Any], message: str | None = None
) -> dict[str, Any]:
    world = world_of(info)
    groups = fulfillment["lineItemsByFulfillmentOrder"]
    if not groups:
        return _refuse(
            ["fulfillment", "lineItemsByFulfillmentOrder"], "Line items by fulfillment order is empty."
        )
    order: dict[str, Any] | None = None
    plan: list[tuple[dict[str, Any], dict[str, Any], int]] = []
    for position, group in enumerate(groups):
        number = gid_number(group["fulfillmentOrderId"], "FulfillmentOrder")
        link = world.state.get("shopify_fulfillment_order", number or "")
        owner = world.state.get("shopify_order", link["order_id"]) if link else None
        if owner is None:
            return _refuse(
                ["fulfillment", "lineItemsByFulfillmentOrder", str(position), "fulfillmentOrderId"],
                "Fulfillment order does not exist.",
            )
        if order is not None and owner["id"] != order["id"]:
            return _refuse(["fulfillment"], "All fulfillment orders must belong to the same order.")
        order = order or owner
        fo = next(f for f in order["fulfillmentOrders"] if str(f["id"]) == number)
        if fo["status"] not in ("OPEN", "IN_PROGRESS"):
            return _refuse(["fulfillment"], NOT_OPEN)
        wanted = group.get("fulfillmentOrderLineItems")
        items = {gid("FulfillmentOrderLineItem", i["id"]): i for i in fo["lineItems"]}
        if not wanted:
            plan += [(fo, i, i["remainingQuantity"]) for i in fo["lineItems"] if i["remainingQuantity"] > 0]
            continue
        for item_position, item in enumerate(wanted):
            target = items.get(item["id"])
            if target is None:
                return _refuse(
                    ["fulfillment", "lineItemsByFulfillmentOrder", str(position), "fulfillmentOrderLineItems",
                     str(item_position), "id"],
                    "Fulfillment order line item does not exist.",
                )  # fmt: skip
            if not 0 < item["quantity"] <= target["remainingQuantity"]:
                return _refuse(
                    ["fulfillment"],
                    f"Quantity {item['quantity']} is more than the remaining {target['remainingQuantity']}.",
                )
            plan.append((fo, target, item["quantity"]))
    assert order is not None
    if not plan:
        return _refuse(["fulfillment"], NOT_OPEN)
    # Mutate the copy held by `order` (the plan's dicts belong to it).
    for _, item, quantity in plan:
        item["remainingQuantity"] -= quantity
    for fo in order["fulfillmentOrders"]:
        if all(i["remainingQuantity"] == 0 for i in fo["lineItems"]):
            fo["status"], fo["requestStatus"] = "CLOSED", "CLOSED"
        elif any(i["remainingQuantity"] < i["totalQuantity"] for i in fo["lineItems"]):
            fo["status"] = "IN_PROGRESS"
    tracking = fulfillment.get("trackingInfo") or {}
    numbers = tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    urls = tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else [])
    now = iso(world.now())
    record = {
        "id": world.new_id("fulfillment", 4_900_000_000_000),
        "status": "SUCCESS",
        "createdAt": now,
        "trackingInfo": [
            {"company": tracking.get("company"), "number": n, "url": urls[i] if i < len(urls) else None}
            for i, n in enumerate(numbers)
        ],
        "notifyCustomer": bool(fulfillment.get("notifyCustomer")),
        "message": message,
    }
    order["fulfillments"].append(record)
    done = all(fo["status"] == "CLOSED" for fo in order["fulfillmentOrders"])
    order["displayFulfillmentStatus"] = "FULFILLED" if done else "PARTIALLY_FULFILLED"
    order["updatedAt"] = now
    world.state.put("shopify_order", str(order["id"]), order)
    order_gid = gid("Order", order["id"])
    world.state.audit_increment("fulfillments_created", order_gid)
    if record["notifyCustomer"]:
        world.state.audit_increment("shipping_confirmations_sent", order_gid)
    return {
        "fulfillment": {
            **record,
            "id": gid("Fulfillment", record["id"]),
            "trackingInfo": record["trackingInfo"],
        },
        "userErrors": [],
    }
