"""The store's view of each order's risk: Shopify's fraud assessment and its address validation, drawn per
order at the world's rates (`order_risk_rate`, `invalid_address_rate`; both 0 unless set), and the ground
truth the audit needs about them.

Drawn from an RNG of its own, seeded by the order, so switching the rates on never changes which customers,
addresses or baskets a world produces. Counted at the source:
- `risky_orders_placed`, `invalid_address_orders_placed` (per order GID): what the world made;
- `fulfillment_holds_created`, `fulfillment_holds_released` (per order GID): what the store received;
- at the supplier's `createOrder` (`audit_supplier_order`): `supplier_orders_while_held` (an order whose
  fulfillment order was on hold when its supplier order was made) and `flagged_orders_sent_unreleased` (a
  risky or invalid-address order at the supplier with no hold released on it): both must stay at zero.
"""

from typing import Any

from dropship_sandbox.world import World

LINE_INDEX = "shopify_line_order"  # store line item id -> the order it belongs to
RISKY_FACTS = (
    "The billing address is far from the IP address's location",
    "Several payment attempts with different cards",
    "The card's issuing country differs from the shipping country",
)
SAFE_FACTS = ("The card passed the CVV check", "The customer has ordered before")


def assess(world: World, doc: dict[str, Any]) -> None:
    """Give a new order its risk summary and its address's validation result (in place)."""
    rng = world.rng("order_risk", doc["id"])
    risky = rng.random() < world.settings.order_risk_rate
    invalid = rng.random() < world.settings.invalid_address_rate
    if risky:
        facts = [{"description": d, "sentiment": "NEGATIVE"} for d in rng.sample(RISKY_FACTS, 2)]
        doc["risk"] = {"recommendation": "CANCEL", "assessments": [{"riskLevel": "HIGH", "facts": facts}]}
    else:
        facts = [{"description": rng.choice(SAFE_FACTS), "sentiment": "POSITIVE"}]
        doc["risk"] = {"recommendation": "ACCEPT", "assessments": [{"riskLevel": "LOW", "facts": facts}]}
    address = doc.get("shippingAddress")
    if address is not None:
        address["validationResultSummary"] = "ERROR" if invalid else "NO_ISSUES"
    invalid = invalid and address is not None
    doc["_sim"].update(risky=risky, invalid_address=invalid)
    for fo in doc["fulfillmentOrders"]:
        fo.setdefault("fulfillmentHolds", [])
    order_gid = f"gid://shopify/Order/{doc['id']}"
    if risky:
        world.state.audit_increment("risky_orders_placed", order_gid)
    if invalid:
        world.state.audit_increment("invalid_address_orders_placed", order_gid)
    for line in doc["lineItems"]:
        world.state.put(LINE_INDEX, str(line["id"]), {"order_id": str(doc["id"])})


def order_of_lines(world: World, store_line_ids: list[str]) -> dict[str, Any] | None:
    """The store order a supplier order's lines (`storeLineItemId`, a LineItem GID or number) belong to."""
    for line_id in store_line_ids:
        link = world.state.get(LINE_INDEX, str(line_id).rsplit("/", 1)[-1])
        if link is not None:
            return world.state.get("shopify_order", link["order_id"])
    return None


def audit_supplier_order(world: World, store_line_ids: list[str]) -> None:
    """Called as the supplier creates an order: was its store order held, or flagged and never released?"""
    order = order_of_lines(world, store_line_ids)
    if order is None:
        return
    order_gid = f"gid://shopify/Order/{order['id']}"
    if any(fo.get("status") == "ON_HOLD" for fo in order.get("fulfillmentOrders", [])):
        world.state.audit_increment("supplier_orders_while_held", order_gid)
    sim = order.get("_sim") or {}
    if (sim.get("risky") or sim.get("invalid_address")) and not sim.get("hold_released"):
        world.state.audit_increment("flagged_orders_sent_unreleased", order_gid)
