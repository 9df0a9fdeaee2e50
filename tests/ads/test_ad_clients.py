"""The ad clients alone, over a mock transport: each maps its own auth error codes to one typed error, and
one resource instance keeps one pooled HTTP client."""

from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from dropship_pipelines.resources.ad_platforms import AdPlatformAuthError, ThrottledApiError
from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource

Handler = Callable[[httpx.Request], httpx.Response]


def meta(handler: Handler) -> MetaAdsResource:
    client = MetaAdsResource(
        base_url="http://meta.test",
        access_token="secret-meta",
        ad_account_id="1",
        max_attempts=2,
        max_wait_s=0,
    )
    client._http._client = httpx.Client(transport=httpx.MockTransport(handler))
    return client


def tiktok(handler: Handler) -> TikTokAdsResource:
    client = TikTokAdsResource(
        base_url="http://tiktok.test/open_api/v1.3",
        access_token="secret-tiktok",
        advertiser_id="7",
        max_attempts=2,
        max_wait_s=0,
    )
    client._http._client = httpx.Client(transport=httpx.MockTransport(handler))
    return client


@pytest.mark.parametrize("code", [190, 2500])
def test_meta_token_errors_are_auth_errors_naming_the_variable(code: int) -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": {"code": code, "message": "Invalid OAuth access token."}})

    with pytest.raises(AdPlatformAuthError, match="META_ACCESS_TOKEN") as raised:
        meta(refuse).set_campaign_active("123", False)
    assert len(calls) == 1  # not retried
    assert "secret-meta" not in str(raised.value)


def test_meta_other_errors_are_not_auth_errors() -> None:
    def bad_param(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": 100, "message": "Invalid parameter"}})

    with pytest.raises(PermanentApiError) as raised:
        meta(bad_param).set_daily_budget("456", Decimal("25"))
    assert not isinstance(raised.value, AdPlatformAuthError)


@pytest.mark.parametrize("code", [40101, 40102, 40104, 40105])
def test_tiktok_token_errors_are_auth_errors_naming_the_variable(code: int) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": code, "message": "Access token is invalid"})

    with pytest.raises(AdPlatformAuthError, match="TIKTOK_ACCESS_TOKEN"):
        tiktok(refuse).set_campaign_active("c1", False)


def test_tiktok_rate_limit_is_retried_then_succeeds() -> None:
    answers = iter(
        [{"code": 40100, "message": "Too many requests"}, {"code": 0, "message": "OK", "data": {"list": []}}]
    )
    seen: list[str] = []

    def limited_once(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.path))
        return httpx.Response(200, json=next(answers))

    assert tiktok(limited_once).find_campaign("Sales pid:P1") is None
    assert seen == ["/open_api/v1.3/campaign/get/"] * 2


def test_tiktok_rate_limit_error_is_a_throttle() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 40100, "message": "Too many requests"})

    with pytest.raises(ThrottledApiError):
        tiktok(limited).set_campaign_active("c1", True)


def test_one_pooled_http_client_per_resource_instance() -> None:
    client = MetaAdsResource(base_url="http://meta.test", access_token="t", ad_account_id="1")
    first = client._http.client(client.timeout_s)
    assert client._http.client(client.timeout_s) is first
    other = MetaAdsResource(base_url="http://meta.test", access_token="t", ad_account_id="1")
    assert other._http.client(other.timeout_s) is not first
