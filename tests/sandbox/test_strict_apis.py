"""The sandbox refuses what the live APIs refuse, in their own words (issue 15): TikTok's fields per objective
and goal, enums, URLs, numbers and names; CJ's envelope on every path, its wallet, held orders and token
limit. (Meta, OpenAI and Shopify are driven by their official clients in tests/contract.)"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox

TIKTOK_HEADERS = {"Access-Token": credentials.TIKTOK_ACCESS_TOKEN}
ADVERTISER = {"advertiser_id": credentials.TIKTOK_ADVERTISER_ID}
# A 1-second MP4 with the boxes the sandbox reads (mvhd duration, tkhd size).
MP4 = (
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    + b"\x00\x00\x00\x6cmvhd\x00\x00\x00\x00"
    + b"\x00" * 8
    + (1000).to_bytes(4, "big")
    + (1000).to_bytes(4, "big")
    + b"\x00" * 80
)


def tiktok(sandbox: RunningSandbox, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{sandbox.url}/tiktok/open_api/v1.3{path}", json={**ADVERTISER, **body}, headers=TIKTOK_HEADERS
    )
    assert response.status_code == 200  # TikTok answers every refusal with HTTP 200
    envelope = response.json()
    assert envelope["request_id"] and "message" in envelope
    return envelope


def campaign(sandbox: RunningSandbox, name: str = "Sales pid:P1") -> str:
    body = {"campaign_name": name, "objective_type": "WEB_CONVERSIONS", "budget_mode": "BUDGET_MODE_INFINITE"}
    envelope = tiktok(sandbox, "/campaign/create/", body)
    assert envelope["code"] == 0, envelope
    return str(envelope["data"]["campaign_id"])


def adgroup_body(campaign_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaign_id": campaign_id,
        "adgroup_name": "US broad",
        "promotion_type": "WEBSITE",
        "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
        "location_ids": ["6252001"],
        "pixel_id": credentials.TIKTOK_PIXEL_ID,
        "optimization_goal": "CONVERT",
        "optimization_event": "SHOPPING",
        "billing_event": "OCPM",
        "bid_type": "BID_TYPE_NO_BID",
        "budget_mode": "BUDGET_MODE_DAY",
        "budget": 20.0,
        "pacing": "PACING_MODE_SMOOTH",
        "schedule_type": "SCHEDULE_FROM_NOW",
        "schedule_start_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"pixel_id": None}, "pixel_id: Missing data"),
        ({"optimization_goal": "CONVERT", "optimization_event": None}, "optimization_event: Missing data"),
        ({"optimization_goal": "MAXIMUM_VIBES"}, "optimization_goal: Must be one of"),
        ({"optimization_goal": "REACH"}, "not supported for objective_type WEB_CONVERSIONS"),
        ({"billing_event": "CPA"}, "billing_event: Must be one of"),
        ({"budget": "20.0"}, "budget: Not a valid number"),
        ({"schedule_start_time": "2026-01-01 00:00:00"}, "is in the past"),
        ({"schedule_start_time": "tomorrow"}, "Not a valid datetime"),
        ({"pixel_id": "123"}, "Pixel 123 does not exist"),
        ({"budget_mode": "BUDGET_MODE_WHATEVER"}, "budget_mode: Must be one of"),
    ],
)
def test_tiktok_refuses_ad_groups_the_live_api_refuses(
    sandbox: RunningSandbox, changes: dict[str, Any], says: str
) -> None:
    envelope = tiktok(sandbox, "/adgroup/create/", adgroup_body(campaign(sandbox), **changes))
    assert envelope["code"] == 40002 and says in envelope["message"]


def test_tiktok_refuses_duplicate_campaign_names_and_string_budgets(sandbox: RunningSandbox) -> None:
    campaign(sandbox, "Same name")
    again = {"campaign_name": "Same name", "objective_type": "WEB_CONVERSIONS"}
    assert "already exists" in tiktok(sandbox, "/campaign/create/", again)["message"]
    body = {**again, "campaign_name": "Other", "budget_mode": "BUDGET_MODE_DAY", "budget": "50"}
    refused = tiktok(sandbox, "/campaign/create/", body)
    assert refused["code"] == 40002 and "budget: Not a valid number" in refused["message"]
    bogus = tiktok(sandbox, "/campaign/create/", {**again, "campaign_name": "x", "objective_type": "SALES!"})
    assert bogus["code"] == 40002 and "objective_type" in bogus["message"]


def video(sandbox: RunningSandbox) -> str:
    import hashlib

    response = httpx.post(
        f"{sandbox.url}/tiktok/open_api/v1.3/file/video/ad/upload/",
        data={**ADVERTISER, "upload_type": "UPLOAD_BY_FILE", "video_signature": hashlib.md5(MP4).hexdigest()},
        files={"video_file": ("ad.mp4", MP4, "video/mp4")},
        headers=TIKTOK_HEADERS,
    ).json()
    assert response["code"] == 0, response
    return str(response["data"][0]["video_id"])


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"call_to_action": "BUY_IT_NOW_PLEASE"}, "call_to_action: Must be one of"),
        ({"landing_page_url": "not a url"}, "landing_page_url: Not a valid URL"),
        ({"landing_page_url": "javascript:alert(1)"}, "landing_page_url: Not a valid URL"),
        ({"identity_id": None}, "identity_id: Missing data"),
        ({"identity_type": None}, "identity_type: Missing data"),
        ({"identity_id": "42"}, "Identity 42 does not exist"),
        ({"ad_format": "HOLOGRAM"}, "ad_format: Must be one of"),
    ],
)
def test_tiktok_refuses_ads_the_live_api_refuses(
    sandbox: RunningSandbox, changes: dict[str, Any], says: str
) -> None:
    group = tiktok(sandbox, "/adgroup/create/", adgroup_body(campaign(sandbox)))
    assert group["code"] == 0, group
    creative: dict[str, Any] = {
        "ad_name": "Lamp v1",
        "ad_format": "SINGLE_VIDEO",
        "video_id": video(sandbox),
        "ad_text": "Sunset vibes, free shipping",
        "call_to_action": "SHOP_NOW",
        "landing_page_url": "https://store.example.com/products/led-sunset-lamp",
        "identity_type": "CUSTOMIZED_USER",
        "identity_id": credentials.TIKTOK_IDENTITY_ID,
        "display_name": "Lamp Co",
    }
    ok = tiktok(sandbox, "/ad/create/", {"adgroup_id": group["data"]["adgroup_id"], "creatives": [creative]})
    assert ok["code"] == 0, ok
    creative = {k: v for k, v in {**creative, **changes}.items() if v is not None}
    refused = tiktok(
        sandbox, "/ad/create/", {"adgroup_id": group["data"]["adgroup_id"], "creatives": [creative]}
    )
    assert refused["code"] == 40002 and says in refused["message"]


# --- CJ ---------------------------------------------------------------------------------------------------
def cj_token(base: str) -> dict[str, str]:
    body = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY}).json()
    return {"CJ-Access-Token": body["data"]["accessToken"]}


CONTRACT_ENDPOINTS = [
    ("POST", "/authentication/refreshAccessToken"),
    ("POST", "/authentication/logout"),
    ("GET", "/product/list"),
    ("GET", "/product/query"),
    ("GET", "/product/variant/query"),
    ("GET", "/product/variant/queryByVid"),
    ("GET", "/product/stock/queryByVid"),
    ("POST", "/logistic/freightCalculate"),
    ("POST", "/shopping/order/createOrderV2"),
    ("POST", "/shopping/pay/payBalance"),
    ("GET", "/shopping/pay/getBalance"),
    ("GET", "/shopping/order/getOrderDetail"),
    ("GET", "/shopping/order/list"),
    ("DELETE", "/shopping/order/deleteOrder"),
    ("GET", "/logistic/trackInfo"),
    ("GET", "/setting/get"),
    ("GET", "/product/listV2"),
    ("GET", "/product/getCategory"),
    ("POST", "/shopping/order/createOrderV3"),
    ("POST", "/shopping/order/addCart"),
    ("GET", "/product/stock/queryBySku"),
]


@pytest.mark.parametrize(("method", "path"), CONTRACT_ENDPOINTS)
def test_every_cj_endpoint_answers_in_cjs_envelope(sandbox: RunningSandbox, method: str, path: str) -> None:
    """With a bad request, a missing interface or the wrong method: always HTTP 200 and CJ's envelope."""
    base = sandbox.url + CJ_PREFIX
    for verb in (method, "PUT"):
        response = httpx.request(verb, base + path, headers=cj_token(base), json={})
        assert response.status_code == 200, (verb, path, response.text)
        body = response.json()
        assert set(body) >= {"code", "result", "message", "data", "requestId"}
        if verb == "PUT":
            assert body["code"] in (16900202, 1600101) and body["result"] is False


