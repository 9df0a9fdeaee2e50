"""In sandbox mode only: the hosts the sandbox stands in for, reached through a loopback mapping.

The sandbox serves CJ's product images under CJ's own image hosts (`cf.cjdropshipping.com`, ...), so the
pipelines download them exactly as they would live: the URL keeps the real host, the allow-list checks the
real host, and only the transport underneath sends the request to the sandbox. Live, SANDBOX_HOST_MAP is
empty and the transport is httpx's own.
"""

import httpx


def parse_host_map(raw: str) -> dict[str, str]:
    """`host=origin,host=origin` (SANDBOX_HOST_MAP) as {host: origin}; blanks ignored."""
    mapping: dict[str, str] = {}
    for entry in raw.split(","):
        host, sep, origin = entry.strip().partition("=")
        if not sep or not host.strip() or not origin.strip():
            continue
        mapping[host.strip().lower()] = origin.strip().rstrip("/")
    return mapping


class HostMapTransport(httpx.BaseTransport):
    """Sends a request for a mapped host to its origin (scheme, host and port), path and query unchanged."""

    def __init__(self, mapping: dict[str, str], inner: httpx.BaseTransport | None = None) -> None:
        self._origins = {host: httpx.URL(origin) for host, origin in mapping.items()}
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = self._origins.get((request.url.host or "").lower())
        if origin is not None:
            request.url = request.url.copy_with(scheme=origin.scheme, host=origin.host, port=origin.port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def transport(mapping: dict[str, str]) -> httpx.BaseTransport | None:
    """The transport for a client that may reach mapped hosts; None (httpx's own) when none is mapped."""
    return HostMapTransport(mapping) if mapping else None
