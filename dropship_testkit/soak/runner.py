"""The soak: start everything, break things for N minutes, settle, stop, audit, report."""

import contextlib
import json
import random
import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_sandbox.world import API_NAMES
from dropship_testkit.bench import percentile
from dropship_testkit.soak.audit import AuditResult, Ledger, World, audit, store_events
from dropship_testkit.soak.chaos import (
    LLM_MISBEHAVIOUR_MODES,
    SOAK_WORLD_SEED,
    RunKiller,
    SandboxControl,
)
from dropship_testkit.soak.dagster_api import FINISHED, DagsterApi
from dropship_testkit.soak.system import SoakSystem

# The last pass over every workflow once the world is calm; fulfillment twice, because the first pass sends
# what the soak left behind and the second one picks up the supplier's answers to it.
FINAL_JOBS = (
    "product_discovery_job",
    "order_fulfillment_job",
    "customer_service_job",
    "ad_launch_job",
    "order_fulfillment_job",
)


TOKEN_EXPIRY_S = 30.0  # how long a revoked token stays revoked before the operator "re-authorizes"
# The settle phase moves the world's clock on in these steps (days), a fulfillment pass after each, with the
# checkout closed. Half a day: the orders the soak left pass the buffer and are paid, parcels shipped in
# the soak are scanned (fulfillments post at the first scan); then 44.5 days: CJ cancels and runs out of
# stock, the staff refunds (3-20 days after the order), cardholders charge back (10-40 days) and a parcel
# with no scan for 30 days is lost, so the final pass and the audit meet all of it.
SETTLE_DAYS = (0.5, 44.5)


@dataclass
class SoakConfig:
    minutes: float
    speed: float = 600.0
    kill_every_s: float = 60.0  # mean gap between run kills; 0 switches the killer off
    seed: int = 7
    world_seed: int = SOAK_WORLD_SEED  # the sandbox world's (which orders meet which event)
    settle_days: tuple[float, ...] = SETTLE_DAYS
    # The fault phase lasts `minutes`, and on (at most `max_extra_minutes` more) until the world placed
    # `min_orders`: on a loaded machine the first listings, so the first orders, come minutes late.
    min_orders: int = 12
    max_extra_minutes: float = 6.0
    settle_timeout_s: float = 900.0
    workdir: Path | None = None
    report_path: Path = Path("artifacts/soak-report.json")


@dataclass
class SoakOutcome:
    config: dict[str, Any]
    started_at: str
    durations_s: dict[str, float] = field(default_factory=dict)
    runs: dict[str, Any] = field(default_factory=dict)
    kills: list[dict[str, Any]] = field(default_factory=list)
    final_runs: dict[str, str] = field(default_factory=dict)
    sandbox_audit_kinds: dict[str, int] = field(default_factory=dict)
    # Events the soak made happen through the sandbox's control API because the run's timing did not
    # (a customer cancelling after the supplier was paid needs a run to have paid it first).
    forced_events: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    workdir: str = ""


def _order_days(store_url: str) -> list[str]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            moments = [r[0] for r in conn.execute(sa.select(store_orders.c.placed_at))]
    finally:
        engine.dispose()
    return sorted(
        {(m if m.tzinfo else m.replace(tzinfo=UTC)).astimezone(UTC).date().isoformat() for m in moments}
    )


def _run_and_wait(api: DagsterApi, job: str, timeout_s: float, tags: dict[str, str] | None = None) -> str:
    """Launch `job` and wait for it. The settle phase's own pass goes first: the schedules and sensors'
    runs still queued behind it (the same workflows, not started) are cancelled as it waits, so on a busy
    machine it is not stuck behind a queue that grows faster than it drains."""
    try:
        run_id = api.launch(job, tags)
    except Exception as exc:
        return f"LAUNCH_FAILED: {exc}"
    deadline = time.monotonic() + timeout_s
    status = "UNKNOWN"
    while True:
        with contextlib.suppress(httpx.HTTPError, RuntimeError):  # a busy webserver: the next pass
            status = next((r.status for r in api.runs() if r.run_id == run_id), "UNKNOWN")
            if status not in FINISHED:
                api.drop_queued(keep=(run_id,))
        if status in FINISHED or time.monotonic() > deadline:
            return status
        time.sleep(2)


