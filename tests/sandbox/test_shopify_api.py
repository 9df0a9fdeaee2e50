"""The sandbox's Shopify Admin GraphQL: auth, schema validation, cost extensions, throttling, productSet."""

import httpx

from dropship_sandbox import credentials
from dropship_sandbox.app import SHOPIFY_PREFIX
from dropship_sandbox.world import WorldSettings
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox

HEADERS = {"X-Shopify-Access-Token": credentials.SHOPIFY_ACCESS_TOKEN}
SET = """mutation($i: ProductSetInput!, $id: ProductSetIdentifiers) {
  productSet(input: $i, identifier: $id) { product { id handle variants(first: 5) { nodes { id sku price } } }
  userErrors { field message code } } }"""
LAMP = {
    "title": "Sunset Lamp",
    "tags": ["pid:P1"],
    "productOptions": [{"name": "Color", "values": [{"name": "Black"}]}],
    "variants": [
        {"optionValues": [{"optionName": "Color", "name": "Black"}], "price": "24.99", "sku": "CJ-1"}
    ],
}


def gql(
    sandbox: RunningSandbox, query: str, variables: dict | None = None, headers: dict | None = None
) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}{SHOPIFY_PREFIX}/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers=headers or HEADERS,
    )


def test_bad_token_is_401_with_shopify_body(sandbox: RunningSandbox) -> None:
    response = gql(sandbox, "{ shop { name } }", headers={"X-Shopify-Access-Token": "shpat_wrong"})
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_every_answer_carries_cost_and_version(sandbox: RunningSandbox) -> None:
    response = gql(sandbox, "{ shop { name myshopifyDomain } }")
    body = response.json()
    assert response.headers["X-Shopify-API-Version"] == "2026-10"
    status = body["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0 and status["restoreRate"] == 100.0


def test_syntax_and_removed_fields_are_top_level_errors(sandbox: RunningSandbox) -> None:
    assert "Syntax Error" in gql(sandbox, "{ shop { name ").json()["errors"][0]["message"]
    removed = gql(
        sandbox,
        SET,
        {"i": {**LAMP, "variants": [{"price": "1", "optionValues": []}], "bodyHtml": "<p>old field</p>"}},
    ).json()
    assert "errors" in removed and removed["data"] is None


def test_product_set_upserts_by_handle(sandbox: RunningSandbox) -> None:
    first = gql(sandbox, SET, {"i": LAMP, "id": {"handle": "cj-1"}}).json()["data"]["productSet"]
    again = gql(sandbox, SET, {"i": {**LAMP, "title": "Sunset Lamp v2"}, "id": {"handle": "cj-1"}}).json()
    assert first["userErrors"] == [] and first["product"]["handle"] == "cj-1"
    assert again["data"]["productSet"]["product"]["id"] == first["product"]["id"]
    assert sandbox.audit()["listings_created"] == {"P1": 1}


def test_user_errors_for_bad_products(sandbox: RunningSandbox) -> None:
    blank = gql(sandbox, SET, {"i": {**LAMP, "title": ""}}).json()["data"]["productSet"]
    assert blank["product"] is None and blank["userErrors"][0]["field"] == ["input", "title"]
    negative = {**LAMP, "variants": [{**LAMP["variants"][0], "price": "-1"}]}
    assert gql(sandbox, SET, {"i": negative}).json()["data"]["productSet"]["userErrors"]


def test_throttled_when_the_bucket_is_empty(tmp_path) -> None:
    with running_sandbox(
        tmp_path / "w.db", WorldSettings(shopify_bucket=50, shopify_restore_rate=1)
    ) as small:
        query = "{ products(first: 20) { nodes { id variants(first: 1) { nodes { id } } } } }"
        bodies = [gql(small, query).json() for _ in range(3)]
        throttled = [b for b in bodies if b.get("errors")]
        assert throttled, "a 62-point query three times must drain a 50-point bucket"
        error = throttled[0]
        assert error["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert error["extensions"]["cost"]["actualQueryCost"] is None
        assert "data" not in error


def test_single_query_over_1000_points_is_refused(sandbox: RunningSandbox) -> None:
    body = gql(
        sandbox, "{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }"
    ).json()
    assert "exceeds the single query max cost limit (1000)" in body["errors"][0]["message"]
