"""Event triggers of the ads workflow: a new listing gets its ad at once; weak ads are judged at once.

Weak ads: `ad_metrics` reports `below_kill_threshold`, the live campaigns that `rules.ad_rules.decide`
(the optimiser's own rule) would pause on the metrics just stored; the sensor reads that count.

New listings: a sensor with a cursor on `listings.listed_at`, not an `AutomationCondition` on
`store_listings`. `store_listings` is materialised every hour whether or not anything new was listed (and
when prices change), so an eager condition would start an ad launch run every hour for nothing; the
sensor starts one only when a listing newer than the cursor exists, says why it skipped otherwise, and
its run key makes the same batch of listings launch once.
"""

from typing import Any

import dagster as dg

from dropship_pipelines.cadence import NEW_LISTING_SENSOR_SECONDS, WEAK_ADS_SENSOR_SECONDS
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import ads_queries as q

AD_METRICS = dg.AssetKey("ad_metrics")


def build_new_listing_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_listings_get_ads",
        job=job,
        minimum_interval_seconds=NEW_LISTING_SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launches ad creation and campaigns when a product is listed after the last one seen.",
    )
    def new_listings_get_ads(context: dg.SensorEvaluationContext, store_db: StoreDatabase):
        seen = context.cursor or ""
        with store_db.engine().connect() as conn:
            newest = q.newest_listing_time(conn)
        if newest is None:
            return dg.SkipReason("nothing is listed on the store yet")
        stamp = newest.isoformat() if hasattr(newest, "isoformat") else str(newest)
        if seen and stamp <= seen:
            return dg.SkipReason(f"no product listed after {seen}")
        context.update_cursor(stamp)
        return dg.RunRequest(run_key=f"ads-for-listings-{stamp}", tags={"dropship/trigger": "new_listing"})

    return new_listings_get_ads


def build_weak_ads_sensor(job: Any) -> dg.SensorDefinition:
    @dg.asset_sensor(
        name="weak_ads_get_optimised",
        asset_key=AD_METRICS,
        job=job,
        minimum_interval_seconds=WEAK_ADS_SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs the optimisation at once when fresh metrics show a campaign the ad rule pauses.",
    )
    def weak_ads_get_optimised(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        materialization = asset_event.asset_materialization
        if materialization is None:
            return dg.SkipReason("the event carries no materialisation")
        weak = materialization.metadata.get("below_kill_threshold")
        count = int(weak.value) if weak is not None else 0
        if count <= 0:
            return dg.SkipReason(
                f"fresh metrics ({materialization.partition}) show no campaign the ad rule would pause"
            )
        return dg.RunRequest(
            run_key=f"weak-ads-{asset_event.run_id}-{materialization.partition}",
            tags={"dropship/trigger": "weak_ads"},
        )

    return weak_ads_get_optimised
