"""Event trigger of the fulfillment workflow: a new order on the store, seen by polling or by webhook."""

import json

import dagster as dg

from dropship_pipelines.cadence import NEW_ORDER_SENSOR_SECONDS
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import fulfillment_queries as q

FULFILLMENT_JOB = "order_fulfillment_job"
ORDERS_CREATE = "orders/create"


@dg.sensor(
    job_name=FULFILLMENT_JOB,
    minimum_interval_seconds=NEW_ORDER_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts fulfillment when the store has an order newer than the cursor, or an `orders/create` "
    "webhook was recorded by the receiver since the last run request.",
)
def new_store_orders(
    context: dg.SensorEvaluationContext, shopify: ShopifyAdminResource, store_db: StoreDatabase
) -> dg.RunRequest | dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    last_created: str | None = cursor.get("created_at")
    last_seq = int(cursor.get("event_seq", 0))
    with store_db.engine().connect() as conn:
        event_seq, events = q.webhook_events_after(conn, last_seq, ORDERS_CREATE)
    newest_created = last_created
    poll_note = ""
    try:
        newest = shopify.newest_order()
    except ApiError as error:  # the webhook path still works while the store API is unavailable
        newest, poll_note = None, f" (store poll failed: {error})"
    if newest and (last_created is None or newest.created_at > last_created):
        newest_created = newest.created_at
    if newest_created == last_created and events == 0:
        return dg.SkipReason(
            f"no order created after {last_created or 'the start'} and no {ORDERS_CREATE} webhook after "
            f"event #{last_seq}{poll_note}"
        )
    context.update_cursor(json.dumps({"created_at": newest_created, "event_seq": event_seq}))
    reason = f"{events} webhook event(s)" if events else f"order {newest.name if newest else ''} created"
    context.log.info("fulfillment run requested: %s", reason)
    return dg.RunRequest(
        run_key=f"orders-{newest_created}-{event_seq}", tags={"dropship/trigger": "new-order"}
    )
