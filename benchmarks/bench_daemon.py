"""Runs per hour the Dagster daemon sustains with PostgreSQL instance storage, and whether the dashboard
stays responsive meanwhile; and an order's way from the store to the supplier on that daemon.

    uv run python -m benchmarks.bench_daemon [--runs-per-job 25] [--max-concurrent 3] [--speed 60]
                                              [--latency-seconds 60 --latency-every 5 --buffer-minutes 60]
                                              [--timeline PATH] [--json PATH]

Latency (first, unless `--latency-seconds 0`): organic orders off and no risky or badly addressed orders,
one order placed at the sandbox every `--latency-every` seconds for `--latency-seconds`. Each goes the
production way: the store's `orders/create` webhook to the dashboard's receiver, the `new_store_orders`
sensor on the daemon, the run queue, a run worker started by the run launcher, the order gate, CJ's
createOrderV2. The figure is the p95 from the moment the order may first go (its placement, or the end of
the gate's cancellation buffer, `--buffer-minutes` of the world's clock, i.e. that over `--speed` seconds
here) to its supplier order seen at the sandbox (its audit, read every 0.25 s). `--runs-per-job 0` skips
the throughput phase.

Where those seconds go: each order is followed through the run that placed it (the fulfillment run whose
order step had started last when its supplier order appeared: order steps go one at a time, on the `cj`
pool) and that run's sensor tick, and the way is cut at the marks the instance records: the tick's start,
the run's creation, its dequeue, the worker's process up, the run's start (definitions loaded, plan
built), the order step's start, the supplier order. A stage
is the time between two marks after the order may go (an order a run already on its way picked up spends
nothing in the stages that run had passed), so each order's stages add up to its latency; printed as
p50/p95 per stage, with the runs' own lifecycle (each span whole), how far apart the order steps start (an
order that may go waits for the next), and the sensor's tick spacing and evaluation time. `--timeline PATH`
writes every run's and order's marks as JSON.

Starts the whole system (sandbox, dashboard, `dagster dev` = webserver + daemon) on free ports, with the
repository's run queue and limits but the instance stored in a fresh PostgreSQL database. Queues
`--runs-per-job` runs of each cheap workflow job (fulfillment, customer service, analytics, ad
optimisation) at once through the webserver's GraphQL API; schedules and sensors keep launching their own.
While the queue drains, a second thread reads the dashboard's pages every 0.25 s.

Prints: runs finished per hour over the drain; the slot-seconds each run cost against its own step time
(the difference is run-worker start-up and queue overhead); the ratio to the ceiling if launching were
free; median and p95 run and queue times; and p50/p95/max latency of the dashboard and of the Dagster
webserver during the load.
"""

import argparse
import itertools
import json
import math
import os
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from rich.console import Console
from rich.table import Table

from dropship_pipelines.rules.fulfillment import supplier_order_number
from dropship_testkit.bench import Figure, add_json_option, figures_table, percentile, report_figures
from dropship_testkit.databases import fresh_postgres_url
from dropship_testkit.soak.dagster_api import FINISHED, DagsterApi
from dropship_testkit.soak.system import REPO_ROOT, SoakSystem

LATENCY_GOAL_S = 10.0
ORDER_STEP = "store_and_supplier_orders"  # the fulfillment step that reads the store and places orders
NEW_ORDER_SENSOR = "new_store_orders"
# The marks an order's way passes through, in order, and the stage that ends at each.
MARKS = (
    ("tick", "may go -> sensor tick starts (the daemon's loop and the sensor's interval)"),
    ("created", "tick -> run created (the evaluation, the run request)"),
    ("dequeued", "created -> dequeued (the queue: its interval, limits, a run ahead)"),
    ("process", "dequeued -> run worker's process up (the launcher)"),
    ("run_start", "process -> run started (definitions loaded, plan built)"),
    ("step", "run started -> order step starts (resources, the step's pool slot)"),
    ("supplier", "step -> supplier order at CJ (store read, gate, createOrderV2)"),
)
JOBS = ("order_fulfillment_job", "customer_service_job", "analytics_job", "ad_optimization_job")
DASHBOARD_PAGES = ("/api/metrics/kpis", "/api/orders?limit=50", "/api/support/tickets?limit=50")


def instance_yaml(postgres_url: str, max_concurrent: int) -> str:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["storage"] = {"postgres": {"postgres_url": postgres_url}}
    config["concurrency"]["runs"]["max_concurrent_runs"] = max_concurrent
    return yaml.safe_dump(config)


