"""gql (an official GraphQL client, nobody's code here) against the sandbox's Shopify Admin GraphQL, only the
shop's host changed: the pipelines' own documents (listing, price update, order reads, fulfillment) and what
Shopify refuses (API versions, ids, scopes, operation names, userErrors)."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXTransport

from dropship_pipelines.resources.shopify import client as pipelines
from dropship_pipelines.resources.shopify import webhooks
from dropship_sandbox import credentials
from dropship_sandbox.app import SHOPIFY_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox

VERSION = "2026-10"
HEADERS = {"X-Shopify-Access-Token": credentials.SHOPIFY_ACCESS_TOKEN}


def endpoint(sandbox: RunningSandbox, version: str = VERSION) -> str:
    return f"{sandbox.url}{SHOPIFY_PREFIX}/admin/api/{version}/graphql.json"


def shopify(sandbox: RunningSandbox, version: str = VERSION) -> Client:
    return Client(transport=HTTPXTransport(url=endpoint(sandbox, version), headers=HEADERS))


@pytest.fixture
def gql_client(sandbox: RunningSandbox) -> Iterator[Client]:
    client = shopify(sandbox)
    yield client
    client.close_sync()


def run(client: Client, document: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.execute(GraphQLRequest(document, variable_values=variables, **kwargs))


def listing(pid: str) -> dict[str, Any]:
    return {
        "identifier": {"handle": "led-sunset-lamp"},
        "input": {
            "handle": "led-sunset-lamp",
            "title": "LED Sunset Lamp",
            "descriptionHtml": "<p>Warm light.</p>",
            "vendor": "CJ",
            "status": "ACTIVE",
            "tags": ["cj", f"pid:{pid}"],
            "productOptions": [{"name": "Title", "position": 1, "values": [{"name": "Default Title"}]}],
            "files": [{"originalSource": "https://cf.cjdropshipping.com/abc.jpg", "contentType": "IMAGE"}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                    "price": "24.99",
                    "sku": "CJ-SKU-1",
                    "inventoryPolicy": "CONTINUE",
                }
            ],
        },
    }


def listed(client: Client, sandbox: RunningSandbox) -> dict[str, Any]:
    pid = next(iter(sandbox.world.state.all("cj_product")))["pid"]
    created = run(client, pipelines.PRODUCT_SET, listing(pid))["productSet"]
    assert created["userErrors"] == []
    return {"pid": pid, **created["product"]}


def test_the_pipelines_product_documents(gql_client: Client, sandbox: RunningSandbox) -> None:
    product = listed(gql_client, sandbox)
    variant = product["variants"]["nodes"][0]
    update = """
    mutation ($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
      productVariantsBulkUpdate(productId: $productId, variants: $variants) {
        productVariants { id price }
        userErrors { field message }
      }
    }"""
    changes = {"productId": product["id"], "variants": [{"id": variant["id"], "price": "19.99"}]}
    updated = run(gql_client, update, changes)["productVariantsBulkUpdate"]  # no "at most 250" error
    assert updated == {"productVariants": [{"id": variant["id"], "price": "19.99"}], "userErrors": []}
    missing = {
        "productId": product["id"],
        "variants": [{"id": "gid://shopify/ProductVariant/1", "price": "1"}],
    }
    refused = run(gql_client, update, missing)["productVariantsBulkUpdate"]
    assert refused["userErrors"] == [
        {"field": ["variants", "0", "id"], "message": "Product variant does not exist"}
    ]
    by_handle = run(gql_client, pipelines.PRODUCT_BY_HANDLE, {"handle": "led-sunset-lamp"})
    assert by_handle["productByIdentifier"]["id"] == product["id"]
    tagged = run(gql_client, pipelines.PRODUCTS_TAGGED, {"query": "tag:cj"})["products"]
    assert product["id"] in [node["id"] for node in tagged["nodes"]]


def test_the_pipelines_order_documents(gql_client: Client, sandbox: RunningSandbox) -> None:
    product = listed(gql_client, sandbox)
    [order] = sandbox.control("POST", "/orders", {"pid": product["pid"], "count": 1})["orders"]
    page = run(
        gql_client, pipelines.ORDERS_SINCE, {"first": 10, "query": "updated_at:>'2000-01-01T00:00:00Z'"}
    )
    assert order["id"] in [node["id"] for node in page["orders"]["nodes"]]
    assert run(gql_client, pipelines.NEWEST_ORDER)["orders"]["nodes"][0]["id"] == order["id"]
    fulfillment_orders = run(gql_client, pipelines.ORDER_FULFILLMENT_ORDERS, {"id": order["id"]})["order"]
    [open_order] = fulfillment_orders["fulfillmentOrders"]["nodes"]
    fulfillment = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": open_order["id"]}],
        "trackingInfo": {"company": "USPS", "number": "9261129030321245", "url": "https://t.17track.net/en"},
        "notifyCustomer": True,
    }
    made = run(gql_client, pipelines.FULFILLMENT_CREATE, {"fulfillment": fulfillment, "message": "Shipped"})
    assert made["fulfillmentCreate"]["userErrors"] == [] and made["fulfillmentCreate"]["fulfillment"]["id"]
    again = run(gql_client, pipelines.FULFILLMENT_CREATE, {"fulfillment": fulfillment})["fulfillmentCreate"]
    assert again["fulfillment"] is None and again["userErrors"]  # the fulfillment order is closed now


def test_versions_outside_the_supported_window(sandbox: RunningSandbox) -> None:
    for version in ("banana", "2027-01", "2026-13", "2026-02"):
        with pytest.raises(TransportError):
            run(shopify(sandbox, version), pipelines.NEWEST_ORDER)
        refused = httpx.post(
            endpoint(sandbox, version), headers=HEADERS, json={"query": pipelines.NEWEST_ORDER}
        )
        assert refused.status_code == 404 and refused.json() == {"errors": "Not Found"}
    old = httpx.post(endpoint(sandbox, "2024-01"), headers=HEADERS, json={"query": pipelines.NEWEST_ORDER})
    assert old.status_code == 200 and old.headers["X-Shopify-API-Version"] == "2026-01"  # falls forward
    for version in ("2026-01", "2026-04", "2026-07", "2026-10"):
        served = httpx.post(
            endpoint(sandbox, version), headers=HEADERS, json={"query": pipelines.NEWEST_ORDER}
        )
        assert served.headers["X-Shopify-API-Version"] == version


def test_ids_must_be_global_ids(gql_client: Client) -> None:
    with pytest.raises(TransportQueryError) as caught:
        run(gql_client, pipelines.ORDER_FULFILLMENT_ORDERS, {"id": "5609745614460"})
    assert "Invalid global id '5609745614460'" in str(caught.value.errors)
    with pytest.raises(TransportQueryError) as caught:
        run(gql_client, 'query { order(id: "Order/1") { id } }')
    assert "Invalid global id" in str(caught.value.errors)


def test_a_missing_scope_is_access_denied(gql_client: Client, sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/settings", {"shopify_granted_scopes": ["write_products"]})
    assert run(gql_client, pipelines.PRODUCTS_TAGGED, {"query": "tag:cj"})  # write_products includes read
    with pytest.raises(TransportQueryError) as caught:
        run(gql_client, pipelines.NEWEST_ORDER)
    [error] = caught.value.errors or []
    assert error["extensions"]["code"] == "ACCESS_DENIED" and "`read_orders`" in error["message"]
    assert error["path"] == ["orders"] and caught.value.data is None


def test_a_webhook_subscription_needs_the_read_scope_of_its_topic(
    gql_client: Client, sandbox: RunningSandbox
) -> None:
    """Shopify refuses `webhookSubscriptionCreate` for a topic whose resource the app cannot read, with the
    same top-level ACCESS_DENIED as any field; a topic about the app itself needs no scope."""
    sandbox.control("POST", "/settings", {"shopify_granted_scopes": ["write_products"]})
    url = f"{sandbox.url}/hooks/shopify"

    def subscribe(topic: str) -> Any:
        return run(
            gql_client,
            webhooks.WEBHOOK_SUBSCRIPTION_CREATE,
            {"topic": topic, "webhookSubscription": {"callbackUrl": url, "format": "JSON"}},
        )

    for topic in ("ORDERS_CREATE", "REFUNDS_CREATE"):
        with pytest.raises(TransportQueryError) as caught:
            subscribe(topic)
        [error] = caught.value.errors or []
        assert error["extensions"]["code"] == "ACCESS_DENIED", error
        assert error["extensions"]["requiredAccess"] == "read_orders"
        assert "`read_orders`" in error["message"] and error["path"] == ["webhookSubscriptionCreate"]
        assert caught.value.data is None
    # A literal topic is read as well as a variable.
    with pytest.raises(TransportQueryError) as caught:
        run(
            gql_client,
            "mutation { webhookSubscriptionCreate(topic: ORDERS_UPDATED, webhookSubscription: "
            f'{{callbackUrl: "{url}"}}) {{ webhookSubscription {{ id }} }} }}',
        )
    assert (caught.value.errors or [{}])[0]["extensions"]["code"] == "ACCESS_DENIED"
    assert subscribe("PRODUCTS_UPDATE")["webhookSubscriptionCreate"]["userErrors"] == []  # read by write
    assert subscribe("APP_UNINSTALLED")["webhookSubscriptionCreate"]["webhookSubscription"]["id"]
    sandbox.control("POST", "/settings", {"shopify_granted_scopes": ["read_orders"]})
    assert subscribe("ORDERS_CREATE")["webhookSubscriptionCreate"]["userErrors"] == []


def test_operation_names_select_the_operation(gql_client: Client) -> None:
    document = pipelines.NEWEST_ORDER + "\nquery ShopName { shop { name } }"
    assert "shop" in run(gql_client, document, operation_name="ShopName")
    with pytest.raises(TransportQueryError) as caught:
        run(gql_client, document)
    assert "operation name is required" in str(caught.value.errors)
    with pytest.raises(TransportQueryError):
        run(gql_client, document, operation_name="Nope")


def test_graphql_bodies_and_variables_as_a_json_string(sandbox: RunningSandbox) -> None:
    """What other clients send: an application/graphql body, and variables as a JSON-encoded string."""
    raw = httpx.post(
        endpoint(sandbox),
        headers={**HEADERS, "Content-Type": "application/graphql"},
        content=b"query { shop { name } }",
    )
    assert raw.status_code == 200 and raw.json()["data"]["shop"]["name"]
    as_string = httpx.post(
        endpoint(sandbox),
        headers=HEADERS,
        json={"query": pipelines.PRODUCT_BY_HANDLE, "variables": json.dumps({"handle": "nothing-here"})},
    )
    assert as_string.status_code == 200 and as_string.json()["data"] == {"productByIdentifier": None}
    broken = httpx.post(
        endpoint(sandbox), headers=HEADERS, json={"query": "{ shop { name } }", "variables": "{"}
    )
    assert broken.status_code == 400 and broken.json()["errors"]["query"]
