"""Webhook subscriptions and the app installation, as the Admin GraphQL API serves them.

- `webhookSubscriptionCreate(topic:, webhookSubscription: {callbackUrl, format})`: one subscription per
  (topic, address); the same pair again is Shopify's userError "Address for this topic has already been
  taken", an address that is not an absolute https URL is refused too (the sandbox also takes plain http on
  loopback, where its receivers live). It needs the read scope of the topic's resource (orders/* and
  refunds/*: read_orders), refused before it runs with Shopify's ACCESS_DENIED (validation/shopify.py).
- `webhookSubscriptions(first:, topics:)`: the shop's subscriptions, oldest first.
- `currentAppInstallation { accessScopes { handle } }`: the scopes the world granted
  (`shopify_granted_scopes`; None grants all of them), each write scope with its read scope.

The store delivers events only to these subscriptions (`dropship_sandbox/webhooks.py`), and drops one
after eight failed deliveries in a row, as Shopify does for subscriptions made through the API.
"""

from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLResolveInfo

from dropship_sandbox.apis.shopify.common import connection, gid, gid_number, world_of
from dropship_sandbox.apis.shopify.registry import mutation_field, query_field
from dropship_sandbox.shop_orders import iso
from dropship_sandbox.validation.shopify import ROOT_FIELD_SCOPES
from dropship_sandbox.world import World

KIND = "shopify_webhook_subscription"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Every scope the sandbox knows of: what the app holds when the world grants all.
ALL_SCOPES = sorted(
    {*ROOT_FIELD_SCOPES.values(), "read_orders", "read_products", "read_shopify_payments_disputes"}
)


def topic_of(header_topic: str) -> str:
    """`orders/create` (the X-Shopify-Topic header) -> `ORDERS_CREATE` (the GraphQL enum)."""
    return header_topic.upper().replace("/", "_")


def subscriptions_for(world: World, header_topic: str) -> list[dict[str, Any]]:
    """The subscriptions an event of this topic is delivered to."""
    topic = topic_of(header_topic)
    return [s for s in world.state.all(KIND) if s["topic"] == topic]


def drop_subscription(world: World, subscription_id: str) -> None:
    world.state.delete(KIND, subscription_id)


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": gid("WebhookSubscription", doc["id"]),
        "topic": doc["topic"],
        "format": doc["format"],
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": doc["callbackUrl"]},
        "callbackUrl": doc["callbackUrl"],
        "includeFields": doc.get("includeFields") or [],
        "metafieldNamespaces": doc.get("metafieldNamespaces") or [],
        "createdAt": doc["createdAt"],
        "updatedAt": doc["updatedAt"],
    }


def _address_problem(url: str | None) -> str | None:
    if not url:
        return "Address can't be blank"
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return "Address is invalid"
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return None
    return f"Address protocol {parts.scheme}:// is not supported"


@query_field("webhookSubscriptions")
def resolve_webhook_subscriptions(
    root: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    topics: list[str] | None = None,
    callbackUrl: str | None = None,
    format: str | None = None,
) -> dict[str, Any]:
    items = [
        s
        for s in world_of(info).state.all(KIND)
        if (not topics or s["topic"] in topics)
        and (callbackUrl is None or s["callbackUrl"] == callbackUrl)
        and (format is None or s["format"] == format)
    ]
    return connection(items, first, after, key=lambda s: s["id"], view=view)


@mutation_field("webhookSubscriptionCreate")
def resolve_webhook_subscription_create(
    root: Any, info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    world = world_of(info)
    url = webhookSubscription.get("callbackUrl")
    problem = _address_problem(url)
    if problem is None and any(
        s["topic"] == topic and s["callbackUrl"] == url for s in world.state.all(KIND)
    ):
        problem = "Address for this topic has already been taken"
    if problem:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": problem}],
        }
    now = iso(world.now())
    doc = {
        "id": str(world.new_id("webhook_subscription", 1_400_000_000)),
        "topic": topic,
        "format": webhookSubscription.get("format") or "JSON",
        "callbackUrl": url,
        "includeFields": webhookSubscription.get("includeFields") or [],
        "metafieldNamespaces": webhookSubscription.get("metafieldNamespaces") or [],
        "createdAt": now,
        "updatedAt": now,
    }
    world.state.put(KIND, doc["id"], doc)
    world.state.audit_increment("webhook_subscriptions_created", f"{topic} {url}")
    return {"webhookSubscription": view(doc), "userErrors": []}


@mutation_field("webhookSubscriptionDelete")
def resolve_webhook_subscription_delete(root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    world = world_of(info)
    number = gid_number(id, "WebhookSubscription")
    if not number or world.state.get(KIND, number) is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    drop_subscription(world, number)
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def granted_scopes(world: World) -> list[str]:
    granted = world.settings.shopify_granted_scopes
    held = set(ALL_SCOPES if granted is None else granted)
    held |= {s.replace("write_", "read_", 1) for s in held if s.startswith("write_")}
    return sorted(held)


@query_field("currentAppInstallation")
def resolve_current_app_installation(root: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    world = world_of(info)
    return {
        "id": gid("AppInstallation", 1),
        "app": {"id": gid("App", 1), "title": "dropship pipelines", "apiKey": "sandbox-app"},
        "accessScopes": [{"handle": h, "description": h.replace("_", " ")} for h in granted_scopes(world)],
    }
