"""Actions, not promises, end to end on the sandbox: a refund, a cancellation and an address change are
made at the store (Shopify's refundCreate / orderCancel / orderUpdate over HTTP), recorded once in the
ledger, and only then stated to the customer; repeated and overlapping runs make each of them once."""

import threading
from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.support.assets import support_replies, support_tickets
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.shopify.client import ShopifyUserError
from dropship_pipelines.resources.shopify.models import AddressInput
from dropship_pipelines.rules.reply_draft import ActionKind
from dropship_pipelines.rules.support_policy import SupportPolicy
from dropship_pipelines.services.order_actions import OrderActions
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_testkit.sandbox_world import outgoing
from tests.support.conftest import SupportWorld

EXACT = {"intent_accuracy": 1.0}  # the sandbox model reads every intent right: these tests are about actions


def actions(world: SupportWorld) -> list[dict]:
    with get_engine(world.store_url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(order_actions))]


def ledger_order(world: SupportWorld, name: str) -> dict:
    with get_engine(world.store_url).connect() as conn:
        return dict(conn.execute(sa.select(store_orders).where(store_orders.c.name == name)).one()._mapping)


def replies_to(world: SupportWorld, ticket_id: int) -> list[str]:
    return [m["body_text"] for m in outgoing(world.sandbox.world) if m["ticket_id"] == ticket_id]


def audit(world: SupportWorld, kind: str) -> dict[str, int]:
    return world.sandbox.audit().get(kind, {})


def test_refund_and_cancel_are_made_at_the_store_once_and_only_then_stated(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    shipped, new = world.order("#1003"), world.order("#1005")  # 19.90 each, under the refund limit
    refund_ticket = world.writes(
        "Hello, I want a refund for order #1003, it is not what I expected.",
        intent="refund",
        email=shipped.email,
        order=shipped.name,
    )
    cancel_ticket = world.writes(
        "Hi, please cancel my order #1005, I ordered it by mistake.",
        intent="cancel",
        email=new.email,
        order=new.name,
    )

    result = world.run()
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())

    # The ledger and the store agree: one refund of the order's total, carrying the action's key.
    done = {(a["order_name"], a["kind"]): a for a in actions(world) if a["state"] == "done"}
    refund = done[("#1003", "refund")]
    assert Decimal(str(refund["amount"])) == shipped.total and refund["currency"] == "USD"
    store_refunds = world.store_order("#1003")["refunds"]
    assert [(r["note"], Decimal(r["amount"])) for r in store_refunds] == [
        (refund["action_key"], shipped.total)
    ]
    assert world.store_order("#1003")["displayFinancialStatus"] == "REFUNDED"
    (refund_reply,) = replies_to(world, refund_ticket)
    assert "We have refunded $19.90 to your original payment method." in refund_reply

    # The cancellation: cancelled (and its payment refunded) at the store, cancelled in the ledger.
    assert ("#1005", "cancel") in done
    cancelled = world.store_order("#1005")
    assert cancelled["cancelledAt"] and cancelled["cancelReason"] == "CUSTOMER"
    assert [Decimal(r["amount"]) for r in cancelled["refunds"]] == [new.total]
    assert ledger_order(world, "#1005")["state"] == "cancelled"
    assert ledger_order(world, "#1005")["cancelled_at"] is not None
    (cancel_reply,) = replies_to(world, cancel_ticket)
    assert "We have cancelled your order." in cancel_reply

    # Run again, and ask again on the same tickets: nothing is made twice at the store.
    world.writes("Did you refund me?", intent="refund", email=shipped.email, ticket_id=refund_ticket)
    assert world.run().success
    assert audit(world, "refunds_created") == {
        "gid://shopify/Order/1003": 1,
        "gid://shopify/Order/1005": 1,
    }
    assert audit(world, "orders_cancelled") == {"gid://shopify/Order/1005": 1}
    assert len([a for a in actions(world) if a["kind"] == "refund"]) == 1


