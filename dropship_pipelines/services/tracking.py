"""Tracking that holds: the fulfillment workflow's tracking protocol, step by step.

1. Every open supplier order is polled (status, tracking number, what the supplier charged). A shipped
   order's actual product cost and postage (CJ's order detail, not the quote) go to `supplier_costs`.
2. Each shipped parcel's carrier status is read (`/logistic/trackInfo`): its first and latest scan.
3. Its fulfillment is posted once (claimed in `fulfillments` before `fulfillmentCreate`) with Shopify's
   name of the carrier (rules/carriers.py) and the tracking URL, emailing the customer at the first
   carrier scan, not at label creation (`TrackingPolicy.notify_at`).
4. A tracking number the supplier changed after the post is re-posted with
   `fulfillmentTrackingInfoUpdate`, claimed once per (order, new number) in `tracking_updates`.
5. Stalls are flagged in `parcel_tracking` (no tracking N days after the supplier order, no scan N days
   after shipping); support reads them, the checks and the dashboard list them. A lost parcel is handed
   once to the supplier-failure path (refund and dispute: services/order_cancellations.py).
"""

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, ShopifyUserError, gid_number
from dropship_pipelines.resources.shopify.clock import read_shop_time
from dropship_pipelines.resources.shopify.models import Fulfillment, OrderFulfillments, TrackingInfo
from dropship_pipelines.resources.supplier import SHIPPED_STATUSES, Supplier, TrackingEvent
from dropship_pipelines.rules.carriers import shopify_tracking
from dropship_pipelines.rules.fulfillment import tracking_url
from dropship_pipelines.rules.tracking import TrackingPolicy, may_notify, scanned, stall
from dropship_pipelines.services.fulfillment import Log
from dropship_pipelines.services.in_flight import InFlight
from dropship_pipelines.store import fulfillment_queries as fq
from dropship_pipelines.store import tracking_queries as q

Outcome = Literal["posted", "found", "failed", "waiting_scan"]
# The supplier-failure path a lost parcel goes to (the cancellations workflow); looked up at run time so
# tracking works before that module exists, and a lost parcel waits (flagged) until it does.
FAILURE_MODULE = "dropship_pipelines.services.order_cancellations"
FO_CHUNK = 50  # orders whose fulfillment orders are read in one request (an id-range page)
# Posts in flight at once: each spends most of its time on round trips and ledger writes, and with 4 a run
# of 300 posted ~14 a second, 140 points where the bucket restores 100, so its 2,000 lasted the whole run
# and the run was bound by the round trips, not by Shopify's limit.
POSTS_IN_FLIGHT = 8


@dataclass
class TrackingRun:
    open: int = 0
    supplier_status: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(
        default_factory=lambda: {"posted": 0, "found": 0, "failed": 0, "waiting_scan": 0}
    )
    shipped: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)  # tracking numbers re-posted
    stalls: dict[str, int] = field(default_factory=dict)
    lost_reported: list[str] = field(default_factory=list)
    poll_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: Outcome, row: dict[str, Any]) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            if outcome != "waiting_scan":
                self.shipped.append(
                    {"order_id": row["order_id"], "track_number": row["track_number"], "outcome": outcome}
                )


def _poll_supplier(
    supplier: Supplier, engine: Engine, rows: list[dict[str, Any]], batch_size: int, log: Log
) -> int:
    """Status, tracking number and charges of every open supplier order; poll errors."""
    by_id = {r["supplier_order_id"]: r for r in rows if r["supplier_order_id"]}
    ids, errors = list(by_id), 0
    for start in range(0, len(ids), batch_size):
        try:
            found_orders = supplier.orders(ids[start : start + batch_size])
        except ApiError as error:
            errors += 1
            log.warning("supplier status poll failed, next run retries: %s", error)
            continue
        with engine.begin() as conn:
            for found in found_orders:
                row = by_id.get(found.supplier_order_id)
                if row is None:
                    continue
                if (found.status, found.track_number) != (row["supplier_status"], row["track_number"]):
                    fq.update_supplier_status(conn, row["order_number"], found)
                if found.status in SHIPPED_STATUSES and found.product_amount is not None:
                    # Charged at dispatch (re-weighed postage): the cost true profit counts.
                    q.save_supplier_cost(
                        conn,
                        row["order_number"],
                        row["order_id"],
                        found.product_amount,
                        found.postage_amount if found.postage_amount is not None else 0,
                        found.total_amount,
                        found.status,
                    )
                row.update(
                    supplier_status=found.status,
                    track_number=found.track_number,
                    carrier=found.route,
                    tracking_url=found.tracking_url,
                )
    return errors


