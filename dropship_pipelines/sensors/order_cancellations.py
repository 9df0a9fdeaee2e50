"""Event trigger for the store's cancellations and refunds: an `orders/cancelled`, `refunds/create` or
`disputes/create` webhook recorded by the receiver (the five-minute schedule is the polling path)."""

import json

import dagster as dg

from dropship_pipelines.cadence import NEW_ORDER_SENSOR_SECONDS
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.services.order_cancellations import TOPICS
from dropship_pipelines.store import fulfillment_queries as q

FULFILLMENT_JOB = "order_fulfillment_job"
CANCELLATION_ASSETS = [dg.AssetKey("store_orders"), dg.AssetKey("store_cancellations")]


@dg.sensor(
    job_name=FULFILLMENT_JOB,
    minimum_interval_seconds=NEW_ORDER_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs the store's cancellations and refunds when an `orders/cancelled`, `refunds/create` or "
    "`disputes/create` webhook was recorded since the last run request (read from the ledger on every tick).",
)
def store_cancellation_events(
    context: dg.SensorEvaluationContext, store_db: StoreDatabase
) -> dg.SensorResult:
    last_seq = int(json.loads(context.cursor).get("event_seq", 0)) if context.cursor else 0
    seq, count = last_seq, 0
    with store_db.engine().connect() as conn:
        for topic in TOPICS:
            top, found = q.webhook_events_after(conn, last_seq, topic)
            seq, count = max(seq, top), count + found
    if count == 0:
        return dg.SensorResult(skip_reason=f"no {', '.join(TOPICS)} webhook after event #{last_seq}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"store-changes-{seq}",
                asset_selection=CANCELLATION_ASSETS,
                tags={"dropship/trigger": "store-cancellation"},
            )
        ],
        cursor=json.dumps({"event_seq": seq}),
    )
