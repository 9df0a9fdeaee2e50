"""Event trigger of the fulfillment workflow: a new order on the store, seen by polling or by webhook."""

import json
import time

import dagster as dg

from dropship_pipelines.cadence import NEW_ORDER_POLL_SECONDS, NEW_ORDER_SENSOR_SECONDS
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import fulfillment_queries as q

FULFILLMENT_JOB = "order_fulfillment_job"
ORDERS_CREATE = "orders/create"
# A new order only needs these two steps; shipment tracking waits for the five-minute schedule, so the
# run that places a fresh order is as short as it can be.
NEW_ORDER_ASSETS = [dg.AssetKey("store_orders"), dg.AssetKey("supplier_orders")]


@dg.sensor(
    job_name=FULFILLMENT_JOB,
    minimum_interval_seconds=NEW_ORDER_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts fulfillment when an `orders/create` webhook was recorded by the receiver since the "
    "last run request (read from the ledger on every tick), or when the store has an order newer than the "
    f"cursor (asked of the store every {NEW_ORDER_POLL_SECONDS} s, for webhooks that never came).",
)
def new_store_orders(
    context: dg.SensorEvaluationContext, shopify: ShopifyAdminResource, store_db: StoreDatabase
) -> dg.RunRequest | dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    last_created: str | None = cursor.get("created_at")
    last_seq = int(cursor.get("event_seq", 0))
    polled_at = float(cursor.get("polled_at", 0.0))
    with store_db.engine().connect() as conn:
        event_seq, events = q.webhook_events_after(conn, last_seq, ORDERS_CREATE)
    newest_created = last_created
    newest = None
    poll_note = ""
    # The ledger is read on every tick; the store is asked on its own slower cadence (it costs API points).
    if time.time() - polled_at >= NEW_ORDER_POLL_SECONDS:
        polled_at = time.time()
        try:
            newest = shopify.newest_order()
        except ApiError as error:  # the webhook path still works while the store API is unavailable
            poll_note = f" (store poll failed: {error})"
        if newest and (last_created is None or newest.created_at > last_created):
            newest_created = newest.created_at
    state = {"created_at": newest_created, "event_seq": event_seq, "polled_at": polled_at}
    if newest_created == last_created and events == 0:
        if polled_at != float(cursor.get("polled_at", 0.0)):
            context.update_cursor(json.dumps(state))
        return dg.SkipReason(
            f"no order created after {last_created or 'the start'} and no {ORDERS_CREATE} webhook after "
            f"event #{last_seq}{poll_note}"
        )
    context.update_cursor(json.dumps(state))
    reason = f"{events} webhook event(s)" if events else f"order {newest.name if newest else ''} created"
    context.log.info("fulfillment run requested: %s", reason)
    return dg.RunRequest(
        run_key=f"orders-{newest_created}-{event_seq}",
        asset_selection=NEW_ORDER_ASSETS,
        tags={"dropship/trigger": "new-order"},
    )
