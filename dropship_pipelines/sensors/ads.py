"""Event triggers of the ads workflow: a new listing gets its ad at once; weak ads are judged at once.

Weak ads: `ad_metrics` reports `below_kill_threshold`, the live campaigns that `rules.ad_rules.decide`
(the optimiser's own rule) would pause on the metrics just stored; the sensor reads that count.

New listings: a sensor on the backlog of listings without ads, not an `AutomationCondition` on
`store_listings`. `store_listings` is materialised every hour whether or not anything new was listed (and
when prices change), so an eager condition would start an ad launch run every hour for nothing. The
sensor starts a run while listed products still wait for an ad (no live campaign on some platform, not
given up after their attempts), one run at a time, each sized to the render budget, so a backlog drains
in minutes rather than at the 6-hourly catch-up. Its run key is the backlog itself (which products wait,
after how many attempts): a run that made progress lets the next one start; a backlog no run can move
(every product failing) asks for nothing more until something changes.
"""

import hashlib
import statistics
from collections.abc import Iterable
from typing import Any

import dagster as dg
from sqlalchemy.engine import Connection

from dropship_pipelines.assets.ads.assets import PLATFORMS, CreativeConfig, LaunchConfig
from dropship_pipelines.cadence import (
    AD_ORDERS_SENSOR_SECONDS,
    NEW_LISTING_SENSOR_SECONDS,
    WEAK_ADS_SENSOR_SECONDS,
)
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors.run_queue import waiting_run_for
from dropship_pipelines.services import ad_conversions
from dropship_pipelines.store import ads_queries as q

AD_METRICS = dg.AssetKey("ad_metrics")
AD_PURCHASE_EVENTS = dg.AssetKey("ad_purchase_events")

# A backlog run renders at most this much video (CPU-seconds, on the code location's machine) ...
RENDER_BUDGET_SECONDS = 150.0
RENDER_SECONDS_GUESS = 7.0  # a 12 s 720x1280 video, until the store has rendered some
# ... and launches at most what one run's launch budget takes on every platform (one LLM call each).
MAX_BATCH = LaunchConfig().max_launches_per_run // len(PLATFORMS)
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def waiting_for_ads(
    conn: Connection,
    platforms: Iterable[str] = PLATFORMS,
    creative_attempts: int = CreativeConfig().max_attempts,
    launch_attempts: int = LaunchConfig().max_attempts,
) -> dict[str, int]:
    """Listed products not live on every platform and still being tried, each with its attempts so far
    (creative and launches): the launch job's backlog."""
    creatives = q.creatives(conn)
    ledger = q.ledger(conn)
    waiting = {}
    for product in q.listed_products(conn):
        pid = product["pid"]
        creative = creatives.get(pid)
        if creative and creative["status"] != "ok" and creative["attempts"] >= creative_attempts:
            continue  # its copy failed every attempt: it waits for a human
        rows = [ledger.get((pid, platform)) for platform in platforms]
        open_launches = [
            row
            for row in rows
            if row is None or (row["state"] not in ("active", "paused") and row["attempts"] < launch_attempts)
        ]
        if open_launches:
            tried = (creative["attempts"] if creative else 0) + sum(row["attempts"] for row in rows if row)
            waiting[pid] = tried
    return waiting


def batch_size(conn: Connection) -> int:
    """Creatives per run: the render budget over the recent renders' mean time, within the launch budget."""
    recent = sorted(
        (row for row in q.creatives(conn).values() if row["status"] == "ok" and row["render_seconds"]),
        key=lambda row: row["generated_at"],
    )[-20:]
    per_video = statistics.fmean(row["render_seconds"] for row in recent) if recent else RENDER_SECONDS_GUESS
    return max(1, min(MAX_BATCH, int(RENDER_BUDGET_SECONDS // max(per_video, 0.1))))


def backlog_key(waiting: dict[str, int]) -> str:
    digest = hashlib.sha256(repr(sorted(waiting.items())).encode()).hexdigest()[:16]
    return f"ads-backlog-{len(waiting)}-{digest}"


def build_new_listing_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_listings_get_ads",
        job=job,
        minimum_interval_seconds=NEW_LISTING_SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Makes ads and launches campaigns, a batch per run, while listed products wait for ads.",
    )
    def new_listings_get_ads(context: dg.SensorEvaluationContext, store_db: StoreDatabase):
        with store_db.engine().connect() as conn:
            newest = q.newest_listing_time(conn)
            if newest is None:
                return dg.SkipReason("nothing is listed on the store yet")
            waiting = waiting_for_ads(conn)
            batch = batch_size(conn)
        if not waiting:
            return dg.SkipReason("every listed product has its ads (or waits for a human)")
        running = context.instance.get_runs(
            filters=dg.RunsFilter(job_name=job.name, statuses=ACTIVE_RUN_STATUSES), limit=1
        )
        if running:
            return dg.SkipReason(
                f"{len(waiting)} product(s) wait for ads; run {running[0].run_id} is launching some"
            )
        key = backlog_key(waiting)
        if key == context.cursor:
            return dg.SkipReason(
                f"{len(waiting)} product(s) wait for ads and the last run moved none of them; "
                "the catch-up schedule retries"
            )
        context.update_cursor(key)
        return dg.RunRequest(
            run_key=key,
            run_config={"ops": {"ad_creatives": {"config": {"max_per_run": batch}}}},
            tags={"dropship/trigger": "new_listing", "dropship/ads_backlog": str(len(waiting))},
        )

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


def build_ad_orders_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="ad_orders_get_reported",
        job=job,
        minimum_interval_seconds=AD_ORDERS_SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reports new ad orders' purchases to Meta and TikTok (the ad_purchase_events step).",
    )
    def ad_orders_get_reported(context: dg.SensorEvaluationContext, store_db: StoreDatabase):
        # The ledger alone (no platform call): the last week's ad orders some platform has no event for.
        with store_db.engine().connect() as conn:
            since = ad_conversions.recent_window(conn)
            waiting = ad_conversions.unreported(conn, since, list(PLATFORMS)) if since else []
        if not waiting:
            return dg.SkipReason("every recent ad order is reported to the platforms")
        newest = max(str(order["order_id"]) for order in waiting)
        key = f"ad-orders-{len(waiting)}-{newest}"
        if key == context.cursor:
            return dg.SkipReason(f"{len(waiting)} ad order(s) wait; the last run moved none of them")
        queued = waiting_run_for(context, job.name, AD_PURCHASE_EVENTS)
        if queued:  # it reads the ledger when it starts: these orders are its
            return dg.SkipReason(f"{len(waiting)} ad order(s) wait; run {queued} will report them")
        context.update_cursor(key)
        return dg.RunRequest(
            run_key=key,
            asset_selection=[AD_PURCHASE_EVENTS],
            tags={"dropship/trigger": "ad_orders"},
        )

    return ad_orders_get_reported
