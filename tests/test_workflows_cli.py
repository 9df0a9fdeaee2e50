"""Every workflow's job through `dagster job execute` (what CI and operators run), on a Dagster instance
stored in PostgreSQL (dagster-postgres) and a store database on PostgreSQL, against the sandbox.

One story, in the order a store lives it: list products -> customers order -> orders go to the supplier
-> a day passes (supplier ships, customers write) -> tracking posted, messages answered -> ads launched
-> analytics computed. Each step is checked against the sandbox's ground truth, not the pipeline's word.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from dropship_pipelines.store.database import get_engine
from dropship_sandbox.world import DEFAULT_SIM_START
from dropship_testkit.databases import fresh_postgres_url
from dropship_testkit.sandbox_server import RunningSandbox
from dropship_testkit.sandbox_world import customers_write

DAGSTER = str(Path(sys.executable).parent / "dagster")

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


def execute(job: str, env: dict[str, str], home: Path, tmp_path: Path, partition: str | None = None) -> None:
    command = [DAGSTER, "job", "execute", "-m", "dropship_pipelines.definitions", "-j", job]
    if partition:
        command += ["--tags", json.dumps({"dagster/partition": partition})]
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
    assert done.returncode == 0, f"{job} failed:\n{done.stderr[-4000:]}"
    assert "RUN_SUCCESS" in done.stderr + done.stdout, f"{job} did not succeed:\n{done.stderr[-4000:]}"


def count(store_url: str, table: str) -> int:
    with get_engine(store_url).connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())


def test_every_workflow_runs_from_the_cli_on_postgres(
    sandbox: RunningSandbox, dagster_home: Path, postgres_url: str, tmp_path: Path
) -> None:
    env = sandbox.env(postgres_url, tmp_path / "tokens")
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})

    execute("product_discovery_job", env, dagster_home, tmp_path)
    listed = sandbox.audit().get("listings_created", {})
    assert len(listed) == 4 and all(n == 1 for n in listed.values()), listed

    orders = sandbox.control("POST", "/orders", {"count": 6})["orders"]
    sendable = {"shopify-" + o["name"].lstrip("#") for o in orders if o["defect"] is None}
    execute("order_fulfillment_job", env, dagster_home, tmp_path)
    assert set(sandbox.audit().get("supplier_orders_created", {})) == sendable

    customers_write(sandbox.world, daily_rate=1.0, days=6)  # the supplier ships; customers write
    execute("order_fulfillment_job", env, dagster_home, tmp_path)
    assert sandbox.audit().get("fulfillments_created"), "no tracking posted to the store"

    execute("customer_service_job", env, dagster_home, tmp_path)
    assert count(postgres_url, "support_replies") > 0

    execute("ad_launch_job", env, dagster_home, tmp_path)
    assert count(postgres_url, "ad_creatives") >= 2
    assert count(postgres_url, "ad_campaigns") >= 2

    first_day = DEFAULT_SIM_START.date().isoformat()  # the orders were placed on the sandbox's first day
    execute("analytics_daily_job", env, dagster_home, tmp_path, partition=first_day)
    assert count(postgres_url, "analytics_daily_sales") == 1
    execute("analytics_job", env, dagster_home, tmp_path)
    assert count(postgres_url, "analytics_kpis") > 0
