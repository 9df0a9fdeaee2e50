"""Audit the demo: `scripts/run_sandbox.sh` for N minutes, the README's CLI commands beside its daemon.

    uv run python -m dropship_testkit.demo_audit --minutes 30 --check-every 120 \
        --json artifacts/demo-audit.json

Every check interval it runs one round of the README's `dagster job execute` commands (DAGSTER_HOME set to
the demo's instance, as the README says) and reads the dashboard's own HTTP API: the KPI cards must equal
the sums of the daily table over each card's days, and the all-time ad spend the campaign tables' spend.
The numbers move while orders arrive, so a check re-reads a few times; a disagreement fails only when it
persists: a card computed after every daily row it should sum and still off, one still off at the next
check, or one left once the world is frozen and the runs have finished. At the end the sandbox's audit
(side effects counted where they landed) and the world against the ledger (dropship_testkit/soak/audit.py)
must show no duplicate of any kind. Exit status 1 on any failure; the JSON report says which.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns
from dropship_testkit.sandbox_server import free_port
from dropship_testkit.soak.audit import AuditResult, Ledger, World, audit
from dropship_testkit.soak.dagster_api import IN_PROGRESS, DagsterApi, RunInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
CENT = Decimal("0.01")
BANNER = "Ctrl-C stops everything."
# The README's commands (its "From the command line" section), in its order; the partitioned ones get
# their day at run time.
README_JOBS = (
    "product_discovery_job",
    "catalog_sync_job",
    "order_fulfillment_job",
    "customer_service_job",
    "ad_launch_job",
    "ad_optimization_job",
    "analytics_job",
    "webhook_subscriptions_job",
    "preflight_job",
)
PARTITIONED_JOBS = ("ad_metrics_job", "analytics_daily_job")
# KPI fields the daily table sums (dashboard/api/routes/metrics.py CHECKED), and the daily table's names.
KPI_FIELDS = {"sales": "sales", "orders": "orders", "ad_spend": "ad_spend", "profit": "profit"}
# Sandbox audit kinds keyed by the one thing each side effect may happen once for.
ONCE_KINDS = {
    "listings_created": "listing per product",
    "supplier_orders_created": "supplier order per order number",
    "fulfillments_created": "fulfillment per store order",
    "campaigns_created": "campaign per product per platform",
    "cj_disputes_created": "CJ dispute per business",
    "shipping_confirmations_sent": "shipping confirmation per order",
    "orders_cancelled": "cancellation per order",
}


# ---------------------------------------------------------------- pure comparison (tested in tests/)


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Disagreement:
    """One KPI card figure against the table it must equal, in one snapshot."""

    period: str
    field: str
    table: str  # daily | ad_performance | campaigns
    card: str
    table_sum: str
    # stale: an input of the card was written after the card (the snapshot has yet to follow); fresh:
    # the card was computed after all of its inputs and still disagrees (a real defect if it persists)
    freshness: str

    @property
    def key(self) -> str:
        return f"{self.period}:{self.field}:{self.table}"


def compare_snapshot(
    kpis: dict[str, Any],
    daily: list[dict[str, Any]],
    ad_performance: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
) -> list[Disagreement]:
    """Every KPI card figure that differs from its table: the daily rows over the card's days, and for
    all time the ad spend of the ad-performance table and of the campaigns table (the dashboard's shapes:
    /api/metrics/kpis, /api/metrics/daily, /api/metrics/ad-performance items, /api/ads/campaigns items)."""
    daily_newest = max((m for m in (_moment(r.get("computed_at")) for r in daily) if m), default=None)
    perf_newest = max((m for m in (_moment(r.get("computed_at")) for r in ad_performance) if m), default=None)
    found: list[Disagreement] = []
    for card in kpis.get("periods", []):
        start, end = _day(card.get("start_day")), _day(card.get("end_day"))
        rows = [
            r
            for r in daily
            if (start is None or _day(r["day"]) >= start) and (end is None or _day(r["day"]) <= end)
        ]
        computed = _moment(card.get("computed_at"))
        stale = "stale" if daily_newest and computed and daily_newest > computed else "fresh"
        for kpi_field, column in KPI_FIELDS.items():
            if kpi_field == "orders":
                ours, theirs = str(int(card[kpi_field])), str(sum(int(r[column]) for r in rows))
            else:
                ours = str(money(card[kpi_field]))
                theirs = str(sum((money(r[column]) for r in rows), Decimal(0)).quantize(CENT))
            if ours != theirs:
                found.append(Disagreement(card["period"], kpi_field, "daily", ours, theirs, stale))
        if card["period"] != "all_time":
            continue
        spend = money(card["ad_spend"])
        newest_input = max((m for m in (daily_newest, perf_newest) if m), default=None)
        stale_ads = "stale" if newest_input and computed and newest_input > computed else "fresh"
        if perf_newest and computed and perf_newest < computed:
            stale_ads = "stale"  # the campaign table has yet to follow the metrics the card saw
        for table, items in (("ad_performance", ad_performance), ("campaigns", campaigns)):
            total = sum((money(r.get("spend")) for r in items), Decimal(0)).quantize(CENT)
            if total != spend:
                found.append(Disagreement("all_time", "ad_spend", table, str(spend), str(total), stale_ads))
    return found


@dataclass
class CheckResult:
    index: int
    at: str
    attempts: int
    agreed: bool
    disagreements: list[dict[str, Any]] = field(default_factory=list)  # of the last attempt
    failures: list[str] = field(default_factory=list)  # the persisting ones
    error: str | None = None
    cards: dict[str, Any] = field(default_factory=dict)  # the all-time card, for the report


def judge(
    attempts: list[list[Disagreement]],
    previous_pending: dict[str, int],
    final: bool,
    refresh_in_flight: bool = False,
    max_pending: int = 3,
) -> tuple[bool, list[str], dict[str, int]]:
    """(agreed, failures, pending) from one check's attempts, each the disagreements of a snapshot;
    `pending` counts, per disagreement, the consecutive checks that ended on it.

    Any attempt with no disagreement is agreement. Otherwise a disagreement of the last attempt fails when
    it was 'fresh' in every attempt (a card newer than its inputs that still differs), at the final check
    (nothing in flight any more), or when the previous check ended on it too and no analytics run that
    would refresh the snapshot is queued or running, or it has lasted more than `max_pending` checks even
    with one (the snapshot never catches up)."""
    if not attempts or any(not a for a in attempts):
        return True, [], {}
    last = attempts[-1]
    always_fresh = set.intersection(*({d.key for d in a if d.freshness == "fresh"} for a in attempts))
    failures = []
    pending = {d.key: previous_pending.get(d.key, 0) + 1 for d in last}
    for d in last:
        why = None
        if final:
            why = "still disagrees with the world frozen and every run finished"
        elif d.key in always_fresh and len(attempts) > 1:
            why = "the card was computed after its inputs and disagrees in every re-read"
        elif pending[d.key] > max_pending:
            why = f"disagreed at {pending[d.key]} checks in a row (the snapshot never caught up)"
        elif pending[d.key] > 1 and not refresh_in_flight:
            why = (
                "disagreed at the previous check too, and no analytics run is queued or running to refresh it"
            )
        if why:
            failures.append(f"{d.period} {d.field}: card {d.card} vs {d.table} {d.table_sum} ({why})")
    return False, failures, pending


# Runs that recompute the KPI snapshot or its inputs (the automation's runs are Dagster's __ASSET_JOB).
REFRESH_JOBS = ("analytics_daily_job", "analytics_job", "ad_metrics_job", "__ASSET_JOB")


def refresh_in_flight(runs: list[RunInfo]) -> bool:
    """An analytics run queued or in progress: a stale snapshot is on its way to being refreshed."""
    return any(run.job_name in REFRESH_JOBS and run.status in IN_PROGRESS for run in runs)


@dataclass
class Duplicate:
    kind: str
    key: str
    count: int
    detail: str


def sandbox_duplicates(counts: dict[str, dict[str, int]]) -> list[Duplicate]:
    """Side effects the sandbox counted more than once for a key they may happen once for."""
    found = []
    for kind, what in ONCE_KINDS.items():
        for key, count in sorted(counts.get(kind, {}).items()):
            if count > 1:
                found.append(Duplicate(kind, key, count, f"{count} times; one {what}"))
    for key, count in sorted(counts.get("conversion_events_duplicate", {}).items()):
        found.append(Duplicate("conversion_events", key, count + 1, "purchase event sent again"))
    return found


def refund_duplicates(world_orders: list[dict[str, Any]]) -> list[Duplicate]:
    """Refunds made twice at the store: an order refunded beyond its total, or the same refund (note and
    amount) made twice. The staff's own refunds ('staff: ...') are the world's, never the pipelines'."""
    found = []
    for doc in world_orders:
        refunds = doc.get("refunds") or []
        name = str(doc.get("name") or doc.get("id"))
        total = sum((money(r.get("amount")) for r in refunds), Decimal(0))
        if refunds and total > money(doc.get("totalPrice")):
            found.append(
                Duplicate("refunds", name, len(refunds), f"refunded {total} of {doc.get('totalPrice')}")
            )
        same = Counter(
            (r.get("note"), str(r.get("amount")))
            for r in refunds
            if not str(r.get("note") or "").startswith("staff:")
        )
        for (note, amount), count in same.items():
            if count > 1:
                found.append(
                    Duplicate("refunds", name, count, f"refund {amount} ({note}) made {count} times")
                )
    return found


