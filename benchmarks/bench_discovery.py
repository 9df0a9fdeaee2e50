"""Benchmark product discovery: the pure scoring/pricing rules, then the whole job against the sandbox.

    python -m benchmarks.bench_discovery [--catalog 100000 --repeats 3] [--listings 100 --max-runs 3]
                                         [--cj-client-rps 4] [--skip-rules] [--skip-job]

(a) Rules: `rules.scoring.evaluate` (thresholds, retail price, profit, margin, score) over a synthetic
    catalog shaped like the sandbox's (CJ categories, cost and weight ranges, variant counts, Pareto
    popularity, CJ freight formula, a few feed defects), then per-variant listing prices as
    `store_listings` makes them. Inputs are built before the clock starts.
(b) Job: `product_discovery_job` in process against a sandbox with its real limits (default
    `WorldSettings`: CJ 4 requests/s per endpoint, Shopify bucket 2,000 points restoring 100/s). Every API
    call is counted at the sandbox by ASGI middleware (the sandbox's audit only counts side effects), so
    the floor the rate limits put under the calls the run made can be compared with the wall time.

Run from the repository root (`python -m`, so `benchmarks.*` imports). Never inside pytest.
"""

import argparse
import json
import math
import os
import random
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropship_pipelines.rules.pricing import PriceRule, compare_at_price, retail_price
from dropship_pipelines.rules.scoring import ProductFacts, Thresholds, evaluate
from dropship_sandbox.app import CJ_PREFIX, OPENAI_PREFIX
from dropship_sandbox.catalog import CATEGORIES
from dropship_sandbox.world import WorldSettings

console = Console(width=130)  # wide enough for the tables when piped to a file
CJ_IP_QPS = 10.0  # api-contracts.md §2.12: "≤10 requests/s per IP" on top of the per-endpoint level
CJ_THROTTLED = 1600200
CJ_BUSY = 1600000
_OPERATION = re.compile(r"^\s*(query|mutation)\s+(\w+)")


# --- counting every API call at the sandbox ----------------------------------------------------------
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


def figures_table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def set_pipeline_env(env: dict[str, str], cj_client_rps: float) -> None:
    """The pipelines read their settings from the environment when resources are built."""
    os.environ.update(env)
    # tests loosen the client's CJ pacer to 50/s; here the client paces like production (its default 4/s)
    os.environ["CJ_REQUESTS_PER_SECOND"] = f"{cj_client_rps:g}"


# --- (a) the rules over a synthetic catalog ---------------------------------------------------------
@dataclass(frozen=True)
class SyntheticProduct:
    facts: ProductFacts
    variant_costs: tuple[Decimal, ...]
    shipping: Decimal | None


def synthetic_catalog(size: int, seed: int = 7) -> list[SyntheticProduct]:
    """Products shaped like CJ's feed as the sandbox models it: category cost/weight ranges, 1-5 variants
    within ±15 % of a base cost, Pareto demand, the CJ freight formula to the US (a quarter from slow
    warehouses), and the defects real feeds carry so every rejection branch runs."""
    rng = random.Random(seed)
    products = []
    for index in range(size):
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        base = rng.uniform(*category.cost_range)
        grams = rng.randint(*category.weight_range)
        count = rng.randint(1, len(category.variant_values))
        costs = tuple(Decimal(f"{base * rng.uniform(0.95, 1.15):.2f}") for _ in range(count))
        popularity = int(rng.paretovariate(1.2) * 17)  # ~20 % under the default bar of 20
        slow = 16 if rng.random() < 0.25 else 9  # a quarter ship from a slow warehouse
        per_100g = math.ceil(grams / 100)
        routes = [
            (2.4 + 0.55 * per_100g, slow),  # CJPacket Ordinary
            (13.0 + 1.9 * per_100g, 7),  # DHL Official
            (3.9 + 0.8 * per_100g, max(6, slow - 4)),  # USPS+
        ]
        fitting = [r for r in routes if r[1] <= 12] or routes
        price, days = min(fitting)
        defect = rng.random()
        unit_cost: Decimal | None = max(costs)
        shipping: Decimal | None = Decimal(f"{price:.2f}")
        days_max: int | None = days
        if defect < 0.015:
            costs, unit_cost = (), None  # no variants
        elif defect < 0.03:
            unit_cost = None  # no price
        elif defect < 0.05:
            shipping, days_max = None, None  # no route to the country
        facts = ProductFacts(f"P{index:06d}", unit_cost, shipping, days_max, popularity, len(costs))
        products.append(SyntheticProduct(facts, costs, shipping))
    return products


