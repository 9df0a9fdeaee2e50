"""Benchmark order fulfillment against the sandbox with its real rate limits on.

    python -m benchmarks.bench_fulfillment [--orders 400 --products 20 --max-runs 6]
                                           [--latency-seconds 60 --latency-every 3]
                                           [--cj-client-rps 4] [--skip-batch] [--skip-latency]
                                           [--json PATH]

Batch: `--orders` orders placed at once (organic orders off), `order_fulfillment_job` run in process
until every sendable order is at the supplier; the world's clock is then moved six days on (the warehouse
ships) and the job runs again until every one has its fulfillment posted. Prints orders per minute per
phase, the API calls per order, the ceiling the CJ QPS (4/s per endpoint, 10/s per IP) and the Shopify
cost bucket (2,000 points restoring 100/s) allow, the fraction reached, failed requests and duplicates
(sandbox audit: any supplier order or fulfillment created twice), and how long the sandbox's Shopify
bucket sat full in each phase (its restore thrown away: time the job was not spending points).

The two ceilings. "To the supplier" is measured against the floor the limits put under every call the
phase made (its binding limit, CJ's createOrderV2 at 4/s, is one call per order: the work itself).
"Tracking posted" is measured against the floor for the work alone: each order's fulfillment post
(`fulfillmentCreate`, 10 points); the read of the fulfillment orders it is posted against and of any
fulfillment already there (`OrdersFulfillmentOrders` for a range of orders, `OrderFulfillmentOrders` for
one: the post needs the ids, the no-duplicate guarantee the fulfillments); a changed tracking number's
re-post; and the CJ status and tracking polls; at what the sandbox charged for them, the bucket full at
the start. Every other call the job makes in that run (the store-order read before it, the shop's clock)
still takes its time in the measured wall but gets no budget in the ceiling: a ceiling over every call
made rose with every point wasted (the 2-minute re-read of 300 unchanged orders, 4,162 points, lowered it
from ~575 to 242 orders/min, and so was invisible in the fraction). The all-calls ceiling is printed too.

Latency: the webhook receiver served by uvicorn, the sandbox's `webhook_url` pointed at it, one order
placed every `--latency-every` seconds; the real `new_store_orders` sensor is evaluated at its
`minimum_interval_seconds` and each new RunRequest is executed in process (with the request's own asset
selection), as the daemon plus the one-run-at-a-time queue would. p50/p95 from the order placed (answer of
the sandbox's order call) to its supplier order created (createOrderV2 answered, timed at the sandbox by the
counting middleware); for an order the gate keeps in its cancellation buffer, from the buffer's end. The
batch also reports the order gate's time per order (its risk query, the supplier's stock and price, a hold).

Run from the repository root (`python -m`, so `benchmarks.*` imports). Never inside pytest.
"""

import argparse
import contextlib
import math
import os
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import sqlalchemy as sa
from rich.console import Console

from dropship_pipelines.assets.fulfillment.defs import fulfillment_defs
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.order_gate_policy import order_gate_policy
from dropship_pipelines.rules.fulfillment import supplier_order_number
from dropship_pipelines.sensors.fulfillment import NEW_ORDER_ASSETS, new_store_orders
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import webhook_events
from dropship_pipelines.webhooks import create_webhook_app
from dropship_sandbox.apis.shopify.webhook_subscriptions import KIND
from dropship_sandbox.world import WorldSettings
from dropship_testkit.api_tally import (
    ApiTally,
    EndpointTally,
    Limits,
    calls_table,
    difference,
    failure_counts,
    rate_floor,
)
from dropship_testkit.bench import (
    Figure,
    add_json_option,
    figures_table,
    percentile,
    report_figures,
    set_pipeline_env,
)
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.pipelines import build_defs, subscribe_webhooks
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox, serving
from dropship_testkit.sandbox_world import sendable_numbers

console = Console(width=130)  # wide enough for the tables when piped to a file
SHIPPING_DELAY_S = 6 * 86400  # as the fulfillment tests: by then the supplier has shipped every order
PLACE_CHUNK = 100  # orders per control call: one call for 1,000 would outlast its 10 s timeout
LATENCY_GOAL_S = 10.0  # issue 16: order placed -> supplier order, p95
GATE_GOAL_MS = 250.0  # the gate's own time per order (its Shopify query, CJ stock and price reads)
# The Shopify calls posting tracking needs (module docstring: the tracking ceiling counts only these).
TRACKING_WORK = frozenset(
    {
        "mutation FulfillmentCreate",
        "query OrderFulfillmentOrders",
        "query OrdersFulfillmentOrders",  # the same read for a range of orders at once
        "mutation FulfillmentTrackingInfoUpdate",
    }
)


