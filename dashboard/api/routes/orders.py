"""The Orders page: the fulfillment ledger (store order, supplier order, fulfillment) and what needs help.

A held order (the fulfillment workflow found it cannot be placed: a destination the supplier does not
ship to, a variant not mapped) has two actions. Retry, once the operator fixed the cause: the hold is
released in the ledger by a conditional update (only a held order is released, so two clicks release it
once) and the fulfillment job is launched; a cause still there holds it again, with the reason. Cancel:
the support workflow's order actions (`services.order_actions`), claimed in `order_actions` before the
store is called, so two clicks cancel once."""

import base64
import binascii
import logging
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.actions import ActionUnavailable
from dashboard.api.cache import ORDERS, Cached
from dashboard.api.deps import (
    ACTION,
    DashboardDep,
    End,
    Limit,
    Offset,
    Start,
    StoreDep,
    Text,
    check_range,
)
from dashboard.api.runs import RunLaunchError
from dashboard.api.store import (
    bind_time,
    bounded_count,
    count_label,
    record_action,
    update_action,
    utc,
)
from dropship_pipelines.store.analytics_queries import utc_start
from dropship_pipelines.store.fulfillment_tables import (
    NEEDS_ATTENTION,
    fulfillments,
    store_orders,
    supplier_orders,
)

log = logging.getLogger("dashboard")
router = APIRouter(tags=["orders"])
HELD = "problem"  # the state the fulfillment workflow holds an order in (store_orders.state)
FULFILLMENT_JOB = "order_fulfillment_job"
HELD_ACTIONS = ["retry", "cancel"]
BAD_CURSOR = "after: not a cursor of this API (pass the previous page's next_after)"
Cursor = Annotated[str | None, Query(max_length=300, description="the previous page's next_after")]


def encode_after(placed_at: datetime, order_id: str) -> str:
    """The keyset cursor of a page's last row: opaque to the client, (placed_at, order_id) to us."""
    return base64.urlsafe_b64encode(f"{utc(placed_at).isoformat()}|{order_id}".encode()).decode()


def decode_after(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, order_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        moment = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, BAD_CURSOR) from exc
    if moment.tzinfo is None or not order_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, BAD_CURSOR)
    return moment, order_id