def _carrier_events(
    supplier: Supplier, rows: list[dict[str, Any]], batch_size: int, log: Log
) -> tuple[dict[str, TrackingEvent], int]:
    numbers = sorted({r["track_number"] for r in rows if r["track_number"]})
    events: dict[str, TrackingEvent] = {}
    errors = 0
    for start in range(0, len(numbers), batch_size):
        try:
            for event in supplier.tracking(numbers[start : start + batch_size]):
                events[event.track_number] = event
        except ApiError as error:
            errors += 1
            log.warning("carrier tracking poll failed, next run retries: %s", error)
    return events, errors


def _parcel(row: dict[str, Any], event: TrackingEvent | None, policy: TrackingPolicy, now: datetime) -> dict:
    """The parcel row after this run's observation (times as the carrier reports them when it does)."""
    shipped_at = row["shipped_at"] or (now if row["track_number"] else None)
    first, last = row["first_scan_at"], row["last_scan_at"]
    status = event.status if event else row["carrier_status"]
    if event is not None and scanned(event.status):
        moment = event.event_at or now
        first = first or moment
        last = max(last, moment) if last else moment
    reason = stall(
        policy,
        now,
        ordered_at=row["ordered_at"] or now,
        track_number=row["track_number"],
        shipped_at=shipped_at,
        last_scan_at=last,
        carrier_status=status,
    )
    if row["supplier_status"] == "DELIVERED":
        reason = None
    return {
        "order_id": row["order_id"],
        "order_number": row["order_number"],
        "track_number": row["track_number"],
        "carrier_status": (status or None) and str(status)[:64],
        "shipped_at": shipped_at,
        "first_scan_at": first,
        "last_scan_at": last,
        "checked_at": now,
        "stall": reason,
        "stalled_since": (row["stalled_since"] or now) if reason else None,
    }


def _observe(
    supplier: Supplier,
    engine: Engine,
    rows: list[dict[str, Any]],
    batch_size: int,
    policy: TrackingPolicy,
    moment: datetime,
    run: TrackingRun,
    events: dict[str, TrackingEvent],
    parcels: dict[str, dict[str, Any]],
    log: Log,
) -> list[dict[str, Any]]:
    """Steps 1, 2 and 5 for a batch of open supplier orders: their status polled, their parcels' carrier
    events read (into `events`), their parcel rows saved (into `parcels`, stalls counted in `run`). The
    batch's shipped orders (a tracking number) are returned for their posts."""
    run.poll_errors += _poll_supplier(supplier, engine, rows, batch_size, log)
    shipped = [r for r in rows if r["supplier_status"] in SHIPPED_STATUSES and r["track_number"]]
    # Delivered parcels are asked once more only when their scans were never seen (a short route).
    asked = [r for r in shipped if r["supplier_status"] != "DELIVERED" or r["first_scan_at"] is None]
    found, errors = _carrier_events(supplier, asked, batch_size, log)
    run.poll_errors += errors
    events.update(found)
    saved = []
    for row in rows:
        if row["supplier_status"] == "CANCELLED":
            continue
        parcel = _parcel(row, found.get(row["track_number"] or ""), policy, moment)
        if row["supplier_status"] == "DELIVERED" and row["carrier_status"] is None and not found:
            parcel["carrier_status"] = "Delivered"
        parcels[row["order_id"]] = parcel
        saved.append(parcel)
        if parcel["stall"]:
            with run.lock:
                run.stalls[parcel["stall"]] = run.stalls.get(parcel["stall"], 0) + 1
    with engine.begin() as conn:
        q.save_parcels(conn, saved)
    return shipped