@dataclass
class GateCost:
    """The order gate's time in the supplier_orders step, summed from each run's metadata."""

    checked: int = 0
    seconds: float = 0.0

    def add(self, result: dg.ExecuteInProcessResult) -> None:
        for event in result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            if "gate_checked" in metadata:
                checked = int(metadata["gate_checked"].value)  # type: ignore[arg-type]
                per_order_ms = float(metadata["gate_ms_per_order"].value)  # type: ignore[arg-type]
                self.checked += checked
                self.seconds += checked * per_order_ms / 1000

    @property
    def ms_per_order(self) -> float:
        return 1000 * self.seconds / self.checked if self.checked else math.nan


GATE = GateCost()


@dataclass
class Phase:
    name: str
    wall_s: float
    runs: list[tuple[float, bool]]
    done: int  # orders that reached the phase's goal
    tallies: dict[tuple[str, str], EndpointTally]
    cpu_s: float = 0.0  # this process's CPU time (the pipelines and the in-process sandbox together)
    full_s: float = 0.0  # time the sandbox's Shopify bucket sat full (its restore thrown away)
    work: frozenset[str] | None = None  # Shopify operations the ceiling counts (None: every call made)
    drained_at_s: float | None = None  # when the Shopify bucket first ran low (BucketWatch)
    slack_s: float = 0.0  # time it held more than a tenth of its points after that

    def ceiling_tallies(self) -> dict[tuple[str, str], EndpointTally]:
        if self.work is None:
            return self.tallies
        return {k: t for k, t in self.tallies.items() if k[0] != "shopify" or k[1] in self.work}


class BucketWatch:
    """Samples the sandbox's Shopify bucket (in process) every 20 ms: how long it sat full."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        settings = sandbox.world.settings
        self._bucket = sandbox.world.rate_buckets.get(
            f"shopify:{settings.shop_domain}", settings.shopify_bucket, settings.shopify_restore_rate
        )
        self.full_s = 0.0
        # Once the bucket first ran low (its head start spent): when, and how long it held more than a
        # tenth of its points afterwards (the job not keeping up with the restore: round trips, CPU).
        self.drained_at_s: float | None = None
        self.slack_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = last = time.perf_counter()
        while not self._stop.wait(0.02):
            now = time.perf_counter()
            level = self._bucket.level()
            if level >= self._bucket.capacity - 1:
                self.full_s += now - last
            if self.drained_at_s is None and level < self._bucket.capacity / 10:
                self.drained_at_s = now - started
            elif self.drained_at_s is not None and level >= self._bucket.capacity / 10:
                self.slack_s += now - last
            last = now

    def __enter__(self) -> "BucketWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def place_orders(sandbox: RunningSandbox, count: int) -> list[dict[str, Any]]:
    placed: list[dict[str, Any]] = []
    while len(placed) < count:
        chunk = min(PLACE_CHUNK, count - len(placed))
        placed += sandbox.control("POST", "/orders", {"count": chunk})["orders"]
    return placed


def run_job(job: dg.JobDefinition, instance: dg.DagsterInstance, **kwargs: Any) -> tuple[float, bool]:
    started = time.perf_counter()
    result = job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    took = time.perf_counter() - started
    GATE.add(result)
    return took, result.success


def run_until(
    name: str,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    tally: ApiTally,
    max_runs: int,
    progress: Any,
    sandbox: RunningSandbox,
    work: frozenset[str] | None = None,
) -> Phase:
    """Run the job until `progress()` says the phase's goal is met (returns (done, goal))."""
    before = tally.snapshot()
    runs: list[tuple[float, bool]] = []
    with BucketWatch(sandbox) as watch:
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(max_runs):
            runs.append(run_job(job, instance))
            done, goal = progress()
            console.print(f"  {name}: run {len(runs)} took {runs[-1][0]:.1f} s, {done}/{goal} done")
            if done >= goal:
                break
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    tallies = difference(tally.snapshot(), before)
    return Phase(
        name, wall, runs, progress()[0], tallies, cpu, watch.full_s, work, watch.drained_at_s, watch.slack_s
    )