def bench_rules(size: int, repeats: int, limits: Limits) -> None:
    console.rule(f"(a) scoring and pricing rules over a synthetic {size:,}-product catalog")
    built = time.perf_counter()
    catalog = synthetic_catalog(size)
    console.print(f"catalog built in {time.perf_counter() - built:.1f} s (not timed below)")
    rule, thresholds = PriceRule(), Thresholds()
    evaluate_times, price_times = [], []
    accepted: list[SyntheticProduct] = []
    verdicts: Counter[str] = Counter()
    for _ in range(repeats):
        started = time.perf_counter()
        results = [evaluate(p.facts, thresholds, rule) for p in catalog]
        evaluate_times.append(time.perf_counter() - started)
        accepted = [p for p, r in zip(catalog, results, strict=True) if r.accepted]
        # Reasons with their numbers masked, so they group by kind ("popularity N below N").
        verdicts = Counter(
            "accepted" if r.accepted else re.sub(r"\d[\d.%]*", "N", r.reason or "") for r in results
        )
        variants = [(c, p.shipping) for p in accepted for c in p.variant_costs if p.shipping is not None]
        started = time.perf_counter()
        for cost, shipping in variants:
            compare_at_price(retail_price(cost, shipping, rule), rule)
        price_times.append(time.perf_counter() - started)
    variant_count = sum(len(p.variant_costs) for p in accepted)
    eval_s, price_s = statistics.median(evaluate_times), statistics.median(price_times)
    per_s = size / eval_s
    # The API side of discovery: every candidate needs a detail and a freight call, each endpoint at
    # `cj_qps` per second, so CJ can feed at most `cj_qps` candidates per second.
    feed = min(limits.cj_qps, limits.cj_ip_qps / 2)
    console.print(
        figures_table(
            f"median of {repeats} runs, one core",
            [
                ("candidates evaluated (score + price + margin)", f"{size:,}"),
                ("  candidates/s", f"{per_s:,.0f}"),
                ("  ms per 10k candidates", f"{eval_s / size * 10_000 * 1000:.1f}"),
                ("accepted", f"{len(accepted):,} ({len(accepted) / size:.0%})"),
                ("verdicts", ", ".join(f"{k}: {v:,}" for k, v in verdicts.most_common())),
                ("variants priced for listing (retail + compare-at)", f"{variant_count:,}"),
                ("  variants/s", f"{variant_count / price_s:,.0f}"),
                ("  ms per 10k variants", f"{price_s / max(variant_count, 1) * 10_000 * 1000:.1f}"),
                ("CJ ceiling: candidates/s the API can feed (detail + freight)", f"{feed:g}"),
                ("ratio rules / API ceiling", f"{per_s / feed:,.0f}x (rules are not the bottleneck)"),
            ],
        )
    )


