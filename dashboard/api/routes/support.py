"""The Customer service page: the support workflow's tickets and replies, and the escalations an operator
edits or approves (approval sends the reply with the workflow's own function, once)."""

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.actions import ActionConflict, ActionRefused
from dashboard.api.cache import ORDERS, Cached
from dashboard.api.deps import ACTION, DashboardDep, Limit, Offset, StoreDep, Text, page_of
from dashboard.api.reasons import reason_text
from dashboard.api.store import Store, dashboard_actions, page, record_action, update_action
from dropship_pipelines.store.fulfillment_tables import fulfillments, store_orders, supplier_orders
from dropship_pipelines.store.support_tables import support_messages, support_replies, support_tickets

log = logging.getLogger("dashboard")
router = APIRouter(prefix="/support", tags=["support"])

NO_SUPPORT = (
    "the customer-service tables (support_tickets, support_replies, support_messages) are not in this "
    "store database yet"
)
DECISIONS = ("approve_reply", "edit_reply")  # kinds of an operator's decision in dashboard_actions
ESCALATED = "escalated"
APPROVED = "approved"  # claimed by an approval whose send has not finished (a crash is retried)


def ticket_status() -> sa.ColumnElement[str]:
    """The ticket's status as the ledger knows it: the helpdesk's copy is only as new as the last read,
    so a ticket whose newest customer message was answered (the reply sent, which closes the ticket at
    the helpdesk) with nothing else waiting shows closed before the next read says so."""
    t, r = support_tickets.c, support_replies.c
    newest = r.received_at >= t.last_received_at
    answered = sa.exists().where(r.ticket_id == t.ticket_id, r.state == "sent", newest)
    waiting = sa.exists().where(r.ticket_id == t.ticket_id, r.state != "sent")
    return sa.case((sa.and_(t.status == "open", answered, ~waiting), "closed"), else_=t.status)


