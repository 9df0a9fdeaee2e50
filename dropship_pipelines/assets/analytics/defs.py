"""The analytics workflow's wiring: its jobs, the sensor that evaluates its automation conditions, and the
ledger-change sensor."""

import dagster as dg

from dropship_pipelines.assets.analytics import assets, checks, profit_checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import AUTOMATION_SENSOR_SECONDS
from dropship_pipelines.sensors.analytics import build_ledger_days_sensor

analytics_job = dg.define_asset_job(
    "analytics_job",
    selection=dg.AssetSelection.groups(assets.GROUP) - dg.AssetSelection.assets(*assets.DAILY_ASSETS),
    executor_def=dg.in_process_executor,
    tags={WORKFLOW_TAG: "analytics"},
    description="Recompute the KPIs, top products and ad performance from the ledger (dashboard button).",
)

# Dated assets run per day (or per range, as one run, when backfilled from the UI): a job of its own,
# because a run of unpartitioned and daily assets together has no partition to give the daily ones.
analytics_daily_job = dg.define_asset_job(
    "analytics_daily_job",
    selection=dg.AssetSelection.assets(*assets.DAILY_ASSETS),
    executor_def=dg.in_process_executor,
    tags={WORKFLOW_TAG: "analytics"},
    description="Recompute sales and profit for the chosen days.",
)

# Dagster's default automation sensor starts stopped; the analytics must refresh without a click.
analytics_automation_sensor = dg.AutomationConditionSensorDefinition(
    "analytics_automation_sensor",
    target=dg.AssetSelection.groups(assets.GROUP),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_SENSOR_SECONDS,
    # Its runs are `__ASSET_JOB` runs; the tags say whose they are in the UI's run list and its filters.
    run_tags={WORKFLOW_TAG: "analytics", "dropship/trigger": "automation"},
    description="Recomputes the analytics after the ledger assets they read were materialized.",
)

analytics_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks, profit_checks]),
    jobs=[analytics_job, analytics_daily_job],
    sensors=[analytics_automation_sensor, build_ledger_days_sensor(analytics_daily_job)],
)
