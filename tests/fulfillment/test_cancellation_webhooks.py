"""The store's cancellation and refund arrive by webhook: the sandbox delivers `orders/cancelled` and
`refunds/create` to the receiver, the sensor asks for a run, and the ledger knows before any poll."""

import logging
import time

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.sensors.order_cancellations import store_cancellation_events
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import webhook_events
from dropship_pipelines.store.refund_tables import order_refunds
from dropship_pipelines.webhooks import create_webhook_app
from dropship_testkit.pipelines import subscribe_webhooks
from dropship_testkit.sandbox_server import serving
from tests.fulfillment.helpers import place
from tests.fulfillment.test_cancellations import _cases, _read, _send, _sendable, world  # noqa: F401

log = logging.getLogger("tests.cancellation_webhooks")


def _topics(store_url: str) -> list[str]:
    with get_engine(store_url).connect() as conn:
        return list(conn.execute(sa.select(webhook_events.c.topic).order_by(webhook_events.c.seq)).scalars())


def _wait_for(store_url: str, topic: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while _topics(store_url).count(topic) < count:
        assert time.monotonic() < deadline, _topics(store_url)
        time.sleep(0.1)


def test_cancellation_by_webhook_is_known_before_the_poll_and_never_sent(world, store_url):  # noqa: F811
    w, sandbox = world, world["sandbox"]
    with serving(create_webhook_app(store_url=store_url), "webhook receiver") as base:
        subscribe_webhooks(store_url, base)
        cancelled, kept = _sendable(place(sandbox, 4))[:2]
        _wait_for(store_url, "orders/create", 2)
        _read(w)
        resources = build_resources()
        with dg.build_sensor_context(resources=resources) as context:
            assert store_cancellation_events(context).skip_reason

        sandbox.control("POST", "/aftermath/cancel", {"order": cancelled["id"]})
        _wait_for(store_url, "orders/cancelled", 1)
        _wait_for(store_url, "refunds/create", 1)
        with dg.build_sensor_context(resources=resources) as context:
            first = store_cancellation_events(context)
            assert [r.asset_selection for r in first.run_requests] == [
                [dg.AssetKey("store_orders"), dg.AssetKey("store_cancellations")]
            ]
            again = store_cancellation_events(
                dg.build_sensor_context(cursor=first.cursor, resources=resources)
            )
            assert again.skip_reason and "no orders/cancelled" in again.skip_reason.skip_message

    # No poll of the store's orders since the cancellation: the webhook alone tells the ledger.
    from dropship_pipelines.services.order_cancellations import OrderCancellations

    service = OrderCancellations(w["engine"], w["shopify"], w["cj"])
    changes = service.read_store_changes("run-1", log)
    assert changes.webhook_events == 2
    assert service.handle_store_cancellations("run-1", log).outcomes == {"not_sent": 1}
    _send(w, pay=True)
    created = sandbox.audit().get("supplier_orders_created", {})
    assert "shopify-" + cancelled["name"].lstrip("#") not in created
    assert "shopify-" + kept["name"].lstrip("#") in created
    with w["engine"].connect() as conn:
        refunded = conn.execute(sa.select(order_refunds.c.order_id, order_refunds.c.amount)).all()
    assert [r.order_id for r in refunded] == [cancelled["id"]]
    assert _cases(w)[f"store:{cancelled['id']}"]["state"] == "done"


def test_a_chargeback_arrives_by_webhook_once_and_is_recorded_once(world, store_url):  # noqa: F811
    """`disputes/create` is subscribed with the other topics; the sandbox delivers it (twice here: Shopify
    delivers at least once), the receiver records it once, the sensor asks for a run, and the ledger holds
    the chargeback once however often the store's changes are read."""
    w, sandbox = world, world["sandbox"]
    with serving(create_webhook_app(store_url=store_url), "webhook receiver") as base:
        outcomes = subscribe_webhooks(store_url, base)
        assert [o.outcome for o in outcomes if o.topic == "DISPUTES_CREATE"] == ["created"]
        (disputed,) = _sendable(place(sandbox, 2))[:1]
        _wait_for(store_url, "orders/create", 1)
        _read(w)
        resources = build_resources()
        with dg.build_sensor_context(resources=resources) as context:
            assert store_cancellation_events(context).skip_reason
            cursor = context.cursor

        sandbox.control("POST", "/webhooks", {"duplicate_rate": 1.0})  # every delivery sent twice
        assert sandbox.control("POST", "/aftermath/chargeback", {"order": disputed["id"]})["happened"]
        _wait_for(store_url, "disputes/create", 1)
        deadline = time.monotonic() + 15
        while sandbox.control("GET", "/webhooks")["pending"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.3)  # the duplicate follows the original
        assert _topics(store_url).count("disputes/create") == 1, "a redelivery recorded twice"
        # Delivered to the subscription (the duplicate is sent, not counted, by the sandbox).
        assert sandbox.audit()["webhooks_delivered"]["disputes/create"] == 1
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            asked = store_cancellation_events(context)
            assert [r.run_key for r in asked.run_requests], "no run asked for the chargeback"

    from dropship_pipelines.services.order_cancellations import OrderCancellations

    service = OrderCancellations(w["engine"], w["shopify"], w["cj"])
    assert service.read_store_changes("run-1", log).webhook_events == 1
    service.read_store_changes("run-2", log)  # a second run (or the poll) adds nothing
    with w["engine"].connect() as conn:
        rows = conn.execute(
            sa.select(order_refunds.c.order_id, order_refunds.c.kind).where(
                order_refunds.c.kind == "chargeback"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(disputed["id"], "chargeback")]
