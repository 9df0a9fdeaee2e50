"""Webhook deliveries (Shopify's and CJ's): queued in the world's state, POSTed by a background thread.

Events go only where the pipelines subscribed, as on the real services: a Shopify event to every
`webhookSubscriptionCreate` subscription of its topic (`apis/shopify/webhook_subscriptions.py`), a CJ
message to the callback URL `POST /webhook/set` enabled for its kind (`apis/cj_webhooks.py`). Nothing
subscribed: nothing is delivered.

A delivery is queued inside the request that created the event, so it is sent only after that request's
transaction committed. The body is serialized once and the HMAC is computed over exactly those bytes.
Failures (connection error, non-2xx, no answer within 5 s) are retried with backoff up to 8 times, as
Shopify does (CJ: 3); a Shopify subscription whose delivery failed 8 times is removed, as Shopify removes
subscriptions made through the API. A share of deliveries can be sent twice (`duplicate_rate`) because
Shopify does that too.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request

from dropship_sandbox.apis.pipeline import world_of
from dropship_sandbox.world import World

MAX_ATTEMPTS = 8
CJ_MAX_ATTEMPTS = 3  # CJ retries a message three times, then drops it
DELIVERY_TIMEOUT_S = 5.0
QUEUE = "webhook_queue"
router = APIRouter(prefix="/_sandbox/webhooks", tags=["sandbox control"])


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _queue(world: World, delivery: dict[str, Any]) -> None:
    world.state.put("webhook_delivery", delivery["id"], delivery)
    queue = json.loads(world.state.meta(QUEUE, "[]") or "[]")
    queue.append(delivery["id"])
    world.state.set_meta(QUEUE, json.dumps(queue))


def _delivery(delivery_id: str, topic: str, url: str, body: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "topic": topic,
        "url": url,
        "body": body,
        "triggered_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "attempts": 0,
        "next_try": 0.0,
        "status": "pending",
        "responses": [],
        **extra,
    }


def queue_webhook(world: World, topic: str, payload: dict[str, Any]) -> None:
    """Queue one delivery per subscription to `topic` (`orders/create`, ...); none subscribed: none."""
    from dropship_sandbox.apis.shopify.webhook_subscriptions import subscriptions_for

    body = json.dumps(payload, separators=(",", ":"))
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{topic}/{payload.get('id')}"))
    for subscription in subscriptions_for(world, topic):
        draw = world.rng("webhook", topic, payload.get("id"), subscription["id"]).getrandbits(128)
        delivery_id = str(uuid.UUID(int=draw, version=4))
        _queue(
            world,
            _delivery(
                delivery_id,
                topic,
                subscription["callbackUrl"],
                body,
                service="shopify",
                event_id=event_id,
                subscription_id=subscription["id"],
            ),
        )


def queue_cj_message(world: World, setting: str, message: dict[str, Any]) -> None:
    """Queue a CJ message (`setting`: product, stock, order or logistics, as `POST /webhook/set` names
    them) to the callback URL enabled for it; not enabled: nothing is sent."""
    from dropship_sandbox.apis.cj_webhooks import callback_url

    url = callback_url(world, setting)
    if not url:
        return
    draw = world.rng("cj_message", setting, message.get("messageId")).getrandbits(128)
    body = json.dumps(message, separators=(",", ":"))
    delivery_id = str(uuid.UUID(int=draw, version=4))
    open_id = message.get("openId")
    _queue(world, _delivery(delivery_id, setting, url, body, service="cj", open_id=open_id))


def headers_for(world: World, delivery: dict[str, Any], body: bytes) -> dict[str, str]:
    if delivery.get("service") == "cj":
        headers = {"Content-Type": "application/json"}
        if delivery.get("open_id") is not None:  # CJ signs a message with the account's openId
            headers["sign"] = sign(str(delivery["open_id"]), body)
        return headers
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": delivery["topic"],
        "X-Shopify-Hmac-Sha256": sign(world.settings.webhook_secret, body),
        "X-Shopify-Shop-Domain": world.settings.shop_domain,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": delivery["id"],
        "X-Shopify-Event-Id": delivery["event_id"],
        "X-Shopify-Triggered-At": delivery["triggered_at"],
    }


class WebhookDispatcher:
    """Delivers queued webhooks in a daemon thread; the world lock is never held during a POST."""

    def __init__(self, world: World, poll_s: float = 0.05) -> None:
        self.world = world
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=DELIVERY_TIMEOUT_S + 1)

    def _due(self) -> list[dict[str, Any]]:
        world = self.world
        with world.lock, world.state:
            queue = json.loads(world.state.meta(QUEUE, "[]") or "[]")
            due = []
            for delivery_id in queue:
                delivery = world.state.get("webhook_delivery", delivery_id)
                if delivery and delivery["next_try"] <= time.time():
                    due.append(delivery)
            return due

    def _send(self, client: httpx.Client, delivery: dict[str, Any]) -> str:
        body = delivery["body"].encode()
        try:
            response = client.post(
                delivery["url"], content=body, headers=headers_for(self.world, delivery, body)
            )
        except httpx.HTTPError as error:
            return f"error: {type(error).__name__}"
        return str(response.status_code)

    def _record(self, delivery: dict[str, Any], outcome: str) -> None:
        world = self.world
        with world.lock, world.state:
            current = world.state.get("webhook_delivery", delivery["id"]) or delivery
            current["attempts"] += 1
            current["responses"] = (current["responses"] + [outcome])[-MAX_ATTEMPTS:]
            delivered = outcome.isdigit() and 200 <= int(outcome) < 300
            cj = current.get("service") == "cj"
            if delivered or current["attempts"] >= (CJ_MAX_ATTEMPTS if cj else MAX_ATTEMPTS):
                current["status"] = "delivered" if delivered else "failed"
                if not delivered and current.get("subscription_id"):
                    from dropship_sandbox.apis.shopify.webhook_subscriptions import drop_subscription

                    drop_subscription(world, current["subscription_id"])
                queue = [d for d in json.loads(world.state.meta(QUEUE, "[]") or "[]") if d != delivery["id"]]
                world.state.set_meta(QUEUE, json.dumps(queue))
                world.state.audit_increment(f"webhooks_{current['status']}", current["topic"])
            else:
                # Shopify spreads 8 tries over 4 hours; the sandbox compresses that to seconds.
                current["next_try"] = time.time() + min(0.25 * 2 ** current["attempts"], 10.0)
            world.state.put("webhook_delivery", current["id"], current)

    def _duplicate(self, delivery: dict[str, Any]) -> bool:
        world = self.world
        with world.lock, world.state:
            rate = float(world.state.meta("webhooks:duplicate_rate", "0") or 0)
        return rate > 0 and world.rng("webhook_duplicate", delivery["id"]).random() < rate

    def _run(self) -> None:
        with httpx.Client(timeout=DELIVERY_TIMEOUT_S) as client:
            while not self._stop.wait(self.poll_s):
                try:
                    due = self._due()
                except Exception:  # the state file was closed: the server is shutting down
                    return
                for delivery in due:
                    outcome = self._send(client, delivery)
                    try:
                        self._record(delivery, outcome)
                        if outcome.startswith("2") and self._duplicate(delivery):
                            self._send(client, delivery)
                    except Exception:
                        return


def start_dispatcher(world: World) -> WebhookDispatcher:
    dispatcher = WebhookDispatcher(world)
    dispatcher.start()
    return dispatcher


@router.get("")
def deliveries(request: Request) -> dict[str, Any]:
    """Delivery log: status, attempts and responses of every webhook sent."""
    world = world_of(request)
    with world.lock, world.state:
        items = world.state.all("webhook_delivery")
    return {
        "deliveries": [{k: v for k, v in d.items() if k != "body"} for d in items],
        "pending": sum(1 for d in items if d["status"] == "pending"),
    }


@router.post("")
def configure(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"duplicate_rate": 0.2}`: share of deliveries sent twice (targets: the pipelines' subscriptions)."""
    world = world_of(request)
    with world.lock, world.state:
        if "duplicate_rate" in body:
            world.state.set_meta("webhooks:duplicate_rate", str(float(body["duplicate_rate"])))
        return {"duplicate_rate": float(world.state.meta("webhooks:duplicate_rate", "0") or 0)}
