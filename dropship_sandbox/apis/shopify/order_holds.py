"""Fulfillment holds: `fulfillmentOrderHold` and `fulfillmentOrderReleaseHold`, strict as the Admin API.

A hold puts the whole fulfillment order ON_HOLD (fulfillmentCreate then refuses it as not open); a handle
is unique per app and fulfillment order (DUPLICATE_FULFILLMENT_HOLD_HANDLE), an app may keep at most 10
holds on one (FULFILLMENT_ORDER_HOLD_LIMIT_REACHED); line items, when given, must be the fulfillment
order's, once each, with quantities above zero, and all of it (the sandbox does not split a fulfillment
order: FULFILLMENT_ORDER_NOT_SPLITTABLE). Releasing with `holdIds` releases only those of this fulfillment
order's holds; without, all of them; the fulfillment order is OPEN again when none is left. Every hold and
release is counted at the source (`fulfillment_holds_created`, `fulfillment_holds_released` per order).
"""

from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox.apis.shopify.common import MAX_PAGE, gid, gid_number, world_of
from dropship_sandbox.apis.shopify.orders import order_view
from dropship_sandbox.apis.shopify.registry import mutation_field
from dropship_sandbox.world import World

MAX_HOLDS_PER_APP = 10
HOLDABLE = ("OPEN", "IN_PROGRESS", "ON_HOLD")
DISPLAY_REASONS = {
    "AWAITING_PAYMENT": "Awaiting payment",
    "AWAITING_RETURN_ITEMS": "Awaiting return items",
    "HIGH_RISK_OF_FRAUD": "High risk of fraud",
    "INCORRECT_ADDRESS": "Incorrect address",
    "INVENTORY_OUT_OF_STOCK": "Inventory out of stock",
    "ONLINE_STORE_POST_PURCHASE_CROSS_SELL": "Post purchase cross sell",
    "OTHER": "Other",
    "UNKNOWN_DELIVERY_DATE": "Unknown delivery date",
}