_RUN_EVENTS = """
query Events($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events { __typename ... on MessageEvent { timestamp message } ... on StepEvent { stepKey } }
    }
  }
}"""

_TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { ticks(limit: 2000) { timestamp endTimestamp status runIds } } }
  }
}"""

_TIMES_BY_JOB = """
query Times($job: String!) {
  runsOrError(filter: {pipelineName: $job}, limit: 500) {
    ... on Runs { results { runId status creationTime startTime endTime tags { key value } } }
  }
}"""

_REPOSITORY = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"


def graphql(dagster_url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{dagster_url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL error: {body['errors'][0].get('message')}")
    return body["data"]


def run_marks(dagster_url: str, run_id: str) -> dict[str, float]:
    """When the run passed each mark (epoch seconds), from its event log: the first of each kind."""
    data = graphql(dagster_url, _RUN_EVENTS, {"runId": run_id})["logsForRun"]
    marks: dict[str, float] = {}
    for event in data.get("events", []) if data["__typename"] == "EventConnection" else []:
        at = int(event["timestamp"]) / 1000
        kind = event["__typename"]
        name = {
            # the coordinator's dequeue reports "starting", then hands the run to the launcher
            "RunStartingEvent": "dequeued",
            "RunStartEvent": "run_start",
            "RunSuccessEvent": "end",
            "RunFailureEvent": "end",
        }.get(kind)
        if kind == "EngineEvent" and (event.get("message") or "").startswith("Started process for run"):
            name = "process"
        if kind == "ExecutionStepStartEvent" and event.get("stepKey") == ORDER_STEP:
            name = "step"
        if name:
            marks.setdefault(name, at)
    return marks


def sensor_ticks(dagster_url: str, sensor_name: str) -> list[dict[str, Any]]:
    """The sensor's ticks, oldest first (timestamp, endTimestamp, status, runIds)."""
    node = graphql(dagster_url, _REPOSITORY, {})["repositoriesOrError"]["nodes"][0]
    selector = {
        "repositoryName": node["name"],
        "repositoryLocationName": node["location"]["name"],
        "sensorName": sensor_name,
    }
    data = graphql(dagster_url, _TICKS, {"selector": selector})["sensorOrError"]
    if data["__typename"] != "Sensor":
        return []
    return sorted(data["sensorState"]["ticks"], key=lambda tick: tick["timestamp"])


def order_stages(
    may_go: float, supplier_at: float, run: dict[str, float], tick_at: float | None
) -> dict[str, float]:
    """Each stage's seconds of one order's way (epoch seconds in): the marks of the run that placed it,
    each taken no earlier than the order may go nor than the mark before it, so the stages add up to the
    order's latency. A mark the run lacks (no tick: a schedule's run) spends nothing."""
    marks = {**run, "tick": tick_at if tick_at is not None else run.get("created"), "supplier": supplier_at}
    previous = may_go
    stages: dict[str, float] = {}
    for name, _ in MARKS:
        at = marks.get(name)
        at = previous if at is None else min(max(at, previous), supplier_at)
        stages[name] = at - previous
        previous = at
    return stages


