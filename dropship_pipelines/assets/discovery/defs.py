"""The discovery workflow: its assets, checks, job and hourly schedule."""

import dagster as dg

from dropship_pipelines.assets.discovery import assets, checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import DISCOVERY_CRON

product_discovery_job = dg.define_asset_job(
    "product_discovery_job",
    selection=dg.AssetSelection.groups(assets.GROUP),
    executor_def=dg.in_process_executor,  # a run's floor is process start-up; steps are sequential anyway
    tags={WORKFLOW_TAG: "discovery"},
    description="Pull the supplier catalog, pick and price candidates, write copy, list on the store.",
)

hourly_discovery = dg.ScheduleDefinition(
    name="hourly_product_discovery",
    job=product_discovery_job,
    cron_schedule=DISCOVERY_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, on the hour.",
)

discovery_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[product_discovery_job],
    schedules=[hourly_discovery],
)
