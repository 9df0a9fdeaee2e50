"""Each ad client holds at most `max_in_flight` calls unanswered, however many threads call it."""

import threading
from collections.abc import Callable

import httpx
import pytest

from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.pacing import pacer
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource

THREADS = 8


def meta(transport: httpx.MockTransport) -> tuple[MetaAdsResource, str]:
    client = MetaAdsResource(base_url="http://meta-inflight.test", access_token="t", ad_account_id="1")
    client._http._client = httpx.Client(transport=transport)
    return client, f"meta:{client.base_url}"


def tiktok(transport: httpx.MockTransport) -> tuple[TikTokAdsResource, str]:
    client = TikTokAdsResource(base_url="http://tiktok-inflight.test", access_token="t", advertiser_id="7")
    client._http._client = httpx.Client(transport=transport)
    return client, f"tiktok:{client.base_url}"


@pytest.mark.parametrize("make", [meta, tiktok])
def test_a_client_holds_at_most_its_in_flight_calls_unanswered(make: Callable) -> None:
    arrived = threading.Condition()
    release = threading.Event()
    unanswered = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal unanswered
        with arrived:
            unanswered += 1
            arrived.notify_all()
        release.wait(30)
        with arrived:
            unanswered -= 1
        return httpx.Response(200, json={"code": 0, "data": {}, "id": "1"})

    client, key = make(httpx.MockTransport(handler))
    threads = [
        threading.Thread(target=client._request, args=("GET", "x"), kwargs={"params": {}})
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    with arrived:
        assert arrived.wait_for(lambda: unanswered == client.max_in_flight, timeout=30)
    paced = pacer(key, client.requests_per_second, client.max_in_flight, client.burst_requests)
    # Every place is taken: the other calls wait for an answer before they are sent.
    assert paced._in_flight is not None and not paced._in_flight.acquire(blocking=False)
    assert unanswered == client.max_in_flight < THREADS
    release.set()
    for thread in threads:
        thread.join(30)
    assert unanswered == 0