def _chaos_phase(system: SoakSystem, api: DagsterApi, control: SandboxControl, config: SoakConfig,
                 outcome: SoakOutcome, console: Console) -> None:  # fmt: skip
    rng = random.Random(config.seed)
    control.faults_on()
    control.misbehave(rng.choice(LLM_MISBEHAVIOUR_MODES))
    # One token expiry per API, spread over the soak, so every client meets a 401 while runs are in flight.
    end = time.monotonic() + config.minutes * 60
    expiries = sorted(
        (time.monotonic() + rng.uniform(0.1, 0.8) * config.minutes * 60, name) for name in API_NAMES
    )
    reauthorize: list[tuple[float, str]] = []
    modes_at = [time.monotonic() + config.minutes * 60 * f for f in (0.33, 0.66)]
    session = system.dagster_session
    killer = RunKiller(api, session or -1, config.kill_every_s, seed=config.seed)
    killer.start()
    try:
        console.log(f"first discovery run: {api.launch('product_discovery_job')}")
        hard_end = end + config.max_extra_minutes * 60
        while time.monotonic() < end or (
            time.monotonic() < hard_end and _placed(control) < config.min_orders
        ):
            now = time.monotonic()
            while expiries and expiries[0][0] <= now:
                name = expiries.pop(0)[1]
                control.expire_tokens(name)
                reauthorize.append((now + TOKEN_EXPIRY_S, name))
            while reauthorize and reauthorize[0][0] <= now:
                control.reauthorize(reauthorize.pop(0)[1])
            while modes_at and modes_at[0] <= now:
                modes_at.pop(0)
                control.misbehave(rng.choice(LLM_MISBEHAVIOUR_MODES))
            time.sleep(min(5.0, max(1.0, end - now)))
            left = int(end - time.monotonic())
            if left % 60 < 5:
                console.log(
                    f"soak: {left}s left, {len(killer.kills)} runs killed, runs {dict(api.status_counts())}"
                )
        for _, name in expiries:  # a very short soak still expires every API's token once
            control.expire_tokens(name)
        # calm() resets every fault, token switches included, before the final runs.
    finally:
        killer.stop()
        outcome.kills = [asdict(k) for k in killer.kills]
        outcome.errors.extend(f"killer: {e}" for e in killer.errors)


def _force_missing_events(system: SoakSystem, control: SandboxControl, outcome: SoakOutcome,
                          console: Console) -> None:  # fmt: skip
    """Events that depend on the soak's timing: a customer cancellation after the supplier was paid (CJ's
    cancellation and dispute path) needs a run to pay an order before its customer cancels, hours of the
    world's clock later; a CJ cancellation or stock-out needs a paid order the customer kept. Each the
    timing gave none of happens now through the sandbox's control API, on its own paid, unshipped order."""
    for attempt in range(5):  # the sandbox is running: its state file may be busy for a moment
        try:
            world = World.read(system.world_path)
            break
        except sqlite3.OperationalError:
            if attempt == 4:
                raise
            time.sleep(1)
    events = store_events(world)
    by_number = {f"shopify-{o['number']}": o for o in world.orders}
    candidates = []  # paid, unshipped CJ orders nothing has happened to yet
    for cj in sorted(world.cj_orders, key=lambda o: str(o.get("orderNum"))):
        doc = by_number.get(str(cj.get("orderNum")))
        paid = (cj.get("_sim") or {}).get("paid_real_at")
        if doc is None or not paid or doc.get("cancelledAt") or doc.get("fulfillments"):
            continue
        if cj.get("orderStatus") not in ("UNSHIPPED", "CREATED", "UNPAID") or cj.get("interceptOrderReasons"):
            continue
        candidates.append((cj, doc))
    # A CJ cancellation and a stock-out after payment are drawn per order too, and the same order may meet
    # its customer's cancellation first: each that did not happen is made to happen now, on its own order.
    missing = [
        (name, event, field_name)
        for name, event, field_name in (
            ("supplier_stockouts", "stockout", "orderNumber"),
            ("supplier_cancellations", "supplier_cancel", "orderNumber"),
            ("customer_cancellations_after_supplier_paid", "cancel", "order"),
        )
        if not events[name]
    ]
    for name, event, field_name in missing:
        if not candidates:
            outcome.errors.append(f"no paid, unshipped supplier order left to force {name}")
            continue
        cj, doc = candidates.pop(0)
        ref = f"gid://shopify/Order/{doc['id']}" if field_name == "order" else str(cj.get("orderNum"))
        answer = control.happen(event, {field_name: ref})
        outcome.forced_events.append({"event": name, "order": doc["name"],
                                      "happened": str(answer.get("happened"))})  # fmt: skip
        console.log(f"forced: {name} on {doc['name']} ({answer})")


