"""Benchmark product discovery: the pure scoring/pricing rules, then the whole job against the sandbox.

    python -m benchmarks.bench_discovery [--catalog 100000 --repeats 7] [--listings 100 --max-runs 3]
                                         [--cj-client-rps 4] [--skip-rules] [--skip-job]
                                         [--json PATH]

(a) Rules: `rules.scoring.evaluate_batch` (thresholds, retail price, profit, margin, score) over a synthetic
    catalog shaped like the sandbox's (CJ categories, cost and weight ranges, variant counts, Pareto
    popularity, CJ freight formula, a few feed defects), then per-variant listing prices as
    `store_listings` makes them, each as one batch in integer cents; beside it, the same rule called product
    by product (`evaluate`, a batch of one). Inputs are built before the clock starts.
(b) Job: `product_discovery_job` in process against a sandbox with its real limits (default
    `WorldSettings`: CJ 4 requests/s per endpoint, Shopify bucket 2,000 points restoring 100/s). Every API
    call is counted at the sandbox by ASGI middleware (the sandbox's audit only counts side effects), so
    the floor the rate limits put under the calls the run made can be compared with the wall time.

Run from the repository root (`python -m`, so `benchmarks.*` imports). Never inside pytest.
"""

import argparse
import itertools
import math
import os
import random
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from starlette.types import ASGIApp, Receive, Scope, Send

from dropship_pipelines.rules.pricing import (
    PriceRule,
    cents_array,
    cents_of,
    compare_at_prices,
    retail_prices,
)
from dropship_pipelines.rules.scoring import Candidates, ProductFacts, Thresholds, evaluate, evaluate_batch
from dropship_sandbox.app import CJ_PREFIX, OPENAI_PREFIX
from dropship_sandbox.catalog import CATEGORIES
from dropship_sandbox.world import WorldSettings
from dropship_testkit.api_tally import ApiTally, Limits, calls_table, failure_counts, rate_floor
from dropship_testkit.bench import Figure, add_json_option, figures_table, report_figures, set_pipeline_env

console = Console(width=130)  # wide enough for the tables when piped to a file


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


def bench_rules(size: int, repeats: int, limits: Limits) -> Figure:
    console.rule(f"(a) scoring and pricing rules over a synthetic {size:,}-product catalog")
    built = time.perf_counter()
    catalog = synthetic_catalog(size)
    candidates = Candidates.of([p.facts for p in catalog])
    console.print(f"catalog built in {time.perf_counter() - built:.1f} s (not timed below)")
    rule, thresholds = PriceRule(), Thresholds()
    evaluate_times, price_times = [], []
    evaluations = evaluate_batch(candidates, thresholds, rule)
    accepted = [p for p, ok in zip(catalog, evaluations.accepted.tolist(), strict=True) if ok]
    variants = [(c, p.shipping) for p in accepted for c in p.variant_costs if p.shipping is not None]
    variant_costs = cents_array([cents_of(c) for c, _ in variants])
    variant_shipping = cents_array([cents_of(s) for _, s in variants])
    for _ in range(repeats):
        started = time.perf_counter()
        evaluations = evaluate_batch(candidates, thresholds, rule)
        evaluate_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        compare_at_prices(retail_prices(variant_costs, variant_shipping, rule), rule)
        price_times.append(time.perf_counter() - started)
    # The same rule called once per product (a batch of one each), as a per-product loop would
    sample = catalog[: min(size, 5_000)]
    started = time.perf_counter()
    for product in sample:
        evaluate(product.facts, thresholds, rule)
    one_by_one_per_s = len(sample) / (time.perf_counter() - started)
    # Reasons with their numbers masked, so they group by kind ("popularity N below N").
    verdicts = Counter(
        "accepted" if r is None else re.sub(r"\d[\d.%]*", "N", r)
        for r in (evaluations.reason(i) for i in range(size))
    )
    eval_s, price_s = statistics.median(evaluate_times), statistics.median(price_times)
    per_s = size / eval_s
    # The API side of discovery: every candidate needs a detail and a freight call, each endpoint at
    # `cj_qps` per second, so CJ can feed at most `cj_qps` candidates per second.
    feed = min(limits.cj_qps, limits.cj_ip_qps / 2)
    console.print(
        figures_table(
            f"median of {repeats} runs, one core",
            [
                ("candidates evaluated (score + price + margin), as one batch", f"{size:,}"),
                ("  candidates/s", f"{per_s:,.0f}"),
                ("  ms per 10k candidates", f"{eval_s / size * 10_000 * 1000:.2f}"),
                ("  fastest run, candidates/s", f"{size / min(evaluate_times):,.0f}"),
                (
                    f"the same rule product by product ({len(sample):,}), candidates/s",
                    f"{one_by_one_per_s:,.0f}",
                ),
                ("accepted", f"{len(accepted):,} ({len(accepted) / size:.0%})"),
                ("verdicts", ", ".join(f"{k}: {v:,}" for k, v in verdicts.most_common())),
                ("variants priced for listing (retail + compare-at)", f"{len(variants):,}"),
                ("  variants/s", f"{len(variants) / price_s:,.0f}"),
                ("CJ ceiling: candidates/s the API can feed (detail + freight)", f"{feed:g}"),
                ("ratio rules / API ceiling", f"{per_s / feed:,.0f}x (rules are not the bottleneck)"),
            ],
        )
    )
    return Figure(
        f"scoring + pricing, {size:,} products (baseline: product by product)",
        per_s,
        "products/s",
        one_by_one_per_s,
        "baseline",
        goal=5_000_000,
        higher_is_better=True,
    )


