"""The shape of the one `Definitions`, as a reviewed file: asset keys, groups, kinds, owners, checks, jobs,
schedules with their cron, sensors. A change to the graph then shows as a diff of
`tests/snapshots/definitions.json`; regenerate it with `DROPSHIP_UPDATE_SNAPSHOT=1 uv run pytest
tests/test_definitions_snapshot.py` and review the diff."""

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def definitions_shape(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "partitioned": node.partitions_def is not None,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "automation": node.automation_condition is not None,
        }
    checks = sorted(
        f"{check.asset_key.to_user_string()}:{check.name}{' (blocking)' if spec.blocking else ''}"
        for check, spec in ((c, graph.get_check_spec(c)) for c in graph.asset_check_keys)
    )
    repo = defs.get_repository_def()
    jobs = sorted(job.name for job in repo.get_all_jobs() if not job.name.startswith("__"))
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "default": s.default_status.value}
        for s in sorted(repo.schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        s.name: {"default": s.default_status.value} for s in sorted(repo.sensor_defs, key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": sorted(repo.get_top_level_resources()),
    }


def test_definitions_match_the_reviewed_snapshot() -> None:
    from dropship_pipelines.definitions import defs

    shape = definitions_shape(defs)
    rendered = json.dumps(shape, indent=2, sort_keys=True) + "\n"
    if os.environ.get("DROPSHIP_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(rendered)
    assert SNAPSHOT.exists(), "no snapshot yet: run with DROPSHIP_UPDATE_SNAPSHOT=1 and review it"
    assert json.loads(SNAPSHOT.read_text()) == shape, (
        "the Definitions changed: review, then regenerate tests/snapshots/definitions.json"
    )


def test_the_contract_names_are_there() -> None:
    """The groups and crons the project promises, whatever else changes."""
    from dropship_pipelines.definitions import defs

    shape = definitions_shape(defs)
    groups = {asset["group"] for asset in shape["assets"].values()}
    assert {"discovery", "fulfillment", "support", "ads", "analytics"} <= groups
    crons = {schedule["cron"] for schedule in shape["schedules"].values()}
    assert {"0 * * * *", "*/5 * * * *", "*/3 * * * *", "0 */6 * * *"} <= crons
