"""Every cadence of the system, named once: the schedules' crons, the sensors' intervals, the partitions
and the automation conditions. "Change a schedule" means changing a constant here.

Workflows build their `ScheduleDefinition`s, sensors and partitioned assets from these names; nothing
else in the code base spells a cron string or a partition start.
"""

from datetime import timedelta

import dagster as dg

from dropship_pipelines.settings import partitions_start

# --- time triggers (cron, in the Dagster instance's time zone) ---------------------------------------
DISCOVERY_CRON = "0 * * * *"  # hourly, on the hour
FULFILLMENT_CRON = "*/5 * * * *"  # the floor under the new-order sensor and webhooks; polls shipping
SUPPORT_CRON = "*/3 * * * *"  # the floor under the new-message sensor
AD_OPTIMIZATION_CRON = "0 */6 * * *"  # judge every live campaign on its measured return
AD_METRICS_CRON = "45 * * * *"  # hourly, before the optimisation: conversions arrive late
AD_LAUNCH_CATCH_UP_CRON = "30 */6 * * *"  # retry launches that failed transiently
ANALYTICS_NIGHTLY_CRON = "15 0 * * *"  # close the previous day
SNAPSHOT_AUDIT_CRON = "*/15 * * * *"  # the snapshots' follow checks, also when the snapshot did not run

# --- event triggers (how often a sensor looks) --------------------------------------------------------
# Dagster's sensor daemon looks at its sensors every 5 s (a constant of its loop, not configurable in
# 1.13), so a sensor of 3 s ticks on every one of those looks: every 5 s (bench_daemon's tick spacing).
NEW_ORDER_SENSOR_SECONDS = 3  # reads the ledger's webhook events only: cheap, and the order waits on it
NEW_ORDER_POLL_SECONDS = 30  # inside that sensor: how often the store itself is asked for a newer order
SUPPLIER_EVENT_SENSOR_SECONDS = 3  # reads the ledger's supplier webhook messages only; a price waits on it
NEW_MESSAGE_SENSOR_SECONDS = 30
NEW_LISTING_SENSOR_SECONDS = 60
WEAK_ADS_SENSOR_SECONDS = 60
AD_ORDERS_SENSOR_SECONDS = 60  # ad orders' purchase events to the platforms
LEDGER_CHANGE_SENSOR_SECONDS = 60
AUTOMATION_SENSOR_SECONDS = 60
ALERT_SENSOR_SECONDS = 30
WEBHOOK_CHECK_SENSOR_SECONDS = 60  # reads the ledger only; asks for a check at start and when one is due
WEBHOOK_RECHECK = timedelta(hours=1)  # how old the last look at the webhook subscriptions may be

# --- partitions -----------------------------------------------------------------------------------------
# Both start on the store's first day of trading when DROPSHIP_PARTITIONS_START says it (a new store then
# shows its own days, not months of "missing" ones), else on DEFAULT_PARTITIONS_START: the month this
# release ships, so a store that never set it shows weeks, not hundreds, of missing days. It is a fixed
# date, not one computed from the clock or the ledger when the code loads: Dagster's partitions are fixed
# at load, and a start that moved would make processes started on different days disagree on the
# partition set and drop the days before it from the UI and from backfills.
DEFAULT_PARTITIONS_START = "2026-11-01"
# Dated analytics: one partition per order day; today's partition is open (end_offset=1).
ORDER_DAYS = dg.DailyPartitionsDefinition(start_date=partitions_start(DEFAULT_PARTITIONS_START), end_offset=1)
# Ad reporting days are the platforms' days: the store's first day is also the first it could run ads.
AD_REPORT_DAYS = dg.DailyPartitionsDefinition(
    start_date=partitions_start(DEFAULT_PARTITIONS_START), end_offset=1
)

# --- automation conditions ------------------------------------------------------------------------------
LATE_CHANGE_DAYS = 3  # how far back an order's costs or state still change (supplier handling time)

DAILY_ON_LEDGER_CHANGE = (
    dg.AutomationCondition.in_latest_time_window(lookback_delta=timedelta(days=LATE_CHANGE_DAYS))
    & (
        dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
    ).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("recent days, after the ledger changed") | dg.AutomationCondition.on_cron(ANALYTICS_NIGHTLY_CRON)

# Not `eager()`: it waits while any dep partition is missing, and the daily tables always miss the days
# without orders, so the snapshots would never refresh. Nor "once nothing upstream is running": with
# orders arriving, some partition of the daily tables or some order run is always in progress, and the
# KPIs stopped refreshing while the daily tables kept changing. A refresh during an upstream run is
# followed by another once that run's update lands (the latch holds it while the snapshot itself runs).
SNAPSHOT_ON_CHANGE = (
    (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
    & ~dg.AutomationCondition.in_progress()
).with_label("after the ledger or the daily tables changed")

# The follow checks of the snapshots run with their snapshot, and on their own every quarter hour: a
# snapshot that stopped refreshing has no run of its own to fail in.
SNAPSHOT_AUDIT = (
    dg.AutomationCondition.cron_tick_passed(SNAPSHOT_AUDIT_CRON).since_last_handled()
    & ~dg.AutomationCondition.in_progress()
).with_label("every quarter hour")
