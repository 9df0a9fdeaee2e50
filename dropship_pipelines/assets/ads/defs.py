"""The ads workflows: launch (on new listings), daily metrics (backfillable) and 6-hourly optimisation."""

import dagster as dg

from dropship_pipelines.assets.ads import assets, checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import (
    AD_LAUNCH_CATCH_UP_CRON,
    AD_METRICS_CRON,
    AD_OPTIMIZATION_CRON,
    AD_REPORT_DAYS,
)
from dropship_pipelines.sensors.ads import build_new_listing_sensor, build_weak_ads_sensor

TAGS = {WORKFLOW_TAG: "ads"}  # one ads run at a time (tag concurrency in dagster.yaml)

ad_launch_job = dg.define_asset_job(
    "ad_launch_job",
    selection=dg.AssetSelection.assets(assets.ad_creatives, assets.ad_campaigns),
    executor_def=dg.in_process_executor,  # small runs: the floor is process start-up
    tags=TAGS,
    description="Write ad copy, render a video ad per new listing and launch it on Meta and TikTok.",
)

ad_metrics_job = dg.define_asset_job(
    "ad_metrics_job",
    selection=dg.AssetSelection.assets(assets.ad_metrics),
    executor_def=dg.in_process_executor,
    tags=TAGS,
    description="Pull each campaign's daily spend, clicks, purchases and revenue from both platforms.",
)

ad_optimization_job = dg.define_asset_job(
    "ad_optimization_job",
    selection=dg.AssetSelection.assets(assets.ad_optimizations),
    executor_def=dg.in_process_executor,
    tags=TAGS,
    description="Pause campaigns under the kill ROAS, scale the ones above the scale ROAS (capped).",
)

optimise_every_6_hours = dg.ScheduleDefinition(
    name="ad_optimization_every_6_hours",
    job=ad_optimization_job,
    cron_schedule=AD_OPTIMIZATION_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 6 hours: judge every live campaign on its measured return.",
)


@dg.schedule(
    name="ad_metrics_hourly",
    job=ad_metrics_job,
    cron_schedule=AD_METRICS_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly, before the optimisation: re-pull today and yesterday (conversions arrive late).",
)
def ad_metrics_hourly(context: dg.ScheduleEvaluationContext):
    now = context.scheduled_execution_time
    keys = AD_REPORT_DAYS.get_partition_keys(current_time=now)
    for key in keys[-2:]:
        yield dg.RunRequest(run_key=f"ad-metrics-{key}-{now:%Y%m%dT%H}", partition_key=key)


launch_catch_up = dg.ScheduleDefinition(
    name="ad_launch_catch_up",
    job=ad_launch_job,
    cron_schedule=AD_LAUNCH_CATCH_UP_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 6 hours: retry launches that failed transiently (new listings trigger the sensor).",
)

ads_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[ad_launch_job, ad_metrics_job, ad_optimization_job],
    schedules=[optimise_every_6_hours, ad_metrics_hourly, launch_catch_up],
    sensors=[build_new_listing_sensor(ad_launch_job), build_weak_ads_sensor(ad_optimization_job)],
)
