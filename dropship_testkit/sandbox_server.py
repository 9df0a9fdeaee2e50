"""A real sandbox HTTP server on a free loopback port, in a background thread, for tests and benchmarks."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX, HELPDESK_PREFIX, OPENAI_PREFIX, SHOPIFY_PREFIX, create_app
from dropship_sandbox.catalog import IMAGE_HOSTS
from dropship_sandbox.world import World, WorldSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_env(sandbox_url: str, store_url: str, token_dir: Path) -> dict[str, str]:
    """Every API's base URL and credentials on the sandbox at `sandbox_url`, the store and the token cache."""
    return {
        "CJ_BASE_URL": sandbox_url + CJ_PREFIX,
        "CJ_API_KEY": credentials.CJ_API_KEY,
        "SHOPIFY_SHOP_URL": sandbox_url + SHOPIFY_PREFIX,
        "SHOPIFY_ACCESS_TOKEN": credentials.SHOPIFY_ACCESS_TOKEN,
        "SHOPIFY_WEBHOOK_SECRET": credentials.SHOPIFY_WEBHOOK_SECRET,
        "OPENAI_BASE_URL": sandbox_url + OPENAI_PREFIX + "/v1",
        "OPENAI_API_KEY": credentials.OPENAI_API_KEY,
        "STORE_DATABASE_URL": store_url,
        "DROPSHIP_TOKEN_CACHE_DIR": str(token_dir),
        # The sandbox's freight (DHL when the cheap route is past max_shipping_days) costs more than ~40 %
        # of its orders bring in: the order gate's landed-cost floor would hold them all, so the shared
        # worlds run without it; tests/order_gate sets a floor where it tests that hold.
        "ORDER_GATE_MIN_CONTRIBUTION": "off",
        # The buffer is measured on the store's clock (the world's): tests place an order and fulfil it at
        # once, so they run without one; tests/order_gate and the soak set it where they test it.
        "ORDER_GATE_BUFFER_MINUTES": "0",
        "META_BASE_URL": sandbox_url + "/meta",
        "META_ACCESS_TOKEN": credentials.META_ACCESS_TOKEN,
        "META_AD_ACCOUNT_ID": credentials.META_AD_ACCOUNT_ID,
        "META_PAGE_ID": "100000000000001",
        "META_PIXEL_ID": credentials.META_PIXEL_ID,
        "META_VIDEO_BASE_URL": sandbox_url + "/meta",  # the sandbox takes video bytes on its Graph host
        "TIKTOK_BASE_URL": sandbox_url + "/tiktok/open_api/v1.3",
        "TIKTOK_ACCESS_TOKEN": credentials.TIKTOK_ACCESS_TOKEN,
        "TIKTOK_ADVERTISER_ID": credentials.TIKTOK_ADVERTISER_ID,
        "TIKTOK_PIXEL_ID": credentials.TIKTOK_PIXEL_ID,
        "TIKTOK_PIXEL_CODE": credentials.TIKTOK_PIXEL_CODE,
        "TIKTOK_IDENTITY_ID": credentials.TIKTOK_IDENTITY_ID,
        "HELPDESK_BASE_URL": sandbox_url + HELPDESK_PREFIX,
        "HELPDESK_USERNAME": credentials.HELPDESK_USERNAME,
        "HELPDESK_API_KEY": credentials.HELPDESK_API_KEY,
        # The sandbox serves product images under CJ's image hosts; the pipelines reach them on loopback.
        "SANDBOX_HOST_MAP": ",".join(f"{host}={sandbox_url}" for host in IMAGE_HOSTS),
    }


@dataclass
class RunningSandbox:
    world: World
    url: str

    def env(self, store_url: str, token_dir: Path) -> dict[str, str]:
        """The environment variables that point the pipelines at this sandbox, CJ's pacer loosened."""
        return {
            **sandbox_env(self.url, store_url, token_dir),
            "CJ_REQUESTS_PER_SECOND": "50",
            "CJ_IP_REQUESTS_PER_SECOND": "200",
        }

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def audit(self) -> dict[str, dict[str, int]]:
        return self.control("GET", "/audit")


@contextmanager
def running_sandbox(
    state_path: Path,
    settings: WorldSettings | None = None,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> Iterator[RunningSandbox]:
    """`wrap` puts ASGI middleware around the sandbox (benchmarks count every call at the server)."""
    world = World(state_path, settings or WorldSettings())
    app: ASGIApp = create_app(world)
    if wrap is not None:
        app = wrap(app)
    try:
        with serving(app, "sandbox") as url:
            yield RunningSandbox(world, url)
    finally:
        world.state.close()


@contextmanager
def serving(app: ASGIApp, name: str = "server") -> Iterator[str]:
    """`app` under uvicorn in a background thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