def phase_figure(phase: Phase, limits: Limits, name: str) -> Figure:
    floor = rate_floor(phase.ceiling_tallies(), limits)
    ceiling = max(phase.done, 1) / floor.seconds * 60 if floor.seconds else math.inf
    return Figure.of_ceiling(name, phase.done / phase.wall_s * 60, "orders/min", ceiling)


def throttled(tallies: dict[tuple[str, str], EndpointTally]) -> int:
    return sum(t.throttled for t in tallies.values())


def phase_rows(phase: Phase, limits: Limits) -> list[tuple[str, str]]:
    orders = max(phase.done, 1)
    run_floor = rate_floor(phase.ceiling_tallies(), limits)
    steady = rate_floor(phase.ceiling_tallies(), limits, full_bucket=False)
    every_call = rate_floor(phase.tallies, limits)
    rate = phase.done / phase.wall_s * 60
    ceiling = orders / run_floor.seconds * 60 if run_floor.seconds else math.inf
    steady_ceiling = orders / steady.seconds * 60 if steady.seconds else math.inf
    counted = "the work's calls" if phase.work is not None else "every call made"
    rows = [
        (f"[bold]{phase.name}[/bold]", ""),
        ("  runs", ", ".join(f"{s:.1f} s {'ok' if ok else 'FAILED'}" for s, ok in phase.runs)),
        ("  orders done / wall", f"{phase.done} in {phase.wall_s:.1f} s"),
        ("  orders per minute", f"{rate:.1f}"),
        (
            "  CPU per order (this process: pipelines + sandbox) / share of one core",
            f"{1000 * phase.cpu_s / orders:.1f} ms / {phase.cpu_s / phase.wall_s:.2f}",
        ),
        (
            f"  floor for {counted} (run, buckets full at start)",
            f"CJ {run_floor.cj_s:.1f} s ({run_floor.cj_binding}), Shopify {run_floor.shopify_s:.1f} s "
            f"({run_floor.shopify_points:.0f} pts = {run_floor.shopify_points / orders:.1f}/order)",
        ),
        ("  ceiling orders/min (run)", f"{ceiling:.1f} (bound: {run_floor.binding})"),
        ("  fraction of ceiling (run)", f"{rate / ceiling:.2f}" if ceiling != math.inf else "n/a"),
        (
            "  ceiling orders/min (steady state: no bucket head start)",
            f"{steady_ceiling:.1f} ({steady.binding})",
        ),
        ("  Shopify bucket full (restore thrown away)", f"{phase.full_s:.1f} s of {phase.wall_s:.1f} s"),
        (
            "  Shopify bucket first below a tenth / above a tenth after that",
            f"{phase.drained_at_s:.1f} s / {phase.slack_s:.1f} s"
            if phase.drained_at_s is not None
            else "never",
        ),
    ]
    if phase.work is not None:
        all_ceiling = orders / every_call.seconds * 60 if every_call.seconds else math.inf
        rows.append(
            (
                "  for comparison, ceiling over every call made",
                f"{all_ceiling:.1f} ({every_call.shopify_points:.0f} pts = "
                f"{every_call.shopify_points / orders:.1f}/order; fraction {rate / all_ceiling:.2f})",
            )
        )
    return rows