def latency_breakdown(
    dagster_url: str, orders: dict[str, tuple[float, float]], since: float, timeline: Path | None = None
) -> list[tuple[str, str]]:
    """Rows: per-stage p50/p95 of the orders' ways (`orders`: number -> (may go, at the supplier), epoch
    seconds), how many a run already on its way took, and the new-order sensor's tick spacing. With
    `timeline`, every run's and order's marks are written there as JSON (seconds after `since`)."""
    runs = graphql(dagster_url, _TIMES_BY_JOB, {"job": JOBS[0]})["runsOrError"]["results"]
    runs = [r for r in runs if r["creationTime"] >= since - 120]  # the runs of the latency window
    marks = {r["runId"]: {"created": r["creationTime"], **run_marks(dagster_url, r["runId"])} for r in runs}
    if timeline is not None:
        trigger = {
            r["runId"]: {t["key"]: t["value"] for t in r["tags"]}.get("dropship/trigger") for r in runs
        }
        relative = {
            "runs": {
                run_id: {"trigger": trigger[run_id], **{k: round(v - since, 2) for k, v in m.items()}}
                for run_id, m in sorted(marks.items(), key=lambda item: item[1]["created"])
            },
            "orders": {n: [round(go - since, 2), round(at - since, 2)] for n, (go, at) in orders.items()},
        }
        timeline.write_text(json.dumps(relative, indent=1) + "\n")
    ticks = sensor_ticks(dagster_url, NEW_ORDER_SENSOR)
    tick_of = {run_id: t["timestamp"] for t in ticks for run_id in t["runIds"]}
    stages: dict[str, list[float]] = defaultdict(list)
    in_flight = unmatched = 0
    for may_go, at in orders.values():
        # the run whose order step had started last when the supplier order was seen (one at a time: the
        # workflow's limit, and the step's `cj` pool)
        started = [(m["step"], run_id) for run_id, m in marks.items() if "step" in m and m["step"] <= at]
        if not started:
            unmatched += 1
            continue
        run_id = max(started)[1]
        in_flight += marks[run_id]["created"] < may_go
        for name, seconds in order_stages(may_go, at, marks[run_id], tick_of.get(run_id)).items():
            stages[name].append(seconds)
    rows = [
        (label, f"{percentile(stages[name], 0.5):.1f} / {percentile(stages[name], 0.95):.1f} s")
        for name, label in MARKS
    ]
    # the runs' own way, whole (not cut at any order's moment), and how often an order step starts: an
    # order that may go waits for the next start
    lifecycle = [
        ("created", "dequeued"),
        ("dequeued", "process"),
        ("process", "run_start"),
        ("run_start", "step"),
        ("step", "end"),
    ]
    for first, then in lifecycle:
        spans = [m[then] - m[first] for m in marks.values() if first in m and then in m]
        rows.append(
            (
                f"  fulfillment runs: {first} -> {then}",
                f"{percentile(spans, 0.5):.1f} / {percentile(spans, 0.95):.1f} s ({len(spans)} runs)",
            )
        )
    steps = sorted(m["step"] for m in marks.values() if "step" in m and m["step"] >= since)
    spacing = [b - a for a, b in itertools.pairwise(steps)]
    rows.append(
        (
            "  order steps: spacing of their starts",
            f"{percentile(spacing, 0.5):.1f} / {percentile(spacing, 0.95):.1f} s",
        )
    )
    window = [t for t in ticks if t["timestamp"] >= since]
    gaps = [b["timestamp"] - a["timestamp"] for a, b in itertools.pairwise(window)]
    evaluations = [t["endTimestamp"] - t["timestamp"] for t in window if t["endTimestamp"]]
    rows += [
        ("orders taken by a run created before they could go / not matched", f"{in_flight} / {unmatched}"),
        (
            f"{NEW_ORDER_SENSOR} ticks: spacing p50 / p95, evaluation p50 / p95",
            f"{percentile(gaps, 0.5):.1f} / {percentile(gaps, 0.95):.1f} s, "
            f"{percentile(evaluations, 0.5):.1f} / {percentile(evaluations, 0.95):.1f} s"
            f" ({len(window)} ticks)",
        ),
    ]
    return rows


