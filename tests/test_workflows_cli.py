"""Every workflow's job through `dagster job execute` (what CI and operators run), on a Dagster instance
stored in PostgreSQL (dagster-postgres) and a store database on PostgreSQL, against the sandbox.

One story, in the order a store lives it: list products -> customers order -> orders go to the supplier
-> a day passes (supplier ships, customers write) -> tracking posted, messages answered -> ads launched
-> analytics computed. Each step is checked against the sandbox's ground truth, not the pipeline's word.

The commands are the README's own (its "From the command line" block), parsed out of it: every job the
Definitions hold is run as the README writes it, the partitioned ones with their `--tags`. Only the
days in those tags become the test world's days, `-c` lowers two jobs' limits (fewer listings, smaller
videos), and DAGSTER_HOME is the test's PostgreSQL-backed instance.
"""

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from dropship_pipelines.definitions import defs
from dropship_pipelines.store.database import get_engine
from dropship_sandbox.world import DEFAULT_SIM_START
from dropship_testkit.databases import fresh_postgres_url
from dropship_testkit.sandbox_server import RunningSandbox
from dropship_testkit.sandbox_world import customers_write

DAGSTER = str(Path(sys.executable).parent / "dagster")
README = Path(__file__).parents[1] / "README.md"
ONE_DAY = "dagster/partition"
RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def readme_commands() -> list[list[str]]:
    """Each `uv run dagster job execute ...` line of the README's command-line block, as argv."""
    block = README.read_text().split("### From the command line", 1)[1].split("```bash", 1)[1]
    block = block.split("```", 1)[0]
    return [shlex.split(line) for line in block.splitlines() if line.startswith("uv run dagster job execute")]


def job_of(argv: list[str]) -> str:
    return argv[argv.index("-j") + 1]


def tags_of(argv: list[str]) -> dict[str, str]:
    return json.loads(argv[argv.index("--tags") + 1]) if "--tags" in argv else {}


RUN_CONFIG: dict[str, dict] = {
    "product_discovery_job": {
        "ops": {
            "product_candidates": {"config": {"detail_lookups_per_run": 12}},
            "product_copy": {"config": {"max_generations_per_run": 4}},
            "store_listings": {"config": {"max_listings_per_run": 4}},
        }
    },
    "ad_launch_job": {
        "ops": {"ad_creatives": {"config": {"width": 360, "height": 640, "duration_s": 10, "max_per_run": 2}}}
    },
}


@pytest.fixture
def dagster_home(tmp_path: Path) -> Iterator[Path]:
    with fresh_postgres_url() as url:
        home = tmp_path / "dagster_home"
        home.mkdir()
        instance = {
            "storage": {"postgres": {"postgres_url": url}},
            "telemetry": {"enabled": False},
        }
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
        yield home


def execute(
    argv: list[str], env: dict[str, str], home: Path, tmp_path: Path, days: dict[str, date] | None = None
) -> None:
    """One README command: `uv run dagster` is this venv's dagster; `days` gives each partition tag the
    test world's day."""
    assert argv[:3] == ["uv", "run", "dagster"], argv
    command = [DAGSTER, *argv[3:]]
    job = job_of(argv)
    if "--tags" in command:
        at = command.index("--tags") + 1
        tags = json.loads(command[at])
        assert days is not None and set(tags) <= {ONE_DAY, *RANGE}, tags
        command[at] = json.dumps({key: days[key].isoformat() for key in tags})
    if job in RUN_CONFIG:
        config = tmp_path / f"{job}.yaml"
        config.write_text(yaml.safe_dump(RUN_CONFIG[job]))
        command += ["-c", str(config)]
    done = subprocess.run(
        command,
        env={**os.environ, **env, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{shlex.join(argv)} failed:\n{done.stderr[-4000:]}"
    assert "RUN_SUCCESS" in done.stderr + done.stdout, f"{job} did not succeed:\n{done.stderr[-4000:]}"


def count(store_url: str, table: str) -> int:
    with get_engine(store_url).connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())


def test_the_readme_runs_every_job() -> None:
    jobs = {job.name for job in defs.get_repository_def().get_all_jobs() if not job.name.startswith("__")}
    commands = readme_commands()
    assert {job_of(argv) for argv in commands} == jobs
    partitioned = {job_of(argv) for argv in commands if "--tags" in argv}
    assert partitioned == {"ad_metrics_job", "analytics_daily_job"}
    # Each partitioned job is documented for one day and for a range of days.
    for job in partitioned:
        tagged = {frozenset(tags_of(argv)) for argv in commands if job_of(argv) == job}
        assert tagged == {frozenset({ONE_DAY}), frozenset(RANGE)}


@pytest.mark.system
@pytest.mark.timeout(900)  # eleven `dagster job execute` processes, ~10-25 s each on two shared cores
def test_every_workflow_runs_from_the_cli_on_postgres(
    sandbox: RunningSandbox, dagster_home: Path, postgres_url: str, tmp_path: Path
) -> None:
    env = sandbox.env(postgres_url, tmp_path / "tokens")
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    commands = readme_commands()

    def run(job: str, days: dict[str, date] | None = None) -> None:
        """The README's command for `job` with these partition tags (none: its plain command)."""
        [argv] = [a for a in commands if job_of(a) == job and set(tags_of(a)) == set(days or ())]
        execute(argv, env, dagster_home, tmp_path, days)

    run("product_discovery_job")
    listed = sandbox.audit().get("listings_created", {})
    assert len(listed) == 4 and all(n == 1 for n in listed.values()), listed

    orders = sandbox.control("POST", "/orders", {"count": 6})["orders"]
    sendable = {"shopify-" + o["name"].lstrip("#") for o in orders if o["defect"] is None}
    run("order_fulfillment_job")
    assert set(sandbox.audit().get("supplier_orders_created", {})) == sendable

    customers_write(sandbox.world, daily_rate=1.0, days=6)  # the supplier ships; customers write
    run("order_fulfillment_job")
    assert sandbox.audit().get("fulfillments_created"), "no tracking posted to the store"

    run("customer_service_job")
    assert count(postgres_url, "support_replies") > 0

    run("ad_launch_job")
    assert count(postgres_url, "ad_creatives") >= 2
    assert count(postgres_url, "ad_campaigns") >= 2

    first_day = DEFAULT_SIM_START.date()  # the orders were placed on the sandbox's first day
    today = sandbox.world.now().date()
    days = dict(zip(RANGE, (first_day, today), strict=True))
    run("ad_metrics_job", {ONE_DAY: today})
    run("ad_metrics_job", days)
    run("ad_optimization_job")
    run("analytics_daily_job", {ONE_DAY: first_day})
    assert count(postgres_url, "analytics_daily_sales") == 1
    run("analytics_daily_job", days)
    run("analytics_job")
    assert count(postgres_url, "analytics_kpis") > 0
