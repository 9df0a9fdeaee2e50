"""Shopify Admin GraphQL for the order gate: an order's risk assessment and address validation, and the
fulfillment holds put on (and released from) its fulfillment orders.

- `order.risk { recommendation assessments { riskLevel facts { description sentiment } } }` (2024-04+,
  `OrderRiskSummary`); `shippingAddress.validationResultSummary` (2024-07+, null when not validated).
- `fulfillmentOrderHold(id:, fulfillmentHold: FulfillmentOrderHoldInput!)`: reason, reasonNotes,
  notifyMerchant, handle (unique per app and fulfillment order: a retried hold whose answer was lost is
  refused as DUPLICATE_FULFILLMENT_HOLD_HANDLE and read back instead); `FulfillmentOrderHoldUserError`.
- `fulfillmentOrderReleaseHold(id:, holdIds:, externalId:)`; `FulfillmentOrderReleaseHoldUserError`.
"""

from typing import Any

from pydantic import AliasPath, Field

from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, ShopifyUserError, _parse
from dropship_pipelines.resources.shopify.models import ShopifyModel
from dropship_pipelines.rules.order_gate import HoldReason

DUPLICATE_HANDLE = "DUPLICATE_FULFILLMENT_HOLD_HANDLE"


class RiskFact(ShopifyModel):
    description: str
    sentiment: str  # NEGATIVE | NEUTRAL | POSITIVE


class RiskAssessment(ShopifyModel):
    risk_level: str = Field(alias="riskLevel")  # HIGH | MEDIUM | LOW | NONE | PENDING
    facts: list[RiskFact] = Field(default_factory=list)


class OrderRisk(ShopifyModel):
    recommendation: str  # ACCEPT | CANCEL | INVESTIGATE | NONE
    assessments: list[RiskAssessment] = Field(default_factory=list)


class FulfillmentHold(ShopifyModel):
    id: str
    reason: str
    reason_notes: str | None = Field(default=None, alias="reasonNotes")
    handle: str | None = None
    held_by_requesting_app: bool | None = Field(default=None, alias="heldByRequestingApp")


class HeldFulfillmentOrder(ShopifyModel):
    id: str
    status: str
    holds: list[FulfillmentHold] = Field(default_factory=list, alias="fulfillmentHolds")

    def hold_with(self, handle: str) -> FulfillmentHold | None:
        return next((h for h in self.holds if h.handle == handle), None)


class GateOrder(ShopifyModel):
    """What the gate reads of an order: its risk, its address's validation, its fulfillment orders."""

    id: str
    name: str
    cancelled_at: str | None = Field(default=None, alias="cancelledAt")
    risk: OrderRisk | None = None
    country_code: str | None = Field(
        default=None, validation_alias=AliasPath("shippingAddress", "countryCodeV2")
    )
    address_validation: str | None = Field(
        default=None, validation_alias=AliasPath("shippingAddress", "validationResultSummary")
    )
    fulfillment_orders: list[HeldFulfillmentOrder] = Field(
        default_factory=list, validation_alias=AliasPath("fulfillmentOrders", "nodes")
    )

    @property
    def risk_levels(self) -> tuple[str, ...]:
        return tuple(a.risk_level for a in self.risk.assessments) if self.risk else ()

    @property
    def negative_facts(self) -> tuple[str, ...]:
        if self.risk is None:
            return ()
        return tuple(
            f.description for a in self.risk.assessments for f in a.facts if f.sentiment == "NEGATIVE"
        )

    @property
    def holdable(self) -> list[HeldFulfillmentOrder]:
        """The fulfillment orders a hold can go on (open, or already on hold by someone)."""
        return [fo for fo in self.fulfillment_orders if fo.status in ("OPEN", "IN_PROGRESS", "ON_HOLD")]

    def hold_with(self, handle: str) -> tuple[HeldFulfillmentOrder, FulfillmentHold] | None:
        for fo in self.fulfillment_orders:
            hold = fo.hold_with(handle)
            if hold is not None:
                return fo, hold
        return None


