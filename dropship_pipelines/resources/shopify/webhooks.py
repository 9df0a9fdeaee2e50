"""Shopify's webhook subscriptions and the app's access scopes (Admin GraphQL), for the pipelines' start
check and the preflight: `webhookSubscriptions(first:, topics:)`, `webhookSubscriptionCreate(topic:,
webhookSubscription: {callbackUrl, format})`, `currentAppInstallation { accessScopes { handle } }`."""

from dataclasses import dataclass

from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, ShopifyUserError

# Every topic a workflow consumes (the receiver records them; the sensors and services read them).
# DISPUTES_CREATE (a chargeback or inquiry opened; scope read_shopify_payments_disputes) tells the ledger of
# a chargeback at once, not at the next poll of the order.
TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "DISPUTES_CREATE",
    "APP_UNINSTALLED",
)
ALREADY_TAKEN = "Address for this topic has already been taken"

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($first: Int!, $after: String, $topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: $first, after: $after, topics: $topics) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic format endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!,
                                   $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic format endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
}
"""

ACCESS_SCOPES = """
query AccessScopes { currentAppInstallation { accessScopes { handle } } }
"""


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    topic: str
    callback_url: str | None  # None: not an HTTP endpoint (EventBridge, Pub/Sub)


def _subscription(node: dict) -> WebhookSubscription:
    endpoint = node.get("endpoint") or {}
    return WebhookSubscription(node["id"], node["topic"], endpoint.get("callbackUrl"))


def webhook_subscriptions(
    shopify: ShopifyAdminResource, topics: tuple[str, ...] = TOPICS
) -> list[WebhookSubscription]:
    found: list[WebhookSubscription] = []
    after = None
    while True:
        page = shopify.execute(WEBHOOK_SUBSCRIPTIONS, {"first": 100, "after": after, "topics": list(topics)})[
            "webhookSubscriptions"
        ]
        found += [_subscription(node) for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def create_webhook_subscription(
    shopify: ShopifyAdminResource, topic: str, callback_url: str
) -> WebhookSubscription | None:
    """The new subscription; None when Shopify already holds this address for the topic (a concurrent
    run made it, or an earlier attempt whose answer was lost). Other userErrors raise ShopifyUserError."""
    payload = shopify.execute(
        WEBHOOK_SUBSCRIPTION_CREATE,
        {"topic": topic, "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"}},
    )["webhookSubscriptionCreate"]
    errors = payload["userErrors"]
    if errors and all(ALREADY_TAKEN in (e.get("message") or "") for e in errors):
        return None
    if errors:
        raise ShopifyUserError("webhookSubscriptionCreate", errors)
    return _subscription(payload["webhookSubscription"])


def access_scopes(shopify: ShopifyAdminResource) -> list[str]:
    installation = shopify.execute(ACCESS_SCOPES)["currentAppInstallation"]
    return sorted(scope["handle"] for scope in installation["accessScopes"])