def test_an_order_at_the_supplier_is_not_cancelled_and_a_large_refund_goes_to_a_human(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    delivered, expensive = world.order("#1004"), world.order("#1007")  # shipped; 64.50 over the limit
    world.writes("Cancel my order #1004 please.", intent="cancel", email=delivered.email, order="#1004")
    world.writes("Refund order #1007 now.", intent="refund", email=expensive.email, order="#1007")

    assert world.run().success
    refused = {a["order_name"]: a for a in actions(world)}
    assert refused["#1004"]["state"] == "refused" and "shipped" in refused["#1004"]["reason"]
    assert refused["#1007"]["state"] == "refused" and "limit" in refused["#1007"]["reason"]
    assert audit(world, "orders_cancelled") == {} and audit(world, "refunds_created") == {}
    assert outgoing(world.sandbox.world) == []  # no promise was sent either: both wait for a human


def test_the_address_is_changed_at_the_store_and_in_the_ledger_once(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    order = ledger_order(world, "#1001")  # not yet at the supplier
    address = AddressInput(
        first_name="Alex",
        last_name="Doe",
        address1="77 Lakeview Dr",
        city="Denver",
        province_code="CO",
        zip="80202",
        country_code="US",
    )
    with dg.build_resources(
        {"shopify": build_resources()["shopify"], "supplier": build_resources()["supplier"]}
    ) as built:
        desk = OrderActions(
            engine=get_engine(world.store_url),
            store=built.shopify,
            supplier=built.supplier,
            policy=SupportPolicy(),
        )
        first = desk.change_address(order["order_id"], address, origin="support-ticket:T1", run_id="r1")
        again = desk.change_address(order["order_id"], address, origin="support-ticket:T1", run_id="r2")
        at_supplier = ledger_order(world, "#1002")  # sent to the supplier: its address is fixed
        refused = desk.change_address(
            at_supplier["order_id"], address, origin="support-ticket:T2", run_id="r1"
        )

    assert first.done and again.done and first.kind is ActionKind.ADDRESS_CHANGE
    stored = world.store_order("#1001")["shippingAddress"]
    assert (stored["address1"], stored["city"], stored["zip"]) == ("77 Lakeview Dr", "Denver", "80202")
    ledger = ledger_order(world, "#1001")["shipping_address"]
    assert (ledger["address1"], ledger["city"], ledger["countryCodeV2"]) == ("77 Lakeview Dr", "Denver", "US")
    assert audit(world, "order_addresses_updated") == {"gid://shopify/Order/1001": 1}
    assert not refused.done and "supplier" in refused.reason
    assert world.store_order("#1002")["shippingAddress"]["address1"] == "1 Main St"


def test_two_overlapping_runs_on_separate_instances_refund_once(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    for name in ("#1002", "#1003", "#1006"):
        seeded = world.order(name)
        world.writes(f"I want a refund for order {name}.", intent="refund", email=seeded.email, order=name)
    resources = build_resources()
    outcomes: list[bool] = []

    def run() -> None:
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.materialize(
                [support_tickets, support_replies],
                resources=resources,
                instance=instance,
                raise_on_error=False,
            )
            outcomes.append(result.success)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [True, True]
    assert audit(world, "refunds_created") == {
        "gid://shopify/Order/1002": 1,
        "gid://shopify/Order/1003": 1,
        "gid://shopify/Order/1006": 1,
    }
    assert all(n == 1 for n in audit(world, "support_replies_sent").values())
    refunds = [a for a in actions(world) if a["kind"] == "refund"]
    assert sorted(a["order_name"] for a in refunds) == ["#1002", "#1003", "#1006"]
    assert all(a["state"] == "done" for a in refunds)


def supplier_has(world: SupportWorld, number: int, status: str) -> None:
    """The supplier (sandbox CJ) holds the seeded supplier order of #<number> in `status`."""
    sandbox = world.sandbox.world
    with sandbox.lock, sandbox.state:
        sandbox.state.put(
            "cj_order",
            f"CJ{number}",
            {
                "orderId": f"CJ{number}",
                "orderNum": f"shopify-{number}",
                "orderStatus": status,
                "orderAmount": 6.5,
                "productAmount": 4.0,
                "postageAmount": 2.5,
                "logisticName": "CJPacket Ordinary",
                "trackNumber": None,
                "trackingUrl": None,
                "productList": [],
                "_sim": {},
            },
        )
        sandbox.state.put("cj_order_number", f"shopify-{number}", {"orderId": f"CJ{number}"})


def test_an_unpaid_supplier_order_is_withdrawn_before_the_cancel_and_a_paid_one_is_not(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    supplier_has(world, 1002, "CREATED")  # created at the supplier, not paid: it can be withdrawn
    supplier_has(world, 1006, "UNSHIPPED")  # paid, waiting to ship: too late
    for name in ("#1002", "#1006"):
        world.writes(
            f"Please cancel order {name}.", intent="cancel", email=world.order(name).email, order=name
        )

    assert world.run().success
    assert audit(world, "supplier_orders_deleted") == {"shopify-1002": 1}
    assert audit(world, "orders_cancelled") == {"gid://shopify/Order/1002": 1}
    by_order = {a["order_name"]: a for a in actions(world)}
    assert by_order["#1002"]["state"] == "done"
    assert by_order["#1002"]["detail"]["supplier_order_withdrawn"] == "CJ1002"
    assert by_order["#1006"]["state"] == "refused" and "paid" in by_order["#1006"]["reason"]
    assert ledger_order(world, "#1002")["state"] == "cancelled"
    assert world.store_order("#1006")["cancelledAt"] is None


def test_the_tracking_details_are_sent_again_by_the_store_once(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    shipped, new = ledger_order(world, "#1003"), ledger_order(world, "#1001")
    with dg.build_resources(
        {"shopify": build_resources()["shopify"], "supplier": build_resources()["supplier"]}
    ) as built:
        desk = OrderActions(
            engine=get_engine(world.store_url),
            store=built.shopify,
            supplier=built.supplier,
            policy=SupportPolicy(),
        )
        sent = desk.resend_tracking(shipped["order_id"], origin="support-ticket:T9", run_id="r1")
        again = desk.resend_tracking(shipped["order_id"], origin="support-ticket:T9", run_id="r2")
        untracked = desk.resend_tracking(new["order_id"], origin="support-ticket:T8", run_id="r1")
    assert sent.done and again.done
    assert audit(world, "shipping_confirmations_sent") == {"gid://shopify/Order/1003": 1}
    assert not untracked.done and "no tracking" in untracked.reason


def test_the_stores_refusals_come_back_as_typed_user_errors(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    with dg.build_resources({"shopify": build_resources()["shopify"]}) as built:
        shopify = built.shopify
        order = shopify.order_state("gid://shopify/Order/1005")
        assert order is not None and order.refundable == world.order("#1005").total
        with pytest.raises(ShopifyUserError, match="greater than the refundable amount"):
            shopify.create_refund(order, order.refundable + 1, note="too-much")
        shopify.cancel_order(order.id, refund=False, note="first")
        with pytest.raises(ShopifyUserError, match="already been cancelled") as twice:
            shopify.cancel_order(order.id, refund=False, note="second")
        assert twice.value.errors[0]["code"] == "INVALID"
        with pytest.raises(ShopifyUserError, match="fulfillments"):
            shopify.cancel_order("gid://shopify/Order/1003", refund=True)  # shipped
        with pytest.raises(ShopifyUserError, match="does not exist"):
            shopify.update_shipping_address(
                "gid://shopify/Order/999999",
                AddressInput(address1="1 A St", city="Austin", zip="78701", country_code="US"),
            )
    assert world.store_order("#1005")["refunds"] == []  # nothing refused was half made


def test_an_address_change_asked_in_a_message_is_made_when_the_operator_lets_the_agent(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    new = world.order("#1001")  # not yet at the supplier
    ticket = world.writes(
        "Hi, I moved. Please change the shipping address of order #1001 to my new one.",
        intent="change_address",
        email=new.email,
        order=new.name,
    )
    automatic = [*SupportPolicy().auto_intents, "change_address"]

    assert world.run(policy={"auto_intents": automatic}).success
    (done,) = [a for a in actions(world) if a["kind"] == "address_change"]
    assert done["state"] == "done"
    stored = world.store_order("#1001")["shippingAddress"]
    assert ledger_order(world, "#1001")["shipping_address"]["address1"] == stored["address1"] != "1 Main St"
    assert audit(world, "order_addresses_updated") == {"gid://shopify/Order/1001": 1}
    (reply,) = replies_to(world, ticket)
    assert "We have updated the shipping address of your order." in reply
    assert stored["address1"] not in reply  # the address itself is never echoed


@pytest.mark.parametrize("machine_days_ahead", [0, 400])
def test_the_refund_window_is_counted_on_the_stores_clock(
    support_world, monkeypatch: pytest.MonkeyPatch, machine_days_ahead: int
) -> None:
    """The order's date is the store's: so is "today". A refund inside the window on the store's clock is
    made however far this machine's calendar has run on (the sandbox world is set in the past)."""
    from datetime import timedelta

    from dropship_pipelines.store import order_action_queries

    real_now = order_action_queries.now
    monkeypatch.setattr(order_action_queries, "now", lambda: real_now() + timedelta(days=machine_days_ahead))
    world: SupportWorld = support_world(orders=4, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    shipped = world.order("#1003")
    world.writes(
        "Hello, I want a refund for order #1003, it is not what I expected.",
        intent="refund",
        email=shipped.email,
        order=shipped.name,
    )
    assert world.run().success
    done = {(a["order_name"], a["kind"]) for a in actions(world) if a["state"] == "done"}
    assert ("#1003", "refund") in done
    assert audit(world, "refunds") or world.store_order("#1003")["refunds"]
