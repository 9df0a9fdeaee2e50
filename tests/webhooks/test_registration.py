"""Webhooks registered by the pipelines: every Shopify topic a workflow consumes and CJ's message settings,
made once however often the check runs, repaired when one went missing, and the sandbox delivering only
to subscribed URLs (as Shopify and CJ do)."""

import time

import httpx
import pytest
import sqlalchemy as sa

from dropship_pipelines.resources.shopify import webhooks as shopify_webhooks
from dropship_pipelines.resources.shopify.client import ShopifyUserError
from dropship_pipelines.services.webhook_subscriptions import NOT_CONFIGURED, ensure_webhooks
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import webhook_events
from dropship_pipelines.store.write_mode_queries import subscription_rows
from dropship_pipelines.webhooks import create_webhook_app
from dropship_sandbox.apis.cj_webhooks import callback_url
from dropship_sandbox.apis.shopify.webhook_subscriptions import KIND
from dropship_sandbox.webhooks import queue_cj_message
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.pipelines import built_resources
from dropship_testkit.sandbox_server import serving
from tests.fulfillment.helpers import place

BASE = "https://hooks.example-store.com"


def _ensure(store_url: str, base: str = BASE) -> list:
    with built_resources("shopify", "supplier") as built:
        return ensure_webhooks(
            get_engine(store_url), built.shopify, built.supplier, base_url=base, run_id="test-run"
        )


def test_registers_every_topic_once_and_repairs_a_missing_one(sandbox, store_url, pipeline_env):
    first = _ensure(store_url)
    assert {(o.service, o.topic, o.outcome) for o in first} == {
        *(("shopify", t, "created") for t in shopify_webhooks.TOPICS),
        ("cj", "messages", "set"),
    }
    second = _ensure(store_url)  # checked again at the next start: nothing made twice
    assert {o.outcome for o in second} == {"present"}
    created = sandbox.audit()["webhook_subscriptions_created"]
    assert created == {f"{t} {BASE}/webhooks/shopify": 1 for t in shopify_webhooks.TOPICS}
    assert sandbox.audit()["cj_webhook_settings"] == {"logistics,order,product,stock": 1}
    for kind in ("product", "stock", "order", "logistics"):
        assert callback_url(sandbox.world, kind) == f"{BASE}/webhooks/cj"
    with get_engine(store_url).connect() as conn:
        rows = subscription_rows(conn)
    assert {r["state"] for r in rows} == {"registered"} and len(rows) == len(shopify_webhooks.TOPICS) + 1
    assert all(
        r["remote_id"].startswith("gid://shopify/WebhookSubscription/")
        for r in rows
        if r["service"] == "shopify"
    )

    # Someone deletes the refunds subscription at the store: the next check makes just that one again.
    with sandbox.world.lock, sandbox.world.state:
        gone = next(s for s in sandbox.world.state.all(KIND) if s["topic"] == "REFUNDS_CREATE")
        sandbox.world.state.delete(KIND, gone["id"])
    third = _ensure(store_url)
    assert [o.topic for o in third if o.outcome == "created"] == ["REFUNDS_CREATE"]
    assert sandbox.audit()["webhook_subscriptions_created"][f"REFUNDS_CREATE {BASE}/webhooks/shopify"] == 2


def test_without_a_base_url_nothing_is_registered_and_the_check_says_why(sandbox, store_url, pipeline_env):
    outcomes = _ensure(store_url, base="")
    assert [(o.outcome, o.detail) for o in outcomes] == [("skipped", NOT_CONFIGURED)]
    assert "webhook_subscriptions_created" not in sandbox.audit()


def test_sandbox_refuses_bad_addresses_as_shopify_and_cj_do(sandbox, store_url, pipeline_env):
    with built_resources("shopify") as built:
        _refusals(built.shopify, pipeline_env)


