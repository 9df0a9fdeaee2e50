"""Readiness: the webhook subscriptions' job and start sensor, and the preflight job."""

from datetime import UTC, datetime

import dagster as dg

from dropship_pipelines.assets.readiness import assets, checks
from dropship_pipelines.cadence import WEBHOOK_CHECK_SENSOR_SECONDS, WEBHOOK_RECHECK
from dropship_pipelines.resources.shopify.webhooks import TOPICS
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.services.webhook_subscriptions import NOT_CONFIGURED, callback_urls
from dropship_pipelines.store.write_mode_queries import subscription_rows

WEBHOOK_JOB = "webhook_subscriptions_job"

webhook_subscriptions_job = dg.define_asset_job(
    WEBHOOK_JOB,
    selection=dg.AssetSelection.assets(assets.webhook_subscriptions),
    executor_def=dg.in_process_executor,
    description="Check the webhook subscriptions at Shopify and CJ, and make the missing ones.",
)

preflight_job = dg.define_asset_job(
    "preflight_job",
    selection=dg.AssetSelection.assets(assets.preflight),
    executor_def=dg.in_process_executor,
    description="Read-only readiness checks of every service the environment points at, with the fix for "
    "each failure.",
)


@dg.sensor(
    job=webhook_subscriptions_job,
    minimum_interval_seconds=WEBHOOK_CHECK_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="At start (the daemon's first tick) and every hour after: asks for a check of the webhook "
    "subscriptions when the ledger shows a topic not registered to the current callback URL, or none "
    "checked within the hour.",
)
def webhook_subscriptions_sensor(
    context: dg.SensorEvaluationContext, store_db: StoreDatabase
) -> dg.RunRequest | dg.SkipReason:
    urls = callback_urls()
    if urls is None:
        return dg.SkipReason(NOT_CONFIGURED)
    with store_db.engine().connect() as conn:
        rows = {r["subscription_key"]: r for r in subscription_rows(conn)}
    now = datetime.now(UTC)
    stale = []
    for topic in TOPICS:
        row = rows.get(f"shopify:{topic}")
        checked = row["checked_at"] if row else None
        if checked is not None and checked.tzinfo is None:
            checked = checked.replace(tzinfo=UTC)
        if not row or row["state"] != "registered" or row["callback_url"] != urls.shopify:
            stale.append(f"{topic} {row['state'] if row else 'never checked'}")
        elif checked is None or now - checked > WEBHOOK_RECHECK:
            stale.append(f"{topic} last checked {checked}")
    if not stale:
        return dg.SkipReason("every subscription registered and checked within the hour")
    # One run per hour at most for the same finding; a run that fixed it lets the next tick skip.
    bucket = int(now.timestamp() // WEBHOOK_RECHECK.total_seconds())
    return dg.RunRequest(run_key=f"webhooks:{bucket}:{len(stale)}", tags={"dropship/reason": stale[0][:60]})


readiness_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[webhook_subscriptions_job, preflight_job],
    sensors=[webhook_subscriptions_sensor],
)
