"""The fulfillment job end to end against the sandbox over loopback, clean and with faults on."""

import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import fulfillments, store_orders, supplier_orders
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_world import sendable_numbers
from tests.fulfillment.helpers import created_at_supplier, fulfilled, place, run_fulfillment

FAULTS = {
    "rate_limit_rate": 0.08,
    "error_rate": 0.08,
    "timeout_rate": 0.05,
    "timeout_seconds": 0.2,
    "lost_response_rate": 0.15,
}


def _states(store_url: str) -> dict[str, str]:
    with get_engine(store_url).connect() as conn:
        return {r.name: r.state for r in conn.execute(sa.select(store_orders.c.name, store_orders.c.state))}


def test_every_order_reaches_supplier_once_and_customer_gets_tracking_under_faults(
    sandbox, store_url, pipeline_env
):
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 4)
    orders = place(sandbox, 40)
    wanted = sendable_numbers(orders)
    assert len(wanted) >= 30
    sandbox.control("POST", "/faults/cj", {**FAULTS, "expire_tokens": True})
    sandbox.control("POST", "/faults/shopify", {**FAULTS, "timeout_rate": 0.0})

    for _ in range(4):
        run_fulfillment()
        if set(created_at_supplier(sandbox)) >= wanted:
            break
    at_supplier = created_at_supplier(sandbox)
    assert set(at_supplier) == wanted, "every sendable order at the supplier, no other"
    assert all(count == 1 for count in at_supplier.values()), f"duplicates: {at_supplier}"
    states = _states(store_url)
    held = {o["name"] for o in orders if o["defect"]}
    assert {name for name, state in states.items() if state == "problem"} == held

    sandbox.control("POST", "/clock", {"advance_seconds": 6 * 86400})  # the warehouse ships
    for _ in range(4):
        result = run_fulfillment()
        if len(fulfilled(sandbox)) >= len(wanted):
            break
    done = fulfilled(sandbox)
    assert len(done) == len(wanted) and all(count == 1 for count in done.values()), done
    assert sandbox.audit()["shipping_confirmations_sent"] == done
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["sent_orders_are_at_supplier"] and checks["fulfillments_carry_tracking"]
    assert checks["no_orders_held"] is (not held)
    with get_engine(store_url).connect() as conn:
        assert conn.scalar(
            sa.select(sa.func.count()).select_from(fulfillments).where(fulfillments.c.state == "posted")
        ) == len(wanted)
        assert conn.scalar(
            sa.select(sa.func.count())
            .select_from(supplier_orders)
            .where(supplier_orders.c.state == "created")
        ) == len(wanted)