def order_rows(
    conn: Connection,
    state: str | None,
    needs_attention: bool | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
    after: str | None = None,
) -> dict[str, Any]:
    """One page of orders, newest first ((placed_at, order_id) descending), and its bounded count.

    Every filter is on store_orders and each has an index in page order (the stored needs-attention
    flag, state, placed_at), so the page is chosen from store_orders alone, `limit` + 1 keys read from
    an index; only those rows are joined to their supplier order and fulfillment (one each at most).
    `after` (the previous page's `next_after`) continues from a row rather than skipping `offset` rows: no
    row is repeated or skipped when orders arrive between two pages."""
    o, so, f = store_orders.c, supplier_orders.c, fulfillments.c
    where: list[sa.ColumnElement[bool]] = []
    if state:
        where.append(o.state == state)
    if needs_attention is not None:
        where.append(NEEDS_ATTENTION if needs_attention else o.needs_attention == sa.false())
    if start:
        where.append(o.placed_at >= bind_time(conn, utc_start(start)))
    if end:
        where.append(o.placed_at < bind_time(conn, utc_start(end + timedelta(days=1))))
    # A constant, not a column: the filter's index alone answers the count (no row is read).
    total, exact = bounded_count(conn, sa.select(sa.literal(1)).select_from(store_orders).where(*where))
    if after:
        at, order_id = decode_after(after)
        at = bind_time(conn, at)
        # (placed_at, order_id) < (at, order_id), spelled so that both databases range-scan placed_at.
        keyset = [o.placed_at <= at, sa.or_(o.placed_at < at, o.order_id < order_id)]
    else:
        keyset = []
    keys = (
        sa.select(o.order_id, o.placed_at)
        .where(*where, *keyset)
        .order_by(o.placed_at.desc(), o.order_id.desc())
        .limit(limit + 1)
        .offset(offset)
        .subquery("page_keys")
    )
    query = (
        sa.select(
            o.order_id,
            o.name,
            o.customer_name,
            o.placed_at,
            o.total_price,
            o.state,
            o.source,
            o.financial_status,
            o.problem,
            so.state.label("supplier_state"),
            so.supplier_status,
            so.last_error.label("supplier_error"),
            sa.func.coalesce(so.track_number, f.track_number).label("track_number"),
            sa.func.coalesce(so.carrier, f.carrier).label("carrier"),
            sa.func.coalesce(so.tracking_url, f.tracking_url).label("tracking_url"),
            f.state.label("fulfillment_state"),
            o.needs_attention,
        )
        .select_from(
            keys.join(store_orders, o.order_id == keys.c.order_id)
            .outerjoin(supplier_orders, so.order_id == o.order_id)
            .outerjoin(fulfillments, f.order_id == o.order_id)
        )
        .order_by(keys.c.placed_at.desc(), keys.c.order_id.desc())
    )
    rows = [dict(r) for r in conn.execute(query).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["needs_attention"] = bool(row["needs_attention"])
        row["actions"] = list(HELD_ACTIONS) if row["state"] == HELD else []
    last = rows[-1] if rows and more else None
    return {
        "items": rows,
        "total": total,
        "limit": limit,
        "offset": offset,
        "total_exact": exact,
        "total_label": count_label(total, exact),
        "next_after": encode_after(last["placed_at"], last["order_id"]) if last else None,
    }


def release_hold(conn: Connection, order_id: str) -> str:
    """Release a held order for the next fulfillment run; the problem it was held for. Only a held order
    is released (a conditional update), so of two concurrent releases one acts and the other is told."""
    o = store_orders.c
    found = conn.execute(sa.select(o.state, o.problem).where(o.order_id == order_id)).first()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such order")
    held = sa.update(store_orders).where(o.order_id == order_id, o.state == HELD)
    released = conn.execute(held.values(state="new", problem=None))
    if released.rowcount != 1:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the order is {found.state}, not held")
    return found.problem or ""


ORDER_PAGE = Cached(m.OrderPage[m.Order], ORDERS)


@router.get("/orders", response_model=m.OrderPage[m.Order])
async def orders(
    store: StoreDep,
    state: Text = None,
    needs_attention: bool | None = None,
    start: Start = None,
    end: End = None,
    limit: Limit = 50,
    offset: Offset = 0,
    after: Cursor = None,
) -> Response:
    """Orders newest first. Page with `after` (the previous page's `next_after`); `offset` still works
    but skips rows one by one. `total` counts up to 10,000 (`total_exact` false past that)."""
    check_range(start, end)
    if after and offset:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give after or offset, not both")
    args = (state, needs_attention, start, end, limit, offset, after)
    return await ORDER_PAGE.respond(store, ("orders", *args), lambda conn: order_rows(conn, *args))


@router.post(
    "/orders/{order_id:path}/retry",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={404: {"description": "no such order"}, 409: {"description": "not held"}},
)
def retry_order(order_id: str, dashboard: DashboardDep) -> dict:
    """Place a held order again, after its cause was fixed: released, and the fulfillment job launched."""
    with dashboard.store.engine.begin() as conn:
        problem = release_hold(conn, order_id)
        note = "released: the next fulfillment run places it (or holds it again, saying why)"
        action_id = record_action(conn, "retry_order", order_id, {"problem": problem}, "done", note)
    if FULFILLMENT_JOB not in dashboard.jobs:
        return {"action_id": action_id, "status": "done", "message": note}
    try:
        run_id = dashboard.launcher.launch(FULFILLMENT_JOB)
    except RunLaunchError as exc:
        message = f"released; the fulfillment run was not launched ({exc}), the schedule's next run places it"
    else:
        message = f"released; fulfillment run {run_id[:8]} launched"
    with dashboard.store.engine.begin() as conn:
        update_action(conn, action_id, "done", message)
    return {"action_id": action_id, "status": "done", "message": message}


@router.post(
    "/orders/{order_id:path}/cancel",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={404: {"description": "no such order"}, 409: {"description": "not held, or being cancelled"}},
)
def cancel_order(order_id: str, dashboard: DashboardDep) -> dict:
    """Cancel a held order at the store (its payment refunded, an unpaid supplier order withdrawn)."""
    store = dashboard.store
    with store.connect() as conn:
        o = store_orders.c
        state = conn.execute(sa.select(o.state).where(o.order_id == order_id)).scalar()
    if state is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such order")
    if state not in (HELD, "cancelled"):  # a cancelled one answers with what was done, once
        raise HTTPException(status.HTTP_409_CONFLICT, f"the order is {state}, not held")
    with store.engine.begin() as conn:
        no_client = "recorded only: the dashboard has no store client, the order is not cancelled"
        action_id = record_action(conn, "cancel_order", order_id, {}, "recorded", no_client)
    if dashboard.cancel_order is None:
        return {"action_id": action_id, "status": "recorded", "message": no_client}
    try:
        result = dashboard.cancel_order(order_id)
    except ActionUnavailable as exc:
        outcome, message = "recorded", f"recorded only: {exc}, the order is not cancelled"
    else:
        if result.done:
            outcome, message = "done", "cancelled at the store (the payment refunded)"
        else:
            outcome, message = "failed", f"not cancelled: {result.reason}"
    with store.engine.begin() as conn:
        update_action(conn, action_id, outcome, message)
    if outcome == "failed" and "in progress" in message:
        raise HTTPException(status.HTTP_409_CONFLICT, message)
    return {"action_id": action_id, "status": outcome, "message": message}