def budget_duplicates(
    actions: list[dict[str, Any]], campaigns: list[dict[str, Any]], adset_budgets: dict[str, Any]
) -> list[Duplicate]:
    """Budget changes made twice: two applied changes judged on the same campaign, day and budget (the
    claim is on the judged state), or a platform budget other than the one the ledger last set."""
    found = []
    judged = Counter(
        (a["platform"], a["campaign_id"], str(a.get("as_of")), str(money(a["old_budget"])), a["action"])
        for a in actions
        if a["status"] == "applied"
    )
    for (platform, campaign_id, as_of, old, action), count in judged.items():
        if count > 1:
            found.append(
                Duplicate(
                    "budget_changes", f"{platform}:{campaign_id}", count, f"{action} from {old} as of {as_of}"
                )
            )
    for row in campaigns:
        if not row.get("adset_id") or row.get("state") not in ("active", "paused"):
            continue
        key = f"{row['platform']}:{row['adset_id']}"
        if key in adset_budgets and adset_budgets[key] is not None:
            at_platform, ours = money(adset_budgets[key]), money(row["daily_budget"])
            if at_platform != ours:
                found.append(
                    Duplicate(
                        "budget_changes", key, 0, f"platform budget {at_platform}, ledger's last {ours}"
                    )
                )
    return found


