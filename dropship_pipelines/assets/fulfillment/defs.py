"""The fulfillment workflow: its assets, checks, job, five-minute schedule and new-order sensor."""

import dagster as dg

from dropship_pipelines.assets.fulfillment import assets, cancellations, checks, tracking_checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import FULFILLMENT_CRON
from dropship_pipelines.sensors.fulfillment import FULFILLMENT_JOB, new_store_orders
from dropship_pipelines.sensors.order_cancellations import store_cancellation_events

# At most one run at a time: dagster.yaml's run queue limits `dropship/workflow` to 1 per value.
order_fulfillment_job = dg.define_asset_job(
    FULFILLMENT_JOB,
    selection=dg.AssetSelection.groups(assets.GROUP),
    executor_def=dg.in_process_executor,  # small, frequent runs: the floor is process start-up
    tags={WORKFLOW_TAG: "fulfillment"},
    description="Read new store orders, place them at the supplier, post tracking back to the customer.",
)

five_minute_fulfillment = dg.ScheduleDefinition(
    name="five_minute_fulfillment",
    job=order_fulfillment_job,
    cron_schedule=FULFILLMENT_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every five minutes: catches what the sensor and webhooks missed, and polls shipping.",
)

fulfillment_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets, cancellations]),
    asset_checks=dg.load_asset_checks_from_modules([checks, tracking_checks]),
    jobs=[order_fulfillment_job],
    schedules=[five_minute_fulfillment],
    sensors=[new_store_orders, store_cancellation_events],
)
