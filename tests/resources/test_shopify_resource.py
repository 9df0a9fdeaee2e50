"""The Shopify client: throttle-aware, idempotent productSet, clear errors."""

import time

import httpx
import pytest

from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.shopify import ShopifyAdminResource, ShopifyUserError
from dropship_sandbox import credentials
from dropship_sandbox.app import SHOPIFY_PREFIX
from dropship_sandbox.world import WorldSettings
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox

PRODUCT = {
    "title": "Moon Lamp",
    "tags": ["pid:P9"],
    "productOptions": [{"name": "Color", "values": [{"name": "Blue"}]}],
    "variants": [{"optionValues": [{"optionName": "Color", "name": "Blue"}], "price": "19.99", "sku": "S-1"}],
}


def shopify(sandbox: RunningSandbox, token: str = credentials.SHOPIFY_ACCESS_TOKEN) -> ShopifyAdminResource:
    return ShopifyAdminResource(shop_url=sandbox.url + SHOPIFY_PREFIX, access_token=token, timeout_s=3.0)


def test_set_product_is_idempotent(sandbox: RunningSandbox) -> None:
    client = shopify(sandbox)
    first = client.set_product("cj-s-1", PRODUCT)
    second = client.set_product("cj-s-1", PRODUCT)
    assert first.product_id == second.product_id and first.variants_by_sku.keys() == {"S-1"}
    assert client.product_by_handle("cj-s-1") == first
    assert client.product_by_handle("missing") is None


def test_user_errors_are_typed(sandbox: RunningSandbox) -> None:
    with pytest.raises(ShopifyUserError, match="Title can't be blank"):
        shopify(sandbox).set_product("cj-x", {**PRODUCT, "title": ""})


def test_bad_token_names_the_variable(sandbox: RunningSandbox) -> None:
    with pytest.raises(PermanentApiError, match="SHOPIFY_ACCESS_TOKEN"):
        shopify(sandbox, "shpat_wrong").execute("{ shop { name } }")


def test_throttled_calls_wait_and_succeed(tmp_path) -> None:
    with running_sandbox(
        tmp_path / "w.db", WorldSettings(shopify_bucket=60, shopify_restore_rate=10)
    ) as small:
        client = shopify(small)
        cheap = "{ products(first: 10) { nodes { id } } }"
        cost = httpx.post(
            f"{small.url}{SHOPIFY_PREFIX}/admin/api/2026-10/graphql.json",
            json={"query": cheap},
            headers={"X-Shopify-Access-Token": credentials.SHOPIFY_ACCESS_TOKEN},
        ).json()["extensions"]["cost"]
        spent = max(cost["actualQueryCost"] or 0, 1)  # what each call takes from the bucket in the end
        calls = 60 // spent + 10  # more than the bucket holds: the rest must wait for the refill
        started = time.monotonic()
        results = [client.execute(cheap) for _ in range(calls)]
        assert all("products" in r for r in results)
        least_wait_s = ((calls + 1) * spent - 60) / 10  # the bucket refills at 10 points a second
        assert time.monotonic() - started >= 0.8 * least_wait_s, "the client must wait for the refill"


def test_5xx_and_throttles_are_retried(sandbox: RunningSandbox) -> None:
    client = shopify(sandbox)
    sandbox.control("POST", "/faults/shopify", {"error_rate": 0.3, "rate_limit_rate": 0.3})
    for n in range(5):
        assert client.set_product(f"cj-r-{n}", {**PRODUCT, "tags": [f"pid:R{n}"]}).product_id
    assert all(count == 1 for count in sandbox.audit()["listings_created"].values())
