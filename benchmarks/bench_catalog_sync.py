"""Benchmark the catalog sync against the sandbox: reconcile throughput, webhook-to-store latency, and sales
of sold-out variants under supplier stock-outs.

    python -m benchmarks.bench_catalog_sync [--listings 30 --markets US,CA,GB,DE,AU]
                                            [--changes 12] [--soak-seconds 45] [--json PATH]

(a) Reconcile: `catalog_reconcile` (every listed product: detail, stock by pid, freight to each main market,
    then the store writes) against a sandbox with CJ's real limit (4 requests/s per endpoint) and the client
    paced like production. Every call is counted at the sandbox, so the floor the limits put under the calls
    made gives the ceiling: listed variants reconciled per minute vs that ceiling (goal >= 0.95).
(b) Webhooks: cost rises made at the supplier one after another; CJ's PRODUCT messages go to the receiver
    (which records them), a sensor loop ticks at the production interval (SUPPLIER_EVENT_SENSOR_SECONDS)
    and runs `supplier_change_events` in process when it asks. Latency: change made -> new price on the
    store. (A daemon launches each run in a new process: add the run floor of bench_run_floor.)
(c) Soak: stock-outs, cost changes and removals on at high rates, customers ordering ~50x faster, the
    sensor loop and an hourly reconcile running; the sandbox counts every order line of a variant it could
    not ship (`oos_sales`, must be 0).

The listings are made first with the sandbox's limits loosened (that is discovery's benchmark, not this one).
Run from the repository root (`python -m`). Never inside pytest.
"""

