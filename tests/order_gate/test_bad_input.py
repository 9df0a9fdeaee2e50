"""Bad input to the hold mutations, refused as the Admin API refuses it, and the client's reading of it: a
retried hold finds the one that landed, a crashed claim is resolved by the hold's handle."""

from typing import Any

import pytest
import sqlalchemy as sa

from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.shopify import holds
from dropship_pipelines.resources.shopify.client import ShopifyUserError
from dropship_pipelines.services.order_gate import hold_handle
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.order_gate_tables import order_holds
from tests.order_gate.conftest import GateWorld

HOLD = holds.FULFILLMENT_ORDER_HOLD


def _fulfillment_order(built: Any, order_gid: str) -> str:
    order = holds.gate_order(built.shopify, order_gid)
    assert order is not None
    return order.fulfillment_orders[0].id


def _hold(built: Any, fo_id: str, **hold: Any) -> dict[str, Any]:
    variables = {"id": fo_id, "fulfillmentHold": {"reason": "OTHER", **hold}}
    return built.shopify.execute(HOLD, variables)["fulfillmentOrderHold"]


def test_the_hold_mutations_refuse_bad_input_with_the_apis_user_errors(
    gate_world: GateWorld, built: Any
) -> None:
    (order,) = gate_world.place(1)
    fo_id = _fulfillment_order(built, order["id"])
    missing = _hold(built, "gid://shopify/FulfillmentOrder/1")
    assert (
        missing["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"
        and missing["fulfillmentHold"] is None
    )
    with pytest.raises(PermanentApiError, match="FulfillmentHoldReason"):
        _hold(built, fo_id, reason="SUSPICIOUS")  # not an enum value: a GraphQL error, nothing held
    with pytest.raises(PermanentApiError, match="reason"):
        built.shopify.execute(HOLD, {"id": fo_id, "fulfillmentHold": {"reasonNotes": "no reason"}})
    too_long = _hold(built, fo_id, reasonNotes="x" * 256)
    assert too_long["userErrors"][0]["field"] == ["fulfillmentHold", "reasonNotes"]
    line = {"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 1}
    twice = _hold(built, fo_id, fulfillmentOrderLineItems=[line, line])
    assert twice["userErrors"][0]["code"] == "DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS"
    first = _hold(built, fo_id, handle="h1", reasonNotes="check the card")
    assert first["userErrors"] == [] and first["fulfillmentOrder"]["status"] == "ON_HOLD"
    again = _hold(built, fo_id, handle="h1")
    assert again["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
    assert gate_world.audit("fulfillment_holds_created") == {order["id"]: 1}

    with pytest.raises(ShopifyUserError, match="Fulfillment order does not exist") as refused:
        holds.release_hold(
            built.shopify, "gid://shopify/FulfillmentOrder/1", [first["fulfillmentHold"]["id"]]
        )
    assert refused.value.code == "FULFILLMENT_ORDER_NOT_FOUND"
    other = holds.release_hold(built.shopify, fo_id, ["gid://shopify/FulfillmentHold/1"])  # not its hold
    assert other.status == "ON_HOLD" and len(other.holds) == 1  # someone else's id releases nothing
    released = holds.release_hold(built.shopify, fo_id, [first["fulfillmentHold"]["id"]])
    assert released.status == "OPEN" and released.holds == []


def test_a_retried_hold_returns_the_one_that_landed(gate_world: GateWorld, built: Any) -> None:
    (order,) = gate_world.place(1)
    fo_id = _fulfillment_order(built, order["id"])
    first = holds.hold_fulfillment_order(built.shopify, fo_id, reason="OTHER", notes="dear", handle="gate-x")
    retried = holds.hold_fulfillment_order(
        built.shopify, fo_id, reason="OTHER", notes="dear", handle="gate-x"
    )
    assert retried.id == first.id
    assert gate_world.audit("fulfillment_holds_created") == {order["id"]: 1}


def test_a_claim_a_dead_run_left_is_resolved_by_the_holds_handle(gate_world: GateWorld, built: Any) -> None:
    """The run claimed, held at the store and died before recording it: the next run records that hold."""
    gate_world.settings(order_risk_rate=1.0)
    (order,) = gate_world.place(1)
    fo_id = _fulfillment_order(built, order["id"])
    landed = holds.hold_fulfillment_order(
        built.shopify, fo_id, reason="HIGH_RISK_OF_FRAUD", notes="dead run", handle=hold_handle(order["id"])
    )
    engine = get_engine(gate_world.store_url)
    gate_world.run()  # into the ledger; the gate claims, finds our handle taken and reads the hold back
    with engine.begin() as conn:  # make it look like the dead run's claim: claimed, stale, no hold id
        conn.execute(
            sa.update(order_holds)
            .where(order_holds.c.order_id == order["id"])
            .values(state="claimed", hold_id=None, updated_at=sa.func.datetime("now", "-1 hour"))
        )
    gate_world.run()
    with engine.connect() as conn:
        row = (
            conn.execute(sa.select(order_holds).where(order_holds.c.order_id == order["id"])).mappings().one()
        )
    assert row["state"] == "held" and row["hold_id"] == landed.id
    assert gate_world.audit("fulfillment_holds_created") == {order["id"]: 1}