def bench_batch(
    sandbox: RunningSandbox,
    tally: ApiTally,
    limits: Limits,
    job: dg.JobDefinition,
    orders: int,
    max_runs: int,
) -> list[Figure]:
    console.rule(f"batch: {orders} orders through order_fulfillment_job")
    instance = dg.DagsterInstance.ephemeral()
    placed_started = time.perf_counter()
    placed = place_orders(sandbox, orders)
    console.print(f"placed {len(placed)} orders in {time.perf_counter() - placed_started:.1f} s (not timed)")
    wanted = sendable_numbers(placed)
    held = len(placed) - len(wanted)

    def at_supplier() -> tuple[int, int]:
        created = sandbox.audit().get("supplier_orders_created", {})
        return len(wanted & set(created)), len(wanted)

    def fulfilled() -> tuple[int, int]:
        return len(sandbox.audit().get("fulfillments_created", {})), len(wanted)

    before = tally.snapshot()
    to_supplier = run_until("to the supplier", job, instance, tally, max_runs, at_supplier, sandbox)
    sandbox.control("POST", "/clock", {"advance_seconds": SHIPPING_DELAY_S})
    tracking = run_until(
        "tracking posted", job, instance, tally, max_runs, fulfilled, sandbox, work=TRACKING_WORK
    )

    audit = sandbox.audit()
    supplier = audit.get("supplier_orders_created", {})
    fulfilments = audit.get("fulfillments_created", {})
    whole = Phase(
        "whole workflow (both phases)",
        to_supplier.wall_s + tracking.wall_s,
        to_supplier.runs + tracking.runs,
        tracking.done,
        difference(tally.snapshot(), before),
        to_supplier.cpu_s + tracking.cpu_s,
        to_supplier.full_s + tracking.full_s,
    )
    per = max(len(wanted), 1)
    console.print(calls_table("phase 1, to the supplier: API calls", to_supplier.tallies, per=per))
    console.print(calls_table("phase 2, tracking posted: API calls", tracking.tallies, per=per))
    failures = failure_counts(whole.tallies)
    rows = [
        ("orders placed / sendable / held by the rules (defects)", f"{len(placed)} / {len(wanted)} / {held}"),
        *phase_rows(to_supplier, limits),
        *phase_rows(tracking, limits),
        *phase_rows(whole, limits),
        ("failed requests", ", ".join(f"{k}: {v}" for k, v in failures.items()) or "0"),
        ("throttled requests (must be 0)", str(throttled(whole.tallies))),
        (
            "supplier orders created more than once (must be 0)",
            str(sum(1 for n in supplier.values() if n > 1)),
        ),
        (
            "fulfillments created more than once (must be 0)",
            str(sum(1 for n in fulfilments.values() if n > 1)),
        ),
        ("supplier orders not from this batch", str(len(set(supplier) - wanted))),
        (
            "order gate: orders checked / time per order (risk query, CJ stock and price, hold)",
            f"{GATE.checked} / {GATE.ms_per_order:.1f} ms",
        ),
        ("order gate: holds made / orders held more than once (must be 0)", _holds_figure(audit)),
    ]
    console.print(figures_table("fulfillment batch", rows))
    return [
        phase_figure(to_supplier, limits, "orders to the supplier per minute (ceiling: the rate limits)"),
        phase_figure(tracking, limits, "tracking posted per minute (ceiling: the rate limits for the posts)"),
        Figure(
            "order gate: its time per order in the supplier step",
            GATE.ms_per_order,
            "ms",
            GATE_GOAL_MS,
            "baseline",
            goal=GATE_GOAL_MS,
            higher_is_better=False,
        ),
    ]


def _holds_figure(audit: dict[str, dict[str, int]]) -> str:
    holds = audit.get("fulfillment_holds_created", {})
    return f"{len(holds)} / {sum(1 for n in holds.values() if n > 1)}"


def latency_start(sandbox: RunningSandbox, gid: str, placed_mono: float, placed_wall: datetime) -> float:
    """When the order's latency clock starts: when it was placed, or, for an order still in the gate's
    cancellation buffer then, when the buffer ends (createdAt + buffer, on the pipelines' clock)."""
    with sandbox.world.lock, sandbox.world.state:
        doc = sandbox.world.state.get("shopify_order", gid.rsplit("/", 1)[-1])
    if doc is None:
        return placed_mono
    created = datetime.fromisoformat(doc["createdAt"].replace("Z", "+00:00"))
    ends = created + order_gate_policy().policy().cancellation_buffer
    return placed_mono + max(0.0, (ends - placed_wall).total_seconds())