def _placed(control: SandboxControl) -> int:
    try:
        return len(control.audit().get("orders_placed", {}))
    except Exception:  # a busy sandbox: ask again on the next tick
        return 0


def _settle_phase(system: SoakSystem, api: DagsterApi, control: SandboxControl, config: SoakConfig,
                  outcome: SoakOutcome, console: Console) -> None:  # fmt: skip
    control.calm()
    control.close_checkout()
    control.advance_clock(0)  # held where it is while the runs in flight end
    console.log(f"faults off, checkout closed ({_placed(control)} orders), clock held; waiting for runs")
    deadline = time.monotonic() + config.settle_timeout_s
    # The runs in flight finish; those still queued (never started) are cancelled: the final pass below
    # runs every workflow itself.
    if not api.wait_idle(max(60.0, deadline - time.monotonic()), drop_queued=True):
        outcome.errors.append("runs still in progress when the settle phase began its final pass")
    for step, days in enumerate(config.settle_days):
        clock = control.advance_clock(days)
        status = _run_and_wait(api, "order_fulfillment_job", max(60.0, deadline - time.monotonic()))
        outcome.final_runs[f"+{days:g}d:order_fulfillment_job"] = status
        console.log(f"clock +{days:g} days ({clock['sim_now']}): order_fulfillment_job {status}")
        if step == 0:
            # Every order the soak left is at the supplier and paid, most not shipped yet (CJ ships 1-3
            # days after payment): a customer may now cancel one after payment.
            _force_missing_events(system, control, outcome, console)
    for index, job in enumerate(FINAL_JOBS):
        status = _run_and_wait(api, job, max(60.0, deadline - time.monotonic()))
        outcome.final_runs[f"{index}:{job}"] = status
        console.log(f"final {job}: {status}")
    for day in _order_days(system.store_url):
        status = _run_and_wait(
            api, "analytics_daily_job", max(60.0, deadline - time.monotonic()), {"dagster/partition": day}
        )
        outcome.final_runs[f"analytics_daily_job[{day}]"] = status
    outcome.final_runs["analytics_job"] = _run_and_wait(
        api, "analytics_job", max(60.0, deadline - time.monotonic())
    )
    console.log(f"final analytics: {outcome.final_runs['analytics_job']}")
    # Sensors may still react to the final runs' own writes (the ledger-change sensor does); let them end.
    time.sleep(5)
    if not api.wait_idle(max(60.0, deadline - time.monotonic()), drop_queued=True):
        outcome.errors.append("runs still in progress at shutdown")


def _run_stats(api: DagsterApi, killer_kills: list[dict[str, Any]]) -> dict[str, Any]:
    runs = api.runs()
    seconds = [t["endTime"] - t["startTime"] for t in api.run_times() if t["startTime"] and t["endTime"]]
    by_status: dict[str, int] = {}
    by_job: dict[str, dict[str, int]] = {}
    for run in runs:
        by_status[run.status] = by_status.get(run.status, 0) + 1
        job = by_job.setdefault(run.job_name, {})
        job[run.status] = job.get(run.status, 0) + 1
    return {
        "launched": len(runs),
        "succeeded": by_status.get("SUCCESS", 0),
        "failed": by_status.get("FAILURE", 0),
        "canceled": by_status.get("CANCELED", 0),
        "unfinished": sum(n for s, n in by_status.items() if s not in FINISHED),
        "killed": len(killer_kills),
        "retries": sum(1 for r in runs if "dagster/parent_run_id" in r.tags),
        "run_seconds_p50": round(percentile(seconds, 0.5), 1),
        "run_seconds_p95": round(percentile(seconds, 0.95), 1),
        "by_job": by_job,
    }


