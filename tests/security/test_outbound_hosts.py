"""Outbound requests go only to configured hosts: API resources to their base URL, product images to the
allow-list, and never a credential to a host named in a response body."""

import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import httpx
import pytest

from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.resources.errors import PayloadError
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.services.ads import download_image as _download
from dropship_pipelines.services.ads import host_allowed
from dropship_pipelines.settings import CJ_IMAGE_HOSTS, image_hosts
from dropship_testkit.pipelines import build_defs
from dropship_testkit.sandbox_server import RunningSandbox

CJ_OSS = "cc-west-usa.oss-us-west-1.aliyuncs.com"  # the object store CJ's own examples link to
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Server:
    """A loopback HTTP server answering with `routes[path] = (status, headers, body)`; records requests."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                status, headers, body = server.routes.get(urlsplit(self.path).path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    """(allowed, other): the other one stands for any host we must never reach."""
    allowed, other = Server(), Server()
    try:
        yield allowed, other
    finally:
        allowed.close()
        other.close()


def test_wildcards_match_one_label_at_a_time() -> None:
    hosts = ["*.cjdropshipping.com"]
    assert host_allowed("https://cf.cjdropshipping.com/a.jpg", hosts)
    assert not host_allowed("https://cjdropshipping.com/a.jpg", hosts)  # `*` is one label, never none
    assert not host_allowed("https://a.b.cjdropshipping.com/a.jpg", hosts)  # ... nor two
    assert not host_allowed("https://cf.cjdropshipping.com.evil.test/a.jpg", hosts)
    assert not host_allowed("https://evil.test/?h=x.cjdropshipping.com", hosts)
    assert host_allowed("https://cc-west-usa.oss-us-west-1.aliyuncs.com/x.png", ["*.oss-*.aliyuncs.com"])
    assert not host_allowed("https://oss-us-west-1.aliyuncs.com.evil/x.png", ["*.oss-*.aliyuncs.com"])


def test_host_allow_list_admits_subdomains_only_of_listed_hosts() -> None:
    hosts = ["cjdropshipping.com", "127.0.0.1"]
    assert host_allowed("https://cf.cjdropshipping.com/a.jpg", hosts)
    assert host_allowed("http://127.0.0.1:8000/a.png", hosts)
    assert not host_allowed("https://cjdropshipping.com.evil.test/a.jpg", hosts)
    assert not host_allowed("https://evilcjdropshipping.com/a.jpg", hosts)
    assert not host_allowed("file:///etc/passwd", hosts)
    assert not host_allowed("http://169.254.169.254/latest/meta-data/", hosts)


def test_default_image_hosts_are_cjs_image_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live and sandbox alike: the sandbox serves its images under CJ's hosts (SANDBOX_HOST_MAP)."""
    monkeypatch.delenv("AD_IMAGE_HOSTS", raising=False)
    monkeypatch.setenv("CJ_BASE_URL", "http://127.0.0.1:9999/cj/api2.0/v1")
    hosts = image_hosts()
    assert hosts == CJ_IMAGE_HOSTS == ["cf.cjdropshipping.com", "*.cjdropshipping.com", CJ_OSS]
    assert host_allowed("https://cf.cjdropshipping.com/a.jpg", hosts)
    assert host_allowed("https://cc-west-usa.oss-us-west-1.aliyuncs.com/20210129/2167381084610.png", hosts)
    assert not host_allowed("http://127.0.0.1:9999/assets/products/P/0.png", hosts)
    monkeypatch.setenv("AD_IMAGE_HOSTS", "img.example.com, CDN.example.com")
    assert image_hosts() == ["img.example.com", "cdn.example.com"]


def test_images_download_from_allowed_hosts(servers: tuple[Server, Server], tmp_path: Path) -> None:
    allowed, _ = servers
    allowed.routes["/p/1.png"] = (200, {"Content-Type": "image/png"}, PNG)
    path = _download(f"http://127.0.0.1:{allowed.port}/p/1.png", tmp_path, ["127.0.0.1"])
    assert path.read_bytes() == PNG


def test_image_on_another_host_is_refused_without_a_request(
    servers: tuple[Server, Server], tmp_path: Path
) -> None:
    _, other = servers
    other.routes["/evil.png"] = (200, {}, PNG)
    with pytest.raises(ValueError, match="not allowed"):
        _download(f"http://localhost:{other.port}/evil.png", tmp_path, ["127.0.0.1"])
    assert other.requests == [] and not list(tmp_path.iterdir())


def test_redirect_to_another_host_is_refused(servers: tuple[Server, Server], tmp_path: Path) -> None:
    allowed, other = servers
    other.routes["/evil.png"] = (200, {}, PNG)
    allowed.routes["/p/2.png"] = (302, {"Location": f"http://localhost:{other.port}/evil.png"}, b"")
    with pytest.raises(ValueError, match="redirect"):
        _download(f"http://127.0.0.1:{allowed.port}/p/2.png", tmp_path, ["127.0.0.1"])
    assert len(allowed.requests) == 1 and other.requests == []


def test_meta_never_follows_a_next_page_to_another_host(servers: tuple[Server, Server]) -> None:
    """`paging.next` comes from the response body; following it elsewhere would hand out the token."""
    meta, other = servers
    other_url = f"http://localhost:{other.port}/v26.0/act_1/insights?after=x"
    body = b'{"data": [], "paging": {"next": "' + other_url.encode() + b'"}}'
    meta.routes["/v26.0/act_1/insights"] = (200, {"Content-Type": "application/json"}, body)
    resource = MetaAdsResource(
        base_url=f"http://127.0.0.1:{meta.port}", access_token="planted-token-123", ad_account_id="act_1"
    )
    with pytest.raises(PayloadError, match="another host"):
        resource.campaign_days(date(2026, 11, 1), date(2026, 11, 2))
    assert len(meta.requests) == 1 and other.requests == []


def test_discovery_run_only_talks_to_the_configured_hosts(
    pipeline_env: dict, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request of a real run (httpx, and httpx2 under the openai client) goes to the base URLs."""
    seen: list[str] = []

    def recording(module: Any) -> None:
        original = module.Client.send

        def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(f"{request.url.scheme}://{request.url.host}:{request.url.port}")
            return original(self, request, *args, **kwargs)

        monkeypatch.setattr(module.Client, "send", send)

    recording(httpx)
    try:
        import httpx2

        recording(httpx2)
    except ImportError:  # older openai clients use httpx itself
        pass
    job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
    config = {
        "ops": {
            "product_candidates": {"config": {"detail_lookups_per_run": 6}},
            "store_listings": {"config": {"max_listings_per_run": 2}},
        }
    }
    result = job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert seen and set(seen) == {sandbox.url}  # sandbox.url is http://127.0.0.1:<port>
