"""Event trigger of the fulfillment workflow: a new order on the store, seen by polling or by webhook."""

import json
import time
from datetime import datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import NEW_ORDER_POLL_SECONDS, NEW_ORDER_SENSOR_SECONDS
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.resources.order_gate_policy import OrderGatePolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.clock import read_shop_time
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors.run_queue import IN_PROGRESS_STATUSES, job_runs, waiting_run_for
from dropship_pipelines.store import fulfillment_queries as q
from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders

FULFILLMENT_JOB = "order_fulfillment_job"
ORDERS_CREATE = "orders/create"
# A new order only needs these two steps; shipment tracking waits for the five-minute schedule, so the
# run that places a fresh order is as short as it can be.
NEW_ORDER_ASSETS = [dg.AssetKey("store_orders"), dg.AssetKey("supplier_orders")]
# The new-order runs go in two lanes, each a `dropship/workflow` value of its own that the run queue keeps
# to one run at a time (as every workflow): so the next run's worker starts (most of a run's time, issue
# 16) while the previous run places its orders, instead of after that run ended. One lane: an order that
# may go waited for the run ahead to end and the next one's start-up, 2 of them at p95 (bench_daemon).
# Their order steps still go one at a time (the `cj` pool), as with the schedule's run of the whole job,
# and the ledger's claims and CJ's order number keep each order placed once whatever overlaps.
NEW_ORDER_LANES = ("fulfillment-orders-1", "fulfillment-orders-2")
# Dagster's run priority: the queue dequeues these runs ahead of the other workflows' (the analytics, ads
# and support runs the five-minute marks bring held the instance's few run slots while orders waited), and
# their order step claims its `cj` pool slot ahead of the other workflows' waiting steps.
PRIORITY_TAG = "dagster/priority"
NEW_ORDER_PRIORITY = 10


def waiting_run(context: dg.SensorEvaluationContext) -> str | None:
    """A fulfillment run that places supplier orders and has yet to start, if one waits in the queue."""
    return waiting_run_for(context, FULFILLMENT_JOB, dg.AssetKey("supplier_orders"))


def order_lane(context: dg.SensorEvaluationContext) -> str:
    """The lane for the next new-order run: one no run of the job holds, else the one whose run is the
    oldest (it frees first)."""
    runs = job_runs(context, FULFILLMENT_JOB, IN_PROGRESS_STATUSES)  # newest first
    held = [lane for run in runs if (lane := run.tags.get(WORKFLOW_TAG)) in NEW_ORDER_LANES]
    free = [lane for lane in NEW_ORDER_LANES if lane not in held]
    return free[0] if free else held[-1]


def waiting_placed_at(conn: Connection) -> list[datetime]:
    """When each ledger order still to go to the supplier was placed ('new', no supplier order made or
    refused): the orders the gate's cancellation buffer keeps back, and any not yet gated."""
    done = sa.select(supplier_orders.c.order_id).where(supplier_orders.c.state.in_(("created", "failed")))
    rows = conn.execute(
        sa.select(store_orders.c.placed_at).where(
            store_orders.c.state == "new", store_orders.c.order_id.not_in(done)
        )
    )
    return [at for (placed,) in rows if (at := q.aware(placed)) is not None]


def buffers_ended(
    conn: Connection, shopify: ShopifyAdminResource, buffer: timedelta, placed_through: datetime | None
) -> tuple[int, datetime | None]:
    """(orders whose buffer ended since the last look, the new `placed_through`): an order placed after
    `placed_through` whose buffer has ended on the store's clock (the one the gate measures it on) is due.
    The store's clock is read only while an order waits; with no buffer nothing is ever due here."""
    if buffer <= timedelta(0):
        return 0, placed_through
    waiting = [p for p in waiting_placed_at(conn) if placed_through is None or p > placed_through]
    if not waiting:
        return 0, placed_through
    through = read_shop_time(shopify) - buffer
    due = sum(1 for p in waiting if p <= through)
    return due, (through if due else placed_through)


@dg.sensor(
    job_name=FULFILLMENT_JOB,
    minimum_interval_seconds=NEW_ORDER_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts fulfillment when an `orders/create` webhook was recorded by the receiver since the "
    "last run request (read from the ledger on every tick), when the store has an order newer than the "
    f"cursor (asked of the store every {NEW_ORDER_POLL_SECONDS} s, for webhooks that never came), or when "
    "the gate's cancellation buffer of an order waiting in the ledger has ended (on the store's clock).",
)
def new_store_orders(
    context: dg.SensorEvaluationContext,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
    order_gate: OrderGatePolicy,
) -> dg.RunRequest | dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    last_created: str | None = cursor.get("created_at")
    last_seq = int(cursor.get("event_seq", 0))
    polled_at = float(cursor.get("polled_at", 0.0))
    last_through = cursor.get("buffer_placed_through")
    placed_through = datetime.fromisoformat(last_through) if last_through else None
    buffer_note = ""
    with store_db.engine().connect() as conn:
        event_seq, events = q.webhook_events_after(conn, last_seq, ORDERS_CREATE)
        # Without this an order the buffer held back, in a store with no newer order, would wait for the
        # five-minute schedule after its buffer ended; with it, for one tick of this sensor.
        try:
            matured, placed_through = buffers_ended(
                conn, shopify, order_gate.policy().cancellation_buffer, placed_through
            )
        except ApiError as error:  # the store's clock is unknown: the next tick, or the schedule, asks again
            matured, buffer_note = 0, f" (store clock unreadable: {error})"
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
    state = {
        "created_at": newest_created,
        "event_seq": event_seq,
        "polled_at": polled_at,
        "buffer_placed_through": placed_through.isoformat() if placed_through else None,
    }
    if newest_created == last_created and events == 0 and matured == 0:
        if polled_at != float(cursor.get("polled_at", 0.0)):
            context.update_cursor(json.dumps(state))
        return dg.SkipReason(
            f"no order created after {last_created or 'the start'}, no {ORDERS_CREATE} webhook after "
            f"event #{last_seq} and no order's cancellation buffer ended{poll_note}{buffer_note}"
        )
    if events or newest_created != last_created:
        reason = f"{events} webhook event(s)" if events else f"order {newest.name if newest else ''} created"
        trigger = "new-order"
    else:
        reason, trigger = f"the cancellation buffer of {matured} order(s) ended", "buffer-ended"
    queued = waiting_run(context)
    if queued:
        # That run reads the store's orders when it starts, these included: one more would only queue
        # behind it (a loaded demo queued a hundred). The trigger stays in the cursor until no run waits.
        context.update_cursor(json.dumps({**cursor, "polled_at": polled_at}))
        return dg.SkipReason(f"{reason}; run {queued} waits in the queue and will place them")
    context.update_cursor(json.dumps(state))
    lane = order_lane(context)
    context.log.info("fulfillment run requested in lane %s: %s", lane, reason)
    return dg.RunRequest(
        run_key=f"orders-{newest_created}-{event_seq}-{state['buffer_placed_through']}",
        asset_selection=NEW_ORDER_ASSETS,
        tags={"dropship/trigger": trigger, WORKFLOW_TAG: lane, PRIORITY_TAG: str(NEW_ORDER_PRIORITY)},
    )
