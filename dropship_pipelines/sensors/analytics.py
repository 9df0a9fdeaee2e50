"""Ledger changed -> recompute the days it changed: a sensor on the order ledger's `updated_at`.

The automation conditions on the daily assets only look at recent days of the wall clock; orders can be
back-dated (imports, the sandbox's accelerated clock) and costs arrive late, so the days to recompute are
read from the ledger itself.
"""

from datetime import datetime
from typing import Any

import dagster as dg

from dropship_pipelines.cadence import LEDGER_CHANGE_SENSOR_SECONDS, ORDER_DAYS
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors.run_queue import waiting_runs
from dropship_pipelines.store import analytics_queries as q


def waiting_days(context: dg.SensorEvaluationContext, job_name: str) -> set[str | None]:
    """The partitions of the job's runs that have not read the ledger yet."""
    return {run.tags.get("dagster/partition") for run in waiting_runs(context, job_name)}


def build_ledger_days_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="analytics_on_ledger_change",
        job=job,
        minimum_interval_seconds=LEDGER_CHANGE_SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Recomputes daily sales and profit for each order day whose orders changed.",
    )
    def analytics_on_ledger_change(context: dg.SensorEvaluationContext, store_db: StoreDatabase):
        since = datetime.fromisoformat(context.cursor) if context.cursor else None
        with store_db.engine().connect() as conn:
            changed = q.order_days_changed_since(conn, since)
        if not changed:
            return dg.SkipReason(f"no order changed since {context.cursor or 'the start'}")
        last_day = ORDER_DAYS.get_last_partition_key()
        future = sorted(day for day in changed if last_day is None or day.isoformat() > last_day)
        if future:
            # Orders dated after the last partition (a clock ahead of ours): the daily automation condition
            # computes those days once they exist.
            context.log.warning(f"orders dated after the last daily partition {last_day}: {future}")
        # `>=` re-reads rows stamped in the cursor's own second (SQLite keeps whole seconds); a day's run
        # key is its newest change, so re-reading an unchanged day requests nothing new.
        context.update_cursor(max(changed.values()).isoformat())
        # A day whose run still waits in the queue reads the ledger when it starts, so it sees this change
        # too: another run of that day would only queue behind it (a loaded demo queued seven runs of one
        # day, and the KPI snapshot waited behind all of them).
        waiting = waiting_days(context, job.name)
        return [
            dg.RunRequest(
                run_key=f"analytics-{day.isoformat()}-{newest.isoformat()}",
                partition_key=day.isoformat(),
                tags={"dropship/trigger": "ledger_change"},
            )
            for day, newest in sorted(changed.items())
            if day not in future and day.isoformat() not in waiting
        ]

    return analytics_on_ledger_change
