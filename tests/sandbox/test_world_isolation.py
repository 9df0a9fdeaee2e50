"""Two worlds in one process keep their own rate limits: every bucket lives in its `World`."""

from pathlib import Path

import httpx

from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX
from dropship_sandbox.world import World, WorldSettings
from dropship_testkit.sandbox_server import running_sandbox


def test_each_world_holds_its_own_buckets(tmp_path: Path) -> None:
    first, second = World(tmp_path / "a.db"), World(tmp_path / "b.db")
    drained = first.rate_buckets.get("cj:/product/list", 1.0, 1.0)
    assert drained.take(1) and not drained.take(1)
    fresh = second.rate_buckets.get("cj:/product/list", 1.0, 1.0)
    assert fresh is not drained and fresh.take(1)
    assert first.rate_buckets.get("cj:/product/list", 1.0, 1.0) is drained


def _token(base: str) -> str:
    body = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY})
    return body.json()["data"]["accessToken"]


def test_a_throttled_world_does_not_throttle_another(tmp_path: Path) -> None:
    """Two in-thread servers, as the tests run them: CJ's QPS spent in one leaves the other's untouched."""
    settings = WorldSettings(cj_level_qps=1.0)
    with (
        running_sandbox(tmp_path / "a.db", settings) as busy,
        running_sandbox(tmp_path / "b.db", settings) as idle,
    ):
        busy_base, idle_base = busy.url + CJ_PREFIX, idle.url + CJ_PREFIX
        busy_headers = {"CJ-Access-Token": _token(busy_base)}
        idle_headers = {"CJ-Access-Token": _token(idle_base)}
        codes = [
            httpx.get(f"{busy_base}/product/list", params={"pageSize": 1}, headers=busy_headers).json()[
                "code"
            ]
            for _ in range(4)
        ]
        assert 1600200 in codes, "four calls at once must exceed a 1/s quota"
        # Right after the busy world refused a call, the same endpoint of the idle world answers.
        answer = httpx.get(f"{idle_base}/product/list", params={"pageSize": 1}, headers=idle_headers)
        assert answer.json()["code"] == 200
