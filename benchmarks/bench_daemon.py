"""Runs per hour the Dagster daemon sustains with PostgreSQL instance storage, and whether the dashboard
stays responsive meanwhile.

    uv run python -m benchmarks.bench_daemon [--runs-per-job 25] [--max-concurrent 3] [--speed 60]
                                              [--json PATH]

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

from dropship_testkit.bench import Figure, add_json_option, percentile, report_figures
from dropship_testkit.databases import fresh_postgres_url
from dropship_testkit.soak.dagster_api import FINISHED, DagsterApi
from dropship_testkit.soak.system import REPO_ROOT, SoakSystem

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-per-job", type=int, default=25)
    parser.add_argument("--max-concurrent", type=int, default=3)
    parser.add_argument("--speed", type=float, default=60.0)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()

    workdir = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    with fresh_postgres_url() as url:
        system = SoakSystem(workdir, args.speed, instance_yaml=instance_yaml(url, args.max_concurrent))
        try:
            console.print(
                f"starting the system in {workdir} (instance on PostgreSQL {url.rsplit('/', 1)[1]})"
            )
            system.start()
            api = DagsterApi(system.dagster_url)
            # A few products listed first, so fulfillment and support have work of their own kind.
            api.wait([api.launch("product_discovery_job")], timeout_s=600)
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
    report_figures(console, [figure], args.json)
    return 0 if failed == 0 and prober.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