def sync_tracking(
    supplier: Supplier,
    shopify: ShopifyAdminResource,
    engine: Engine,
    *,
    policy: TrackingPolicy,
    batch_size: int,
    max_attempts: int,
    log: Log,
    now: datetime | None = None,
    run_id: str = "tracking",
) -> TrackingRun:
    """One pass of the tracking protocol (module docstring). `now` is the moment stalls are measured at:
    by default the store's clock (Shopify's, as the scans and shipping dates are the platforms'; the
    sandbox world's in the demo), never this machine's, which may be weeks from the world's."""
    moment = now or read_shop_time(shopify)
    with engine.connect() as conn:
        rows = q.open_parcels(conn)
    run = TrackingRun(open=len(rows))
    events: dict[str, TrackingEvent] = {}  # track number -> the carrier's latest word
    parcels: dict[str, dict[str, Any]] = {}  # order id -> its parcel row as this run saved it
    store: dict[str, OrderFulfillments] = {}  # order id -> its fulfillment orders, read a chunk at a time

    def given_up(row: dict[str, Any]) -> bool:
        return row["fulfillment_state"] == "failed" and (row["fulfillment_attempts"] or 0) >= max_attempts

    def to_post(row: dict[str, Any]) -> bool:
        if row["fulfillment_state"] == "posted" or given_up(row):
            return False
        first_scan = parcels[row["order_id"]]["first_scan_at"]
        return may_notify(policy, first_scan) or row["supplier_status"] == "DELIVERED"

    def step(row: dict[str, Any]) -> None:
        if row["fulfillment_state"] != "posted":
            if given_up(row):
                return
            if not to_post(row):
                run.count("waiting_scan", row)
                return
            event = events.get(row["track_number"])
            run.count(_fulfil(shopify, engine, row, event, log, store.get(row["order_id"])), row)
        elif row["posted_number"] and row["track_number"] != row["posted_number"] and row["fulfillment_id"]:
            _update_number(shopify, engine, row, events.get(row["track_number"]), run, log)

    # A batch of supplier orders goes on to its posts as soon as its polls are answered, so the posts
    # (bound by Shopify's bucket) start while the next batch is polled (CJ): polled whole first, the
    # bucket sat full for the polls' half second of every run (issue 16).
    # The fulfillment-order reads stay a chunk ahead of the posts. Read all ahead (while the bucket holds
    # its head start: each asks ~500 points up front for ~115 charged) the bucket ran at zero from 3.6 s
    # on, and at load 4 three posts of 290 came back THROTTLED (the cost mirror a few points ahead of the
    # store's bucket); at the posts' pace it keeps some spare points and none was.
    with InFlight(step, at_once=POSTS_IN_FLIGHT, max_waiting=FO_CHUNK) as pool:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            shipped = _observe(supplier, engine, batch, batch_size, policy, moment, run, events, parcels, log)
            for row in shipped:
                if not to_post(row):
                    pool.submit(row)
            # The posts' fulfillment-order reads go a chunk of orders per request (id ranges) just ahead
            # of the posts, which start on the first chunk while the next is read: one request per order
            # instead of two. In id order, so neighbouring orders share a range.
            posting = sorted((r for r in shipped if to_post(r)), key=lambda r: gid_number(r["order_id"]))
            for at in range(0, len(posting), FO_CHUNK):
                chunk = posting[at : at + FO_CHUNK]
                try:
                    store.update(shopify.fulfillment_orders_of([r["order_id"] for r in chunk]))
                except ApiError as error:  # each order then reads its own before posting
                    log.warning("fulfillment orders of %d orders not read: %s", len(chunk), error)
                for row in chunk:
                    pool.submit(row)
    for row in rows:
        lost = parcels.get(row["order_id"], {}).get("stall") == "lost" and row["failure_reported_at"] is None
        if lost and _report_lost(engine, shopify, supplier, row, parcels[row["order_id"]], run_id, log):
            run.lost_reported.append(row["order_id"])
    for row in rows:
        status = row["supplier_status"] or "unknown"
        run.supplier_status[status] = run.supplier_status.get(status, 0) + 1
    return run


def _tracking(row: dict[str, Any], event: TrackingEvent | None, number: str) -> TrackingInfo:
    url = tracking_url(row["carrier"], number, row["tracking_url"])
    mapped = shopify_tracking(row["carrier"], event.last_mile_carrier if event else None, url)
    return TrackingInfo(company=mapped.company, number=number, url=mapped.url)


def _fulfil(
    shopify: ShopifyAdminResource,
    engine: Engine,
    row: dict[str, Any],
    event: TrackingEvent | None,
    log: Log,
    known: OrderFulfillments | None = None,
) -> Outcome:
    """Post one fulfillment with tracking (the customer emailed); "posted", "found" or "failed".

    `known` is the order as this run read it moments ago (its fulfillment orders and fulfillments), else it
    is read here. Read before or after the claim, it is read after any earlier run's post; a post racing
    another live run's is refused by the store (the fulfillment order is closed) and then looked up."""
    order_id, track = row["order_id"], row["track_number"]
    tracking = _tracking(row, event, track)
    with engine.begin() as conn:
        fq.begin_fulfillment(conn, order_id, track, row["carrier"], tracking.url)
    try:
        order = known or _store_order(shopify, order_id)
        if known is not None and not order.open_fulfillment_order_ids:  # changed since? (a hold released)
            order = _store_order(shopify, order_id)
        open_ids = order.open_fulfillment_order_ids
        if not open_ids:
            done = order.fulfillment_tracking(track)  # posted by a run that died before recording it
            if done is None:
                raise PermanentApiError("shopify", f"order {order_id} has no open fulfillment order")
            with engine.begin() as conn:
                fq.finish_fulfillment(conn, order_id, done.id, notified=True)
            return "found"
        result = _post_once(shopify, order_id, order, open_ids, tracking)
    except ApiError as error:
        permanent = isinstance(error, (PermanentApiError, ShopifyUserError))
        with engine.begin() as conn:
            fq.fail_fulfillment(conn, order_id, str(error), permanent=permanent)
        log.warning("order %s: fulfillment not posted: %s", order_id, error)
        return "failed"
    with engine.begin() as conn:
        fq.finish_fulfillment(conn, order_id, result.id, notified=True)
        q.save_parcel(
            conn,
            {"order_id": order_id, "order_number": row["order_number"], "shopify_company": tracking.company},
        )
    log.info(
        "order %s: fulfilled with tracking %s (%s), customer notified", order_id, track, tracking.company
    )
    return "posted"