class Prober(threading.Thread):
    """Reads the dashboard and the webserver while the queue drains; latencies in milliseconds."""

    def __init__(self, dashboard: str, token: str, dagster: str) -> None:
        super().__init__(daemon=True)
        self.dashboard, self.token, self.dagster = dashboard, token, dagster
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors = 0
        self.stop = threading.Event()

    def _get(self, client: httpx.Client, name: str, url: str, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            ok = client.get(url, timeout=30, **kwargs).status_code < 500
        except httpx.HTTPError:
            ok = False
        self.latency[name].append((time.perf_counter() - started) * 1000)
        self.errors += 0 if ok else 1

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client() as client:
            while not self.stop.wait(0.25):
                for page in DASHBOARD_PAGES:
                    self._get(client, "dashboard", self.dashboard + page, headers=headers)
                self._get(client, "dagster webserver", self.dagster + "/server_info")


class BenchSystem(SoakSystem):
    """The soak's system with the gate's cancellation buffer this benchmark was asked for."""

    buffer_minutes: float = 60.0

    def env(self) -> dict[str, str]:
        return {**super().env(), "ORDER_GATE_BUFFER_MINUTES": f"{self.buffer_minutes:g}"}


def measure_latency(
    system: SoakSystem,
    seconds: float,
    every: float,
    buffer_minutes: float,
    console: Console,
    timeline: Path | None = None,
) -> tuple[Figure, list[tuple[str, str]]]:
    """Orders placed steadily, each timed from when it may first go to its supplier order at the sandbox;
    the rows end with where each order's seconds went."""
    wall = time.time() - time.monotonic()  # this machine's monotonic clock to the instance's epoch seconds
    buffer_s = buffer_minutes * 60 / system.speed  # the world's buffer in this machine's seconds
    with httpx.Client(base_url=f"{system.sandbox_url}/_sandbox", timeout=30) as control:

        def place() -> dict[str, Any]:
            answer = control.post("/orders", json={"count": 1})
            answer.raise_for_status()
            return answer.json()["orders"][0]

        def at_supplier() -> dict[str, int]:
            return control.get("/audit").json().get("supplier_orders_created", {})

        control.post("/orders/settings", json={"organic_multiplier": 0}).raise_for_status()
        control.post("/settings", json={"order_risk_rate": 0.0, "invalid_address_rate": 0.0})
        # The pipelines subscribe the receiver at start; the store sends only to subscribed URLs. A probe
        # order's webhook delivered says the path is open (it is not timed).
        place()
        deadline = time.monotonic() + 300
        while not any(
            d["topic"] == "orders/create" and d["status"] == "delivered"
            for d in control.get("/webhooks").json()["deliveries"]
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("no orders/create webhook delivered in 5 minutes: no subscription?")
            time.sleep(1)
        console.rule(
            f"latency on the daemon: an order every {every:g} s for {seconds:g} s, buffer "
            f"{buffer_minutes:g} world minutes = {buffer_s:.0f} s here"
        )
        load_before = os.getloadavg()[0]
        since = time.time()
        placed: dict[str, tuple[float, str | None]] = {}  # supplier order number -> (may go at, defect)
        seen: dict[str, float] = {}
        next_at = time.monotonic()
        end = next_at + seconds
        while True:
            now = time.monotonic()
            if now >= next_at and now < end:
                order = place()
                placed[supplier_order_number(order["name"])] = (time.monotonic() + buffer_s, order["defect"])
                next_at += every
            for number in at_supplier():
                seen.setdefault(number, time.monotonic())
            waiting = [n for n, (_, defect) in placed.items() if defect is None and n not in seen]
            last_may_go = max((at for at, _ in placed.values()), default=now)
            if now >= end and (not waiting or now > last_may_go + 300):
                break
            time.sleep(0.25)
        duplicates = sum(1 for count in at_supplier().values() if count > 1)
    sendable = {n: at for n, (at, defect) in placed.items() if defect is None}
    latencies = [seen[n] - at for n, at in sendable.items() if n in seen]
    ways = {n: (at + wall, seen[n] + wall) for n, at in sendable.items() if n in seen}
    breakdown = latency_breakdown(system.dagster_url, ways, since, timeline)
    rows = [
        ("orders placed / sendable / at the supplier", f"{len(placed)} / {len(sendable)} / {len(latencies)}"),
        (
            "may go -> supplier order: p50 / p95 / max",
            f"{percentile(latencies, 0.5):.1f} / "
            f"{percentile(latencies, 0.95):.1f} / {max(latencies, default=math.nan):.1f} s",
        ),
        ("cancellation buffer (world minutes / seconds here)", f"{buffer_minutes:g} / {buffer_s:.0f} s"),
        ("supplier orders created more than once (must be 0)", str(duplicates)),
        ("load average at the start / end", f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"),
        ("where the seconds go, per stage p50 / p95:", ""),
        *breakdown,
    ]
    figure = Figure(
        "order placed (or its buffer's end) -> supplier order on the daemon, p95 (baseline: a 30 s poll)",
        percentile(latencies, 0.95),
        "s",
        30.0,
        "baseline",
        goal=LATENCY_GOAL_S,
        higher_is_better=False,
    )
    return figure, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-per-job", type=int, default=25, help="0: no throughput phase")
    parser.add_argument("--max-concurrent", type=int, default=3)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="0: no latency phase")
    parser.add_argument("--latency-every", type=float, default=5.0, help="seconds between orders")
    parser.add_argument("--buffer-minutes", type=float, default=60.0, help="the gate's, on the world's clock")
    parser.add_argument(
        "--sqlite", action="store_true", help="the repository's dagster.yaml as it is (SQLite storage)"
    )
    parser.add_argument(
        "--timeline", type=Path, default=None, metavar="PATH", help="write each run's and order's marks"
    )
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()

    workdir = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    figures: list[Figure] = []
    with fresh_postgres_url() as url:
        config = None if args.sqlite else instance_yaml(url, args.max_concurrent)
        system = BenchSystem(workdir, args.speed, instance_yaml=config)
        system.buffer_minutes = args.buffer_minutes
        try:
            where = "SQLite" if args.sqlite else f"PostgreSQL {url.rsplit('/', 1)[1]}"
            console.print(f"starting the system in {workdir} (instance on {where})")
            system.start()
            api = DagsterApi(system.dagster_url)
            # A few products listed first, so fulfillment and support have work of their own kind.
            api.wait([api.launch("product_discovery_job")], timeout_s=600)
            if args.latency_seconds > 0:
                figure, latency_rows = measure_latency(
                    system,
                    args.latency_seconds,
                    args.latency_every,
                    args.buffer_minutes,
                    console,
                    args.timeline,
                )
                console.print(figures_table("order -> supplier order on the daemon", latency_rows))
                figures.append(figure)
            if args.runs_per_job <= 0:
                report_figures(console, figures, args.json)
                return 0 if all(f.met for f in figures) or not figures else 1
            dashboard = f"http://127.0.0.1:{system.dashboard_port}"
            prober = Prober(dashboard, system.dashboard_token, system.dagster_url)
            prober.start()
            started = time.monotonic()
            since = datetime.now(UTC).timestamp()
            launched = [api.launch(job) for _ in range(args.runs_per_job) for job in JOBS]
            statuses = api.wait(launched, timeout_s=3600)
            drained_s = time.monotonic() - started
            prober.stop.set()
            prober.join()
            rows = api.run_times()
        finally:
            system.stop()

    finished = [r for r in rows if r["status"] in FINISHED and r["endTime"] and r["creationTime"] >= since]
    durations = [r["endTime"] - r["startTime"] for r in finished if r["startTime"]]
    queued = [r["startTime"] - r["creationTime"] for r in finished if r["startTime"]]
    per_hour = len(finished) / drained_s * 3600
    median_run = percentile(durations, 0.5)
    ceiling = min(args.max_concurrent, len(JOBS)) * 3600 / median_run
    failed = sum(1 for run_id in launched if statuses.get(run_id) != "SUCCESS")

    table = Table(title="Dagster daemon on PostgreSQL storage", show_header=False)
    table.add_row("runs queued by the benchmark", f"{len(launched)} ({args.runs_per_job} x {len(JOBS)} jobs)")
    table.add_row("runs finished in the window (incl. schedules/sensors)", str(len(finished)))
    table.add_row("not successful (of the benchmark's)", str(failed))
    table.add_row("drain time", f"{drained_s:.0f} s")
    table.add_row("runs per hour sustained", f"{per_hour:,.0f}")
    table.add_row("run seconds p50 / p95", f"{median_run:.1f} / {percentile(durations, 0.95):.1f}")
    table.add_row(
        "queue wait seconds p50 / p95", f"{percentile(queued, 0.5):.1f} / {percentile(queued, 0.95):.1f}"
    )
    slots = min(args.max_concurrent, len(JOBS))
    slot_seconds = slots * drained_s / max(len(finished), 1)
    table.add_row("slot-seconds per run (slots x drain / runs)", f"{slot_seconds:.1f} s ({slots} slots)")
    table.add_row(
        "  of which the run's own steps (p50)",
        f"{median_run:.1f} s; the rest is run-worker start-up and the queue's dequeue interval",
    )
    table.add_row("ceiling if launching were free (slots x 3600 / p50 run)", f"{ceiling:,.0f} runs/h")
    table.add_row("ratio sustained / that ceiling", f"{per_hour / ceiling:.2f}")
    for name, values in prober.latency.items():
        table.add_row(
            f"{name} latency p50 / p95 / max under load",
            f"{percentile(values, 0.5):.0f} / {percentile(values, 0.95):.0f} / {max(values):.0f} ms"
            f" ({len(values)} requests)",
        )
    table.add_row("probe errors (5xx or unreachable)", str(prober.errors))
    console.print(table)
    figure = Figure.of_ceiling(
        "runs per hour the daemon sustains (ceiling: slots x 3600 / p50 run, if launching were free)",
        per_hour,
        "runs/h",
        ceiling,
    )
    report_figures(console, [*figures, figure], args.json)
    return 0 if failed == 0 and prober.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