# ---------------------------------------------------------------- the demo and its world


@dataclass
class CliRun:
    round: int
    job: str
    tags: dict[str, str]
    exit_code: int | None
    seconds: float
    tail: str = ""


@dataclass
class Demo:
    """`scripts/run_sandbox.sh` in its own session (started here), or one already running (attached)."""

    state_dir: Path
    sandbox_port: int
    dashboard_port: int
    dagster_port: int
    token: str
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def dagster_url(self) -> str:
        return f"http://127.0.0.1:{self.dagster_port}"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.state_dir / '.data' / 'store.db'}"

    def env(self) -> dict[str, str]:
        """The README's second terminal: `.env.sandbox`, the demo's files, DAGSTER_HOME=.dagster_home."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DAGSTER_", "STORE_", "DROPSHIP_", "SANDBOX_", "DASHBOARD_"))
        }
        for line in (REPO_ROOT / ".env.sandbox").read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.strip().startswith("#"):
                env[name.strip()] = value.replace("127.0.0.1:8710", f"127.0.0.1:{self.sandbox_port}")
        partitions_start = self.state_dir / ".sandbox" / "partitions_start"
        env |= {
            "SANDBOX_PORT": str(self.sandbox_port),
            "STORE_DATABASE_URL": self.store_url,
            "DROPSHIP_TOKEN_CACHE_DIR": str(self.state_dir / ".data" / "tokens"),
            "DROPSHIP_MEDIA_DIR": str(self.state_dir / ".data" / "media"),
            "DAGSTER_HOME": str(self.state_dir / ".dagster_home"),
            "WEBHOOK_BASE_URL": self.dashboard_url,
            "DROPSHIP_PARTITIONS_START": partitions_start.read_text().strip()
            if partitions_start.exists()
            else "",
        }
        return env

    def start(self, speed: float, timeout_s: float = 600.0) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DAGSTER_", "STORE_", "DROPSHIP_", "SANDBOX_", "DASHBOARD_"))
        }
        env |= {
            "DROPSHIP_SKIP_INSTALL": "1",
            "DROPSHIP_STATE_DIR": str(self.state_dir),
            "SANDBOX_PORT": str(self.sandbox_port),
            "DAGSTER_PORT": str(self.dagster_port),
            "DASHBOARD_PORT": str(self.dashboard_port),
            "SANDBOX_SPEED": str(speed),
            "DASHBOARD_TOKEN": self.token,
        }
        # A session of its own: every process the script starts (each service's group) is found by it.
        self.process = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts/run_sandbox.sh")],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: [self.output.append(line) for line in stdout], daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while not any(BANNER in line for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                logs = self.state_dir / "artifacts" / "logs"
                raise RuntimeError(f"the demo did not come up (see {logs}):\n" + "".join(self.output[-30:]))
            time.sleep(1)

    def stop(self) -> list[int]:
        """SIGTERM to the script (its trap stops every service group), then SIGKILL to whatever of its
        session is left; returns the pids that had to be killed."""
        if self.process is None:
            return []
        session = self.process.pid
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(60)
        left = sorted(in_session(session))
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        return left


def in_session(session: int) -> set[int]:
    """Live processes of a session (the script, its services, their children)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, _pgrp, sid = stat.rsplit(")", 1)[1].split()[:4]
        if int(sid) == session and state != "Z":
            members.add(int(entry.name))
    return members