import argparse
import math
import os
import random
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from dropship_sandbox.world import WorldSettings
from dropship_testkit.api_tally import (
    ApiTally,
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

console = Console(width=130)


class SensorLoop:
    """What the daemon does for the catalog sync: tick the sensor every interval, run what it asks for."""

    def __init__(self, store_url: str, interval: float) -> None:
        self.store_url = store_url
        self.interval = interval
        self.cursor: str | None = None
        self.runs = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sensor-loop", daemon=True)

    def __enter__(self) -> "SensorLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        import dagster as dg

        from dropship_pipelines.assets.discovery.defs import discovery_defs
        from dropship_testkit.pipelines import build_defs

        job = build_defs(discovery_defs).resolve_job_def("catalog_sync_job")
        # The instance lives and dies in this thread (its SQLite storage may not cross threads).
        with dg.DagsterInstance.ephemeral() as instance:
            self._loop(job, instance)

    def _loop(self, job: Any, instance: Any) -> None:
        import dagster as dg

        from dropship_pipelines.resources.store_db import StoreDatabase
        from dropship_pipelines.sensors.catalog import supplier_messages

        while not self._stop.wait(self.interval):
            context = dg.build_sensor_context(
                cursor=self.cursor,
                resources={"store_db": StoreDatabase(url=self.store_url)},
                instance=instance,
            )
            request = supplier_messages(context)
            self.cursor = context.cursor
            if isinstance(request, dg.RunRequest):
                result = job.execute_in_process(
                    run_config={"ops": {"supplier_change_events": {"config": {"markets": ["US"]}}}},
                    instance=instance,
                    asset_selection=request.asset_selection,
                    raise_on_error=False,
                )
                self.runs += 1
                self.failed += not result.success


def _list(sandbox: Any, listings: int) -> None:
    import dagster as dg

    from dropship_pipelines.assets.discovery.defs import discovery_defs
    from dropship_testkit.pipelines import build_defs

    job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
    config = {
        "ops": {
            "product_candidates": {"config": {"detail_lookups_per_run": math.ceil(listings * 1.3) + 10}},
            "product_copy": {"config": {"max_generations_per_run": listings}},
            "store_listings": {"config": {"max_listings_per_run": listings}},
        }
    }
    for _ in range(3):
        job.execute_in_process(
            run_config=config, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
        if len(sandbox.audit().get("listings_created", {})) >= listings:
            return


def _reconcile(markets: list[str]) -> tuple[bool, dict[str, Any]]:
    import dagster as dg

    from dropship_pipelines.assets.discovery.defs import discovery_defs
    from dropship_testkit.pipelines import build_defs

    job = build_defs(discovery_defs).resolve_job_def("catalog_sync_job")
    result = job.execute_in_process(
        run_config={"ops": {"catalog_reconcile": {"config": {"markets": markets}}}},
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey("catalog_reconcile")],
        raise_on_error=False,
    )
    meta = {
        k: v.value for k, v in result.asset_materializations_for_node("catalog_reconcile")[0].metadata.items()
    }
    return result.success, meta


def _store_prices(sandbox: Any) -> dict[str, Decimal]:
    """Every store variant's price, by SKU, read from the world."""
    with sandbox.world.lock, sandbox.world.state:
        return {
            v["sku"]: Decimal(v["price"])
            for p in sandbox.world.state.all("shopify_product")
            for v in p["variants"]
            if v.get("sku")
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--listings", type=int, default=30)
    parser.add_argument("--markets", default="US,CA,GB,DE,AU")
    parser.add_argument("--changes", type=int, default=12, help="cost rises sent by webhook in (b)")
    parser.add_argument("--soak-seconds", type=float, default=45.0)
    add_json_option(parser)
    args = parser.parse_args(argv)
    markets = [m.strip() for m in args.markets.split(",") if m.strip()]

    import sqlalchemy as sa

    from dropship_pipelines.cadence import SUPPLIER_EVENT_SENSOR_SECONDS
    from dropship_pipelines.store.database import get_engine
    from dropship_pipelines.store.discovery_tables import listing_variants, listings
    from dropship_testkit.catalog_sync import change, receiver, subscribe
    from dropship_testkit.sandbox_server import running_sandbox

    console.print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    real = WorldSettings()
    limits = Limits.of(real)
    tally = ApiTally()
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        work = Path(tmp)
        store_url = f"sqlite:///{work}/store.db"
        fast = WorldSettings(cj_level_qps=200.0)
        with running_sandbox(work / "world.db", fast, wrap=tally.wrap) as sandbox:
            set_pipeline_env(sandbox.env(store_url, work / "tokens"), 50.0)
            sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
            _list(sandbox, args.listings)
            with get_engine(store_url).connect() as conn:
                listed = conn.execute(sa.select(listings).where(listings.c.status == "listed")).all()
                variants = conn.execute(sa.select(listing_variants)).all()
            console.print(f"{len(listed)} products listed, {len(variants)} variants")

            # (a) reconcile at CJ's real limit, the client paced like production
            sandbox.world.update_settings(lambda s: setattr(s, "cj_level_qps", real.cj_level_qps))
            set_pipeline_env(sandbox.env(store_url, work / "tokens"), real.cj_level_qps)
            os.environ["CJ_IP_REQUESTS_PER_SECOND"] = "10"
            console.rule(f"(a) catalog_reconcile, {len(variants)} variants, markets {','.join(markets)}")
            before = tally.snapshot()
            started = time.perf_counter()
            ok, meta = _reconcile(markets)
            wall = time.perf_counter() - started
            calls = difference(tally.snapshot(), before)
            floor = rate_floor(calls, limits)
            console.print(calls_table("API calls of the reconcile", calls))
            reconciled = int(meta.get("variants", 0))
            own = float(meta.get("seconds", wall))  # the sync's own time, without the run's start-up
            rate = reconciled / own * 60
            ceiling = reconciled / floor.seconds * 60 if floor.seconds else math.inf
            console.print(
                figures_table(
                    "reconcile",
                    [
                        ("run", "ok" if ok else "FAILED"),
                        ("variants reconciled", str(reconciled)),
                        ("run wall time (with Dagster's run start-up)", f"{wall:.1f} s"),
                        ("the reconcile's own time", f"{own:.1f} s"),
                        (
                            "floor the CJ limits put under these calls",
                            f"{floor.cj_s:.1f} s ({floor.cj_binding})",
                        ),
                        (
                            "failed requests",
                            ", ".join(f"{k}: {v}" for k, v in failure_counts(calls).items()) or "0",
                        ),
                        ("failures", str(meta.get("failed"))),
                    ],
                )
            )
            figures.append(
                Figure.of_ceiling(
                    "listed variants reconciled per minute (ceiling: CJ limits)", rate, "/min", ceiling
                )
            )

            # (b) webhook -> store latency
            console.rule(
                f"(b) {args.changes} cost rises by webhook, sensor every {SUPPLIER_EVENT_SENSOR_SECONDS}s"
            )
            latencies: list[float] = []
            rng = random.Random(7)
            with receiver(store_url) as url, SensorLoop(store_url, SUPPLIER_EVENT_SENSOR_SECONDS) as loop:
                subscribe(sandbox, url)
                for n in range(args.changes):
                    variant = variants[n % len(variants)]
                    pid = variant.pid
                    was = _store_prices(sandbox).get(variant.sku)
                    # a rise the price must follow (a cheap product's price sits on the profit floor)
                    cost = (
                        Decimal(str(variant.unit_cost)) * Decimal("1.10") + Decimal("1.50") + Decimal(n) / 10
                    )
                    started = time.perf_counter()
                    change(sandbox, pid=pid, vid=variant.vid, kind="cost", price=float(cost))
                    deadline = started + 30
                    while time.perf_counter() < deadline:
                        if _store_prices(sandbox).get(variant.sku) != was:
                            latencies.append(time.perf_counter() - started)
                            break
                        time.sleep(0.05)
                    time.sleep(rng.uniform(0, SUPPLIER_EVENT_SENSOR_SECONDS))  # changes land at any phase
                runs_b = loop.runs
            p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
            console.print(
                figures_table(
                    "webhook to store",
                    [
                        ("changes reaching the store", f"{len(latencies)} of {args.changes}"),
                        (
                            "p50 / p95 / max",
                            f"{p50:.2f} / {p95:.2f} / {max(latencies, default=math.nan):.2f} s",
                        ),
                        ("runs started by the sensor", str(runs_b)),
                    ],
                )
            )
            figures.append(
                Figure(
                    "webhook -> store update latency p95 (goal: within the sensor interval + 5 s)",
                    p95 if len(latencies) == args.changes else math.inf,
                    "s",
                    float(SUPPLIER_EVENT_SENSOR_SECONDS),
                    "baseline",
                    goal=SUPPLIER_EVENT_SENSOR_SECONDS + 5.0,
                    higher_is_better=False,
                )
            )

            # (c) soak: stock-outs on, customers ordering fast
            console.rule(
                f"(c) {args.soak_seconds:.0f} s soak: stock-outs, cost changes, removals; orders x50"
            )
            sandbox.world.set_clock(speed=120)
            sandbox.control(
                "POST",
                "/supplier",
                {
                    "stockout_per_day": 3.0,
                    "cost_change_per_day": 2.0,
                    "removal_per_day": 0.5,
                    "restock_hours": 4,
                },
            )
            sandbox.control("POST", "/orders/settings", {"organic_multiplier": 50})
            reconciles = 0
            with receiver(store_url) as url, SensorLoop(store_url, SUPPLIER_EVENT_SENSOR_SECONDS) as loop:
                subscribe(sandbox, url)
                end = time.perf_counter() + args.soak_seconds
                next_reconcile = time.perf_counter() + 30  # an hour of the world at 120x
                while time.perf_counter() < end:
                    sandbox.world.advance()  # the world moves on requests; here on its own too
                    if time.perf_counter() >= next_reconcile:
                        _reconcile(["US"])
                        reconciles += 1
                        next_reconcile += 30
                    time.sleep(0.5)
                runs_c = loop.runs
            audit = sandbox.audit()
            oos = sum(audit.get("oos_sales", {}).values())
            orders = sum(audit.get("orders_placed", {}).values())
            messages = audit.get("cj_messages", {})
            console.print(
                figures_table(
                    "soak",
                    [
                        ("orders placed", str(orders)),
                        (
                            "supplier messages sent",
                            ", ".join(f"{k}: {v}" for k, v in messages.items()) or "0",
                        ),
                        ("sensor runs / reconciles", f"{runs_c} / {reconciles}"),
                        ("sales of sold-out variants (must be 0)", str(oos)),
                    ],
                )
            )
            figures.append(
                Figure(
                    "sales of out-of-stock variants in the soak",
                    float(oos),
                    "sales",
                    0.0,
                    "baseline",
                    0.0,
                    False,
                )
            )
    report_figures(console, figures, args.json)


if __name__ == "__main__":
    main()
