"""The fulfillment workflow's ledger protocol, step by step: store orders read into the ledger, each order
claimed in the ledger before it is placed at the supplier, each fulfillment claimed before it is posted to
the store (services/tracking.py), and how a re-run after a crash asks the remote side first so nothing
happens twice.

The assets in `assets/fulfillment/` call one function each and turn its result into metadata."""

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.clock import ShopClock
from dropship_pipelines.resources.shopify.models import (
    MailingAddress,
    OrderChange,
    StoreOrder,
)
from dropship_pipelines.resources.supplier import (
    BasketLine,
    DuplicateOrderError,
    ShippingAddress,
    Supplier,
    SupplierOrder,
    SupplierOrderRequest,
)
from dropship_pipelines.rules.fulfillment import (
    OrderFacts,
    OrderLine,
    ShippingChoice,
    choose_shipping,
    order_problem,
    supplier_order_number,
)
from dropship_pipelines.services.in_flight import InFlight, each_in_flight
from dropship_pipelines.services.order_gate import OrderGate
from dropship_pipelines.services.profit import payment_row
from dropship_pipelines.store import fulfillment_queries as q
from dropship_pipelines.store import refund_queries, tracking_queries

ORDERS_CURSOR = "shopify_orders_updated_at"
# {order id: updatedAt} of the orders read in full within the re-read window before the cursor (JSON):
# what the next run's change listing of that window is checked against.
WINDOW_SEEN = "shopify_orders_window_seen"
SAVE_BATCH = 200  # orders written to the ledger per transaction
# Orders the last reads saw changed in one second of the re-read window from which that second is counted
# (`changed_count_is`, ~7 points) instead of listed (a point an order): a burst placed at once.
COUNTED_SECOND = 16
WINDOW_CALLS = 4  # the window check's counts and listings asked at once
# Orders in their supplier step at once: each spends most of its time waiting (the gate's store query, a
# freight quote, the CJ pacer), so CJ's createOrderV2 limit, not one order's round trips, sets the pace.
# On the shared 2-core box at load 15-40 an order's dozen waits took 2-4 s: 8 left the pacer idle (0.59-0.72
# of CJ's ceiling), 16 kept it at 34-39 calls of 40 per 10 s (0.80).
SUPPLIER_IN_FLIGHT = 16
Log = logging.Logger | logging.LoggerAdapter[Any]  # a Dagster context's `log` is one
VariantMap = dict[str, tuple[str, str]]  # store variant GID or sku -> (supplier vid, pid)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- store orders -------------------------------------------------------------------------------------
@dataclass
class OrdersRead:
    read: int = 0
    new: list[dict[str, Any]] = field(default_factory=list)
    unmapped_lines: int = 0
    cursor: datetime | None = None
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def cursor_text(self) -> str:
        return _iso(self.cursor) if self.cursor else ""