def ticket_rows(conn: Connection, status: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
    t, r = support_tickets.c, support_replies.c
    shown = ticket_status()
    query = sa.select(
        t.ticket_id,
        shown.label("status"),
        t.status.label("helpdesk_status"),
        t.subject,
        t.customer_email,
        t.customer_name,
        t.last_received_at,
    )
    # Without a status filter the derived status changes no row count: count the tickets alone (not
    # the status's two subqueries for every ticket of the helpdesk's history).
    count = sa.select(sa.func.count()).select_from(support_tickets)
    if status:
        query = query.where(shown == status)
        count = None
    rows, total = page(conn, query, [t.last_received_at.desc(), t.ticket_id], limit, offset, count)
    # Reply counts for this page's tickets only: grouping every reply of the helpdesk's history per
    # request grows with it.
    counts = {
        ticket_id: (int(replies), int(escalated or 0))
        for ticket_id, replies, escalated in conn.execute(
            sa.select(r.ticket_id, sa.func.count(), sa.func.sum(sa.case((r.state == ESCALATED, 1), else_=0)))
            .where(r.ticket_id.in_([row["ticket_id"] for row in rows]))
            .group_by(r.ticket_id)
        )
    }
    for row in rows:
        row["subject"] = row["subject"] or ""
        row["replies"], row["escalated"] = counts.get(row["ticket_id"], (0, 0))
    return rows, total


def latest_decisions(conn: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    if not keys:
        return {}
    d = dashboard_actions.c
    rows = conn.execute(
        sa.select(dashboard_actions).where(d.kind.in_(DECISIONS), d.target.in_(keys)).order_by(d.action_id)
    ).mappings()
    return {row["target"]: dict(row) for row in rows}


def reply_rows(
    conn: Connection, state: str | None, limit: int, offset: int, reply_key: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    t, r, msg = support_tickets.c, support_replies.c, support_messages.c
    query = sa.select(
        r.reply_key,
        r.ticket_id,
        r.state,
        t.subject,
        t.customer_email,
        r.intent,
        r.confidence,
        r.reason,
        r.reply_text,
        r.received_at,
        r.answered_at,
        (r.prompt_tokens + r.completion_tokens).label("tokens"),
        r.validation_problems.label("gate_reasons"),
        msg.body_text.label("customer_message"),
        r.order_name,
        *([r.draft] if "draft" in r else []),  # the model's structured draft, once the ledger keeps it
    )
    # Filters are on support_replies and the joins are to one ticket and one message: count it alone,
    # and choose the page's keys from it alone, so only that page's rows are joined.
    where: list[sa.ColumnElement[bool]] = []
    if state:
        where.append(r.state == state)
    if reply_key:
        where.append(r.reply_key == reply_key)
    count = sa.select(sa.func.count()).select_from(support_replies).where(*where)
    keys = (
        sa.select(r.reply_key.label("key"), r.received_at.label("at"))
        .where(*where)
        .order_by(r.received_at.desc(), r.reply_key)
        .limit(limit)
        .offset(offset)
        .subquery("page_keys")
    )
    query = query.select_from(
        keys.join(support_replies, r.reply_key == keys.c.key)
        .outerjoin(support_tickets, t.ticket_id == r.ticket_id)
        .outerjoin(support_messages, msg.message_id == r.message_id)
    )
    rows, total = page(conn, query, [keys.c.at.desc(), keys.c.key], limit, 0, count)
    decisions = latest_decisions(conn, [row["reply_key"] for row in rows])
    orders = order_facts(conn, {row["order_name"] for row in rows if row["order_name"]})
    for row in rows:
        row["reason_text"] = reason_text(row["reason"])
        row["order"] = orders.get(row["order_name"])
        row.setdefault("draft", None)
        row["tokens"] = int(row["tokens"] or 0)
        row["gate_reasons"] = [str(reason) for reason in row["gate_reasons"] or []]
        decision = decisions.get(row["reply_key"])
        row["decision"] = decision["kind"].removesuffix("_reply") if decision else None
        row["decision_status"] = decision["status"] if decision else None
        row["decision_text"] = (decision["detail"] or {}).get("text") if decision else None
    return rows, total


def order_facts(conn: Connection, names: set[str]) -> dict[str, dict[str, Any]]:
    """The facts of the orders the replies are about, by order name: what the operator answers with."""
    if not names:
        return {}
    o, so, f = store_orders.c, supplier_orders.c, fulfillments.c
    query = sa.select(
        o.name,
        o.order_id,
        o.placed_at,
        o.total_price,
        o.currency,
        o.state,
        o.financial_status,
        o.problem,
        o.cancelled_at,
        so.supplier_status,
        sa.func.coalesce(so.track_number, f.track_number).label("track_number"),
        sa.func.coalesce(so.carrier, f.carrier).label("carrier"),
        sa.func.coalesce(so.tracking_url, f.tracking_url).label("tracking_url"),
    ).select_from(
        store_orders.outerjoin(supplier_orders, so.order_id == o.order_id).outerjoin(
            fulfillments, f.order_id == o.order_id
        )
    )
    return {row["name"]: dict(row) for row in conn.execute(query.where(o.name.in_(sorted(names)))).mappings()}


# The tables each page is read from (dashboard/api/cache.py): a reply shows its order's facts and the
# operator's decision (dashboard_actions).
REPLY_TABLES = ("support_replies", "support_tickets", "support_messages", "dashboard_actions", *ORDERS)
REPLIES = Cached(m.Page[m.Reply], REPLY_TABLES)
TICKETS = Cached(m.Page[m.Ticket], ("support_tickets", "support_replies"))


async def replies_page(store: Store, state: str | None, limit: int, offset: int) -> Response | dict:
    if not store.support_available:
        return page_of([], 0, limit, offset)
    key = ("replies", state, limit, offset)
    return await REPLIES.respond(
        store, key, lambda conn: page_of(*reply_rows(conn, state, limit, offset), limit, offset)
    )


def escalation(store: Store, reply_key: str) -> dict[str, Any]:
    """The reply an operator acts on: it must exist and still wait for a human."""
    if not store.support_available:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUPPORT)
    with store.connect() as conn:
        rows, _ = reply_rows(conn, None, 1, 0, reply_key=reply_key)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such reply")
    if rows[0]["state"] not in (ESCALATED, APPROVED):
        raise HTTPException(status.HTTP_409_CONFLICT, f"the reply is {rows[0]['state']}, not escalated")
    return rows[0]


@router.get("/status", response_model=m.SupportStatus)
async def support_status(store: StoreDep) -> dict:
    return {"available": store.support_available, "note": "" if store.support_available else NO_SUPPORT}


@router.get("/tickets", response_model=m.Page[m.Ticket])
async def tickets(
    store: StoreDep, status: Text = None, limit: Limit = 50, offset: Offset = 0
) -> Response | dict:
    if not store.support_available:
        return page_of([], 0, limit, offset)
    key = ("tickets", status, limit, offset)
    return await TICKETS.respond(
        store, key, lambda conn: page_of(*ticket_rows(conn, status, limit, offset), limit, offset)
    )


@router.get("/replies", response_model=m.Page[m.Reply])
async def replies(
    store: StoreDep, state: Text = None, limit: Limit = 50, offset: Offset = 0
) -> Response | dict:
    return await replies_page(store, state, limit, offset)


@router.get("/escalations", response_model=m.Page[m.Reply])
async def escalations(store: StoreDep, limit: Limit = 50, offset: Offset = 0) -> Response | dict:
    return await replies_page(store, ESCALATED, limit, offset)


@router.post(
    "/escalations/{reply_key}/edit",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={404: {"description": "no such reply"}, 409: {"description": "not escalated"}},
)
def edit_reply(reply_key: str, body: m.ReplyDecision, store: StoreDep) -> dict:
    """Save an edited reply without sending it."""
    escalation(store, reply_key)
    if not (body.text or "").strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "an edit needs a text")
    with store.engine.begin() as conn:
        detail = {"text": body.text}
        action_id = record_action(conn, "edit_reply", reply_key, detail, "recorded", "draft saved")
    return {"action_id": action_id, "status": "recorded", "message": "draft saved"}


@router.post(
    "/escalations/{reply_key}/approve",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={
        404: {"description": "no such reply"},
        409: {"description": "not escalated"},
        422: {"description": "no text, or the last gate refused it (`detail.reasons` say why)"},
    },
)
def approve_reply(reply_key: str, body: m.ReplyDecision, dashboard: DashboardDep) -> dict:
    """Approve the reply (the AI draft, or the text given) and send it to the customer."""
    store = dashboard.store
    found = escalation(store, reply_key)
    text = (
        (body.text or "").strip()
        or (found["decision_text"] or "").strip()
        or (found["reply_text"] or "").strip()
    )
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no draft to approve: send a text")
    if found["decision"] == "approve" and found["decision_status"] in ("done", "recorded"):
        raise HTTPException(status.HTTP_409_CONFLICT, "already approved")
    note = "approval recorded; the support workflow has no send function for approved replies yet"
    with store.engine.begin() as conn:
        action_id = record_action(conn, "approve_reply", reply_key, {"text": text}, "recorded", note)
    if dashboard.send_reply is None:
        return {"action_id": action_id, "status": "recorded", "message": note}
    try:
        sent = dashboard.send_reply(reply_key, text)
    except ActionConflict as exc:
        with store.engine.begin() as conn:
            update_action(conn, action_id, "failed", str(exc)[:500])
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except ActionRefused as exc:
        # Nothing was sent and the reply stays escalated: the operator edits the text and approves again.
        with store.engine.begin() as conn:
            update_action(conn, action_id, "failed", str(exc)[:500])
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "message": "the reply states what its order, policy and actions do not hold",
                "reasons": exc.reasons,
            },
        ) from exc
    except Exception as exc:
        log.warning("sending approved reply %s failed: %s", reply_key, exc)
        with store.engine.begin() as conn:
            update_action(conn, action_id, "failed", f"sending failed: {type(exc).__name__}")
        return {"action_id": action_id, "status": "failed", "message": f"sending failed: {exc}"}
    with store.engine.begin() as conn:
        update_action(conn, action_id, "done", f"sent ({sent})")
    return {"action_id": action_id, "status": "done", "message": f"sent ({sent})"}