def _update_number(
    shopify: ShopifyAdminResource,
    engine: Engine,
    row: dict[str, Any],
    event: TrackingEvent | None,
    run: TrackingRun,
    log: Log,
) -> None:
    """Re-post a tracking number the supplier changed: claimed once per (order, new number); a claim a
    dead run left is resolved by reading the store's fulfillment first."""
    order_id, new, old = row["order_id"], row["track_number"], row["posted_number"]
    with engine.begin() as conn:
        claim = q.claim_tracking_update(conn, order_id, row["fulfillment_id"], old, new)
    if claim["state"] == "done":
        return
    tracking = _tracking(row, event, new)
    try:
        if claim["attempts"] > 1:
            order = _store_order(shopify, order_id)
            if order.fulfillment_tracking(new) is not None:  # an earlier attempt landed
                with engine.begin() as conn:
                    q.finish_tracking_update(conn, claim["update_key"], order_id, new, tracking.url or "")
                return
        shopify.update_tracking(row["fulfillment_id"], tracking, notify_customer=True)
    except ApiError as error:
        permanent = isinstance(error, (PermanentApiError, ShopifyUserError))
        with engine.begin() as conn:
            q.fail_tracking_update(conn, claim["update_key"], str(error), permanent=permanent)
        log.warning("order %s: new tracking %s not posted: %s", order_id, new, error)
        return
    with engine.begin() as conn:
        q.finish_tracking_update(conn, claim["update_key"], order_id, new, tracking.url or "")
    with run.lock:
        run.updated.append({"order_id": order_id, "old": old, "new": new})
    log.info("order %s: tracking number changed %s -> %s, re-posted", order_id, old, new)


def failure_path() -> Callable[..., Any] | None:
    """`services.order_cancellations.supplier_failed`, when that workflow is installed."""
    try:
        module = importlib.import_module(FAILURE_MODULE)
    except ModuleNotFoundError:
        return None
    return getattr(module, "supplier_failed", None)


def _report_lost(
    engine: Engine,
    shopify: ShopifyAdminResource,
    supplier: Supplier,
    row: dict[str, Any],
    parcel: dict[str, Any],
    run_id: str,
    log: Log,
) -> bool:
    """Hand a lost parcel to the supplier-failure path once, with the tracking evidence; without that
    path the parcel stays flagged "lost" (dashboard, checks) and is handed over once it exists."""
    supplier_failed = failure_path()
    if supplier_failed is None:
        with engine.begin() as conn:
            q.report_failure(
                conn, row["order_id"], "waiting: no supplier-failure path installed", reported=False
            )
        return False
    evidence = [
        f"supplier order {row['order_number']}, tracking {row['track_number']}",
        f"carrier status: {parcel['carrier_status'] or 'none'}",
        f"shipped (first seen with tracking): {parcel['shipped_at']}",
        f"last carrier scan: {parcel['last_scan_at'] or 'none'}",
    ]
    outcome = supplier_failed(
        row["order_id"],
        "lost_parcel",
        engine=engine,
        shopify=shopify,
        supplier=supplier,
        run_id=run_id,
        evidence=evidence,
    )
    with engine.begin() as conn:
        q.report_failure(conn, row["order_id"], str(outcome), reported=True)
    log.warning(
        "order %s: parcel %s lost, handed to the supplier-failure path", row["order_id"], row["track_number"]
    )
    return True


def _store_order(shopify: ShopifyAdminResource, order_id: str) -> OrderFulfillments:
    order = shopify.fulfillment_orders(order_id)
    if order is None:
        raise PermanentApiError("shopify", f"order {order_id} not found on the store")
    return order


def _post_once(
    shopify: ShopifyAdminResource,
    order_id: str,
    order: OrderFulfillments,
    open_ids: list[str],
    tracking: TrackingInfo,
) -> Fulfillment:
    try:
        return shopify.create_fulfillment(
            open_ids, tracking, notify_customer=True, message="Shipped by our supplier"
        )
    except ShopifyUserError:
        # A retried post whose first answer was lost is refused as "not open": read what is there.
        found = (shopify.fulfillment_orders(order_id) or order).fulfillment_tracking(tracking.number or "")
        if found is None:
            raise
        return found
