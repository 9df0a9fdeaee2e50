"""The gate end to end over the sandbox's HTTP APIs: the fulfillment job holds what fails at the store with
Shopify's reason and never pays the supplier for it; a release lets it through once; a cancel cancels it at
the store; the buffer keeps young orders back; two overlapping runs make one hold."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from dropship_pipelines.rules.fulfillment import supplier_order_number
from dropship_pipelines.rules.order_gate import GatePolicy
from dropship_pipelines.rules.support_policy import SupportPolicy
from dropship_pipelines.services.order_actions import OrderActions
from dropship_pipelines.services.order_gate import OrderGate
from dropship_pipelines.store.database import get_engine
from tests.fulfillment.helpers import run_fulfillment
from tests.order_gate.conftest import GateWorld


def _gate(world: GateWorld, built: object) -> tuple[OrderGate, OrderActions]:
    engine = get_engine(world.store_url)
    gate = OrderGate(engine, built.shopify, built.supplier, GatePolicy(), run_id="test")  # type: ignore[attr-defined]
    actions = OrderActions(engine, built.shopify, built.supplier, SupportPolicy())  # type: ignore[attr-defined]
    return gate, actions


def test_a_risky_order_is_held_never_sent_and_a_release_sends_it_once(
    gate_world: GateWorld, built: object
) -> None:
    gate_world.settings(order_risk_rate=1.0)
    risky = gate_world.place(3)
    gate_world.settings(order_risk_rate=0.0)
    clean = gate_world.place(1)
    gate_world.run()
    gate_world.run()  # a second run changes nothing: the held stay held, no second hold

    numbers = {supplier_order_number(o["name"]) for o in risky}
    assert not numbers & set(gate_world.at_supplier()), "a risky order reached the supplier"
    assert supplier_order_number(clean[0]["name"]) in gate_world.at_supplier()
    assert gate_world.audit("risky_orders_placed") == {o["id"]: 1 for o in risky}
    assert gate_world.audit("fulfillment_holds_created") == {o["id"]: 1 for o in risky}
    ledger = gate_world.ledger_holds()
    for order in risky:
        (hold,) = gate_world.store_holds(order["id"])
        assert hold["reason"] == "HIGH_RISK_OF_FRAUD" and "fraud risk" in hold["reasonNotes"]
        assert ledger[order["id"]]["state"] == "held" and ledger[order["id"]]["hold_id"] == hold["id"]

    gate, actions = _gate(gate_world, built)
    released, cancelled = risky[0], risky[1]
    assert gate.release(released["id"], by="ops").done
    again = gate.release(released["id"], by="ops")  # a second click: already released, nothing sent
    assert again.done and again.state == "released"
    assert gate_world.store_holds(released["id"]) == []
    assert gate.cancel(cancelled["id"], by="ops", actions=actions).done
    assert gate_world.audit("orders_cancelled") == {cancelled["id"]: 1}
    gate_world.run()
    gate_world.run()

    at_supplier = gate_world.at_supplier()
    assert at_supplier.get(supplier_order_number(released["name"])) == 1, "released: sent once"
    assert supplier_order_number(cancelled["name"]) not in at_supplier
    assert supplier_order_number(risky[2]["name"]) not in at_supplier
    assert gate_world.audit("flagged_orders_sent_unreleased") == {}
    assert gate_world.audit("supplier_orders_while_held") == {}
    assert gate_world.audit("fulfillment_holds_released") == {released["id"]: 1}
    states = {k: v["state"] for k, v in gate_world.ledger_holds().items()}
    assert states == {released["id"]: "released", cancelled["id"]: "cancelled", risky[2]["id"]: "held"}


def test_invalid_address_out_of_stock_and_dear_orders_are_held_with_their_reasons(
    gate_world: GateWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate_world.settings(invalid_address_rate=1.0)
    (bad_address,) = gate_world.place(1)
    gate_world.settings(invalid_address_rate=0.0)
    (no_stock,) = gate_world.place(1)
    world = gate_world.sandbox.world
    sold_out = []
    with world.lock, world.state:  # the supplier sells out of the ordered variant after checkout
        doc = world.state.get("shopify_order", no_stock["id"].rsplit("/", 1)[-1])
        for line in doc["lineItems"]:
            product = next(
                p
                for p in world.state.all("cj_product")
                if any(v["variantSku"] == line["sku"] for v in p["variants"])
            )
            variant = next(v for v in product["variants"] if v["variantSku"] == line["sku"])
            stored = world.state.get("cj_variant", variant["vid"])
            sold_out.append(stored)
            world.state.put("cj_variant", variant["vid"], {**stored, "inventoryNum": 0})
    gate_world.run()
    with world.lock, world.state:  # back in stock: the next order is held for its cost alone
        for stored in sold_out:
            world.state.put("cj_variant", stored["vid"], stored)
    assert gate_world.store_holds(bad_address["id"])[0]["reason"] == "INCORRECT_ADDRESS"
    assert gate_world.store_holds(no_stock["id"])[0]["reason"] == "INVENTORY_OUT_OF_STOCK"
    assert gate_world.audit("invalid_address_orders_placed") == {bad_address["id"]: 1}

    monkeypatch.setenv("ORDER_GATE_MIN_CONTRIBUTION", "1000")  # a floor no order reaches
    (dear,) = gate_world.place(1)
    gate_world.run()
    (hold,) = gate_world.store_holds(dear["id"])
    assert hold["reason"] == "OTHER" and "below the floor 1000" in hold["reasonNotes"]
    sent = set(gate_world.at_supplier())
    assert not {supplier_order_number(o["name"]) for o in (bad_address, no_stock, dear)} & sent
    assert gate_world.audit("flagged_orders_sent_unreleased") == {}


def test_the_buffer_keeps_a_young_order_back_without_holding_it(
    gate_world: GateWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate_world.sandbox.control("POST", "/clock", {"sim_now": datetime.now(UTC).isoformat()})
    (young,) = gate_world.place(1)  # placed now, by the pipelines' clock too
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "60")
    gate_world.run()
    number = supplier_order_number(young["name"])
    assert number not in gate_world.at_supplier() and gate_world.store_holds(young["id"]) == []
    assert gate_world.ledger_holds() == {}
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "0")  # the hour has passed
    gate_world.run()
    assert gate_world.at_supplier().get(number) == 1


def test_the_buffer_is_measured_on_the_stores_clock_not_this_machines(
    gate_world: GateWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The world's clock is weeks behind this machine's (it starts on 2026-11-01): on the wall clock every
    order would be past its buffer at once. On the store's clock (Shopify's Date header) it waits the hour
    of the world's time, and goes once the world's hour has passed."""
    clock = gate_world.sandbox.control("GET", "/clock")
    assert datetime.fromisoformat(clock["sim_now"]) < datetime.now(UTC) - timedelta(days=1)
    (young,) = gate_world.place(1)
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "60")
    gate_world.run()
    number = supplier_order_number(young["name"])
    assert number not in gate_world.at_supplier() and gate_world.store_holds(young["id"]) == []
    gate_world.sandbox.control("POST", "/clock", {"advance_seconds": 30 * 60})
    gate_world.run()
    assert number not in gate_world.at_supplier(), "sent half an hour (store time) into its hour"
    gate_world.sandbox.control("POST", "/clock", {"advance_seconds": 31 * 60})
    gate_world.run()
    assert gate_world.at_supplier().get(number) == 1


def test_two_overlapping_runs_put_one_hold_on_each_order(gate_world: GateWorld) -> None:
    gate_world.settings(order_risk_rate=1.0)
    risky = gate_world.place(4)
    results = []
    runs = [threading.Thread(target=lambda: results.append(run_fulfillment())) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert all(r.success for r in results)
    assert gate_world.audit("fulfillment_holds_created") == {o["id"]: 1 for o in risky}
    assert all(len(gate_world.store_holds(o["id"])) == 1 for o in risky)
    assert not {supplier_order_number(o["name"]) for o in risky} & set(gate_world.at_supplier())
