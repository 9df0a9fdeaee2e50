"""The ad clients alone: each reads its own report rows into `CampaignDay`s and maps its own auth error codes
to one typed error (over a mock transport); one resource instance keeps one pooled HTTP client."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest

from dropship_pipelines.resources.ad_platforms import AdPlatformAuthError, ThrottledApiError
from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.meta_ads import MetaAdsResource, campaign_day_from_insight
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource, campaign_day_from_report

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


def test_meta_purchase_types_are_alternatives_never_summed() -> None:
    row = {
        "date_start": "2026-11-02",
        "campaign_id": 120000001,
        "campaign_name": "Sales pid:P1",
        "spend": "12.345",
        "impressions": "2000",
        "clicks": "30",
        "actions": [
            {"action_type": "link_click", "value": "30"},
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "3"},
            {"action_type": "omni_purchase", "value": "3"},
            {"action_type": "purchase", "value": "3"},
        ],
        "action_values": [
            {"action_type": "purchase", "value": "89.97"},
            {"action_type": "omni_purchase", "value": "89.97"},
        ],
    }
    parsed = campaign_day_from_insight(row)
    assert parsed.day == date(2026, 11, 2) and parsed.platform == "meta" and parsed.campaign_id == "120000001"
    assert (parsed.purchases, parsed.revenue) == (3, Decimal("89.97"))
    assert parsed.spend == Decimal("12.35")  # to the cent, half up


def test_meta_row_without_conversions_has_none() -> None:
    parsed = campaign_day_from_insight({"date_start": "2026-11-02", "campaign_id": "1", "spend": "5"})
    assert (parsed.impressions, parsed.clicks, parsed.purchases, parsed.revenue) == (0, 0, 0, Decimal("0"))
    assert parsed.campaign_name == ""


def test_tiktok_dashes_are_zero_and_the_day_is_a_date() -> None:
    row = {
        "dimensions": {"campaign_id": "1800000001", "stat_time_day": "2026-11-03 00:00:00"},
        "metrics": {
            "campaign_name": "Sales pid:P2",
            "spend": "20.00",
            "impressions": "-",
            "clicks": "",
            "complete_payment": "2",
            "total_complete_payment_rate": "59.98",
        },
    }
    parsed = campaign_day_from_report(row)
    assert parsed.day == date(2026, 11, 3) and parsed.platform == "tiktok"
    assert (parsed.impressions, parsed.clicks, parsed.purchases) == (0, 0, 2)
    assert (parsed.spend, parsed.revenue) == (Decimal("20.00"), Decimal("59.98"))


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
