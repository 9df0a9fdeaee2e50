"""The header's system-health light: green, amber or red, and the causes its tooltip lists.

Red: an asset check failing at ERROR severity, or a run that failed within the window. Amber: a check
failing at WARN, runs piling up in the queue, API faults the ledger recorded within the window (a
listing, supplier order, fulfillment or campaign left failed with the remote service's error), or a
Dagster instance the dashboard cannot reach (its state is then unknown). Green otherwise.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dashboard.api.runs import InstanceHealth
from dashboard.api.store import bind_time
from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import fulfillments, supplier_orders

WINDOW = timedelta(hours=1)
QUEUE_BACKLOG = 5  # more queued runs than this and the daemon is not keeping up
# The ledger rows a workflow leaves 'failed' with the remote service's error, and their label.
FAULT_TABLES: tuple[tuple[sa.Table, str], ...] = (
    (listings, "listings"),
    (supplier_orders, "supplier orders"),
    (fulfillments, "fulfillments"),
    (ad_campaigns, "ad campaigns"),
)


def recent_faults(conn: Connection, since: datetime) -> list[str]:
    causes = []
    for table, label in FAULT_TABLES:
        if "updated_at" not in table.c or ("state" not in table.c and "status" not in table.c):
            continue
        state = table.c.state if "state" in table.c else table.c.status
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(state == "failed", table.c.updated_at >= bind_time(conn, since))
        ).scalar_one()
        if count:
            causes.append(f"{count} {label} failed at the remote service in the last hour")
    return causes


def system_health(
    conn: Connection, instance: InstanceHealth | None, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    red: list[str] = []
    amber: list[str] = []
    if instance is None:
        amber.append("no Dagster instance configured: runs and checks unknown")
    elif not instance.reachable:
        amber.append(f"Dagster webserver not reachable ({instance.error}): runs and checks unknown")
    else:
        for check, severity in instance.failing_checks:
            (red if severity == "ERROR" else amber).append(f"asset check failing: {check}")
        if instance.failed_runs:
            jobs = ", ".join(sorted(set(instance.failed_runs)))
            red.append(f"{len(instance.failed_runs)} run(s) failed in the last hour: {jobs}")
        if len(instance.queued_runs) > QUEUE_BACKLOG:
            amber.append(f"{len(instance.queued_runs)} runs queued")
    amber.extend(recent_faults(conn, now - WINDOW))
    state = "red" if red else "amber" if amber else "green"
    return {"state": state, "causes": red + amber, "checked_at": now}
