"""Cancellations and refunds both ways, end to end over the sandbox's HTTP APIs: the store cancels an order
before it reaches the supplier, while the supplier order is unpaid, paid or shipped; the supplier cancels,
runs out of stock, loses a parcel or cannot be paid; two overlapping runs make each step once."""

import logging
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.rules.order_cancellations import FailurePolicy
from dropship_pipelines.services import fulfillment
from dropship_pipelines.services.order_cancellations import OrderCancellations, supplier_failed
from dropship_pipelines.store import refund_queries as rq
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders
from dropship_pipelines.store.refund_tables import order_cases, order_refunds
from dropship_testkit.ledger_seed import list_products
from tests.fulfillment.helpers import place

log = logging.getLogger("tests.cancellations")
HOUR = 3600


@pytest.fixture
def world(sandbox, store_url, pipeline_env, tmp_path: Path) -> dict[str, Any]:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 3)
    shopify = ShopifyAdminResource(
        shop_url=pipeline_env["SHOPIFY_SHOP_URL"], access_token=pipeline_env["SHOPIFY_ACCESS_TOKEN"]
    )
    cj = CJDropshippingResource(
        base_url=pipeline_env["CJ_BASE_URL"],
        api_key=pipeline_env["CJ_API_KEY"],
        requests_per_second=200,
        ip_requests_per_second=400,
        token_cache_dir=str(tmp_path / "cj-tokens"),
    )
    return {"engine": get_engine(store_url), "shopify": shopify, "cj": cj, "sandbox": sandbox}


def _read(w: dict[str, Any]) -> None:
    fulfillment.read_store_orders(w["shopify"], w["engine"], fulfillment.timedelta(minutes=2), 10)


def _send(w: dict[str, Any], pay: bool) -> fulfillment.SupplierOrdersRun:
    settings = fulfillment.RoutingSettings(
        max_shipping_days=30,
        value_of_a_day=Decimal("0.5"),
        quote_max_age=fulfillment.timedelta(hours=24),
        pay_from_balance=pay,
    )
    return fulfillment.place_supplier_orders(w["cj"], w["engine"], settings, 100, log)


def _service(w: dict[str, Any], **policy: Any) -> OrderCancellations:
    return OrderCancellations(w["engine"], w["shopify"], w["cj"], FailurePolicy(**policy))


def _sendable(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in orders if not o["defect"]]


def _number(order: dict[str, Any]) -> str:
    return "shopify-" + order["name"].lstrip("#")