class Dashboard:
    """The dashboard's own HTTP API, as the operator's browser reads it (bearer token)."""

    def __init__(self, base_url: str, token: str, client: httpx.Client | None = None) -> None:
        # `client`: any httpx client already pointed at the dashboard (a TestClient in the tests).
        self.client = client or httpx.Client(base_url=base_url, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers)
        response.raise_for_status()
        return response.json()

    def all_items(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, limit=500, offset=len(items))
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items

    def snapshot(self) -> dict[str, Any]:
        return {
            "kpis": self.get("/api/metrics/kpis"),
            "daily": self.get("/api/metrics/daily"),
            "ad_performance": self.all_items("/api/metrics/ad-performance"),
            "campaigns": self.all_items("/api/ads/campaigns"),
        }


def partition_days(env: dict[str, str], sim_today: date) -> tuple[str, str]:
    """The README's partition tags need a day that exists: the world's yesterday, within the partitions
    (from DROPSHIP_PARTITIONS_START to the real today, which Dagster fixes at load)."""
    real_today = datetime.now(UTC).date()
    first = _day(env.get("DROPSHIP_PARTITIONS_START") or None) or real_today - timedelta(days=7)
    day = min(max(sim_today - timedelta(days=1), first), real_today)
    return first.isoformat(), day.isoformat()


