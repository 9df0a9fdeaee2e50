"""Every API call counted at the sandbox (ASGI middleware around it), and the floor the APIs' rate limits
put under a set of calls: what the discovery and fulfillment benchmarks compare their wall time with."""

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropship_sandbox.app import CJ_PREFIX, OPENAI_PREFIX
from dropship_sandbox.world import WorldSettings

CJ_IP_QPS = 10.0  # api-contracts.md §2.12: "≤10 requests/s per IP" on top of the per-endpoint level
# CJ answers HTTP 200 for everything; these envelope codes are what the sandbox's answers are sorted by.
CJ_THROTTLED = 1600200
CJ_BUSY = 1600000
_OPERATION = re.compile(r"^\s*(query|mutation)\s+(\w+)")


@dataclass
class EndpointTally:
    """One endpoint's calls as the sandbox answered them."""

    calls: int = 0
    ok: int = 0
    throttled: int = 0  # CJ 1600200, Shopify THROTTLED, HTTP 429: a wasted call a paced client avoids
    refused: int = 0  # answered but refused: HTTP 4xx, a CJ error code, GraphQL errors or userErrors
    server_errors: int = 0  # HTTP 5xx or CJ "system busy"
    cost_requested: float = 0.0  # Shopify points asked for by accepted calls
    cost_actual: float = 0.0  # Shopify points charged after the refund: what the bucket really spent
    codes: Counter[str] = field(default_factory=Counter)

    @property
    def needed(self) -> int:
        """Calls a client that never hit the limiter would still have made."""
        return self.calls - self.throttled


