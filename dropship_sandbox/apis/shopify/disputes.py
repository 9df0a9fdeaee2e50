"""`Order.disputes` (the summaries) and `dispute(id:)` (a `ShopifyPaymentsDispute`), from the disputes
the sandbox's cardholders raise (dropship_sandbox/order_aftermath.py)."""

from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox.apis.shopify.common import gid, gid_number, world_of
from dropship_sandbox.apis.shopify.registry import query_field

KIND = "ShopifyPaymentsDispute"


def summaries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's disputes as `Order.disputes` lists them."""
    return [
        {"id": gid(KIND, d["id"]), "initiatedAs": d["initiatedAs"], "status": d["status"]}
        for d in doc.get("disputes", [])
    ]


@query_field("dispute")
def resolve_dispute(root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    from dropship_sandbox.apis.shopify.orders import order_view

    world = world_of(info)
    number = gid_number(id, KIND)
    link = world.state.get("shopify_dispute", number) if number else None
    doc = world.state.get("shopify_order", link["order_id"]) if link else None
    found = next((d for d in (doc or {}).get("disputes", []) if str(d["id"]) == number), None)
    if doc is None or found is None:
        return None
    return {
        "id": gid(KIND, found["id"]),
        "legacyResourceId": found["id"],
        "status": found["status"],
        "type": found["type"],
        "amount": {"amount": found["amount"], "currencyCode": found["currencyCode"]},
        "initiatedAt": found["initiatedAt"],
        "evidenceDueBy": found.get("evidenceDueBy"),
        "finalizedOn": found.get("finalizedOn"),
        "reasonDetails": {"reason": found["reason"], "networkReasonCode": None},
        "order": lambda info: order_view(world, doc, info.context.base_url),
    }