def _refusals(shopify, pipeline_env) -> None:
    with pytest.raises(ShopifyUserError, match="Address protocol ftp:// is not supported"):
        shopify_webhooks.create_webhook_subscription(shopify, "ORDERS_CREATE", "ftp://example.com/hook")
    with pytest.raises(ShopifyUserError, match="Address protocol http:// is not supported"):
        shopify_webhooks.create_webhook_subscription(shopify, "ORDERS_CREATE", "http://example.com/hook")
    # Shopify's enum: an unknown topic is refused while the variables are coerced.
    with pytest.raises(Exception, match="ORDERS_EXPLODED"):
        shopify_webhooks.create_webhook_subscription(shopify, "ORDERS_EXPLODED", BASE + "/x")
    cj = httpx.Client(base_url=pipeline_env["CJ_BASE_URL"])
    token = cj.post("/authentication/getAccessToken", json={"apiKey": pipeline_env["CJ_API_KEY"]}).json()
    headers = {"CJ-Access-Token": token["data"]["accessToken"]}
    two = {"product": {"type": "ENABLE", "callbackUrls": [BASE + "/a", BASE + "/b"]}}
    answer = cj.post("/webhook/set", json=two, headers=headers).json()
    assert answer["result"] is False and answer["code"] == 1600300 and "only one URL" in answer["message"]
    plain = {"order": {"type": "ENABLE", "callbackUrls": ["http://example.com/cj"]}}
    answer = cj.post("/webhook/set", json=plain, headers=headers).json()
    assert answer["result"] is False and "public https" in answer["message"]
    assert cj.post("/webhook/set", json={}, headers=headers).json()["code"] == 1600300


def _events(store_url: str) -> list:
    with get_engine(store_url).connect() as conn:
        return conn.execute(sa.select(webhook_events)).all()


def test_the_store_delivers_only_to_subscribed_urls(sandbox, store_url, pipeline_env):
    with serving(create_webhook_app(store_url=store_url), "webhook receiver") as base:
        sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
        list_products(sandbox.world, store_url, 2)
        place(sandbox, 2)
        time.sleep(0.5)
        assert sandbox.control("GET", "/webhooks")["deliveries"] == []  # nobody subscribed: nothing sent
        assert _events(store_url) == []

        _ensure(store_url, base=base)  # the pipelines' start check subscribes the receiver
        orders = place(sandbox, 3)
        deadline = time.monotonic() + 15
        while len(_events(store_url)) < 3:
            assert time.monotonic() < deadline, sandbox.control("GET", "/webhooks")
            time.sleep(0.1)
        assert sorted(e.resource_id for e in _events(store_url)) == sorted(o["id"] for o in orders)
        deliveries = sandbox.control("GET", "/webhooks")["deliveries"]
        assert {d["url"] for d in deliveries} == {base + "/webhooks/shopify"}


def test_cj_messages_go_to_the_registered_url_signed(sandbox, store_url, pipeline_env, monkeypatch):
    monkeypatch.setenv("CJ_OPEN_ID", "5550001")  # the receiver checks CJ's sign with the account's openId
    with serving(create_webhook_app(store_url=store_url), "webhook receiver") as base:
        message = {
            "messageId": "ca72a4834cd14b9588e88ce206f614a0",
            "type": "PRODUCT",
            "messageType": "UPDATE",
            "openId": 5550001,
            "params": {
                "pid": "1424608189734850560",
                "productDescription": "new",
                "fields": ["productDescription"],
            },
        }
        with sandbox.world.lock, sandbox.world.state:
            queue_cj_message(sandbox.world, "product", message)  # nothing registered yet: not sent
        assert sandbox.control("GET", "/webhooks")["deliveries"] == []
        _ensure(store_url, base=base)
        with sandbox.world.lock, sandbox.world.state:
            queue_cj_message(sandbox.world, "product", message)
        deadline = time.monotonic() + 15
        while sandbox.control("GET", "/webhooks")["pending"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        [delivery] = sandbox.control("GET", "/webhooks")["deliveries"]
        assert delivery["url"] == base + "/webhooks/cj" and delivery["status"] == "delivered", delivery
