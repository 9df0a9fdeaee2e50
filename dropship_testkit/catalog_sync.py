"""The catalog sync's harness, shared by its tests and benchmark: the webhook receiver on loopback, CJ's
messages enabled to it, and supplier changes made now."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from dropship_pipelines.webhooks import create_webhook_app
from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox, serving


def cj_token(sandbox: RunningSandbox) -> str:
    answer = httpx.post(
        f"{sandbox.url}{CJ_PREFIX}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY}
    ).json()
    return answer["data"]["accessToken"]


def subscribe(sandbox: RunningSandbox, url: str) -> None:
    """Enable CJ's product and stock messages to `url` (what the webhook registration does)."""
    setting = {"type": "ENABLE", "callbackUrls": [url]}
    answer = httpx.post(
        f"{sandbox.url}{CJ_PREFIX}/webhook/set",
        json={"product": setting, "stock": setting},
        headers={"CJ-Access-Token": cj_token(sandbox)},
    ).json()
    assert answer["result"] is True, answer


@contextmanager
def receiver(store_url: str) -> Iterator[str]:
    """The webhook receiver (Shopify's and CJ's routes) on loopback; yields its CJ URL."""
    with serving(create_webhook_app(store_url=store_url), "webhook receiver") as base:
        yield f"{base}/webhooks/cj"


def change(sandbox: RunningSandbox, **body: Any) -> dict[str, Any]:
    """One change of the supplier's catalog, now (`POST /_sandbox/supplier/change`)."""
    return sandbox.control("POST", "/supplier/change", body)