# --- (b) the discovery job against the sandbox ------------------------------------------------------
def bench_job(listings: int, max_runs: int, cj_client_rps: float, keep: Path | None) -> None:
    import dagster as dg

    from dropship_pipelines.assets.discovery_defs import discovery_defs
    from dropship_testkit.pipelines import build_defs
    from dropship_testkit.sandbox_server import running_sandbox

    settings = WorldSettings()  # the real limits: CJ 4/s per endpoint, Shopify 2,000 points at 100/s
    limits = Limits.of(settings)
    console.rule(
        f"(b) product_discovery_job, {listings} listings, sandbox with real limits "
        f"(CJ {limits.cj_qps:g}/s per endpoint, Shopify {limits.shopify_bucket:g} pts @ "
        f"{limits.shopify_restore:g}/s), client CJ pacer {cj_client_rps:g}/s"
    )
    # Lookups: about one in ten looked-up products falls at a threshold (slow route, margin, price)
    lookups = math.ceil(listings * 1.25) + 10
    config = {
        "ops": {
            "product_candidates": {"config": {"detail_lookups_per_run": lookups}},
            "product_copy": {"config": {"max_generations_per_run": listings}},
            "store_listings": {"config": {"max_listings_per_run": listings}},
        }
    }
    tally = ApiTally()
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as tmp:
        work = keep or Path(tmp)
        store_url = f"sqlite:///{work}/store.db"
        with running_sandbox(work / "world.db", settings, wrap=tally.wrap) as sandbox:
            set_pipeline_env(sandbox.env(store_url, work / "tokens"), cj_client_rps)
            job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
            instance = dg.DagsterInstance.ephemeral()
            runs: list[tuple[float, bool]] = []
            started = time.perf_counter()
            for _ in range(max_runs):
                run_started = time.perf_counter()
                result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
                runs.append((time.perf_counter() - run_started, result.success))
                if len(sandbox.audit().get("listings_created", {})) >= listings:
                    break
            wall = time.perf_counter() - started
            audit = sandbox.audit()
            tallies = tally.snapshot()
    created = audit.get("listings_created", {})
    listed = len(created)
    duplicates = sum(1 for n in created.values() if n > 1)
    floor = rate_floor(tallies, limits)
    console.print(calls_table("API calls as the sandbox saw them", tallies))
    failures = failure_counts(tallies)
    rate = listed / wall * 60
    ceiling = listed / floor.seconds * 60 if floor.seconds else math.inf
    console.print(
        figures_table(
            "discovery end to end",
            [
                (
                    "runs (wall s, success)",
                    ", ".join(f"{s:.1f} s {'ok' if ok else 'FAILED'}" for s, ok in runs),
                ),
                ("products listed (sandbox audit)", str(listed)),
                ("wall time", f"{wall:.1f} s"),
                ("listings per minute", f"{rate:.1f}"),
                ("CJ floor for these calls", f"{floor.cj_s:.1f} s ({floor.cj_binding})"),
                (
                    "Shopify floor for these calls",
                    f"{floor.shopify_s:.1f} s ({floor.shopify_points:.0f} points charged, "
                    f"{limits.shopify_bucket:g} in the bucket at start)",
                ),
                ("ceiling listings/min the limits allow", f"{ceiling:.1f} (bound: {floor.binding})"),
                ("ratio achieved / ceiling", f"{rate / ceiling:.2f}" if ceiling != math.inf else "n/a"),
                ("LLM calls", str(sum(audit.get("llm_calls", {}).values()))),
                ("failed requests", ", ".join(f"{k}: {v}" for k, v in failures.items()) or "0"),
                ("products listed more than once (must be 0)", str(duplicates)),
            ],
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--catalog", type=int, default=100_000, help="synthetic products for (a)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--listings", type=int, default=100, help="products to list in (b)")
    parser.add_argument("--max-runs", type=int, default=3, help="job runs allowed to reach --listings")
    parser.add_argument(
        "--cj-client-rps",
        type=float,
        default=None,
        help="the CJ client's pacer (default: the world's level, as in production)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep world/store files in this directory")
    parser.add_argument("--skip-rules", action="store_true")
    parser.add_argument("--skip-job", action="store_true")
    args = parser.parse_args(argv)
    limits = Limits.of(WorldSettings())
    console.print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    if not args.skip_rules:
        bench_rules(args.catalog, args.repeats, limits)
    if not args.skip_job:
        bench_job(args.listings, args.max_runs, args.cj_client_rps or limits.cj_qps, args.keep)


if __name__ == "__main__":
    main()
