"""The soak's gate invariant sees at the source what a pipeline without the gate would do: a held, risky
order sent to the supplier anyway is counted by the sandbox's supplier and fails the audit."""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from dropship_pipelines.services.fulfillment import RoutingSettings, place_supplier_orders
from dropship_pipelines.store.database import get_engine
from dropship_testkit.soak.audit import Finding
from dropship_testkit.soak.gate_audit import audit_gate
from tests.fulfillment.helpers import run_fulfillment
from tests.order_gate.conftest import GateWorld

ROUTING = RoutingSettings(15, Decimal("0.50"), timedelta(hours=24), pay_from_balance=True)


def test_a_clean_world_passes_and_an_ungated_send_of_a_held_order_fails(
    gate_world: GateWorld, built: Any
) -> None:
    gate_world.settings(order_risk_rate=1.0)
    (risky,) = gate_world.place(1)
    result = run_fulfillment()  # the gate holds it
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert result.success and checks["no_supplier_order_while_held"] is True
    figures, findings = audit_gate(gate_world.sandbox.audit(), Finding)
    assert (
        findings == [] and figures["risky_orders_placed"] == 1 and figures["fulfillment_holds_created"] == 1
    )

    # A pipeline without the gate (gate=None) pays the supplier for the held order: the sandbox's CJ sees it.
    engine = get_engine(gate_world.store_url)
    run = place_supplier_orders(built.supplier, engine, ROUTING, 10, logging.getLogger("test"))
    assert len(run.sent) == 1
    audit = gate_world.sandbox.audit()
    assert audit["flagged_orders_sent_unreleased"] == {risky["id"]: 1}
    assert audit["supplier_orders_while_held"] == {risky["id"]: 1}
    figures, findings = audit_gate(audit, Finding)
    assert {f.kind for f in findings} == {"unsafe"} and all(f.fails for f in findings) and len(findings) == 2
    # The fulfillment workflow's blocking check sees the same in the ledger.
    checks = {c.check_name: c.passed for c in run_fulfillment().get_asset_check_evaluations()}
    assert checks["no_supplier_order_while_held"] is False