class ApiTally:
    """ASGI middleware around the sandbox: every API call by (api, endpoint) and outcome, Shopify costs,
    and when each CJ supplier order was created (for latency, to the millisecond, at the server)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.endpoints: dict[tuple[str, str], EndpointTally] = {}
        self.supplier_order_created_at: dict[str, float] = {}  # CJ orderNumber -> time.monotonic()
        self.writes: Counter[tuple[str, str]] = Counter()  # (api, endpoint) of every write that arrived

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            path = str(scope.get("path", ""))
            api = _api_of(path) if scope["type"] == "http" else None
            if api is None:
                await app(scope, receive, send)
                return
            request_body, response_body = bytearray(), bytearray()
            status = 0

            async def tap_receive() -> Message:
                message = await receive()
                if message["type"] == "http.request":
                    request_body.extend(message.get("body", b""))
                return message

            async def tap_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                elif message["type"] == "http.response.body":
                    response_body.extend(message.get("body", b""))
                await send(message)

            await app(scope, tap_receive, tap_send)
            self._record(api, path, status, bytes(request_body), bytes(response_body))
            if is_write(api, str(scope.get("method", "GET")), path, bytes(request_body)):
                with self._lock:
                    self.writes[(api, _endpoint(api, path, bytes(request_body)))] += 1

        return counted

    def _record(self, api: str, path: str, status: int, request: bytes, response: bytes) -> None:
        body = _json_or_none(response)
        endpoint = _endpoint(api, path, request)
        with self._lock:
            tally = self.endpoints.setdefault((api, endpoint), EndpointTally())
            tally.calls += 1
            if status == 429:
                tally.throttled += 1
            elif status >= 500:
                tally.server_errors += 1
            elif status >= 400:
                tally.refused += 1
            elif api == "cj":
                self._record_cj(tally, endpoint, body)
            elif api == "shopify":
                self._record_shopify(tally, body)
            else:
                tally.ok += 1
            tally.codes[str(status)] += 1

    def _record_cj(self, tally: EndpointTally, endpoint: str, body: Any) -> None:
        # CJ answers HTTP 200 for everything; the envelope's code says what happened.
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(body, dict) and (body.get("result") is True or body.get("success") is True):
            tally.ok += 1
            data = body.get("data")
            if endpoint == "/shopping/order/createOrderV2" and isinstance(data, dict):
                self.supplier_order_created_at[str(data.get("orderNumber"))] = time.monotonic()
        elif code == CJ_THROTTLED:
            tally.throttled += 1
        elif code == CJ_BUSY:
            tally.server_errors += 1
        else:
            tally.refused += 1
        tally.codes[f"cj:{code}"] += 1

    @staticmethod
    def _record_shopify(tally: EndpointTally, body: Any) -> None:
        if not isinstance(body, dict):
            tally.refused += 1
            return
        errors = body.get("errors")
        if isinstance(errors, list) and any(
            (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)
        ):
            tally.throttled += 1  # rejected before execution: nothing was charged
            return
        cost = (body.get("extensions") or {}).get("cost") or {}
        if cost.get("actualQueryCost") is not None:
            tally.cost_requested += float(cost["requestedQueryCost"])
            tally.cost_actual += float(cost["actualQueryCost"])
        data = body.get("data")
        user_errors = isinstance(data, dict) and any(
            isinstance(v, dict) and v.get("userErrors") for v in data.values()
        )
        if errors or user_errors:
            tally.refused += 1
        else:
            tally.ok += 1

    def snapshot(self) -> dict[tuple[str, str], EndpointTally]:
        with self._lock:
            return {
                key: EndpointTally(
                    t.calls,
                    t.ok,
                    t.throttled,
                    t.refused,
                    t.server_errors,
                    t.cost_requested,
                    t.cost_actual,
                    Counter(t.codes),
                )
                for key, t in self.endpoints.items()
            }


# CJ POSTs that change nothing: the token endpoints and the shipping quotes.
CJ_READ_POSTS = ("/authentication/", "/logistic/freightCalculate", "/disputes/disputeConfirmInfo")


def is_write(api: str, method: str, path: str, request: bytes) -> bool:
    """Would this request change something at the service? Shopify: a mutation; the LLM: never (a
    completion changes nothing); CJ: any non-GET but its token and quote endpoints; the rest: non-GET."""
    if api == "openai":
        return False
    if api == "shopify":
        payload = _json_or_none(request)
        query = payload.get("query", "") if isinstance(payload, dict) else request.decode("utf-8", "replace")
        return isinstance(query, str) and query.lstrip().startswith("mutation")
    if method == "GET":
        return False
    if api == "cj":
        return not any(marker in path for marker in CJ_READ_POSTS)
    return True


def _api_of(path: str) -> str | None:
    if path.startswith("/_sandbox") or path.startswith("/assets"):
        return None  # the sandbox's own control API and product images: not the APIs under test
    head = path.strip("/").split("/", 1)[0]
    return head or None


def _endpoint(api: str, path: str, request: bytes) -> str:
    if api == "cj":
        return path.removeprefix(CJ_PREFIX)
    if api == "shopify":
        # One GraphQL URL for everything: the operation name is what tells the calls apart.
        payload = _json_or_none(request)
        query = payload.get("query", "") if isinstance(payload, dict) else ""
        match = _OPERATION.match(query) if isinstance(query, str) else None
        return f"{match.group(1)} {match.group(2)}" if match else "graphql"
    if api == "openai":
        return path.removeprefix(OPENAI_PREFIX)
    return path


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def difference(
    after: dict[tuple[str, str], EndpointTally], before: dict[tuple[str, str], EndpointTally]
) -> dict[tuple[str, str], EndpointTally]:
    """What happened between two snapshots (one phase of a benchmark)."""
    out = {}
    for key, a in after.items():
        b = before.get(key, EndpointTally())
        delta = EndpointTally(
            a.calls - b.calls,
            a.ok - b.ok,
            a.throttled - b.throttled,
            a.refused - b.refused,
            a.server_errors - b.server_errors,
            a.cost_requested - b.cost_requested,
            a.cost_actual - b.cost_actual,
            a.codes - b.codes,
        )
        if delta.calls:
            out[key] = delta
    return out


# --- the floor the rate limits put under a set of calls ----------------------------------------------
@dataclass(frozen=True)
class Limits:
    cj_qps: float  # per endpoint (CJ's per-API, per-user, per-second limit for the account level)
    shopify_bucket: float
    shopify_restore: float
    cj_ip_qps: float = CJ_IP_QPS

    @classmethod
    def of(cls, settings: WorldSettings) -> "Limits":
        return cls(settings.cj_level_qps, settings.shopify_bucket, settings.shopify_restore_rate)


@dataclass(frozen=True)
class Floor:
    """The shortest time the APIs' limits allow for these calls, per API, and what binds."""

    cj_s: float
    cj_binding: str
    shopify_s: float
    shopify_points: float

    @property
    def seconds(self) -> float:
        return max(self.cj_s, self.shopify_s)

    @property
    def binding(self) -> str:
        return self.cj_binding if self.cj_s >= self.shopify_s else "Shopify cost bucket"


