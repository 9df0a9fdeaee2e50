"""The customer-service workflow: its assets, checks, job, 3-minute schedule and new-message sensor."""

import dagster as dg

from dropship_pipelines.assets.support import assets, checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import SUPPORT_CRON
from dropship_pipelines.sensors.support import build_new_message_sensor

customer_service_job = dg.define_asset_job(
    "customer_service_job",
    selection=dg.AssetSelection.groups(assets.GROUP),
    executor_def=dg.in_process_executor,  # small frequent runs: the floor is process start-up
    tags={WORKFLOW_TAG: "support"},  # one support run at a time (tag concurrency in dagster.yaml)
    description="Read new customer messages, answer them from their order's facts, or escalate.",
)

every_three_minutes = dg.ScheduleDefinition(
    name="customer_service_every_3_minutes",
    job=customer_service_job,
    cron_schedule=SUPPORT_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 3 minutes: the floor under the new-message sensor.",
)

new_customer_messages = build_new_message_sensor(customer_service_job)

support_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[customer_service_job],
    schedules=[every_three_minutes],
    sensors=[new_customer_messages],
)
