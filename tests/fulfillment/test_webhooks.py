"""The webhook receiver: valid, forged, malformed, stale, duplicate deliveries; the sandbox's emitter."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.sensors.fulfillment import new_store_orders
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import webhook_events
from dropship_pipelines.webhooks import create_webhook_app
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.pipelines import subscribe_webhooks
from dropship_testkit.sandbox_server import serving
from tests.fulfillment.helpers import place

SECRET = "test-secret"
BODY = json.dumps({"id": 1, "admin_graphql_api_id": "gid://shopify/Order/1", "name": "#1001"}).encode()


def signed(body: bytes, secret: str = SECRET, webhook_id: str = "wh-1", when: datetime | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode(),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "sandbox-store.myshopify.com",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Triggered-At": (when or datetime.now(UTC)).isoformat(),
    }


def events(store_url: str) -> list:
    with get_engine(store_url).connect() as conn:
        return conn.execute(sa.select(webhook_events).order_by(webhook_events.c.seq)).all()


def test_receiver_records_valid_once_and_refuses_forged_malformed_and_stale(store_url):
    client = TestClient(create_webhook_app(secret=SECRET, store_url=store_url))
    ok = client.post("/webhooks/shopify", content=BODY, headers=signed(BODY))
    assert ok.status_code == 200 and ok.json() == {"status": "recorded"}
    again = client.post("/webhooks/shopify", content=BODY, headers=signed(BODY))
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}

    forged = client.post(
        "/webhooks/shopify", content=BODY, headers=signed(BODY, secret="wrong", webhook_id="f")
    )
    assert forged.status_code == 401
    tampered = client.post("/webhooks/shopify", content=BODY + b" ", headers=signed(BODY, webhook_id="t"))
    assert tampered.status_code == 401
    unsigned = {k: v for k, v in signed(BODY, webhook_id="u").items() if k != "X-Shopify-Hmac-Sha256"}
    assert client.post("/webhooks/shopify", content=BODY, headers=unsigned).status_code == 401
    malformed = b'{"id": 1,'
    bad = client.post("/webhooks/shopify", content=malformed, headers=signed(malformed, webhook_id="m"))
    assert bad.status_code == 400
    stale = client.post(
        "/webhooks/shopify",
        content=BODY,
        headers=signed(BODY, webhook_id="s", when=datetime.now(UTC) - timedelta(days=3)),
    )
    assert stale.status_code == 401

    recorded = events(store_url)
    assert [e.webhook_id for e in recorded] == ["wh-1"]
    assert recorded[0].resource_id == "gid://shopify/Order/1"


def test_sandbox_deliveries_verify_and_duplicates_are_recorded_once_and_sensor_fires(
    sandbox, store_url, pipeline_env
):
    # The receiver's secret comes from the environment (SHOPIFY_WEBHOOK_SECRET).
    with serving(create_webhook_app(store_url=store_url), "webhook receiver") as base:
        sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
        subscribe_webhooks(store_url, base)  # as the pipelines do at start: the store sends only there
        sandbox.control("POST", "/webhooks", {"duplicate_rate": 1.0})  # every delivery sent twice
        list_products(sandbox.world, store_url, 2)
        orders = place(sandbox, 5)
        deadline = time.monotonic() + 15
        while sandbox.control("GET", "/webhooks")["pending"] or len(events(store_url)) < 5:
            assert time.monotonic() < deadline, sandbox.control("GET", "/webhooks")
            time.sleep(0.1)
        time.sleep(0.3)  # the duplicates follow the originals
        recorded = events(store_url)
        assert sorted(e.resource_id for e in recorded) == sorted(o["id"] for o in orders)
        assert all(e.payload["admin_graphql_api_id"] == e.resource_id for e in recorded)
        assert sandbox.audit()["webhooks_delivered"] == {"orders/create": 5}

        resources = build_resources()
        with dg.build_sensor_context(resources=resources) as context:
            first = new_store_orders(context)
            assert isinstance(first, dg.RunRequest) and first.run_key
            second = new_store_orders(dg.build_sensor_context(cursor=context.cursor, resources=resources))
            assert isinstance(second, dg.SkipReason) and "no order created after" in second.skip_message
