"""What the Dagster UI shows a new user: partitions that start on the store's own first day, automation
runs that say whose they are, and check metadata that states the figure checked against."""

import os
import subprocess
import sys

import dagster as dg

from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.definitions import defs


def partition_starts(env: dict[str, str]) -> list[str]:
    """The partitions' first days as a fresh process reads them (they are fixed when the code loads)."""
    code = (
        "from dropship_pipelines.cadence import ORDER_DAYS, AD_REPORT_DAYS;"
        "print(ORDER_DAYS.get_first_partition_key(), AD_REPORT_DAYS.get_first_partition_key())"
    )
    clean = {k: v for k, v in os.environ.items() if k != "DROPSHIP_PARTITIONS_START"}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_the_daily_partitions_start_on_the_configured_first_day() -> None:
    assert partition_starts({"DROPSHIP_PARTITIONS_START": "2026-11-26"}) == ["2026-11-26", "2026-11-26"]
    # The documented default: the release's month, so a new store shows weeks of days, not hundreds.
    assert partition_starts({}) == ["2026-11-01", "2026-11-01"]


def test_a_first_day_that_is_no_date_is_refused_by_name() -> None:
    code = "import dropship_pipelines.cadence"
    env = {**os.environ, "DROPSHIP_PARTITIONS_START": "26/11/2026"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "DROPSHIP_PARTITIONS_START='26/11/2026' is not a date" in done.stderr


def test_automation_runs_carry_their_workflow() -> None:
    sensor = defs.get_sensor_def("analytics_automation_sensor")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.run_tags[WORKFLOW_TAG] == "analytics"