# --- (b) the discovery job against the sandbox ------------------------------------------------------
class Arrivals:
    """ASGI middleware (inside the tally): when each API call reached the sandbox, by (api, endpoint), to
    see where the run's time goes: how long before CJ's binding endpoint is first called, the gaps in
    its stream of calls, and what follows its last call."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            path = str(scope.get("path", ""))
            if scope["type"] == "http" and path.startswith(CJ_PREFIX):
                with self._lock:
                    self.at.setdefault(("cj", path.removeprefix(CJ_PREFIX)), []).append(time.perf_counter())
            elif scope["type"] == "http" and path.startswith(OPENAI_PREFIX):
                with self._lock:
                    self.at.setdefault(("openai", "completions"), []).append(time.perf_counter())
            await app(scope, receive, send)

        return timed


def timeline_rows(
    arrivals: Arrivals, binding: str, started: float, ended: float, qps: float
) -> list[tuple[str, str]]:
    """The binding CJ endpoint's calls against the run: lead-in, gaps longer than two intervals, tail."""
    calls = sorted(arrivals.at.get(("cj", binding), []))
    if not calls:
        return [("CJ timeline", f"no calls to {binding}")]
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    interval = 1 / qps
    idle = sum(g - interval for g in gaps if g > 2 * interval)
    rows = [
        (f"run start -> first {binding}", f"{calls[0] - started:.2f} s"),
        (
            f"first -> last {binding} ({len(calls)} calls, {(len(calls) - 1) / qps:.2f} s at {qps:g}/s)",
            f"{calls[-1] - calls[0]:.2f} s",
        ),
        (
            f"  gaps over {2 * interval:.2f} s: count, idle beyond the interval, longest",
            f"{sum(1 for g in gaps if g > 2 * interval)}, {idle:.2f} s, {max(gaps, default=0):.2f} s",
        ),
        (f"last {binding} -> run end", f"{ended - calls[-1]:.2f} s"),
    ]
    for (api, endpoint), times in sorted(arrivals.at.items()):
        if (api, endpoint) != ("cj", binding) and times:
            rows.append(
                (
                    f"  {api} {endpoint}: first, last (s from run start)",
                    f"{min(times) - started:.2f}, {max(times) - started:.2f}",
                )
            )
    return rows


def step_rows(instance: Any, run_id: str, started: float) -> list[tuple[str, str]]:
    """Each step's start (s from `started`, a perf_counter reading) and wall time, from the run's own
    event log (wall-clock timestamps, placed on the perf_counter clock here)."""
    offset = time.time() - time.perf_counter()
    starts: dict[str, float] = {}
    rows = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS" and event.step_key in starts:
            begun = starts[event.step_key] - offset - started
            took = entry.timestamp - starts[event.step_key]
            rows.append((f"step {event.step_key}: starts at, takes", f"{begun:.2f} s, {took:.2f} s"))
    return rows


# --- (b) the discovery job against the sandbox (continued) -------------------------------------------
def bench_job(listings: int, max_runs: int, cj_client_rps: float, keep: Path | None) -> Figure:
    import dagster as dg

    from dropship_pipelines.assets.discovery.defs import discovery_defs
    from dropship_pipelines.store.database import get_engine
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
    tally, arrivals = ApiTally(), Arrivals()
    steps: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as tmp:
        work = keep or Path(tmp)
        store_url = f"sqlite:///{work}/store.db"
        with running_sandbox(
            work / "world.db", settings, wrap=lambda app: tally.wrap(arrivals.wrap(app))
        ) as sandbox:
            set_pipeline_env(sandbox.env(store_url, work / "tokens"), cj_client_rps)
            job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
            instance = dg.DagsterInstance.ephemeral()
            # The store's schema is made (17 migrations, ~2 s here) before the clock starts: a deploy does
            # that once, every later run finds it made.
            get_engine(store_url)
            runs: list[tuple[float, bool]] = []
            # The clock runs while the job does: the bench's own reading of the sandbox's audit and of
            # the run's events between runs is not the job's time.
            wall = cpu = 0.0
            started = time.perf_counter()
            for _ in range(max_runs):
                run_started, cpu_started = time.perf_counter(), time.process_time()
                result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
                took = time.perf_counter() - run_started
                wall, cpu = wall + took, cpu + time.process_time() - cpu_started
                runs.append((took, result.success))
                steps += step_rows(instance, result.run_id, started)
                if len(sandbox.audit().get("listings_created", {})) >= listings:
                    break
            audit = sandbox.audit()
            tallies = tally.snapshot()
    created = audit.get("listings_created", {})
    listed = len(created)
    duplicates = sum(1 for n in created.values() if n > 1)
    floor = rate_floor(tallies, limits)
    console.print(calls_table("API calls as the sandbox saw them", tallies))
    binding = floor.cj_binding.removeprefix("CJ ")
    console.print(
        figures_table(
            "where the time goes",
            [*steps, *timeline_rows(arrivals, binding, started, started + wall, limits.cj_qps)],
        )
    )
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
                (
                    "CPU per listing (this process: pipelines + sandbox) / share of one core",
                    f"{1000 * cpu / max(listed, 1):.1f} ms / {cpu / wall:.2f}",
                ),
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
    return Figure.of_ceiling("listings per minute (ceiling: the rate limits)", rate, "/min", ceiling)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--catalog", type=int, default=100_000, help="synthetic products for (a)")
    parser.add_argument("--repeats", type=int, default=7)
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
    add_json_option(parser)
    args = parser.parse_args(argv)
    limits = Limits.of(WorldSettings())
    console.print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    figures = []
    if not args.skip_rules:
        figures.append(bench_rules(args.catalog, args.repeats, limits))
    if not args.skip_job:
        figures.append(
            bench_job(args.listings, args.max_runs, args.cj_client_rps or limits.cj_qps, args.keep)
        )
    report_figures(console, figures, args.json)


if __name__ == "__main__":
    main()
