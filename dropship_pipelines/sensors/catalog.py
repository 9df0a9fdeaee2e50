"""Event trigger of the catalog sync: supplier webhook messages recorded by the receiver."""

import dagster as dg

from dropship_pipelines.cadence import SUPPLIER_EVENT_SENSOR_SECONDS
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import catalog_queries as q

CATALOG_SYNC_JOB = "catalog_sync_job"
EVENT_ASSETS = [dg.AssetKey("supplier_change_events")]


@dg.sensor(
    job_name=CATALOG_SYNC_JOB,
    minimum_interval_seconds=SUPPLIER_EVENT_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Applies the supplier's webhook messages (CJ PRODUCT / STOCK) as soon as the receiver has "
    "recorded them: reads the ledger only, on every tick.",
)
def supplier_messages(
    context: dg.SensorEvaluationContext, store_db: StoreDatabase
) -> dg.RunRequest | dg.SkipReason:
    last = int(context.cursor or 0)
    with store_db.engine().connect() as conn:
        newest, count = q.newest_pending_seq(conn, last)
    if count == 0:
        return dg.SkipReason(f"no supplier message recorded after #{last}")
    context.update_cursor(str(newest))
    return dg.RunRequest(
        run_key=f"supplier-messages-{newest}",
        asset_selection=EVENT_ASSETS,
        tags={"dropship/trigger": "supplier-message"},
    )