def _owner(world: World, fulfillment_order_gid: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    number = gid_number(fulfillment_order_gid, "FulfillmentOrder")
    link = world.state.get("shopify_fulfillment_order", number or "")
    order = world.state.get("shopify_order", link["order_id"]) if link else None
    if order is None:
        return None
    fo = next((f for f in order["fulfillmentOrders"] if str(f["id"]) == number), None)
    return (order, fo) if fo is not None else None


def _fo_view(world: World, info: GraphQLResolveInfo, order: dict[str, Any], fo_gid: str) -> dict[str, Any]:
    view = order_view(world, order, info.context.base_url)
    return next(fo for fo in view["fulfillmentOrders"](info, first=MAX_PAGE)["nodes"] if fo["id"] == fo_gid)


def _hold_refused(field: list[str], message: str, code: str | None) -> dict[str, Any]:
    return {
        "fulfillmentHold": None,
        "fulfillmentOrder": None,
        "remainingFulfillmentOrder": None,
        "userErrors": [{"field": field, "message": message, "code": code}],
    }


def _line_items_refusal(fo: dict[str, Any], wanted: list[dict[str, Any]]) -> dict[str, Any] | None:
    field = ["fulfillmentHold", "fulfillmentOrderLineItems"]
    items = {gid("FulfillmentOrderLineItem", i["id"]): i for i in fo["lineItems"]}
    ids = [item["id"] for item in wanted]
    if len(set(ids)) != len(ids):
        return _hold_refused(
            field, "The line items are not unique.", "DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS"
        )
    for position, item in enumerate(wanted):
        target = items.get(item["id"])
        if target is None:
            return _hold_refused(
                [*field, str(position), "id"],
                "Fulfillment order line item does not exist.",
                "INVALID_LINE_ITEM_QUANTITY",
            )
        if item["quantity"] <= 0:
            return _hold_refused(
                [*field, str(position), "quantity"], "Quantity must be greater than 0.", "GREATER_THAN_ZERO"
            )
        if item["quantity"] > target["remainingQuantity"]:
            return _hold_refused(
                [*field, str(position), "quantity"],
                f"Quantity {item['quantity']} is more than the remaining {target['remainingQuantity']}.",
                "INVALID_LINE_ITEM_QUANTITY",
            )
    whole = len(wanted) == len(items) and all(
        item["quantity"] == items[item["id"]]["remainingQuantity"] for item in wanted
    )
    if not whole or fo["status"] == "ON_HOLD":
        return _hold_refused(
            field, "The fulfillment order is not in a splittable state.", "FULFILLMENT_ORDER_NOT_SPLITTABLE"
        )
    return None


@mutation_field("fulfillmentOrderHold")
def resolve_fulfillment_order_hold(
    root: Any, info: GraphQLResolveInfo, id: str, fulfillmentHold: dict[str, Any]
) -> dict[str, Any]:
    world = world_of(info)
    found = _owner(world, id)
    if found is None:
        return _hold_refused(["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
    order, fo = found
    if fo["status"] not in HOLDABLE:
        return _hold_refused(
            ["id"], f"The fulfillment order's status {fo['status']} cannot be put on hold.", None
        )
    wanted = fulfillmentHold.get("fulfillmentOrderLineItems") or []
    if wanted:
        refused = _line_items_refusal(fo, wanted)
        if refused is not None:
            return refused
    holds = fo.setdefault("fulfillmentHolds", [])
    handle = fulfillmentHold.get("handle") or ""
    if handle and any(h.get("handle") == handle for h in holds):
        return _hold_refused(
            ["fulfillmentHold", "handle"],
            "The handle provided for the fulfillment hold is already in use by this app for another hold on "
            "this fulfillment order.",
            "DUPLICATE_FULFILLMENT_HOLD_HANDLE",
        )
    if len(holds) >= MAX_HOLDS_PER_APP:
        return _hold_refused(
            ["id"],
            "The maximum number of fulfillment holds for this fulfillment order has been reached for this "
            "app.",
            "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
        )
    notes = fulfillmentHold.get("reasonNotes")
    if notes is not None and len(notes) > 255:
        return _hold_refused(
            ["fulfillmentHold", "reasonNotes"],
            "Reason notes is too long (maximum is 255 characters).",
            "TAKEN",
        )
    reason = fulfillmentHold["reason"]
    hold = {
        "id": gid("FulfillmentHold", world.new_id("fulfillment_hold", 8_800_000_000)),
        "reason": reason,
        "reasonNotes": notes,
        "handle": handle,
        "displayReason": DISPLAY_REASONS.get(reason, reason.title()),
        "heldByRequestingApp": True,
        "externalId": fulfillmentHold.get("externalId"),
        "notifyMerchant": bool(fulfillmentHold.get("notifyMerchant")),
    }
    holds.append(hold)
    fo["status"] = "ON_HOLD"
    world.state.put("shopify_order", str(order["id"]), order)
    world.state.audit_increment("fulfillment_holds_created", gid("Order", order["id"]))
    return {
        "fulfillmentHold": hold,
        "fulfillmentOrder": _fo_view(world, info, order, id),
        "remainingFulfillmentOrder": None,
        "userErrors": [],
    }


@mutation_field("fulfillmentOrderReleaseHold")
def resolve_fulfillment_order_release_hold(
    root: Any,
    info: GraphQLResolveInfo,
    id: str,
    holdIds: list[str] | None = None,
    externalId: str | None = None,
) -> dict[str, Any]:
    world = world_of(info)
    found = _owner(world, id)
    if found is None:
        return {
            "fulfillmentOrder": None,
            "userErrors": [
                {
                    "field": ["id"],
                    "message": "Fulfillment order does not exist.",
                    "code": "FULFILLMENT_ORDER_NOT_FOUND",
                }
            ],
        }
    order, fo = found
    holds = fo.get("fulfillmentHolds") or []
    releasing = [h for h in holds if holdIds is None or h["id"] in holdIds]
    fo["fulfillmentHolds"] = [h for h in holds if h not in releasing]
    if releasing:
        if not fo["fulfillmentHolds"] and fo["status"] == "ON_HOLD":
            fo["status"] = "OPEN"
        order.setdefault("_sim", {})["hold_released"] = True
        world.state.put("shopify_order", str(order["id"]), order)
        world.state.audit_increment("fulfillment_holds_released", gid("Order", order["id"]))
    return {"fulfillmentOrder": _fo_view(world, info, order, id), "userErrors": []}
