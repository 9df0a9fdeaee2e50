"""The CJ client against the sandbox over loopback: tokens, storms of 1600200, expiry, bad payloads."""

from pathlib import Path

import httpx
import pytest

from dropship_pipelines.resources.cj import CJDropshippingResource
from dropship_pipelines.resources.errors import PayloadError, PermanentApiError, TransientApiError
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
    cj(sandbox, tmp_path).list_products(1, 10)
    cj(sandbox, tmp_path).list_products(2, 10)  # a new process would read the same cache file
    assert sandbox.audit()["cj_token_requests"]["getAccessToken"] == 1
    cache = next((tmp_path / "tokens").iterdir())
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    assert credentials.CJ_API_KEY not in cache.read_text()


def test_expired_token_is_refreshed_transparently(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path)
    client.list_products(1, 10)
    sandbox.control("POST", "/faults/cj", {"expire_tokens": True})
    assert client.list_products(1, 10).total >= 500


def test_rate_limit_storm_is_ridden_out(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path, max_attempts=30)
    client.list_products(1, 1)
    sandbox.control("POST", "/faults/cj", {"rate_limit_rate": 0.6, "error_rate": 0.1})
    pages = [client.list_products(page, 50).page for page in range(1, 5)]
    assert pages == [1, 2, 3, 4]


def test_persistent_failure_surfaces_as_transient_error(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client = cj(sandbox, tmp_path, max_attempts=2)
    client.list_products(1, 1)
    sandbox.control("POST", "/faults/cj", {"error_rate": 1.0})
    with pytest.raises(TransientApiError, match="System busy"):
        client.list_products(1, 10)


def test_wrong_key_is_a_permanent_error_that_names_the_fix(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with pytest.raises(PermanentApiError, match="CJ_API_KEY"):
        cj(sandbox, tmp_path, api_key="wrong").list_products(1, 10)


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
            client.list_products(1, 10)
