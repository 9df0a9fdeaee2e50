"""facebook-business (Meta's own Python SDK) against the sandbox's Graph API: the launch the pipelines make
(campaign, ad set for the pixel's purchases, chunked video upload, creative, ad), status changes, insights,
and the refusals and throttles of the live API."""

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.advideo import AdVideo
from facebook_business.adobjects.campaign import Campaign
from facebook_business.exceptions import FacebookRequestError

from dropship_pipelines.resources.ad_platforms import ThrottledApiError
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_sandbox import credentials
from dropship_testkit.sandbox_server import RunningSandbox

pytestmark = pytest.mark.usefixtures("graph_api")
ACCOUNT = credentials.META_AD_ACCOUNT_ID
PIXEL = {"pixel_id": credentials.META_PIXEL_ID, "custom_event_type": "PURCHASE"}


def campaign() -> str:
    created = AdAccount(ACCOUNT).create_campaign(
        params={
            Campaign.Field.name: "Contract campaign",
            Campaign.Field.objective: Campaign.Objective.outcome_sales,
            Campaign.Field.status: Campaign.Status.paused,
            Campaign.Field.special_ad_categories: [],
            "is_adset_budget_sharing_enabled": False,
        }
    )
    return str(created["id"])


def adset_params(campaign_id: str, **changes: object) -> dict[str, object]:
    params: dict[str, object] = {
        AdSet.Field.name: "Contract ad set",
        AdSet.Field.campaign_id: campaign_id,
        AdSet.Field.daily_budget: 2000,
        AdSet.Field.billing_event: AdSet.BillingEvent.impressions,
        AdSet.Field.optimization_goal: AdSet.OptimizationGoal.offsite_conversions,
        AdSet.Field.bid_strategy: AdSet.BidStrategy.lowest_cost_without_cap,
        AdSet.Field.promoted_object: PIXEL,
        AdSet.Field.targeting: {"geo_locations": {"countries": ["US"]}, "age_min": 18, "age_max": 65},
        AdSet.Field.status: AdSet.Status.active,
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def refusal(excinfo: pytest.ExceptionInfo[FacebookRequestError]) -> dict[str, object]:
    error = excinfo.value
    assert error.http_status() == 400
    body = error.body()["error"]
    assert body["type"] == "OAuthException" and body["fbtrace_id"]
    return body


def test_launch_as_the_pipelines_make_it(tmp_path: Path) -> None:
    campaign_id = campaign()
    adset = AdAccount(ACCOUNT).create_ad_set(params=adset_params(campaign_id))
    video_file = tmp_path / "ad.mp4"
    video_file.write_bytes(bytes(range(256)) * 10_000)  # 2.5 MB: three chunks of at most 1 MiB
    video = AdVideo(parent_id=ACCOUNT)
    video[AdVideo.Field.filepath] = str(video_file)
    video.remote_create()  # the SDK's chunked upload: start, transfer x3, finish, to the video host
    assert video["id"]
    status = AdVideo(video["id"]).api_get(fields=["status"])
    assert status["status"]["video_status"] == "ready"
    creative = AdAccount(ACCOUNT).create_ad_creative(
        params={
            "name": "Contract creative",
            "object_story_spec": {
                "page_id": "100000000000001",
                "video_data": {
                    "video_id": video["id"],
                    "title": "Sunset Lamp",
                    "message": "Free shipping today",
                    "call_to_action": {"type": "SHOP_NOW", "value": {"link": "https://store.example/p/lamp"}},
                },
            },
        }
    )
    ad = AdAccount(ACCOUNT).create_ad(
        params={
            "name": "Contract ad",
            "adset_id": adset["id"],
            "creative": {"creative_id": creative["id"]},
            "status": "PAUSED",
        }
    )
    assert ad["id"]
    Campaign(campaign_id).api_update(params={Campaign.Field.status: Campaign.Status.active})
    AdSet(adset["id"]).api_update(params={AdSet.Field.daily_budget: 3000})
    found = AdSet(adset["id"]).api_get(fields=[AdSet.Field.daily_budget, AdSet.Field.name])
    assert found[AdSet.Field.daily_budget] == "3000"
    rows = Campaign(campaign_id).get_insights(
        fields=["campaign_id", "spend", "impressions", "actions"],
        params={"level": "campaign", "time_increment": 1, "date_preset": "last_7d"},
    )
    assert all(isinstance(row["spend"], str) for row in rows)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({AdSet.Field.optimization_goal: "BOGUS"}, "optimization_goal must be one of"),
        ({AdSet.Field.billing_event: "WHENEVER"}, "billing_event must be one of"),
        ({AdSet.Field.promoted_object: None}, "promoted_object"),
        ({AdSet.Field.promoted_object: {"pixel_id": credentials.META_PIXEL_ID}}, "custom_event_type"),
        ({AdSet.Field.promoted_object: {**PIXEL, "pixel_id": "999"}}, "not a pixel of this ad account"),
        ({AdSet.Field.daily_budget: "twenty"}, "daily_budget must be a non-negative integer"),
        ({AdSet.Field.status: "RUNNING"}, "status must be one of"),
    ],
)
def test_ad_sets_the_live_api_refuses(changes: dict[str, object], says: str) -> None:
    campaign_id = campaign()
    with pytest.raises(FacebookRequestError) as excinfo:
        AdAccount(ACCOUNT).create_ad_set(params=adset_params(campaign_id, **changes))
    body = refusal(excinfo)
    assert body["code"] == 100 and says in str(body["message"])


def test_campaigns_the_live_api_refuses() -> None:
    with pytest.raises(FacebookRequestError) as excinfo:
        AdAccount(ACCOUNT).create_campaign(
            params={"name": "x", "objective": "MAKE_MONEY", "special_ad_categories": []}
        )
    assert refusal(excinfo)["code"] == 100
    with pytest.raises(FacebookRequestError) as excinfo:
        AdAccount(ACCOUNT).create_campaign(params={"name": "x", "objective": "OUTCOME_SALES"})
    assert "special_ad_categories is required" in str(refusal(excinfo)["message"])


def test_a_throttle_says_when_access_returns_in_minutes(sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/settings", {"meta_regain_minutes": 3})
    sandbox.control("POST", "/faults/meta", {"rate_limit_rate": 1.0})
    with pytest.raises(FacebookRequestError) as excinfo:
        campaign()
    assert excinfo.value.api_error_code() in (17, 613, 80004)
    usage = json.loads(excinfo.value.http_headers()["x-business-use-case-usage"])
    [entry] = usage[ACCOUNT.removeprefix("act_")]
    assert entry["estimated_time_to_regain_access"] == 3


def test_the_pipelines_client_waits_as_long_as_meta_says(sandbox: RunningSandbox) -> None:
    """0.02 minutes is 1.2 s: longer than any backoff of the client's own before its second attempt."""
    sandbox.control("POST", "/settings", {"meta_regain_minutes": 0.02})
    sandbox.control("POST", "/faults/meta", {"rate_limit_rate": 1.0})
    client = MetaAdsResource(
        base_url=sandbox.url + "/meta",
        access_token=credentials.META_ACCESS_TOKEN,
        ad_account_id=ACCOUNT,
        pixel_id=credentials.META_PIXEL_ID,
        max_attempts=2,
    )
    started = time.monotonic()
    with pytest.raises(ThrottledApiError):
        client.set_daily_budget("120210000000000001", Decimal("20"))
    assert time.monotonic() - started >= 1.2