def _cases(w: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with w["engine"].connect() as conn:
        return {r.case_key: dict(r._mapping) for r in conn.execute(sa.select(order_cases))}


def _store_state(w: dict[str, Any], order_id: str) -> str:
    with w["engine"].connect() as conn:
        return conn.scalar(sa.select(store_orders.c.state).where(store_orders.c.order_id == order_id))


def _clock(sandbox: Any, seconds: float) -> None:
    sandbox.control("POST", "/clock", {"advance_seconds": seconds})


def _pay(w: dict[str, Any], order: dict[str, Any]) -> None:
    w["cj"].call("POST", "/shopping/pay/payBalance", body={"orderId": _number(order)})


def test_store_cancellation_at_each_supplier_stage(world):
    w, sandbox = world, world["sandbox"]
    not_sent, unpaid, paid, shipped = _sendable(place(sandbox, 8))[:4]
    _read(w)
    sandbox.control("POST", "/aftermath/cancel", {"order": not_sent["id"]})
    _read(w)
    service = _service(w)
    first = service.handle_store_cancellations("run-1", log)
    assert first.outcomes == {"not_sent": 1}
    _send(w, pay=False)  # everything else created unpaid at CJ
    created = sandbox.audit().get("supplier_orders_created", {})
    assert _number(not_sent) not in created, "a cancelled order is never sent"
    assert _store_state(w, not_sent["id"]) == "cancelled"

    _pay(w, shipped)
    _clock(sandbox, 4.5 * 86400)  # the paid one leaves the warehouse
    _pay(w, paid)
    _clock(sandbox, 4.5 * HOUR)  # ... this one is paid and waits for shipping
    for order in (unpaid, paid, shipped):
        assert sandbox.control("POST", "/aftermath/cancel", {"order": order["id"]})["happened"]
    _read(w)
    service.read_store_changes("run-2", log)
    run = service.handle_store_cancellations("run-2", log)
    assert run.outcomes == {"withdraw": 1, "supplier_cancel": 1, "leave_shipped": 1}, run.rows

    audit = sandbox.audit()
    assert audit["supplier_orders_deleted"] == {_number(unpaid): 1}
    assert audit["supplier_orders_cancelled_by_dispute"] == {_number(paid): 1}
    assert list(audit["cj_disputes_created"].values()) == [1]
    cases = _cases(w)
    assert cases[f"store:{shipped['id']}"]["decision"] == "leave_shipped"
    assert all(c["state"] == "done" for c in cases.values())
    assert _store_state(w, unpaid["id"]) == "cancelled" and _store_state(w, paid["id"]) == "cancelled"

    again = service.handle_store_cancellations("run-3", log)  # nothing left to do, nothing done twice
    assert again.outcomes == {} and sandbox.audit()["cj_disputes_created"] == audit["cj_disputes_created"]
    with w["engine"].connect() as conn:
        refunds = conn.execute(sa.select(order_refunds).where(order_refunds.c.kind == "refund")).all()
        assert {r.order_id for r in refunds} == {o["id"] for o in (not_sent, unpaid, paid, shipped)}
        assert all(r.currency and r.presentment_currency for r in refunds)
    truth = sandbox.control("GET", "/aftermath/truth")
    assert truth["customer_cancellations"] == 4
    assert truth["supplier_paid_after_store_cancel"] == []


def test_supplier_failures_refund_dispute_and_escalate_once(world):
    w, sandbox = world, world["sandbox"]
    cancelled, out_of_stock, lost, expensive = _sendable(place(sandbox, 8))[:4]
    _read(w)
    _send(w, pay=True)
    _clock(sandbox, 5 * HOUR)  # paid, awaiting shipping
    sandbox.control("POST", "/aftermath/supplier_cancel", {"orderNumber": _number(cancelled)})
    sandbox.control("POST", "/aftermath/stockout", {"orderNumber": _number(out_of_stock)})
    service = _service(w)
    run = service.watch_supplier("run-1", log)
    assert run.outcomes == {"done": 2}, run.rows
    audit = sandbox.audit()
    assert audit["refunds_created"] == {cancelled["id"]: 1, out_of_stock["id"]: 1}
    assert sorted(k.split(":")[-1] for k in audit["cj_disputes_per_order"]) == ["2", "3"]

    # The tracking workflow's lost parcel, through the function it calls; above the limit: escalated.
    result = supplier_failed(
        lost, "lost_parcel", engine=w["engine"], shopify=w["shopify"], supplier=w["cj"], run_id="tracking"
    )
    assert result.state == "done" and result.refunded and result.dispute_id
    strict = _service(w, auto_refund_limit=Decimal("0"))
    escalated = strict.supplier_failed(expensive["id"], "damaged_parcel", run_id="tracking")
    assert escalated.state == "escalated" and escalated.refunded is None
    assert "automatic refund limit" in escalated.reason

    assert service.watch_supplier("run-2", log).outcomes == {}  # known cases, nothing new
    repeat = supplier_failed(
        lost, "lost_parcel", engine=w["engine"], shopify=w["shopify"], supplier=w["cj"], run_id="again"
    )
    assert repeat.state == "done"
    audit = sandbox.audit()
    assert (
        all(n == 1 for n in audit["refunds_created"].values())
        and expensive["id"] not in audit["refunds_created"]
    )
    assert (
        all(n == 1 for n in audit["cj_disputes_created"].values()) and len(audit["cj_disputes_created"]) == 4
    )
    cases = _cases(w)
    assert {c["state"] for c in cases.values()} == {"done", "escalated"}
    assert cases[f"supplier:{expensive['id']}:damaged_parcel"]["escalation"]

    _clock(sandbox, 4 * 86400)  # CJ settles the disputes: the money back to the balance, recorded once
    assert service.watch_supplier("run-3", log).supplier_refunds == 4
    assert service.watch_supplier("run-4", log).supplier_refunds == 0
    with w["engine"].connect() as conn:
        back = conn.execute(sa.select(rq.money_back_per_order())).all()
    assert sum(r.supplier_refunds for r in back) > 0 and len([r for r in back if r.supplier_refunds]) == 4
    assert sandbox.audit()["cj_disputes_refunded"] == {k: 1 for k in audit["cj_disputes_created"]}


def test_insufficient_balance_is_escalated_not_refunded(world):
    w, sandbox = world, world["sandbox"]
    sandbox.control("POST", "/settings", {"cj_balance": 0.0})
    orders = _sendable(place(sandbox, 3))
    _read(w)
    _send(w, pay=True)
    assert not sandbox.audit().get("supplier_orders_created")
    run = _service(w).watch_supplier("run-1", log)
    assert run.outcomes == {"escalated": len(orders)}, run.rows
    assert not sandbox.audit().get("refunds_created")
    assert all("operator" in (c["escalation"] or "") for c in _cases(w).values())

    # Each escalation is in the customer-service inbox (the dashboard's escalations list), once, however
    # often the supplier's side is watched again.
    _service(w).watch_supplier("run-2", log)
    from dropship_pipelines.store.support_tables import support_replies

    with w["engine"].connect() as conn:  # what the dashboard's escalations list reads
        query = sa.select(support_replies).where(support_replies.c.state == "escalated")
        inbox = [dict(r._mapping) for r in conn.execute(query)]
    assert len(inbox) == len(orders)
    assert sorted(r["order_name"] for r in inbox) == sorted(o["name"] for o in orders)
    assert all(r["intent"] == "supplier_failure" and "operator" in r["reason"] for r in inbox)
    assert {r["reply_key"] for r in inbox} == {f"case:{key}" for key in _cases(w)}


def test_two_overlapping_runs_make_each_step_once(world):
    w, sandbox = world, world["sandbox"]
    orders = _sendable(place(sandbox, 12))[:8]
    _read(w)
    _send(w, pay=False)
    for order in orders[:4]:
        sandbox.control("POST", "/aftermath/cancel", {"order": order["id"]})
    for order in orders[4:]:
        _pay(w, order)
    _clock(sandbox, 5 * HOUR)
    for order in orders[4:6]:
        sandbox.control("POST", "/aftermath/supplier_cancel", {"orderNumber": _number(order)})
    _read(w)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            service = _service(w)
            service.read_store_changes(name, log)
            service.handle_store_cancellations(name, log)
            service.watch_supplier(name, log)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    for name in ("late-1", "late-2"):  # whatever one run found in progress, a later run finishes
        _service(w).handle_store_cancellations(name, log)
        _service(w).watch_supplier(name, log)
    audit = sandbox.audit()
    assert audit["supplier_orders_deleted"] == {_number(o): 1 for o in orders[:4]}
    assert audit["refunds_created"] == {o["id"]: 1 for o in orders[:6]}
    assert audit["cj_disputes_created"] and all(n == 1 for n in audit["cj_disputes_created"].values())
    assert len(audit["cj_disputes_created"]) == 2
    assert {c["state"] for c in _cases(w).values()} == {"done"}


def test_staff_refunds_and_chargebacks_are_recorded_per_order(world):
    w, sandbox = world, world["sandbox"]
    refunded, disputed = _sendable(place(sandbox, 4))[:2]
    _read(w)
    _clock(sandbox, 600)  # the store stamps the change with a later updatedAt
    sandbox.control("POST", "/aftermath/refund", {"order": refunded["id"], "share": 0.5})
    sandbox.control("POST", "/aftermath/chargeback", {"order": disputed["id"]})
    _read(w)  # the poll sees both orders changed
    service = OrderCancellations(w["engine"], w["shopify"], w["cj"])
    run = service.read_store_changes("run-1", log)
    assert run.refunds_new == 2 and not run.read_errors
    assert service.read_store_changes("run-2", log).orders_read == 0  # unchanged since: not read again
    with w["engine"].begin() as conn:
        money = {r.order_id: r for r in conn.execute(sa.select(rq.money_back_per_order()))}
        rows = {r.order_id: r for r in conn.execute(sa.select(order_refunds))}
        totals = dict(conn.execute(sa.select(store_orders.c.order_id, store_orders.c.total_price)).all())
    assert money[refunded["id"]].refunds == (totals[refunded["id"]] * Decimal("0.5")).quantize(
        Decimal("0.01")
    )
    assert money[disputed["id"]].chargebacks == totals[disputed["id"]]
    assert money[disputed["id"]].chargeback_fees == Decimal("15.00")
    assert rows[disputed["id"]].status == "NEEDS_RESPONSE" and rows[disputed["id"]].reason


def test_bad_input_is_refused_with_a_clear_error(world):
    w, sandbox = world, world["sandbox"]
    service = _service(w)
    with pytest.raises(ValueError, match="unknown supplier failure reason 'melted'"):
        service.supplier_failed("gid://shopify/Order/1", "melted", run_id="r")
    with pytest.raises(ValueError, match="not in the ledger"):
        service.supplier_failed("gid://shopify/Order/404", "lost_parcel", run_id="r")
    with pytest.raises(ValueError, match="must not be negative"):
        FailurePolicy(auto_refund_limit=Decimal("-1"))
    order = _sendable(place(sandbox, 2))[0]
    _read(w)
    _send(w, pay=False)
    with w["engine"].connect() as conn:
        cj_id = conn.scalar(
            sa.select(supplier_orders.c.supplier_order_id).where(supplier_orders.c.order_id == order["id"])
        )
    cj = w["cj"]
    # An unpaid order has nothing to dispute; CJ refuses it in its envelope.
    with pytest.raises(PermanentApiError, match="has not been paid"):
        cj.call("POST", "/disputes/disputeConfirmInfo", body={"orderId": cj_id, "productInfoList": [{}]})
    _pay(w, order)
    lines = cj.call("GET", "/disputes/disputeProducts", params={"orderId": cj_id})["productInfoList"]
    good = [{"lineItemId": lines[0]["lineItemId"], "quantity": 1, "price": lines[0]["price"]}]
    body = {
        "businessDisputeId": "t-1",
        "orderId": cj_id,
        "disputeReasonId": 4,
        "expectType": 1,
        "refundType": 1,
        "messageText": "lost",
        "productInfoList": good,
    }
    for change, message in (
        ({"disputeReasonId": 99}, "not a dispute reason"),
        ({"productInfoList": [{**good[0], "quantity": 99}]}, "quantity"),
        ({"productInfoList": [{**good[0], "price": 10_000}]}, "at most the price paid"),
        ({"messageText": ""}, "messageText can not be empty"),
        ({"disputeReasonId": 1}, "cannot be cancelled"),  # CREATED in the warehouse's queue, not UNSHIPPED
    ):
        with pytest.raises(PermanentApiError, match=message):
            cj.call("POST", "/disputes/create", body={**body, **change})
    cj.call("POST", "/disputes/create", body=body)
    with pytest.raises(PermanentApiError, match="already exists"):
        cj.call("POST", "/disputes/create", body=body)
    assert sandbox.audit()["cj_disputes_created"] == {"t-1": 1}


def test_a_cj_cancellation_the_tracking_poll_read_first_is_still_a_supplier_failure(world):
    w, sandbox = world, world["sandbox"]
    cancelled = _sendable(place(sandbox, 3))[0]
    _read(w)
    _send(w, pay=True)
    _clock(sandbox, 5 * HOUR)
    sandbox.control("POST", "/aftermath/supplier_cancel", {"orderNumber": _number(cancelled)})
    # The tracking workflow polled CJ first and recorded the status (what its supplier poll writes).
    with w["engine"].begin() as conn:
        conn.execute(
            sa.update(supplier_orders)
            .where(supplier_orders.c.order_id == cancelled["id"])
            .values(supplier_status="CANCELLED")
        )
    run = _service(w).watch_supplier("run-1", log)
    assert run.outcomes == {"done": 1}, run.rows
    assert sandbox.audit()["refunds_created"] == {cancelled["id"]: 1}
    assert _service(w).watch_supplier("run-2", log).outcomes == {}  # its case exists: not watched again


def _stockout_then_cancel(w: dict[str, Any], watch_between: bool) -> dict[str, Any]:
    sandbox = w["sandbox"]
    held = _sendable(place(sandbox, 4))[0]
    _read(w)
    _send(w, pay=True)
    _clock(sandbox, 0.5 * 86400)
    assert sandbox.control("POST", "/aftermath/stockout", {"orderNumber": _number(held)})["happened"]
    service = _service(w)
    if watch_between:
        assert service.watch_supplier("run-1", log).outcomes == {"done": 1}
    _clock(sandbox, 3 * 86400)  # CJ gives up on the held order: it cancels it
    assert sandbox.control("POST", "/aftermath/supplier_cancel", {"orderNumber": _number(held)})["happened"]
    service.watch_supplier("run-2", log)
    assert service.watch_supplier("run-3", log).outcomes == {}
    return held


@pytest.mark.parametrize("watch_between", [True, False], ids=["hold-seen-first", "both-seen-at-once"])
def test_a_stockout_then_the_suppliers_cancellation_is_one_failure(world, watch_between):
    """An order that will not ship is one failure however CJ says so (held for stock, then cancelled):
    one refund, one dispute, one case; the later word is the same failure, not a second one."""
    held = _stockout_then_cancel(world, watch_between)
    audit = world["sandbox"].audit()
    assert audit["refunds_created"] == {held["id"]: 1}
    assert list(audit["cj_disputes_per_order"].values()) == [1], audit["cj_disputes_per_order"]
    cases = [c for c in _cases(world).values() if c["order_id"] == held["id"]]
    assert len(cases) == 1 and cases[0]["state"] == "done", cases
    first = "out_of_stock" if watch_between else "supplier_cancelled"
    assert cases[0]["reason"] == first


def test_a_stockout_found_weeks_later_is_still_a_supplier_failure(world):
    """The soak's settle phase: CJ holds a paid order for stock, and the next run comes 44 days later."""
    w, sandbox = world, world["sandbox"]
    held = _sendable(place(sandbox, 4))[0]
    _read(w)
    _send(w, pay=True)
    _clock(sandbox, 0.5 * 86400)
    assert sandbox.control("POST", "/aftermath/stockout", {"orderNumber": _number(held)})["happened"]
    _clock(sandbox, 44.5 * 86400)
    _read(w)
    service = _service(w)
    service.read_store_changes("run-1", log)
    service.handle_store_cancellations("run-1", log)
    run = service.watch_supplier("run-1", log)
    assert run.outcomes == {"done": 1}, run.rows
    assert _cases(w)[f"supplier:{held['id']}:out_of_stock"]["state"] == "done"
