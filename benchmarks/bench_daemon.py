"""Runs per hour the Dagster daemon sustains with PostgreSQL instance storage, and whether the dashboard
stays responsive meanwhile; and an order's way from the store to the supplier on that daemon.

    uv run python -m benchmarks.bench_daemon [--runs-per-job 25] [--max-concurrent 3] [--speed 60]
                                              [--latency-seconds 60 --latency-every 5 --buffer-minutes 60]
                                              [--json PATH]

Latency (first, unless `--latency-seconds 0`): organic orders off and no risky or badly addressed orders,
one order placed at the sandbox every `--latency-every` seconds for `--latency-seconds`. Each goes the
production way: the store's `orders/create` webhook to the dashboard's receiver, the `new_store_orders`
sensor on the daemon, the run queue, a run worker started by the run launcher, the order gate, CJ's
createOrderV2. The figure is the p95 from the moment the order may first go (its placement, or the end of
the gate's cancellation buffer, `--buffer-minutes` of the world's clock, i.e. that over `--speed` seconds
here) to its supplier order seen at the sandbox (its audit, read every 0.25 s). `--runs-per-job 0` skips
the throughput phase.

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
JOBS = ("order_fulfillment_job", "customer_service_job", "analytics_job", "ad_optimization_job")
DASHBOARD_PAGES = ("/api/metrics/kpis", "/api/orders?limit=50", "/api/support/tickets?limit=50")


def instance_yaml(postgres_url: str, max_concurrent: int) -> str:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["storage"] = {"postgres": {"postgres_url": postgres_url}}
    config["concurrency"]["runs"]["max_concurrent_runs"] = max_concurrent
    return yaml.safe_dump(config)


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
    system: SoakSystem, seconds: float, every: float, buffer_minutes: float, console: Console
) -> tuple[Figure, list[tuple[str, str]]]:
    """Orders placed steadily, each timed from when it may first go to its supplier order at the sandbox."""
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
                    system, args.latency_seconds, args.latency_every, args.buffer_minutes, console
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