def bench_latency(
    sandbox: RunningSandbox,
    tally: ApiTally,
    job: dg.JobDefinition,
    store_url: str,
    pids: list[str],
    seconds: float,
    every: float,
    interval: float,
) -> Figure:
    console.rule(
        f"latency: an order every {every:g} s for {seconds:g} s, sensor evaluated every {interval:g} s"
    )
    # An hour later: store_orders re-reads everything updated in its overlap window, and the batch's
    # fulfillments, posted in one burst, would otherwise be re-read by every run measured here. The window
    # sits before the newest change read, not before the clock: one order placed and run (not measured)
    # moves the cursor past the burst, which the first measured run would re-read otherwise.
    sandbox.control("POST", "/clock", {"advance_seconds": 3600})
    sandbox.control("POST", "/orders", {"count": 1, "pid": pids[0]})
    warm_up_s, _ = run_job(job, dg.DagsterInstance.ephemeral(), asset_selection=NEW_ORDER_ASSETS)
    console.print(f"warm-up run (re-reads the batch's burst and moves the cursor past it): {warm_up_s:.1f} s")
    receiver = contextlib.ExitStack()  # the secret comes from SHOPIFY_WEBHOOK_SECRET
    base = receiver.enter_context(serving(create_webhook_app(store_url=store_url), "webhook receiver"))
    subscribed = subscribe_webhooks(store_url, base)  # as the pipelines do at start
    placed: dict[str, tuple[float, datetime, str | None, str]] = {}  # name -> (mono, wall, defect, gid)
    stop = threading.Event()

    def place_steadily() -> None:
        rng = random.Random(11)
        with httpx.Client(base_url=f"{sandbox.url}/_sandbox", timeout=10) as http:
            next_at = time.monotonic()
            end = next_at + seconds
            while next_at < end and not stop.is_set():
                stop.wait(max(0.0, next_at - time.monotonic()))
                answer = http.post("/orders", json={"count": 1, "pid": rng.choice(pids)})
                answer.raise_for_status()
                order = answer.json()["orders"][0]
                placed[order["name"]] = (time.monotonic(), datetime.now(UTC), order["defect"], order["id"])
                next_at += every

    before = tally.snapshot()
    placer = threading.Thread(target=place_steadily, daemon=True)
    resources = build_resources()
    instance = dg.DagsterInstance.ephemeral()
    cursor: str | None = None
    run_keys: set[str] = set()
    ticks, skips, run_times = 0, 0, []
    placer.start()
    deadline = time.monotonic() + seconds + 6 * interval + 120
    try:
        while time.monotonic() < deadline:
            tick = time.monotonic()
            ticks += 1
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
                request = new_store_orders(context)
                cursor = context.cursor
            # The daemon launches a run key once; a repeated key is skipped, as it would be there.
            if isinstance(request, dg.RunRequest) and request.run_key not in run_keys:
                run_keys.add(request.run_key or "")
                run_times.append(
                    run_job(
                        job,
                        instance,
                        run_config=request.run_config or None,
                        tags=request.tags,
                        asset_selection=request.asset_selection,
                    )[0]
                )
            else:
                skips += 1
            pending = [
                n
                for n, (_, _, defect, _) in placed.items()
                if defect is None and supplier_order_number(n) not in tally.supplier_order_created_at
            ]
            if not placer.is_alive() and not pending:
                break
            # The next tick comes a minimum interval after this one, or at once if the run took longer.
            time.sleep(max(0.0, tick + interval - time.monotonic()))
    finally:
        stop.set()
        placer.join(timeout=15)
        with sandbox.world.lock, sandbox.world.state:  # the receiver goes: so do its subscriptions
            for subscription in subscribed:
                if subscription.detail.startswith("gid://shopify/WebhookSubscription/"):
                    sandbox.world.state.delete(KIND, subscription.detail.rsplit("/", 1)[1])
        receiver.close()

    created = tally.supplier_order_created_at
    calls = difference(tally.snapshot(), before)
    console.print(calls_table("latency phase: API calls (sensor ticks + runs)", calls))
    sendable = {n: v for n, v in placed.items() if v[2] is None}
    # Measured from the cancellation buffer's end for an order the gate kept back (issue 13).
    latencies = [
        created[supplier_order_number(n)] - latency_start(sandbox, v[3], v[0], v[1])
        for n, v in sendable.items()
        if supplier_order_number(n) in created
    ]
    with get_engine(store_url).connect() as conn:
        received = {
            r.resource_id: r.received_at
            for r in conn.execute(sa.select(webhook_events.c.resource_id, webhook_events.c.received_at))
        }
    webhook_lag = []
    for _, wall, _, gid in placed.values():
        at = received.get(gid)
        if at is not None:
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC
            webhook_lag.append((at - wall).total_seconds())
    duplicates = sum(1 for n in sandbox.audit().get("supplier_orders_created", {}).values() if n > 1)
    rows = [
        (
            "orders placed / sendable / reached the supplier",
            f"{len(placed)} / {len(sendable)} / {len(latencies)}",
        ),
        ("sensor ticks / skipped / runs launched", f"{ticks} / {skips} / {len(run_times)}"),
        (
            "run time median / max",
            f"{statistics.median(run_times):.1f} s / {max(run_times):.1f} s" if run_times else "-",
        ),
        (
            "placed (or its buffer's end) -> supplier order created: p50",
            f"{percentile(latencies, 0.5):.1f} s" if latencies else "-",
        ),
        (
            "placed (or its buffer's end) -> supplier order created: p95",
            f"{percentile(latencies, 0.95):.1f} s" if latencies else "-",
        ),
        ("placed -> supplier order created: max", f"{max(latencies):.1f} s" if latencies else "-"),
        (
            "placed -> webhook recorded by the receiver: p50 / p95",
            f"{percentile(webhook_lag, 0.5) * 1000:.0f} ms / {percentile(webhook_lag, 0.95) * 1000:.0f} ms"
            if webhook_lag
            else "-",
        ),
        ("sensor interval (minimum_interval_seconds)", f"{interval:g} s"),
        ("failed requests", ", ".join(f"{k}: {v}" for k, v in failure_counts(calls).items()) or "0"),
        ("throttled requests (must be 0)", str(throttled(calls))),
        ("supplier orders created more than once (must be 0)", str(duplicates)),
    ]
    console.print(figures_table("sensor path latency", rows))
    # Baseline: the sensor's old 30 s poll, whose p95 was the poll interval itself.
    return Figure(
        "order placed -> supplier order, p95 (baseline: a 30 s sensor poll)",
        percentile(latencies, 0.95) if latencies else math.nan,
        "s",
        30.0,
        "baseline",
        goal=LATENCY_GOAL_S,
        higher_is_better=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--orders", type=int, default=400, help="batch size (1000: ~15 min at 4 CJ/s)")
    parser.add_argument("--products", type=int, default=20, help="products listed for the orders")
    parser.add_argument("--max-runs", type=int, default=6, help="job runs allowed per phase")
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="how long orders trickle in")
    parser.add_argument("--latency-every", type=float, default=3.0, help="seconds between orders")
    parser.add_argument(
        "--sensor-interval",
        type=float,
        default=None,
        help="default: the sensor's own minimum_interval_seconds",
    )
    parser.add_argument("--cj-client-rps", type=float, default=None, help="default: the world's CJ level")
    parser.add_argument("--keep", type=Path, default=None, help="keep world/store files in this directory")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    add_json_option(parser)
    args = parser.parse_args(argv)
    figures: list[Figure] = []

    settings = WorldSettings()  # the real limits: CJ 4/s per endpoint, Shopify 2,000 points at 100/s
    limits = Limits.of(settings)
    interval = args.sensor_interval or float(new_store_orders.minimum_interval_seconds or 30)
    console.print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    console.print(
        f"limits: CJ {limits.cj_qps:g}/s per endpoint and {limits.cj_ip_qps:g}/s per IP, Shopify "
        f"{limits.shopify_bucket:g} points restoring {limits.shopify_restore:g}/s; "
        f"client CJ pacer {args.cj_client_rps or limits.cj_qps:g}/s"
    )
    tally = ApiTally()
    with tempfile.TemporaryDirectory(prefix="bench-fulfillment-") as tmp:
        work = args.keep or Path(tmp)
        store_url = f"sqlite:///{work}/store.db"
        with running_sandbox(work / "world.db", settings, wrap=tally.wrap) as sandbox:
            set_pipeline_env(sandbox.env(store_url, work / "tokens"), args.cj_client_rps or limits.cj_qps)
            sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
            pids = list_products(sandbox.world, store_url, args.products)
            job = build_defs(fulfillment_defs).resolve_job_def("order_fulfillment_job")
            if not args.skip_batch:
                # The batch's fulfillments changed every order after its last read: the latency mode's
                # warm-up run re-reads them, out of the measurement.
                figures += bench_batch(sandbox, tally, limits, job, args.orders, args.max_runs)
            if not args.skip_latency:
                figure = bench_latency(
                    sandbox,
                    tally,
                    job,
                    store_url,
                    pids,
                    args.latency_seconds,
                    args.latency_every,
                    interval,
                )
                figures.append(figure)
    report_figures(console, figures, args.json)


if __name__ == "__main__":
    main()