def _order_rows(
    order: StoreOrder, by_variant: VariantMap, by_sku: VariantMap
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ledger rows of one store order and its lines, each line mapped to its supplier variant."""
    address = order.shipping_address
    row = {
        "order_id": order.id,
        "name": order.name,
        "email": order.email,
        "customer_name": order.customer_name,
        "placed_at": order.created_at,
        "store_updated_at": order.updated_at,
        "financial_status": order.financial_status or "UNKNOWN",
        "fulfillment_status": order.fulfillment_status or "UNFULFILLED",
        "cancelled_at": order.cancelled_at,
        "currency": order.currency,
        "total_price": order.total_price,
        # Kept as the store sent it: the support workflow and the dashboard read it too.
        "shipping_address": address.model_dump(by_alias=True) if address else None,
        "country_code": address.country_code if address else None,
        "state": "new",
        "problem": None,
        "source": (order.tag_value("source:") or "organic")[:16],
    }
    lines = []
    for line in order.lines:
        mapped = by_variant.get(line.variant_id or "") or by_sku.get(line.sku or "")
        lines.append(
            {
                "line_id": line.id,
                "order_id": order.id,
                "store_variant_id": line.variant_id,
                "sku": line.sku,
                "title": (line.name or "")[:300],
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vid": mapped[0] if mapped else None,
                "pid": mapped[1] if mapped else None,
            }
        )
    return row, lines


def read_store_orders(
    shopify: ShopifyAdminResource,
    engine: Engine,
    overlap: timedelta,
    page_size: int,
    on_saved: Callable[[list[str]], None] | None = None,
) -> OrdersRead:
    """Every order changed since the cursor, upserted into the ledger, and the cursor moved on.

    The cursor is the newest `updatedAt` seen; each run looks again `overlap` before it, so orders that
    share a second with the cursor or land on a page boundary are never skipped. That window is checked
    with the store's change listing (id and `updatedAt`, ~1 point an order) against what the last full
    reads saw in it (`WINDOW_SEEN`; not the ledger's `store_updated_at`, which a webhook moves without
    reading the order): only an order they did not see at that `updatedAt` is read in full again (~14
    points), with everything changed after the cursor. Re-reading the whole window in full cost every run
    after a burst ~14 points per order of the burst, for nothing (issue 16: 4,162 of the tracking run's
    9,191 points).
    `on_saved` gets the ids of each batch once it is committed (a page's worth, or `SAVE_BATCH`), so the
    supplier stage can start on them while later pages are read."""
    with engine.connect() as conn:
        cursor = q.get_cursor(conn, ORDERS_CURSOR)
        recorded = q.get_cursor(conn, WINDOW_SEEN)
        by_variant, by_sku = q.variant_map(conn)
    seen: dict[str, str] | None = json.loads(recorded) if recorded else None
    result = OrdersRead(cursor=_parse_time(cursor) if cursor else None)
    # The store's clock before each page is asked for: every order on the page was read after it. Read
    # from the Date of the run's newest answer (the window check's, the page before), a probe only when
    # the run has had none; between, the machine's time since (the Date header's whole second and a
    # sandbox clock running ahead only make it earlier, so it stays a lower bound).
    clock = ShopClock(shopify, max_age_s=3600.0, from_answers=True)
    unsettled: set[str] = set()  # read within their updatedAt's second (read_within_its_second)
    since, inclusive = cursor, True
    counted: set[str] = set()  # seconds of the window checked by their count (`_window_missed`)
    if cursor:
        window = (_iso(_parse_time(cursor) - overlap), cursor)
        missed, counted = _window_missed(shopify, *window, seen)
        # Nothing missed: strictly after the cursor (the window is as the last reads saw it).
        since, inclusive = (_iso(min(missed)), True) if missed else (cursor, False)
    read_now: dict[str, str] = {}
    batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    payments: list[dict[str, Any]] = []  # gateway, fees, refunds, presentment currency (true profit)

    def flush() -> None:
        if not batch:
            return
        orders = [o for o, _ in batch]
        with engine.begin() as conn:
            known = q.known_order_ids(conn, [o["order_id"] for o in orders])
            q.save_orders(conn, orders, [line for _, lines in batch for line in lines])
            tracking_queries.save_payments(conn, payments)
        payments.clear()
        for order, lines in batch:
            if order["order_id"] not in known:
                result.new.append(order)
                result.unmapped_lines += sum(1 for line in lines if not line["vid"])
        saved = [o["order_id"] for o in orders]
        batch.clear()
        if on_saved is not None and not rereading:
            on_saved(saved)

    # Streamed, a batch is saved per page: the supplier stage waits for no more than one page.
    batch_size = SAVE_BATCH if on_saved is None else max(1, min(SAVE_BATCH, page_size))

    rereading = False  # a burst's first page read again: the supplier stage has had those orders

    def take(order: StoreOrder, asked_at: datetime) -> None:
        read_now[order.id] = _iso(order.updated_at)
        if read_within_its_second(order.updated_at, asked_at):
            unsettled.add(order.id)
        else:
            unsettled.discard(order.id)
        batch.append(_order_rows(order, by_variant, by_sku))
        payments.append(payment_row(order))
        if result.cursor is None or order.updated_at > result.cursor:
            result.cursor = order.updated_at
        if len(batch) >= batch_size:
            flush()

    def read_from(since: str | None, inclusive: bool) -> None:
        nonlocal rereading
        pages = shopify.order_pages_since(since, page_size, inclusive=inclusive)
        newest: datetime | None = None  # the latest updatedAt this read has reached
        first: list[StoreOrder] = []  # the read's first page
        pages_read = 0
        while True:
            asked_at = clock()
            if newest is not None and read_within_its_second(newest, asked_at):
                # The read has caught up with the store's present (a burst): the rest of it waits out
                # that second, so what the next pages hold is settled instead of read again next run.
                asked_at = wait_out_second(clock, newest)
            page = next(pages, None)
            if page is None:
                break
            first = first or list(page)
            pages_read += 1
            for order in page:
                result.read += 1
                take(order, asked_at)
                if newest is None or order.updated_at > newest:
                    newest = order.updated_at
        flush()
        if pages_read > 1 and any(o.id in unsettled for o in first):
            # A burst: its first page, read within its second, would leave the whole burst to be read
            # again next run (a second is re-read from its start). That page alone is read again now.
            asked_at = wait_out_second(clock, max(o.updated_at for o in first))
            rereading = True
            try:
                for order in next(shopify.order_pages_since(since, page_size, inclusive=inclusive), []):
                    take(order, asked_at)
                flush()
            finally:
                rereading = False

    read_from(since, inclusive)
    # A counted second one of its orders has left since (read now at a later change) may hide an order
    # the reads never saw in its place: that second is listed after all, and what it lacks read in full.
    while left := _left_counted(seen or {}, counted, read_now.items()):
        counted -= left
        missed = _missed(_listed(shopify, sorted(left)), {**(seen or {}), **read_now})
        if missed:
            read_from(_iso(min(missed)), True)
    if result.cursor is not None:
        # What the next run's window holds as read: the orders read in full within it, now or before.
        start = _iso(result.cursor - overlap)
        merged = {**(seen or {}), **read_now}
        window = {k: v for k, v in merged.items() if v >= start and k not in unsettled}
        with engine.begin() as conn:
            q.set_cursor(conn, ORDERS_CURSOR, _iso(result.cursor))
            q.set_cursor(conn, WINDOW_SEEN, json.dumps(window, sort_keys=True))
    with engine.connect() as conn:
        result.by_state = q.state_counts(conn)
    return result


def _window_missed(
    shopify: ShopifyAdminResource, since: str, through: str, seen: dict[str, str] | None
) -> tuple[list[datetime], set[str]]:
    """`updatedAt` of each order changed in [since, through] that no full read saw as changed then (a
    page boundary, a same-second change, the search index trailing), and the seconds taken on count. No
    record (the first run after an upgrade): every order in the window, read in full once as before.

    The window is listed (id and `updatedAt`, a point an order) except its seconds in which the reads saw
    many orders change (a burst placed at once): such a second holding as many orders as were seen at it
    is taken as seen, ~7 points where listing a burst of 300 cost 305 (issue 16: 0.84 of the tracking
    run's ceiling). An order the reads never saw there would have to stand in for one seen there that has
    changed since, and that one is found at its new `updatedAt`: in the window's listing (the second is
    then listed after all, here) or in the full read after the cursor (read_store_orders lists it then).
    Not found: one deleted from the store (`orderDelete`, an archived or cancelled order) in the very second
    an unseen one changed in; that one is read at its next change."""
    if seen is None:
        return _missed(shopify.order_changes(since, through), {}), set()
    at_second = Counter(at for at in seen.values() if since <= at <= through)
    dense = sorted(at for at, n in at_second.items() if n >= COUNTED_SECOND)
    ranges: list[tuple[str, str, bool]] = []  # the listed rest: the ranges between the dense seconds
    start = since
    for at in dense:
        if start < at:
            ranges.append((start, at, False))
        start = _next_second(at)
    if start <= through:
        ranges.append((start, through, True))
    # Side by side: each is a round trip or two before the run's first page (or post) can go.
    with ThreadPoolExecutor(max_workers=WINDOW_CALLS, thread_name_prefix="window") as pool:
        counts = [pool.submit(shopify.changed_count_is, at, _next_second(at), at_second[at]) for at in dense]
        listings = [
            pool.submit(lambda r: list(shopify.order_changes(r[0], r[1], through_inclusive=r[2])), r)
            for r in ranges
        ]
        counted = {at for at, count in zip(dense, counts, strict=True) if count.result()}
        changes = [change for listing in listings for change in listing.result()]
    changes += _listed(shopify, [at for at in dense if at not in counted])
    while left := _left_counted(seen, counted, ((c.id, _iso(c.updated_at)) for c in changes)):
        counted -= left
        changes += _listed(shopify, sorted(left))
    return _missed(changes, seen), counted


def _left_counted(seen: dict[str, str], counted: set[str], reads: Iterable[tuple[str, str]]) -> set[str]:
    """The counted seconds a seen order has left since (`reads`: order id and its `updatedAt` now): each may
    hide an order the reads never saw in its place, so it is listed after all."""
    return {second for order_id, at in reads if (second := seen.get(order_id)) in counted and second != at}


def _next_second(at: str) -> str:
    return _iso(_parse_time(at) + timedelta(seconds=1))


def _listed(shopify: ShopifyAdminResource, seconds: list[str]) -> list[OrderChange]:
    """The change listing of each of these whole seconds."""
    changes: list[OrderChange] = []
    for at in seconds:
        changes += shopify.order_changes(at, _next_second(at), through_inclusive=False)
    return changes


def _missed(changes: Iterable[OrderChange], seen: dict[str, str]) -> list[datetime]:
    """`updatedAt` of each listed change no full read saw."""
    return [c.updated_at for c in changes if seen.get(c.id) != _iso(c.updated_at)]


def read_within_its_second(updated_at: datetime, asked_at: datetime) -> bool:
    """A full read a later change might not show in: `updatedAt` counts whole seconds, so a read made
    within the second of the order's `updatedAt` may be followed, in that same second, by a change that
    keeps it (a customer's cancellation a moment after checkout). Such an order is not recorded as seen,
    and the next run reads it in full again. `asked_at` is the store's clock before its page was asked for."""
    return updated_at >= asked_at.replace(microsecond=0)


# At most this long waiting out a second (the clock is a lower bound that may lag the store by its Date
# header's whole second): past it the pages are read anyway and the next run reads the unsettled again.
WAIT_OUT_SECOND_MAX_S = 2.5


def wait_out_second(
    clock: Callable[[], datetime], updated_at: datetime, sleep: Callable[[float], None] = time.sleep
) -> datetime:
    """Sleep until the store's clock has left `updated_at`'s second; the clock's reading then."""
    waited, now = 0.0, clock()
    while read_within_its_second(updated_at, now) and waited < WAIT_OUT_SECOND_MAX_S:
        pause = max(0.05, (updated_at.replace(microsecond=0) + timedelta(seconds=1) - now).total_seconds())
        sleep(pause)
        waited += pause
        now = clock()
    return now


# --- supplier orders ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoutingSettings:
    max_shipping_days: int
    value_of_a_day: Decimal  # what a faster route may cost per worst-case transit day saved
    quote_max_age: timedelta
    pay_from_balance: bool


@dataclass
class SupplierOrdersRun:
    candidates: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    recovered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # orders finish in threads

    def count_recovered(self) -> None:
        with self.lock:
            self.recovered += 1


def _facts(order: dict[str, Any], lines: list[OrderLine]) -> OrderFacts:
    return OrderFacts(
        order_id=order["order_id"],
        name=order["name"],
        financial_status=order["financial_status"],
        cancelled=order["cancelled_at"] is not None,
        address=order["shipping_address"],
        lines=tuple(lines),
    )


def _shipping_address(stored: dict[str, Any]) -> ShippingAddress:
    """The ledger's copy of the store address (checked complete by `order_problem`) in supplier terms."""
    address = MailingAddress.model_validate(stored)
    return ShippingAddress(
        name=address.name or "",
        address1=address.address1 or "",
        city=address.city or "",
        country_code=address.country_code or "",
        zip=address.zip or "",
        address2=address.address2 or "",
        province=address.province or address.province_code or "",
        country=address.country or "",
        phone=address.phone or "",
    )


def _order_request(
    order: dict[str, Any],
    address: ShippingAddress,
    number: str,
    lines: list[OrderLine],
    route: str,
    pay: bool,
) -> SupplierOrderRequest:
    return SupplierOrderRequest(
        order_number=number,
        address=address,
        email=order.get("email") or "",
        customer_paid=Decimal(str(order["total_price"])),
        route=route,
        lines=[BasketLine(line.vid or "", line.quantity, line.line_id) for line in lines],
        pay_from_balance=pay,
    )


def _route(
    supplier: Supplier, engine: Engine, settings: RoutingSettings, country: str, lines: list[OrderLine]
) -> ShippingChoice | None:
    """The best route for this basket, from a quote cached per country and basket."""
    basket = sorted((line.vid or "", line.quantity) for line in lines)
    key = f"{country}|" + ",".join(f"{vid}:{qty}" for vid, qty in basket)
    with engine.connect() as conn:
        options = q.freight_quote(conn, key, q.now() - settings.quote_max_age)
    if options is None:
        quoted = supplier.freight_options(country, [BasketLine(vid, qty) for vid, qty in basket])
        options = [
            {"name": o.name, "price": str(o.price), "days_min": o.days_min, "days_max": o.days_max}
            for o in quoted
        ]
        with engine.begin() as conn:
            q.save_freight_quote(conn, key, options)
    choices = [ShippingChoice(o["name"], Decimal(o["price"]), o["days_min"], o["days_max"]) for o in options]
    return choose_shipping(choices, settings.max_shipping_days, settings.value_of_a_day)


def _mapped_lines(
    engine: Engine, order: dict[str, Any], by_variant: VariantMap, by_sku: VariantMap
) -> list[OrderLine]:
    """The order's lines mapped to supplier variants with today's listing ledger (a line listed after the
    order came in is mapped now)."""
    lines = []
    for line in order["lines"]:
        mapped = by_variant.get(line["store_variant_id"] or "") or by_sku.get(line["sku"] or "")
        vid = mapped[0] if mapped else None
        if vid != line["vid"]:
            with engine.begin() as conn:
                q.set_line_mapping(conn, line["line_id"], vid, mapped[1] if mapped else None)
        lines.append(OrderLine(line["line_id"], line["sku"], line["quantity"], vid))
    return lines


def _hold(engine: Engine, run: SupplierOrdersRun, order: dict[str, Any], reason: str) -> None:
    with engine.begin() as conn:
        q.hold_order(conn, order["order_id"], reason[:2000])
    run.held.append((order["name"], reason[:200]))


def place_supplier_orders(
    supplier: Supplier,
    engine: Engine,
    settings: RoutingSettings,
    max_orders: int,
    log: Log,
    gate: OrderGate | None = None,
) -> SupplierOrdersRun:
    """Each sendable store order placed once at the supplier; the rest held with a reason.

    The supplier order number is derived from the store order ("#1001" -> "shopify-1001") and the ledger
    row is written before the supplier is called. A row found pending means an earlier run may have died
    after the supplier accepted: the supplier is asked for that number first, and its own "order exists"
    refusal is read the same way, so no order ever reaches the supplier twice.

    Orders go a few at a time (each one claimed in the ledger before its own supplier call), so the
    supplier's rate limit, not one order's round trips, sets the pace.

    With a `gate` (services/order_gate.py), each order passes it right before its supplier order is
    claimed: one in its cancellation buffer waits, one that fails is held at the store with the reason."""
    with engine.connect() as conn:
        work = q.orders_to_send(conn, max_orders)
        by_variant, by_sku = q.variant_map(conn)
    run = SupplierOrdersRun(candidates=len(work))
    sender = _sender(supplier, engine, settings, by_variant, by_sku, run, log, gate)
    each_in_flight(sender, work, at_once=SUPPLIER_IN_FLIGHT)
    return run


def read_and_place_orders(
    shopify: ShopifyAdminResource,
    supplier: Supplier,
    engine: Engine,
    *,
    overlap: timedelta,
    page_size: int,
    settings: RoutingSettings,
    max_orders: int,
    log: Log,
    gate: OrderGate | None = None,
) -> tuple[OrdersRead, SupplierOrdersRun]:
    """`read_store_orders` and `place_supplier_orders` overlapped: the orders waiting in the ledger, then
    each page's sendable orders as soon as the page is saved, go to the supplier a few at a time while the
    next pages are read. The store read is bound by Shopify's cost bucket and the supplier orders by CJ's
    QPS, so side by side the run takes about the longer of the two instead of their sum.

    Each order is handed on once per run (an order re-read on a later page is skipped), and each one goes
    through the same `_place` as the batch path: claimed in the ledger before its supplier call, a pending
    claim resolved by asking the supplier first. So a second run overlapping this one (or a re-read in the
    overlap window) changes when an order is sent, never how often."""
    with engine.connect() as conn:
        waiting = q.orders_to_send(conn, max_orders)
        by_variant, by_sku = q.variant_map(conn)
    run = SupplierOrdersRun()
    taken: set[str] = set()
    # The read stays about two pages ahead of the supplier stage: read as fast as the bucket allows, it
    # would spend all of Shopify's points while the gate's own queries (same bucket) waited behind it.
    sender = _sender(supplier, engine, settings, by_variant, by_sku, run, log, gate)
    with InFlight(sender, at_once=SUPPLIER_IN_FLIGHT, max_waiting=2 * page_size) as stage:

        def offer(orders: list[dict[str, Any]]) -> None:
            for order in orders:
                if order["order_id"] in taken or len(taken) >= max_orders:
                    continue
                taken.add(order["order_id"])
                run.candidates += 1
                stage.submit(order)

        def on_saved(order_ids: list[str]) -> None:
            with engine.connect() as conn:
                offer(q.orders_to_send(conn, max_orders, among=order_ids))

        offer(waiting)
        read = read_store_orders(shopify, engine, overlap, page_size, on_saved=on_saved)
    return read, run


def _sender(
    supplier: Supplier,
    engine: Engine,
    settings: RoutingSettings,
    by_variant: VariantMap,
    by_sku: VariantMap,
    run: SupplierOrdersRun,
    log: Log,
    gate: OrderGate | None,
) -> Callable[[dict[str, Any]], None]:
    """One order's supplier step: mapped with today's listings, held by the rules, or placed (`_place`)."""

    def send(order: dict[str, Any]) -> None:
        lines = _mapped_lines(engine, order, by_variant, by_sku)
        problem = order_problem(_facts(order, lines))
        if problem:
            if order["problem"] != problem:
                with engine.begin() as conn:
                    q.hold_order(conn, order["order_id"], problem)
                log.warning("order %s (%s): held: %s", order["name"], order["order_id"], problem)
            with run.lock:
                run.held.append((order["name"], problem))
            return
        _place(supplier, engine, settings, order, lines, run, log, gate)

    return send


def _place(
    supplier: Supplier,
    engine: Engine,
    settings: RoutingSettings,
    order: dict[str, Any],
    lines: list[OrderLine],
    run: SupplierOrdersRun,
    log: Log,
    gate: OrderGate | None = None,
) -> None:
    number = supplier_order_number(order["name"])
    address = _shipping_address(order["shipping_address"])
    country = address.country_code
    with engine.connect() as conn:
        ledger = q.supplier_order(conn, number)
    try:
        if ledger is not None:
            # Sent before and not confirmed: the supplier may already have it.
            existing = supplier.find_order(number)
            if existing is not None:
                with engine.begin() as conn:
                    q.finish_supplier_order(conn, number, order["order_id"], existing)
                run.count_recovered()
                log.info("order %s: already at the supplier as %s", number, existing.supplier_order_id)
                return
        route = _route(supplier, engine, settings, country, lines)
    except PermanentApiError as error:
        _hold(engine, run, order, f"no shipping quote: {error}")
        return
    except ApiError as error:
        run.failed.append((order["name"], str(error)[:200]))
        log.warning("order %s: supplier unavailable, next run retries: %s", number, error)
        return
    if route is None:
        _hold(engine, run, order, f"no shipping route to {country}")
        return
    if gate is not None:
        try:
            verdict = gate.check(order, lines, route, log)
        except ApiError as error:
            run.failed.append((order["name"], f"gate: {error}"[:200]))
            log.warning("order %s: gate could not read its facts, next run retries: %s", number, error)
            return
        if not verdict.passed:
            if not verdict.waiting:
                run.held.append((order["name"], (verdict.note or "held by the gate")[:200]))
            return
    with engine.begin() as conn:
        q.begin_supplier_order(conn, number, order["order_id"], route.name)
        # The store's cancellation may have come in since this run read its work (a webhook, another run):
        # never pay the supplier for it (services/order_cancellations.py then reads it as never sent).
        if refund_queries.store_cancelled(conn, order["order_id"]):
            refund_queries.withdraw_pending(conn, number)
            log.info("order %s: cancelled at the store before it was sent, not sent", number)
            return
    request = _order_request(order, address, number, lines, route.name, settings.pay_from_balance)
    try:
        created = _create_once(supplier, request, run)
    except ApiError as error:
        permanent = isinstance(error, PermanentApiError)
        with engine.begin() as conn:
            q.fail_supplier_order(conn, number, order["order_id"], str(error), permanent=permanent)
        (run.held if permanent else run.failed).append((order["name"], str(error)[:200]))
        log.warning(
            "order %s: supplier %s: %s", number, "refused" if permanent else "unavailable, will retry", error
        )
        return
    with engine.begin() as conn:
        q.finish_supplier_order(conn, number, order["order_id"], created)
    run.sent.append(
        {
            "order_number": number,
            "supplier_order_id": created.supplier_order_id,
            "route": route.name,
            "cost": created.total_amount,
            "customer_paid": order["total_price"],
        }
    )
    log.info("order %s: placed at the supplier as %s via %s", number, created.supplier_order_id, route.name)


def _create_once(supplier: Supplier, request: SupplierOrderRequest, run: SupplierOrdersRun) -> SupplierOrder:
    try:
        return supplier.create_order(request)
    except DuplicateOrderError:
        # An earlier attempt whose answer was lost got through: read the order the supplier has.
        found = supplier.find_order(request.order_number)
        if found is None:
            raise
        run.count_recovered()
        return found


# --- tracking: services/tracking.py (first-scan email, changed numbers, stalls, lost parcels) -----------