def test_unknown_cj_paths_and_methods_get_cj_codes(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    assert httpx.get(f"{base}/no/such/interface").json()["code"] == 1600101
    wrong_method = httpx.get(f"{base}/shopping/order/createOrderV2").json()
    assert wrong_method["code"] == 16900202 and "'GET' not supported" in wrong_method["message"]


def test_cj_wallet_balance_and_insufficient_balance(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = cj_token(base)
    assert httpx.get(f"{base}/shopping/pay/getBalance", headers=headers).json()["data"]["amount"] == 100_000.0
    sandbox.control("POST", "/settings", {"cj_balance": 0.5})
    assert httpx.get(f"{base}/shopping/pay/getBalance", headers=headers).json()["data"]["amount"] == 0.5
    unknown = httpx.post(f"{base}/shopping/pay/payBalance", headers=headers, json={"orderId": "SD1"}).json()
    assert unknown["code"] == 1603100


def test_cj_get_access_token_has_a_call_limit(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    sandbox.control("POST", "/settings", {"cj_token_interval_s": 300})
    first = httpx.post(
        f"{base}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY}
    ).json()
    assert first["code"] == 200
    again = httpx.post(
        f"{base}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY}
    ).json()
    assert again["code"] == 1600200 and again["result"] is False


def test_tiktok_schedule_tolerates_the_platform_clock(sandbox: RunningSandbox) -> None:
    """A start a few minutes ago is still now; an hour ago is not."""
    soon = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S")
    group = tiktok(sandbox, "/adgroup/create/", adgroup_body(campaign(sandbox), schedule_start_time=soon))
    assert group["code"] == 0, group


def order_body(base: str, headers: dict[str, str], number: str, pay_type: int) -> dict[str, Any]:
    """A createOrderV2 body as the pipelines send it, for a sellable variant and a route CJ offers."""
    products = httpx.get(f"{base}/product/list", headers=headers, params={"pageSize": 50}).json()["data"]
    for listed in products["list"]:
        detail = httpx.get(f"{base}/product/query", headers=headers, params={"pid": listed["pid"]}).json()
        variant = next((v for v in detail["data"]["variants"] if int(v.get("inventoryNum") or 0) > 0), None)
        if detail["data"].get("saleStatus") == 3 and variant:
            break
    freight = {
        "startCountryCode": "CN",
        "endCountryCode": "US",
        "products": [{"quantity": 1, "vid": variant["vid"]}],
    }
    routes = httpx.post(f"{base}/logistic/freightCalculate", headers=headers, json=freight).json()["data"]
    return {
        "orderNumber": number,
        "shippingCountryCode": "US",
        "shippingCountry": "United States",
        "shippingProvince": "Texas",
        "shippingCity": "Austin",
        "shippingCustomerName": "Jane Doe",
        "shippingAddress": "1 Main St",
        "shippingZip": "78701",
        "logisticName": routes[0]["logisticName"],
        "fromCountryCode": "CN",
        "payType": pay_type,
        "products": [{"vid": variant["vid"], "quantity": 1}],
    }


def test_cj_orders_paid_from_a_short_wallet_are_refused_with_1604000(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = cj_token(base)
    sandbox.control("POST", "/settings", {"cj_balance": 0.01})
    create = f"{base}/shopping/order/createOrderV2"
    refused = httpx.post(create, headers=headers, json=order_body(base, headers, "shopify-1", 2)).json()
    assert refused["code"] == 1604000 and refused["message"] == "Balance is insufficient"
    assert (
        httpx.get(
            f"{base}/shopping/order/getOrderDetail", headers=headers, params={"orderId": "shopify-1"}
        ).json()["code"]
        == 1600300
    )  # nothing was created
    created = httpx.post(create, headers=headers, json=order_body(base, headers, "shopify-2", 3)).json()
    assert created["code"] == 200
    pay = httpx.post(
        f"{base}/shopping/pay/payBalance", headers=headers, json={"orderId": created["data"]["orderId"]}
    )
    assert pay.json()["code"] == 1604000
    sandbox.control("POST", "/settings", {"cj_balance": 100_000.0})
    assert httpx.post(
        f"{base}/shopping/pay/payBalance", headers=headers, json={"orderId": "shopify-2"}
    ).json()["result"]


def test_cj_holds_orders_with_intercept_reasons_when_asked(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = cj_token(base)
    sandbox.control("POST", "/settings", {"cj_intercept_orders": True})
    held = httpx.post(
        f"{base}/shopping/order/createOrderV2",
        headers=headers,
        json=order_body(base, headers, "shopify-3", 2),
    ).json()
    assert held["code"] == 200 and held["data"]["interceptOrderReasons"][0]["code"] == 1001
    assert held["data"]["actualPayment"] == 0  # held, so not paid


def test_cj_create_order_v3_never_pays(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = cj_token(base)
    created = httpx.post(
        f"{base}/shopping/order/createOrderV3",
        headers=headers,
        json=order_body(base, headers, "shopify-4", 2),
    ).json()
    assert created["code"] == 200 and created["data"]["actualPayment"] == 0
