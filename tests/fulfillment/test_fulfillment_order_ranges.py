"""The posts' fulfillment-order reads in id ranges (issue 16): neighbouring orders in one request, exactly
the orders asked for in the answer, an order alone read by itself."""

from typing import Any

import pytest

from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, _id_runs
from dropship_testkit.ledger_seed import list_products
from tests.fulfillment.helpers import place


def test_id_runs_span_at_most_one_unasked_id_and_a_page() -> None:
    assert _id_runs([1, 2, 3, 5, 6, 9, 20], most=50) == [[1, 2, 3, 5, 6], [9], [20]]
    assert _id_runs(list(range(1, 8)), most=3) == [[1, 2, 3], [4, 5, 6], [7]]
    assert _id_runs([], most=50) == []


@pytest.fixture
def shopify(sandbox, store_url, pipeline_env, monkeypatch: pytest.MonkeyPatch) -> Any:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    client = ShopifyAdminResource(
        shop_url=pipeline_env["SHOPIFY_SHOP_URL"], access_token=pipeline_env["SHOPIFY_ACCESS_TOKEN"]
    )
    calls: list[str] = []
    original = ShopifyAdminResource.execute

    def counted(self: ShopifyAdminResource, query: str, variables: Any = None, **kw: Any) -> Any:
        calls.append(query.split("(", 1)[0].split()[-1])
        return original(self, query, variables, **kw)

    monkeypatch.setattr(ShopifyAdminResource, "execute", counted)
    return client, calls


def test_neighbouring_orders_are_read_in_one_request(shopify, sandbox) -> None:
    client, calls = shopify
    ids = [o["id"] for o in place(sandbox, 6)]
    asked = ids[:2] + ids[3:5]  # ids[2] lies between two asked: read, then dropped
    found = client.fulfillment_orders_of([*asked, ids[5].replace(ids[5].rsplit("/", 1)[1], "999999")])
    assert set(found) == set(asked)  # the unasked neighbour and the missing order are absent
    assert all(f.open_fulfillment_order_ids for f in found.values())
    assert calls.count("OrdersFulfillmentOrders") == 1 and calls.count("OrderFulfillmentOrders") == 1
    single = client.fulfillment_orders(asked[0])
    assert single is not None
    assert found[asked[0]].open_fulfillment_order_ids == single.open_fulfillment_order_ids
