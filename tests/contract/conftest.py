"""Only the host changes: a `requests` adapter that sends a live host's requests to the sandbox."""

from collections.abc import Iterator

import pytest
import requests
from requests.adapters import HTTPAdapter

from dropship_sandbox.app import META_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox


class HostToSandbox(HTTPAdapter):
    """Rewrites `https://<live host>/...` to `<sandbox>/<prefix>/...`; path, query and body as the SDK made
    them. Mounted on the SDK's own `requests.Session`, so nothing else about the client changes."""

    def __init__(self, live_origin: str, sandbox_origin: str) -> None:
        super().__init__()
        self.live_origin, self.sandbox_origin = live_origin.rstrip("/"), sandbox_origin.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        assert request.url and request.url.startswith(self.live_origin + "/"), request.url
        request.url = self.sandbox_origin + request.url[len(self.live_origin) :]
        return super().send(request, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def graph_api(sandbox: RunningSandbox) -> Iterator[object]:
    """`FacebookAdsApi.init(...)` as the SDK's docs show it; Graph and Graph-video hosts go to the sandbox."""
    from facebook_business.api import FacebookAdsApi

    from dropship_sandbox import credentials

    api = FacebookAdsApi.init(access_token=credentials.META_ACCESS_TOKEN, crash_log=False)
    session = api._session.requests
    for live in ("https://graph.facebook.com", "https://graph-video.facebook.com"):
        session.mount(live + "/", HostToSandbox(live, sandbox.url + META_PREFIX))
    yield api
    FacebookAdsApi.set_default_api(None)