def rate_floor(
    tallies: dict[tuple[str, str], EndpointTally], limits: Limits, *, full_bucket: bool = True
) -> Floor:
    """CJ: each endpoint's calls at `cj_qps` (its bucket starts full: the first `cj_qps` calls are free),
    all of them together at the per-IP rate. Shopify: points charged beyond a full bucket, at the restore
    rate (`full_bucket=False` gives the steady state, where the bucket's head start is spent already).
    Only calls a perfectly paced client still makes count: throttled calls are waste, not work."""
    head_cj = limits.cj_qps if full_bucket else 0.0
    per_endpoint = {
        endpoint: max(0.0, (t.needed - head_cj) / limits.cj_qps)
        for (api, endpoint), t in tallies.items()
        if api == "cj"
    }
    cj_total = sum(t.needed for (api, _), t in tallies.items() if api == "cj")
    by_ip = cj_total / limits.cj_ip_qps
    worst = max(per_endpoint.items(), key=lambda kv: kv[1], default=("-", 0.0))
    cj_s, binding = (worst[1], f"CJ {worst[0]}") if worst[1] >= by_ip else (by_ip, "CJ per-IP 10/s")
    points = sum(t.cost_actual for (api, _), t in tallies.items() if api == "shopify")
    head_shopify = limits.shopify_bucket if full_bucket else 0.0
    shopify_s = max(0.0, (points - head_shopify) / limits.shopify_restore)
    return Floor(cj_s, binding, shopify_s, points)


def calls_table(title: str, tallies: dict[tuple[str, str], EndpointTally], per: int | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("api", "endpoint", "calls", "ok", "throttled", "refused", "5xx", "points", "codes"):
        table.add_column(column, justify="right" if column not in ("api", "endpoint", "codes") else "left")
    if per:
        table.add_column("calls/item", justify="right")
    for (api, endpoint), t in sorted(tallies.items()):
        noteworthy = {k: v for k, v in t.codes.items() if k not in ("200", "cj:200", "cj:0")}
        row = [
            api,
            endpoint,
            str(t.calls),
            str(t.ok),
            str(t.throttled),
            str(t.refused),
            str(t.server_errors),
            f"{t.cost_actual:.0f}" if api == "shopify" else "",
            ", ".join(f"{k} x{v}" for k, v in sorted(noteworthy.items())),
        ]
        if per:
            row.append(f"{t.needed / per:.2f}")
        table.add_row(*row)
    return table


def failure_counts(tallies: dict[tuple[str, str], EndpointTally]) -> dict[str, int]:
    """Failed requests by kind: HTTP 4xx/5xx/429 plus the APIs' in-band throttles and refusals."""
    out: Counter[str] = Counter()
    for t in tallies.values():
        for code, n in t.codes.items():
            if code.isdigit() and int(code) >= 400:
                out[f"HTTP {code}"] += n
        out["throttled (429 / 1600200 / THROTTLED)"] += t.throttled
        out["refused in-band (CJ code, GraphQL/user errors)"] += t.refused - sum(
            n for c, n in t.codes.items() if c.isdigit() and 400 <= int(c) < 500 and c != "429"
        )
    return dict(out)
