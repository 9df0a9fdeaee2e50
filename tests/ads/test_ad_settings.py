"""The ad clients' settings the live platforms need (pixels, identity, Meta's video host), checked when a
run starts with an error naming the variable, and the requests built from them (over a mock transport)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from dropship_pipelines.resources.ad_platforms import MissingSettingError
from dropship_pipelines.resources.meta_ads import MetaAdsResource, video_base_url
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource


def test_meta_takes_video_bytes_on_its_video_host() -> None:
    assert video_base_url("https://graph.facebook.com") == "https://graph-video.facebook.com"
    assert video_base_url("http://127.0.0.1:8710/meta/") == "http://127.0.0.1:8710/meta"


@pytest.mark.parametrize("pixel", ["", "  ", "my-pixel"])
def test_meta_without_a_pixel_names_the_variable(pixel: str) -> None:
    client = MetaAdsResource(base_url="http://meta.test", access_token="t", ad_account_id="1", pixel_id=pixel)
    with pytest.raises(MissingSettingError, match="META_PIXEL_ID"):
        client.check_configuration()


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"pixel_id": "", "identity_id": "72"}, "TIKTOK_PIXEL_ID"),
        ({"pixel_id": "71", "identity_id": ""}, "TIKTOK_IDENTITY_ID"),
    ],
)
def test_tiktok_without_pixel_or_identity_names_the_variable(settings: dict[str, str], variable: str) -> None:
    client = TikTokAdsResource(base_url="http://tiktok.test", access_token="t", advertiser_id="7", **settings)
    with pytest.raises(MissingSettingError, match=variable):
        client.check_configuration()


def test_meta_ad_set_and_chunked_upload_as_meta_takes_them(tmp_path: Path) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    # Meta names the next chunk in each answer: bytes 0-4, then 4-6, then none left.
    offsets = iter([("0", "4"), ("4", "6"), ("6", "6")])

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content
        phase = next(
            (p for p in (b"finish", b"transfer", b"start") if b"upload_phase" in body and p in body), None
        )
        if phase is None:
            seen.append((f"{request.url.host}{request.url.path}", dict(httpx.QueryParams(body.decode()))))
            return httpx.Response(200, json={"id": "1"})
        seen.append((f"{request.url.host}:{phase.decode()}", {}))
        if phase == b"finish":
            return httpx.Response(200, json={"success": True})
        start, end = next(offsets)
        answer = {"start_offset": start, "end_offset": end}
        if phase == b"start":
            answer |= {"upload_session_id": "s1", "video_id": "v1"}
        return httpx.Response(200, json=answer)

    client = MetaAdsResource(
        base_url="https://graph.facebook.com",
        access_token="t",
        ad_account_id="1",
        pixel_id="123",
        max_wait_s=0,
    )
    client._http._client = httpx.Client(transport=httpx.MockTransport(handler))
    client.create_adset("c1", "Broad US pid:P", Decimal("20"))
    host, form = seen[-1]
    assert host == "graph.facebook.com/v26.0/act_1/adsets"
    assert form["optimization_goal"] == "OFFSITE_CONVERSIONS"
    assert json.loads(form["promoted_object"]) == {"pixel_id": "123", "custom_event_type": "PURCHASE"}
    video = tmp_path / "ad.mp4"
    video.write_bytes(b"abcdef")
    assert client.upload_video(video, "Video ad pid:P") == "v1"
    phases = [host for host, _ in seen[1:]]
    assert phases[0] == "graph-video.facebook.com:start" and phases[-1] == "graph-video.facebook.com:finish"
    assert phases[1:-1] == ["graph-video.facebook.com:transfer"] * 2


def test_tiktok_ad_groups_start_now_for_the_pixel_and_ads_run_as_the_identity() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        data = {"adgroup_id": "2"} if "adgroup" in request.url.path else {"ad_ids": ["3"]}
        return httpx.Response(200, json={"code": 0, "message": "OK", "request_id": "r", "data": data})

    client = TikTokAdsResource(
        base_url="http://tiktok.test", access_token="t", advertiser_id="7", pixel_id="71", identity_id="72"
    )
    client._http._client = httpx.Client(transport=httpx.MockTransport(handler))
    client.create_adset("1", "Broad US pid:P", Decimal("20"))
    adgroup = bodies[-1]
    assert adgroup["pixel_id"] == "71" and adgroup["optimization_goal"] == "CONVERT"
    start = datetime.strptime(adgroup["schedule_start_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - start) < timedelta(minutes=1)
    assert isinstance(adgroup["budget"], float)