_HOLDS = "fulfillmentHolds { id reason reasonNotes handle heldByRequestingApp }"
GATE_ORDER = f"""
query GateOrder($id: ID!) {{
  order(id: $id) {{
    id name cancelledAt
    risk {{ recommendation assessments {{ riskLevel facts {{ description sentiment }} }} }}
    shippingAddress {{ countryCodeV2 validationResultSummary }}
    fulfillmentOrders(first: 5) {{ nodes {{ id status {_HOLDS} }} }}
  }}
}}
"""

FULFILLMENT_ORDER_HOLD = f"""
mutation FulfillmentOrderHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {{
  fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {{
    fulfillmentHold {{ id reason reasonNotes handle heldByRequestingApp }}
    fulfillmentOrder {{ id status {_HOLDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

FULFILLMENT_ORDER_RELEASE_HOLD = f"""
mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!], $externalId: String) {{
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds, externalId: $externalId) {{
    fulfillmentOrder {{ id status {_HOLDS} }}
    userErrors {{ field message code }}
  }}
}}
"""


def gate_order(shopify: ShopifyAdminResource, order_id: str) -> GateOrder | None:
    """The order's risk assessment, address validation and fulfillment orders with their holds."""
    order = shopify.execute(GATE_ORDER, {"id": order_id})["order"]
    return _parse(GateOrder, order, f"order {order_id}") if order else None


def hold_fulfillment_order(
    shopify: ShopifyAdminResource,
    fulfillment_order_id: str,
    *,
    reason: HoldReason,
    notes: str,
    handle: str,
    notify_merchant: bool = False,
) -> FulfillmentHold:
    """Put the whole fulfillment order on hold under `handle`. A retry after a lost answer is refused by
    Shopify as a duplicate handle: the hold that landed is then read back and returned, never a second one."""
    variables: dict[str, Any] = {
        "id": fulfillment_order_id,
        "fulfillmentHold": {
            "reason": reason,
            "reasonNotes": notes[:255],
            "notifyMerchant": notify_merchant,
            "handle": handle,
        },
    }

    def hold_once() -> FulfillmentHold:
        payload = shopify.execute(FULFILLMENT_ORDER_HOLD, variables, retry=False)["fulfillmentOrderHold"]
        errors = payload["userErrors"]
        if errors and all(e.get("code") == DUPLICATE_HANDLE for e in errors):
            found = _fulfillment_order(payload) or _read_fulfillment_order(shopify, fulfillment_order_id)
            hold = found.hold_with(handle) if found else None
            if hold is not None:
                return hold
        if errors:
            raise ShopifyUserError("fulfillmentOrderHold", errors)
        return _parse(FulfillmentHold, payload["fulfillmentHold"], "fulfillmentOrderHold")

    return call_with_retries(hold_once, max_attempts=shopify.max_attempts)


def release_hold(
    shopify: ShopifyAdminResource, fulfillment_order_id: str, hold_ids: list[str], *, external_id: str = ""
) -> HeldFulfillmentOrder:
    """Release our holds (by id: never someone else's) on the fulfillment order; its state after."""
    data = shopify.execute(
        FULFILLMENT_ORDER_RELEASE_HOLD,
        {"id": fulfillment_order_id, "holdIds": hold_ids, "externalId": external_id or None},
    )
    payload = data["fulfillmentOrderReleaseHold"]
    if payload["userErrors"]:
        raise ShopifyUserError("fulfillmentOrderReleaseHold", payload["userErrors"])
    return _parse(HeldFulfillmentOrder, payload["fulfillmentOrder"], "fulfillmentOrderReleaseHold")


def _fulfillment_order(payload: dict[str, Any]) -> HeldFulfillmentOrder | None:
    node = payload.get("fulfillmentOrder")
    return _parse(HeldFulfillmentOrder, node, "fulfillmentOrderHold") if node else None


FULFILLMENT_ORDER_HOLDS = f"""
query FulfillmentOrderHolds($id: ID!) {{ fulfillmentOrder(id: $id) {{ id status {_HOLDS} }} }}
"""


def _read_fulfillment_order(
    shopify: ShopifyAdminResource, fulfillment_order_id: str
) -> HeldFulfillmentOrder | None:
    node = shopify.execute(FULFILLMENT_ORDER_HOLDS, {"id": fulfillment_order_id})["fulfillmentOrder"]
    return _parse(HeldFulfillmentOrder, node, "fulfillmentOrder") if node else None
