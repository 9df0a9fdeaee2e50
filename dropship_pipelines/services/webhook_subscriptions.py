"""The pipelines' webhooks, registered at start and repaired when missing: Shopify's subscriptions for
every topic a workflow consumes, and CJ's message settings.

Protocol, per (service, topic), as for every external write: the row in `webhook_subscriptions` is claimed
before the service is called, then settled `registered` (with Shopify's subscription id) or `failed`
(with the reason). Shopify is asked first which subscriptions exist (one read), and only a topic without
our callback URL is created, so a run repeated, or two at once, never makes a second one (the loser gets
Shopify's "Address for this topic has already been taken", which is the same outcome). A claim a dead run
left is settled by the next check the same way. CJ has no endpoint that reads its settings back and keeps
one URL per kind, so they are set again when the URL changed or the last setting is older than
`CJ_RESET_AFTER` (setting the same URL again changes nothing).

The callback URLs come from `WEBHOOK_BASE_URL` (where the dashboard's receiver is reached from the
internet): `<base>/webhooks/shopify` and `<base>/webhooks/cj`. Unset: nothing is registered, and the check
says so.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.cj import account as cj_account
from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.resources.shopify import webhooks as shopify_webhooks
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.settings import env
from dropship_pipelines.store import write_mode_queries as q

log = logging.getLogger("dropship_pipelines.webhook_subscriptions")
SHOPIFY_PATH = "/webhooks/shopify"
CJ_PATH = "/webhooks/cj"
CJ_TOPIC = "messages"  # one row for CJ's four message kinds: they are set together, to one URL
CJ_RESET_AFTER = timedelta(hours=24)
NOT_CONFIGURED = (
    "WEBHOOK_BASE_URL is not set: set it to the public https URL the dashboard's webhook receiver is "
    "reached at (the receiver listens on /webhooks/shopify and /webhooks/cj)"
)
Outcome = Literal["present", "created", "set", "failed", "skipped"]


@dataclass(frozen=True)
class CallbackUrls:
    shopify: str
    cj: str


@dataclass(frozen=True)
class SubscriptionOutcome:
    service: str
    topic: str
    callback_url: str
    outcome: Outcome
    detail: str = ""


def callback_urls(base_url: str | None = None) -> CallbackUrls | None:
    base = (base_url if base_url is not None else env("WEBHOOK_BASE_URL", "")).strip().rstrip("/")
    return CallbackUrls(base + SHOPIFY_PATH, base + CJ_PATH) if base else None


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_shopify(
    engine: Engine, shopify: ShopifyAdminResource, url: str, run_id: str | None
) -> list[SubscriptionOutcome]:
    existing = shopify_webhooks.webhook_subscriptions(shopify)  # raises before anything is claimed
    outcomes = []
    for topic in shopify_webhooks.TOPICS:
        with engine.begin() as conn:
            q.claim_subscription(conn, "shopify", topic, url, run_id)
        ours = next((s for s in existing if s.topic == topic and s.callback_url == url), None)
        try:
            if ours is None:
                ours = shopify_webhooks.create_webhook_subscription(shopify, topic, url)
                outcome: Outcome = "created"
                if ours is None:  # made meanwhile by another run: read it back for its id
                    outcome = "present"
                    again = shopify_webhooks.webhook_subscriptions(shopify, (topic,))
                    ours = next((s for s in again if s.callback_url == url), None)
            else:
                outcome = "present"
        except ApiError as error:
            with engine.begin() as conn:
                q.settle_subscription(
                    conn, "shopify", topic, state="failed", checked_at=_now(), error=str(error)
                )
            log.warning("shopify webhook %s -> %s not registered: %s", topic, url, error)
            outcomes.append(SubscriptionOutcome("shopify", topic, url, "failed", str(error)))
            continue
        with engine.begin() as conn:
            q.settle_subscription(
                conn,
                "shopify",
                topic,
                state="registered",
                checked_at=_now(),
                remote_id=ours.id if ours else None,
            )
        outcomes.append(SubscriptionOutcome("shopify", topic, url, outcome, ours.id if ours else ""))
    return outcomes


def ensure_cj(
    engine: Engine, cj: CJDropshippingResource, url: str, run_id: str | None
) -> SubscriptionOutcome:
    with engine.connect() as conn:
        row = next(iter(r for r in q.subscription_rows(conn, "cj") if r["topic"] == CJ_TOPIC), None)
    checked = row["checked_at"] if row else None
    if checked is not None and checked.tzinfo is None:
        checked = checked.replace(tzinfo=UTC)  # SQLite hands back naive datetimes
    if (
        row
        and row["state"] == "registered"
        and row["callback_url"] == url
        and checked
        and (_now() - checked < CJ_RESET_AFTER)
    ):
        return SubscriptionOutcome("cj", CJ_TOPIC, url, "present", f"set {checked.isoformat()}")
    with engine.begin() as conn:
        q.claim_subscription(conn, "cj", CJ_TOPIC, url, run_id)
    try:
        cj_account.set_webhooks(cj, url)
    except ApiError as error:
        with engine.begin() as conn:
            q.settle_subscription(conn, "cj", CJ_TOPIC, state="failed", checked_at=_now(), error=str(error))
        log.warning("cj message settings -> %s not set: %s", url, error)
        return SubscriptionOutcome("cj", CJ_TOPIC, url, "failed", str(error))
    with engine.begin() as conn:
        q.settle_subscription(conn, "cj", CJ_TOPIC, state="registered", checked_at=_now())
    return SubscriptionOutcome("cj", CJ_TOPIC, url, "set", ", ".join(cj_account.MESSAGE_KINDS))


def ensure_webhooks(
    engine: Engine,
    shopify: ShopifyAdminResource,
    supplier: Supplier,
    *,
    base_url: str | None = None,
    run_id: str | None = None,
) -> list[SubscriptionOutcome]:
    """Check every subscription and make the missing ones; what was found or done, per topic."""
    urls = callback_urls(base_url)
    if urls is None:
        return [SubscriptionOutcome("all", "-", "", "skipped", NOT_CONFIGURED)]
    outcomes = ensure_shopify(engine, shopify, urls.shopify, run_id)
    if isinstance(supplier, CJDropshippingResource):
        outcomes.append(ensure_cj(engine, supplier, urls.cj, run_id))
    return outcomes
