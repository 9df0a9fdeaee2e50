"""The ads workflows: launch (on new listings), daily metrics (backfillable) and 6-hourly optimisation."""

from datetime import date, timedelta

import dagster as dg

from dropship_pipelines.assets.ads import assets, checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import (
    AD_LAUNCH_CATCH_UP_CRON,
    AD_METRICS_CRON,
    AD_OPTIMIZATION_CRON,
    AD_REPORT_DAYS,
)
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource
from dropship_pipelines.rules.ad_rules import RESTATEMENT_DAYS
from dropship_pipelines.sensors.ads import (
    build_ad_orders_sensor,
    build_new_listing_sensor,
    build_weak_ads_sensor,
)

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
    selection=dg.AssetSelection.assets(assets.ad_purchase_events, assets.ad_optimizations),
    executor_def=dg.in_process_executor,
    tags=TAGS,
    description="Report ad orders' purchases to the platforms; pause campaigns under their product's "
    "breakeven ROAS, scale the ones well above it (20 % steps), resume re-published and wrongly killed ones.",
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
    description="Hourly, before the optimisation: re-pull the ad accounts' last 28 reporting days (their "
    "time zone, their clock), as the platforms restate conversions for that long.",
)
def ad_metrics_hourly(
    context: dg.ScheduleEvaluationContext, meta_ads: MetaAdsResource, tiktok_ads: TikTokAdsResource
):
    now = context.scheduled_execution_time
    keys = AD_REPORT_DAYS.get_partition_keys(current_time=now)
    if not keys:
        return dg.SkipReason("no reporting day yet")
    # Imported here: loading the code location (every `dagster job execute`) need not import the service.
    from dropship_pipelines.services import ads

    platform_day = ads.reporting_day([meta_ads, tiktok_ads])
    days = restated_days(platform_day, keys)
    if days is None:
        return dg.SkipReason(f"the ad accounts' day {platform_day} is before the first partition {keys[0]}")
    first, last = days
    # One run over the range (the asset's single-run backfill); the latest partition is open-ended, so
    # days the accounts report beyond this machine's date are pulled with it.
    yield dg.RunRequest(
        run_key=f"ad-metrics-{first}-{platform_day}-{now:%Y%m%dT%H}",
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )


def restated_days(platform_day: date, keys: list[str]) -> tuple[str, str] | None:
    """The partition range that covers the accounts' last `RESTATEMENT_DAYS` reporting days; None when
    the accounts' day is before the first partition (nothing to pull yet)."""
    if platform_day.isoformat() < keys[0]:
        return None
    last = min(platform_day.isoformat(), keys[-1])
    first = (platform_day - timedelta(days=RESTATEMENT_DAYS - 1)).isoformat()
    first = min(max(first, keys[0]), last)
    return first, last


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
    sensors=[
        build_new_listing_sensor(ad_launch_job),
        build_weak_ads_sensor(ad_optimization_job),
        build_ad_orders_sensor(ad_optimization_job),
    ],
)
