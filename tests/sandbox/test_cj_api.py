"""The sandbox's CJ API answers as CJ does: envelopes, codes, auth, QPS limits, pagination."""

import httpx

from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX
from dropship_sandbox.world import WorldSettings
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox


def token(base: str) -> str:
    body = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY}).json()
    assert body["code"] == 200 and body["result"] is True and body["requestId"]
    return body["data"]["accessToken"]


def test_auth_errors_use_cj_codes(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    wrong = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": "nope"})
    assert wrong.status_code == 200 and wrong.json()["code"] == 1600005 and wrong.json()["result"] is False
    missing = httpx.get(f"{base}/product/list").json()
    assert missing["code"] == 1600002
    bad = httpx.get(f"{base}/product/list", headers={"CJ-Access-Token": "forged"}).json()
    assert bad["code"] == 1600001


def test_token_is_cached_24h_and_can_be_revoked(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    first, second = token(base), token(base)
    assert first == second
    sandbox.control("POST", "/faults/cj", {"expire_tokens": True})
    expired = httpx.get(f"{base}/product/list", headers={"CJ-Access-Token": first}).json()
    assert expired["code"] == 1600001
    assert token(base) != first


def test_product_list_pages_cover_the_catalog(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = {"CJ-Access-Token": token(base)}
    seen: list[str] = []
    page = 1
    while True:
        data = httpx.get(
            f"{base}/product/list", params={"pageNum": page, "pageSize": 200}, headers=headers
        ).json()
        assert data["code"] == 200
        seen += [item["pid"] for item in data["data"]["list"]]
        if page * 200 >= data["data"]["total"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) >= 500
    too_big = httpx.get(f"{base}/product/list", params={"pageSize": 500}, headers=headers).json()
    assert too_big["code"] == 1600300


def test_detail_freight_and_not_found(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = {"CJ-Access-Token": token(base)}
    pid = httpx.get(f"{base}/product/list", params={"pageSize": 50}, headers=headers).json()["data"]["list"][
        0
    ]["pid"]
    detail = httpx.get(f"{base}/product/query", params={"pid": pid}, headers=headers).json()["data"]
    assert detail["pid"] == pid and "_sim" not in detail
    vid = detail["variants"][0]["vid"]
    freight = httpx.post(
        f"{base}/logistic/freightCalculate",
        headers=headers,
        json={"startCountryCode": "CN", "endCountryCode": "US", "products": [{"vid": vid, "quantity": 1}]},
    ).json()
    assert freight["code"] == 200 and {"logisticName", "logisticPrice", "logisticAging"} <= set(
        freight["data"][0]
    )
    assert (
        httpx.post(
            f"{base}/logistic/freightCalculate",
            headers=headers,
            json={"endCountryCode": "BR", "products": [{"vid": vid, "quantity": 1}]},
        ).json()["code"]
        == 1605002
    )
    assert (
        httpx.get(f"{base}/product/query", params={"pid": "missing"}, headers=headers).json()["code"]
        == 1602001
    )


def test_qps_limit_answers_1600200(tmp_path) -> None:
    with running_sandbox(tmp_path / "w.db", WorldSettings(cj_level_qps=1.0)) as slow:
        base = slow.url + CJ_PREFIX
        headers = {"CJ-Access-Token": token(base)}
        codes = [
            httpx.get(f"{base}/product/list", params={"pageSize": 1}, headers=headers).json()["code"]
            for _ in range(4)
        ]
        assert 1600200 in codes and 200 in codes


def test_injected_faults_speak_cj(sandbox: RunningSandbox) -> None:
    base = sandbox.url + CJ_PREFIX
    headers = {"CJ-Access-Token": token(base)}
    sandbox.control("POST", "/faults/cj", {"error_rate": 1.0})
    assert httpx.get(f"{base}/product/list", headers=headers).json()["code"] == 1600000
    sandbox.control("POST", "/faults/cj", {"reset": True, "rate_limit_rate": 1.0})
    assert httpx.get(f"{base}/product/list", headers=headers).json()["code"] == 1600200
