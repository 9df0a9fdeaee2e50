"""Receives Shopify webhooks: verify, deduplicate, record durably, then answer 200.

- HMAC-SHA256 of the raw body with the app secret, compared timing-safe (never re-serialized JSON).
- `X-Shopify-Triggered-At` older than `max_age` (or far in the future) is refused: a replay.
- `X-Shopify-Webhook-Id` is the dedupe key: a duplicate delivery gets 200 (so Shopify stops) and is
  not recorded twice.
- The event is committed to the store database before the 200: once Shopify stops retrying, it is ours.
The fulfillment sensor reads `webhook_events`; nothing here calls an external API.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from dropship_pipelines.settings import store_database_url
from dropship_pipelines.store import fulfillment_queries as q
from dropship_pipelines.store.database import get_engine

log = logging.getLogger("dropship_pipelines.webhooks")
MAX_AGE = timedelta(hours=48)  # Shopify retries for 4 hours; older deliveries are replays
MAX_FUTURE = timedelta(minutes=5)  # clock skew


def verify_hmac(secret: str, raw_body: bytes, header: str | None) -> bool:
    if not header or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), header.encode())


def _triggered_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def webhook_router(
    secret: str | None = None, store_url: str | None = None, max_age: timedelta = MAX_AGE
) -> APIRouter:
    """The receiver's route, for any ASGI app to host (the dashboard does, beside its API).

    `secret` defaults to SHOPIFY_WEBHOOK_SECRET, `store_url` to STORE_DATABASE_URL."""
    app = APIRouter()

    def refuse(status: int, reason: str, webhook_id: str | None) -> JSONResponse:
        log.warning("webhook %s refused: %s", webhook_id or "(no id)", reason)
        return JSONResponse({"error": reason}, status_code=status)

    @app.post("/webhooks/shopify", include_in_schema=False)
    async def shopify_webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        headers = request.headers
        webhook_id = headers.get("X-Shopify-Webhook-Id")
        key = secret if secret is not None else os.environ.get("SHOPIFY_WEBHOOK_SECRET", "")
        if not verify_hmac(key, raw, headers.get("X-Shopify-Hmac-Sha256")):
            return refuse(401, "HMAC signature does not match", webhook_id)
        topic = headers.get("X-Shopify-Topic")
        if not webhook_id or not topic:
            return refuse(400, "missing X-Shopify-Webhook-Id or X-Shopify-Topic", webhook_id)
        triggered = _triggered_at(headers.get("X-Shopify-Triggered-At"))
        received = datetime.now(UTC)
        if triggered is None:
            return refuse(400, "missing or malformed X-Shopify-Triggered-At", webhook_id)
        if received - triggered > max_age or triggered - received > MAX_FUTURE:
            return refuse(401, f"stale delivery (triggered {triggered.isoformat()})", webhook_id)
        try:
            payload = json.loads(raw)
        except ValueError:
            return refuse(400, "body is not JSON", webhook_id)
        if not isinstance(payload, dict):
            return refuse(400, "body is not a JSON object", webhook_id)
        resource_id = payload.get("admin_graphql_api_id")
        engine = get_engine(store_url or store_database_url())
        with engine.begin() as conn:
            fresh = q.record_webhook(
                conn,
                {
                    "webhook_id": webhook_id[:100],
                    "topic": topic[:64],
                    "shop_domain": (headers.get("X-Shopify-Shop-Domain") or "")[:255],
                    "resource_id": str(resource_id)[:100] if resource_id else None,
                    "triggered_at": triggered,
                    "received_at": received,
                    "payload": payload,
                },
            )
        log.info(
            "webhook %s %s for %s: %s", webhook_id, topic, resource_id, "recorded" if fresh else "duplicate"
        )
        return JSONResponse({"status": "recorded" if fresh else "duplicate"})

    return app


def create_webhook_app(
    secret: str | None = None, store_url: str | None = None, max_age: timedelta = MAX_AGE
) -> FastAPI:
    """The receivers (Shopify's and CJ's) on their own, for a deployment that keeps them apart from the
    dashboard."""
    from dropship_pipelines.webhooks.cj import cj_webhook_router

    app = FastAPI(title="dropship webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(webhook_router(secret, store_url, max_age))
    app.include_router(cj_webhook_router(store_url))
    return app