def cli_commands(first: str, day: str) -> list[tuple[str, dict[str, str]]]:
    commands: list[tuple[str, dict[str, str]]] = [(job, {}) for job in README_JOBS]
    for job in PARTITIONED_JOBS:
        commands.append((job, {"dagster/partition": day}))
    for job in PARTITIONED_JOBS:
        commands.append(
            (job, {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": day})
        )
    return commands


def run_cli(job: str, tags: dict[str, str], env: dict[str, str], round_no: int, timeout_s: float) -> CliRun:
    """One README command as written: `uv run dagster job execute -m dropship_pipelines.definitions -j`."""
    args = ["uv", "run", "dagster", "job", "execute", "-m", "dropship_pipelines.definitions", "-j", job]
    if tags:
        args += ["--tags", json.dumps(tags)]
    started = time.monotonic()
    try:
        done = subprocess.run(
            args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        code: int | None = done.returncode
        tail = "" if code == 0 else (done.stdout + done.stderr)[-1500:]
    except subprocess.TimeoutExpired as exc:
        code, tail = None, f"timed out after {timeout_s:.0f} s: {str(exc.stderr or '')[-1000:]}"
    return CliRun(round_no, job, tags, code, round(time.monotonic() - started, 1), tail)


class CliRounds:
    """One round of the README's commands per check, in a thread beside the checks (a round still going
    when the next check comes is left to finish; the next round starts after it)."""

    def __init__(self, demo: Demo, concurrency: int, timeout_s: float) -> None:
        self.demo, self.concurrency, self.timeout_s = demo, concurrency, timeout_s
        self.runs: list[CliRun] = []
        self.rounds = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_round(self, sim_today: date) -> bool:
        if self.busy() or self._stop.is_set():
            return False
        self.rounds += 1
        self._thread = threading.Thread(target=self._round, args=(self.rounds, sim_today), daemon=True)
        self._thread.start()
        return True

    def _round(self, round_no: int, sim_today: date) -> None:
        env = self.demo.env()
        commands = cli_commands(*partition_days(env, sim_today))
        lock = threading.Lock()

        def worker() -> None:
            while not self._stop.is_set():
                with lock:
                    if not commands:
                        return
                    job, tags = commands.pop(0)
                result = run_cli(job, tags, env, round_no, self.timeout_s)
                with lock:
                    self.runs.append(result)

        workers = [threading.Thread(target=worker, daemon=True) for _ in range(self.concurrency)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def finish(self, timeout_s: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)


def sim_today(sandbox_url: str) -> date:
    clock = httpx.get(f"{sandbox_url}/_sandbox/clock", timeout=30).json()
    return datetime.fromisoformat(clock["sim_now"]).date()


def check_once(
    dashboard: Dashboard,
    index: int,
    retries: int,
    retry_wait_s: float,
    pending: dict[str, int],
    final: bool,
    in_flight: Callable[[], bool] | None = None,
) -> tuple[CheckResult, set[str]]:
    attempts: list[list[Disagreement]] = []
    snapshot: dict[str, Any] = {}
    for attempt in range(retries):
        snapshot = dashboard.snapshot()
        found = compare_snapshot(
            snapshot["kpis"], snapshot["daily"], snapshot["ad_performance"], snapshot["campaigns"]
        )
        attempts.append(found)
        if not found:
            break
        if attempt < retries - 1:
            time.sleep(retry_wait_s)
    refreshing = bool(attempts[-1]) and in_flight is not None and in_flight()
    agreed, failures, new_pending = judge(attempts, pending, final, refreshing)
    cards = {
        c["period"]: {k: c.get(k) for k in ("sales", "orders", "ad_spend", "profit", "computed_at")}
        for c in snapshot.get("kpis", {}).get("periods", [])
    }
    result = CheckResult(
        index,
        datetime.now(UTC).isoformat(timespec="seconds"),
        len(attempts),
        agreed,
        [asdict(d) for d in attempts[-1]] if attempts else [],
        failures,
        cards={"all_time": cards.get("all_time"), "daily_days": len(snapshot.get("daily", []))},
    )
    if final and not cards.get("all_time"):
        # An agreement with no KPI snapshot at all proves nothing: the demo never computed its numbers.
        result.failures.append("no KPI snapshot at the end of the demo: nothing was checked")
    return result, new_pending


def adset_budgets(world_path: Path) -> dict[str, Any]:
    import sqlite3

    conn = sqlite3.connect(f"file:{world_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT kind, id, body FROM docs WHERE kind IN ('meta_adset', 'tiktok_adset')"
        ).fetchall()
    finally:
        conn.close()
    return {f"{kind.split('_')[0]}:{doc_id}": json.loads(body).get("budget") for kind, doc_id, body in rows}


def ledger_ads(store_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            actions = [dict(r._mapping) for r in conn.execute(sa.select(ad_actions))]
            campaigns = [dict(r._mapping) for r in conn.execute(sa.select(ad_campaigns))]
    finally:
        engine.dispose()
    return actions, campaigns


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


@dataclass
class Report:
    command: str
    started_at: str
    minutes: float
    state_dir: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    cli_runs: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    load: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leftover_processes_killed: list[int] = field(default_factory=list)
    errors_retried: list[str] = field(default_factory=list)  # a start that failed and was retried

    def failures(self) -> list[str]:
        found = [f for c in self.checks for f in c["failures"]]
        found += [f"check {c['index']}: {c['error']}" for c in self.checks if c.get("error")]
        found += [f"duplicate {d['kind']} {d['key']}: {d['detail']}" for d in self.duplicates]
        found += [
            f"CLI {r['job']} {r['tags'] or ''} exit {r['exit_code']}"
            for r in self.cli_runs
            if r["exit_code"] != 0
        ]
        found += self.errors
        return found

    def summary(self) -> dict[str, Any]:
        return {
            "passed": not self.failures(),
            "checks": len(self.checks),
            "checks_agreed": sum(1 for c in self.checks if c["agreed"]),
            "checks_failed": sum(1 for c in self.checks if c["failures"] or c.get("error")),
            "cli_runs": len(self.cli_runs),
            "cli_runs_failed": sum(1 for r in self.cli_runs if r["exit_code"] != 0),
            "duplicates": len(self.duplicates),
            "failures": self.failures(),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        summary = self.summary()
        body = {"passed": summary["passed"], "summary": summary, **asdict(self)}
        path.write_text(json.dumps(body, indent=2, default=str))


def final_duplicates(demo: Demo) -> tuple[list[Duplicate], dict[str, Any]]:
    """After the demo stopped: the sandbox's counts, the store's refunds, the budgets and the soak's
    world-against-ledger audit, every kind of duplicate in one list."""
    world_path = demo.state_dir / ".sandbox" / "world.db"
    world, ledger = World.read(world_path), Ledger.read(demo.store_url)
    found = sandbox_duplicates(world.audit) + refund_duplicates(world.orders)
    actions, campaigns = ledger_ads(demo.store_url)
    found += budget_duplicates(actions, campaigns, adset_budgets(world_path))
    result = audit(world, ledger)
    seen = {(d.kind, d.key) for d in found}
    for finding in result.findings:
        if finding.kind == "duplicated" and (finding.area, finding.key) not in seen:
            found.append(Duplicate(finding.area, finding.key, 0, finding.detail))
    return found, audit_summary(result, world.audit)


def audit_summary(result: AuditResult, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The world-against-ledger audit's figures for the report (JSON-safe)."""
    return {
        "orders": result.orders,
        "support": result.support,
        "listings": result.listings,
        "campaigns": result.campaigns,
        "side_effect_duplicates": result.side_effect_duplicates,
        "sandbox_totals": {k: sum(v.values()) for k, v in counts.items()},
        # A plain dict: asdict() rebuilds a Counter from its (key, count) pairs, counting the pairs.
        "not_duplicates": dict(Counter(f.kind for f in result.findings if f.kind != "duplicated")),
    }


def run(args: argparse.Namespace) -> Report:
    report = Report(
        " ".join(sys.argv), datetime.now(UTC).isoformat(timespec="seconds"), args.minutes, str(args.state_dir)
    )
    demo = Demo(
        args.state_dir.resolve(), args.sandbox_port, args.dashboard_port, args.dagster_port, args.token
    )
    started_here = not args.attach
    try:
        if started_here:
            print(f"starting the demo in {demo.state_dir} (dagster :{demo.dagster_port})", flush=True)
            try:
                demo.start(args.speed)
            except RuntimeError as exc:
                # run_sandbox.sh gives each service a minute to answer; on a loaded machine `dagster dev`
                # can take longer. Its stop ended everything, so the same world starts once more.
                report.errors_retried = [str(exc)[-500:]]
                print(f"the demo did not come up, starting it again: {str(exc)[-200:]}", flush=True)
                demo.process, demo.output = None, []
                demo.start(args.speed)
        dashboard = Dashboard(demo.dashboard_url, demo.token)
        cli = CliRounds(demo, args.concurrency, args.cli_timeout)
        pending: dict[str, int] = {}
        dagster = DagsterApi(demo.dagster_url)

        def in_flight() -> bool:
            try:
                return refresh_in_flight(dagster.runs(IN_PROGRESS, limit=500))
            except (httpx.HTTPError, RuntimeError):
                return False  # unknown: judged as if nothing would refresh the snapshot

        end = time.monotonic() + args.minutes * 60
        index = 0
        while time.monotonic() < end:
            next_at = time.monotonic() + args.check_every
            index += 1
            with contextlib.suppress(httpx.HTTPError):
                cli.start_round(sim_today(demo.sandbox_url))
            try:
                result, pending = check_once(
                    dashboard, index, args.retries, args.retry_wait, pending, False, in_flight
                )
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                result = CheckResult(index, datetime.now(UTC).isoformat(), 0, False, error=repr(exc))
            report.checks.append(asdict(result))
            report.load.append({"at": result.at, "load": load_average()})
            report.cli_runs = [asdict(r) for r in cli.runs]
            print(
                f"check {index}: {'agreed' if result.agreed else result.disagreements} "
                f"{result.failures or ''} cli runs {len(cli.runs)} load {load_average()}",
                flush=True,
            )
            report.write(args.json)
            time.sleep(max(0.0, min(next_at, end) - time.monotonic()))
        # Settle: the CLI round ends, the world's clock stops (only a demo started here), runs finish.
        cli.finish(args.cli_timeout * 2)
        report.cli_runs = [asdict(r) for r in cli.runs]
        settled = False
        if started_here:
            httpx.post(f"{demo.sandbox_url}/_sandbox/clock", json={"speed": 0}, timeout=30)
            settled = dagster.wait_idle(args.settle_timeout)
            if not settled:
                report.errors.append("runs still in progress after the settle timeout")
        # Judged as final only once nothing runs: otherwise as any other check.
        result, pending = check_once(
            dashboard, index + 1, args.retries, args.retry_wait, pending, settled, in_flight
        )
        report.checks.append(asdict(result))
        print(f"final check: {'agreed' if result.agreed else result.disagreements}", flush=True)
    except Exception as exc:  # the report says why, and the demo is stopped anyway
        report.errors.append(f"aborted: {type(exc).__name__}: {exc}")
    finally:
        if started_here:
            report.leftover_processes_killed = demo.stop()
    if started_here:
        try:
            duplicates, summary = final_duplicates(demo)
            report.duplicates = [asdict(d) for d in duplicates]
            report.audit = summary
        except Exception as exc:
            report.errors.append(f"audit failed: {type(exc).__name__}: {exc}")
    else:
        counts = httpx.get(f"{demo.sandbox_url}/_sandbox/audit", timeout=60).json()
        report.duplicates = [asdict(d) for d in sandbox_duplicates(counts)]
        report.audit = {"sandbox_totals": {k: sum(v.values()) for k, v in counts.items()}}
    report.load.append({"at": datetime.now(UTC).isoformat(timespec="seconds"), "load": load_average()})
    report.write(args.json)
    return report


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the demo with the README's CLI beside it and audit it.")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--check-every", type=float, default=120.0, help="seconds between checks")
    parser.add_argument("--json", type=Path, default=Path("artifacts/demo-audit.json"))
    parser.add_argument("--attach", action="store_true", help="audit a demo already running (its ports)")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="the demo's DROPSHIP_STATE_DIR (default: a new one)"
    )
    parser.add_argument("--speed", type=float, default=120.0, help="SANDBOX_SPEED of a demo started here")
    parser.add_argument("--sandbox-port", type=int, default=None)
    parser.add_argument("--dashboard-port", type=int, default=None)
    parser.add_argument("--dagster-port", type=int, default=None)
    parser.add_argument("--token", default=os.environ.get("DASHBOARD_TOKEN"))
    parser.add_argument("--retries", type=int, default=6, help="snapshots per check before it disagrees")
    parser.add_argument("--retry-wait", type=float, default=15.0, help="seconds between them")
    parser.add_argument("--concurrency", type=int, default=2, help="CLI commands at once in a round")
    parser.add_argument("--cli-timeout", type=float, default=600.0)
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.attach:
        # The README's demo: its ports and checkout state unless told otherwise, its printed token.
        args.state_dir = args.state_dir or REPO_ROOT
        args.sandbox_port = args.sandbox_port or 8710
        args.dashboard_port = args.dashboard_port or 8720
        args.dagster_port = args.dagster_port or 3000
        if not args.token:
            parser.error("--attach needs --token (or DASHBOARD_TOKEN): the one run_sandbox.sh printed")
    else:
        # A new world each time, on free ports: a demo already running on this machine is left alone.
        args.state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="demo-audit-"))
        args.sandbox_port = args.sandbox_port or free_port()
        args.dashboard_port = args.dashboard_port or free_port()
        args.dagster_port = args.dagster_port or free_port()
        args.token = args.token or "demo-audit-" + os.urandom(12).hex()
    if args.minutes <= 0 or args.check_every <= 0 or args.retries < 1:
        parser.error("--minutes and --check-every must be positive, --retries at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # SIGTERM ends the audit like Ctrl-C does, so the demo it started is stopped, not orphaned.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    report = run(args)
    summary = report.summary()
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}))
    for failure in summary["failures"]:
        print(f"FAIL: {failure}")
    print(f"DEMO AUDIT {'PASSED' if summary['passed'] else 'FAILED'}; report in {args.json}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
