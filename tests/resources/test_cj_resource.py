"""The CJ client against the sandbox over loopback: tokens, storms of 1600200, expiry, bad payloads, and
its answers in the supplier-neutral models."""

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.errors import PayloadError, PermanentApiError, TransientApiError
from dropship_pipelines.resources.supplier import (
    BasketLine,
    DuplicateOrderError,
    ShippingAddress,
    SupplierOrderRequest,
)
from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox


def cj(sandbox: RunningSandbox, tmp_path: Path, **overrides: object) -> CJDropshippingResource:
    settings = {
        "base_url": sandbox.url + CJ_PREFIX,
        "api_key": credentials.CJ_API_KEY,
        "token_cache_dir": str(tmp_path / "tokens"),
        "requests_per_second": 100.0,
        "timeout_s": 2.0,
    }
    return CJDropshippingResource(**{**settings, **overrides})  # type: ignore[arg-type]


def test_token_is_fetched_once_and_cached_on_disk(sandbox: RunningSandbox, tmp_path: Path) -> None:
    cj(sandbox, tmp_path).catalog_page(1, 10)
    cj(sandbox, tmp_path).catalog_page(2, 10)  # a new process would read the same cache file
    assert sandbox.audit()["cj_token_requests"]["getAccessToken"] == 1
    cache = next((tmp_path / "tokens").iterdir())
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    assert credentials.CJ_API_KEY not in cache.read_text()


def test_expired_token_is_refreshed_transparently(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path)
    client.catalog_page(1, 10)
    sandbox.control("POST", "/faults/cj", {"expire_tokens": True})
    assert client.catalog_page(1, 10).total >= 500


def test_rate_limit_storm_is_ridden_out(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path, max_attempts=30)
    client.catalog_page(1, 1)
    sandbox.control("POST", "/faults/cj", {"rate_limit_rate": 0.6, "error_rate": 0.1})
    pages = [client.catalog_page(page, 50).page for page in range(1, 5)]
    assert pages == [1, 2, 3, 4]


def test_persistent_failure_surfaces_as_transient_error(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path, max_attempts=2)
    client.catalog_page(1, 1)
    sandbox.control("POST", "/faults/cj", {"error_rate": 1.0})
    with pytest.raises(TransientApiError, match="System busy"):
        client.catalog_page(1, 10)


def test_wrong_key_is_a_permanent_error_that_names_the_fix(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with pytest.raises(PermanentApiError, match="CJ_API_KEY"):
        cj(sandbox, tmp_path, api_key="wrong").catalog_page(1, 10)


def test_unknown_product_is_permanent(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with pytest.raises(PermanentApiError, match="Product not found"):
        cj(sandbox, tmp_path).product_detail("NOPE")


def test_malformed_payload_is_a_payload_error(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("getAccessToken"):
            return httpx.Response(200, json={"code": 200, "result": True, "data": {"accessToken": "t"}})
        return httpx.Response(200, json={"code": 200, "result": True, "data": {"unexpected": []}})

    server = httpx.MockTransport(handler)
    client = CJDropshippingResource(base_url="http://cj.invalid", api_key="k", token_cache_dir=str(tmp_path))
    original = httpx.Client.__init__

    def patched(self: httpx.Client, *args: object, **kwargs: object) -> None:
        kwargs["transport"] = server
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.Client, "__init__", patched)
        with pytest.raises(PayloadError, match="unexpected shape"):
            client.catalog_page(1, 10)


def test_one_pooled_http_client_per_resource(sandbox: RunningSandbox, tmp_path: Path) -> None:
    made: list[httpx.Client] = []
    original = httpx.Client.__init__

    def counting(self: httpx.Client, *args: object, **kwargs: object) -> None:
        made.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    client = cj(sandbox, tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.Client, "__init__", counting)
        for page in range(1, 4):
            client.catalog_page(page, 5)
    assert len(made) == 1  # token + three pages over one connection pool


def test_an_order_is_placed_once_in_neutral_terms(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path)
    product = next(p for p in client.catalog_page(1, 20).products if p.malformed is None)
    variant = client.product_detail(product.pid).variants[0]
    basket = [BasketLine(variant.vid, 1, "gid://shopify/LineItem/1")]
    route = client.freight_options("US", basket)[0]
    assert route.days_min <= route.days_max
    request = SupplierOrderRequest(
        order_number="shopify-9001",
        address=ShippingAddress(
            name="Jane Doe",
            address1="1 Main St",
            city="Austin",
            country_code="US",
            zip="78701",
            province="TX",
            country="United States",
            phone="+1 512-555-0100",
        ),
        email="jane@example.com",
        customer_paid=Decimal("29.99"),
        route=route.name,
        lines=basket,
    )
    placed = client.create_order(request)
    assert placed.supplier_order_id
    with pytest.raises(DuplicateOrderError):
        client.create_order(request)
    found = client.find_order("shopify-9001")
    assert found is not None and found.supplier_order_id == placed.supplier_order_id
    assert [o.supplier_order_id for o in client.orders([placed.supplier_order_id])] == [
        placed.supplier_order_id
    ]
    assert client.find_order("shopify-0000") is None
    assert sandbox.audit()["supplier_orders_created"] == {"shopify-9001": 1}