def run_soak(config: SoakConfig, console: Console | None = None) -> tuple[SoakOutcome, AuditResult]:
    console = console or Console()
    workdir = config.workdir or Path(tempfile.mkdtemp(prefix="dropship-soak-"))
    system = SoakSystem(workdir, config.speed, world_seed=config.world_seed)
    outcome = SoakOutcome(
        config={k: str(v) for k, v in asdict(config).items()},
        started_at=datetime.now(UTC).isoformat(),
        workdir=str(workdir),
    )
    t0 = time.monotonic()
    try:
        system.start()
        outcome.durations_s["start"] = round(time.monotonic() - t0, 1)
        console.log(
            f"system up in {workdir} (dagster :{system.dagster_port}, sandbox :{system.sandbox_port})"
        )
        api = DagsterApi(system.dagster_url)
        control = SandboxControl(system.sandbox_url)
        t1 = time.monotonic()
        _chaos_phase(system, api, control, config, outcome, console)
        outcome.durations_s["soak"] = round(time.monotonic() - t1, 1)
        t2 = time.monotonic()
        _settle_phase(system, api, control, config, outcome, console)
        outcome.durations_s["settle"] = round(time.monotonic() - t2, 1)
        outcome.runs = _run_stats(api, outcome.kills)
        outcome.sandbox_audit_kinds = {k: sum(v.values()) for k, v in control.audit().items()}
    except Exception as exc:
        outcome.errors.append(f"soak aborted: {type(exc).__name__}: {exc}")
        console.print_exception()
    finally:
        console.log(f"stopping: {system.stop()}")
    result = audit(World.read(system.world_path), Ledger.read(system.store_url))
    outcome.durations_s["total"] = round(time.monotonic() - t0, 1)
    return outcome, result


def report(outcome: SoakOutcome, result: AuditResult, console: Console, path: Path) -> bool:
    """Print the report, write it as JSON; True when the audit passed and the soak ran to its end."""
    ok = result.passed and not any(e.startswith("soak aborted") for e in outcome.errors)
    runs = Table(title="Runs")
    columns = ("launched", "succeeded", "failed", "canceled", "killed", "retries", "unfinished",
               "run_seconds_p50", "run_seconds_p95")  # fmt: skip
    for column in columns:
        runs.add_column(column.replace("run_seconds_", "seconds "), justify="right")
    runs.add_row(*(str(outcome.runs.get(c, "-")) for c in columns))
    console.print(runs)
    for title, section in (
        ("Orders", result.orders),
        ("Customer messages", result.support),
        ("Listings", result.listings),
        ("Campaigns", result.campaigns),
        ("Money (USD)", result.money),
        ("Cancellations and refunds", result.cancellations),
        ("Order gate", result.gate),
        ("Store life (ground truth)", result.events),
    ):
        table = Table(title=title)
        table.add_column("measure")
        table.add_column("value", justify="right")
        for key, value in section.items():
            table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
        console.print(table)
    if result.stuck_reasons:
        console.print("stuck orders by reason:", result.stuck_reasons)
    console.print("final runs:", outcome.final_runs)
    console.print("sandbox side effects (audit totals):", outcome.sandbox_audit_kinds)
    if outcome.forced_events:
        console.print("events forced through the sandbox's control API:", outcome.forced_events)
    if result.findings:
        findings = Table(title=f"Findings ({len(result.findings)})")
        for column in ("area", "kind", "key", "detail"):
            findings.add_column(column)
        for finding in result.findings[:60]:
            findings.add_row(finding.area, finding.kind, finding.key, finding.detail)
        console.print(findings)
    for error in outcome.errors:
        console.print(f"[yellow]note:[/] {error}")
    console.print("[bold green]SOAK AUDIT PASSED[/]" if ok else "[bold red]SOAK AUDIT FAILED[/]")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "passed": ok,
        **asdict(outcome),
        "audit": {**asdict(result), "findings": [asdict(f) for f in result.findings]},
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
    console.print(f"report written to {path}")
    return ok
