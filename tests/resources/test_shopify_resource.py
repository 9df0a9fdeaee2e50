"""The Shopify client: throttle-aware, idempotent productSet, clear errors."""

import time
from decimal import Decimal

import httpx
import pytest

from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, ShopifyUserError
from dropship_pipelines.resources.shopify.models import ProductInput, VariantInput
from dropship_sandbox import credentials
from dropship_sandbox.app import SHOPIFY_PREFIX
from dropship_sandbox.world import WorldSettings
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox

PRODUCT = ProductInput(
    title="Moon Lamp",
    tags=["pid:P9"],
    option_name="Color",
    variants=[VariantInput(sku="S-1", option_value="Blue", price=Decimal("19.99"))],
)


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
        shopify(sandbox).set_product("cj-x", PRODUCT.model_copy(update={"title": ""}))


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
        assert client.set_product(f"cj-r-{n}", PRODUCT.model_copy(update={"tags": [f"pid:R{n}"]})).product_id
    assert all(count == 1 for count in sandbox.audit()["listings_created"].values())


def test_orders_are_read_as_typed_models(sandbox: RunningSandbox, store_url: str) -> None:
    list_products(sandbox.world, store_url, 1)
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    placed = sandbox.control("POST", "/orders", {"count": 2})["orders"]
    client = shopify(sandbox)
    orders = {o.id: o for o in client.orders_since(None, page_size=1)}  # two pages of one
    assert {p["id"] for p in placed} <= orders.keys()
    order = orders[placed[0]["id"]]
    assert order.name == placed[0]["name"] and order.created_at.tzinfo is not None
    assert order.lines and all(line.quantity > 0 and line.unit_price > 0 for line in order.lines)
    assert order.total_price > 0 and order.currency
    newest = client.newest_order()
    assert newest is not None and newest.id in orders
    fulfillment = client.fulfillment_orders(order.id)
    assert fulfillment is not None and fulfillment.open_fulfillment_order_ids
    assert fulfillment.fulfillment_tracking("NOPE") is None
