"""Reads and writes of the support workflow: tickets in, order facts out, the reply ledger."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.rules.reply_context import OrderFacts
from dropship_pipelines.rules.support_prompts import order_status
from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.fulfillment_tables import (
    fulfillments,
    store_order_lines,
    store_orders,
    supplier_orders,
)
from dropship_pipelines.store.schema import sync_cursors
from dropship_pipelines.store.support_tables import support_messages, support_replies, support_tickets
from dropship_pipelines.store.tracking_queries import stall_of

CURSOR_NAME = "support_tickets.last_received_at"
OPEN_STATES = ("drafting", "sending")


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- cursor ----------------------------------------------------------------------------------------------
def read_cursor(conn: Connection) -> datetime | None:
    value = conn.execute(sa.select(sync_cursors.c.value).where(sync_cursors.c.name == CURSOR_NAME)).scalar()
    return datetime.fromisoformat(value) if value else None


def write_cursor(conn: Connection, value: datetime) -> None:
    upsert(conn, sync_cursors, [{"name": CURSOR_NAME, "value": value.isoformat()}], keys=["name"])


# --- tickets and messages ----------------------------------------------------------------------------------
def save_tickets(conn: Connection, tickets: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    upsert(conn, support_tickets, tickets, keys=["ticket_id"])
    upsert(conn, support_messages, messages, keys=["message_id"])


def unanswered(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Per ticket, its newest incoming message that no ledger row covers, oldest tickets first."""
    m, r, t = support_messages, support_replies, support_tickets
    newest = (
        sa.select(m.c.ticket_id, sa.func.max(m.c.sent_at).label("sent_at"))
        .where(~m.c.from_agent, m.c.public)
        .group_by(m.c.ticket_id)
        .subquery()
    )
    query = (
        sa.select(
            m,
            t.c.customer_email,
            t.c.customer_name,
            t.c.channel,
            t.c.subject.label("ticket_subject"),
            t.c.tags.label("ticket_tags"),
        )
        .select_from(
            m.join(
                newest, sa.and_(newest.c.ticket_id == m.c.ticket_id, newest.c.sent_at == m.c.sent_at)
            ).join(t, t.c.ticket_id == m.c.ticket_id)
        )
        .where(~sa.exists().where(r.c.message_id == m.c.message_id))
        .where(~m.c.from_agent)
        .order_by(m.c.sent_at, m.c.message_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def in_flight(conn: Connection) -> list[dict[str, Any]]:
    """Ledger rows a previous run left half done (killed between claim and record)."""
    query = (
        sa.select(
            support_replies,
            support_tickets.c.customer_email,
            support_tickets.c.subject.label("ticket_subject"),
            support_tickets.c.tags,
        )
        .select_from(
            support_replies.join(support_tickets, support_tickets.c.ticket_id == support_replies.c.ticket_id)
        )
        .where(support_replies.c.state.in_(OPEN_STATES))
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def messages_of_ticket(conn: Connection, ticket_id: str) -> list[dict[str, Any]]:
    query = sa.select(support_messages).where(support_messages.c.ticket_id == ticket_id)
    return [dict(row._mapping) for row in conn.execute(query.order_by(support_messages.c.sent_at))]


# --- order facts -------------------------------------------------------------------------------------------
def _facts(conn: Connection, order: Any) -> OrderFacts:
    supplier = conn.execute(
        sa.select(supplier_orders).where(supplier_orders.c.order_id == order.order_id)
    ).first()
    fulfilled = conn.execute(sa.select(fulfillments).where(fulfillments.c.order_id == order.order_id)).first()
    titles = conn.execute(
        sa.select(store_order_lines.c.title).where(store_order_lines.c.order_id == order.order_id)
    ).scalars()
    track = (fulfilled.track_number if fulfilled else None) or (supplier.track_number if supplier else None)
    carrier = (fulfilled.carrier if fulfilled else None) or (supplier.carrier if supplier else None)
    url = (fulfilled.tracking_url if fulfilled else None) or (supplier.tracking_url if supplier else None)
    supplier_status = supplier.supplier_status if supplier else None
    shipped_at = as_utc(fulfilled.posted_at) if fulfilled and fulfilled.posted_at else None
    first_name = (order.customer_name or "").split(" ")[0] or None
    stall = stall_of(conn, order.order_id)  # stalled / lost parcels: told honestly
    return OrderFacts(
        order_name=order.name,
        status=order_status(order.state, supplier_status, track, order.cancelled_at is not None, stall),
        placed_on=as_utc(order.placed_at).date(),  # type: ignore[union-attr]
        total=Decimal(str(order.total_price)),
        currency=order.currency,
        items=tuple(dict.fromkeys(t for t in titles if t)),
        supplier_status=supplier_status,
        track_number=track or None,
        carrier=carrier,
        tracking_url=url,
        shipped_on=shipped_at.date() if shipped_at else None,
        customer_first_name=first_name,
        tracking_stall=stall,
    )


class _Row:
    """A mapping row read by attribute (what `_facts` reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def facts_of(conn: Connection, order: dict[str, Any]) -> OrderFacts:
    """Everything a reply may state about this ledger order."""
    return _facts(conn, _Row(order))


def orders_named(conn: Connection, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The ledger's orders with these names (a name can repeat across stores' imports: all of them)."""
    if not names:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(sa.select(store_orders).where(store_orders.c.name.in_(names))).mappings():
        found.setdefault(row["name"], []).append(dict(row))
    return found


def order_named(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(store_orders).where(store_orders.c.name == name).limit(1)).first()
    return dict(row._mapping) if row else None


def latest_order_of(conn: Connection, email: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(store_orders)
        .where(sa.func.lower(store_orders.c.email) == email.lower())
        .order_by(store_orders.c.placed_at.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


# --- what messages cost: the caps and the budget -----------------------------------------------------------
def _day_bounds(conn: Connection, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    if conn.dialect.name == "sqlite":  # SQLite compares the stored naive UTC text
        return start.replace(tzinfo=None), end.replace(tzinfo=None)
    return start, end


def messages_from_sender_on(conn: Connection, sender: str | None, message: dict[str, Any]) -> int:
    """Customer messages of this sender (by email; by ticket when there is none) on the UTC day of
    `message`, up to and including it (a later message never uses up an earlier one's place)."""
    m = support_messages
    at = as_utc(message["sent_at"])
    assert at is not None
    start, _ = _day_bounds(conn, at.date())
    until = at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at
    who = sa.func.lower(m.c.sender_email) == sender if sender else m.c.ticket_id == message["ticket_id"]
    earlier = sa.or_(
        m.c.sent_at < until, sa.and_(m.c.sent_at == until, m.c.message_id <= message["message_id"])
    )
    query = sa.select(sa.func.count()).where(~m.c.from_agent, who, m.c.sent_at >= start, earlier)
    return int(conn.execute(query).scalar_one())


def replies_received_on(conn: Connection, day: date) -> int:
    """Messages claimed for an answer whose customer wrote on `day` (UTC)."""
    start, end = _day_bounds(conn, day)
    r = support_replies
    query = sa.select(sa.func.count()).where(r.c.received_at >= start, r.c.received_at < end)
    return int(conn.execute(query).scalar_one())


def tokens_on(conn: Connection, day: date) -> int:
    """LLM tokens (prompt + completion) spent on replies recorded on `day` (UTC)."""
    start, end = _day_bounds(conn, day)
    r = support_replies
    query = sa.select(sa.func.coalesce(sa.func.sum(r.c.prompt_tokens + r.c.completion_tokens), 0)).where(
        r.c.updated_at >= start, r.c.updated_at < end
    )
    return int(conn.execute(query).scalar_one())


def tokens_of(conn: Connection, reply_key: str) -> int:
    r = support_replies
    value = conn.execute(
        sa.select(r.c.prompt_tokens + r.c.completion_tokens).where(r.c.reply_key == reply_key)
    ).scalar()
    return int(value or 0)


def reply_row(conn: Connection, reply_key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(support_replies).where(support_replies.c.reply_key == reply_key)).first()
    return dict(row._mapping) if row else None


# --- the reply ledger ------------------------------------------------------------------------------------
def claim(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert the ledger row in 'drafting'; False when another run already owns this message."""
    result = conn.execute(
        (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(support_replies)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["reply_key"])
    )
    return result.rowcount == 1


def mark_sending(conn: Connection, reply_key: str, run_id: str, reply: dict[str, Any]) -> bool:
    """drafting -> sending, written before the helpdesk is called. False if the row moved on."""
    result = conn.execute(
        sa.update(support_replies)
        .where(support_replies.c.reply_key == reply_key, support_replies.c.state == "drafting")
        .values(state="sending", run_id=run_id, **reply)
    )
    return result.rowcount == 1


def release_claim(conn: Connection, reply_key: str) -> None:
    """Forget a 'drafting' claim a dead run left (nothing was sent): the message is drafted afresh."""
    conn.execute(sa.delete(support_replies).where(support_replies.c.reply_key == reply_key))


def finish(conn: Connection, reply_key: str, **values: Any) -> None:
    conn.execute(sa.update(support_replies).where(support_replies.c.reply_key == reply_key).values(**values))


def sent_with_problems(conn: Connection) -> list[dict[str, Any]]:
    """Replies that reached a customer although validation found something: must always be empty."""
    rows = conn.execute(
        sa.select(support_replies.c.reply_key, support_replies.c.validation_problems).where(
            support_replies.c.state == "sent"
        )
    )
    return [dict(r._mapping) for r in rows if r.validation_problems]


def ledger_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(support_replies.c.state, sa.func.count()).group_by(support_replies.c.state))
    return {state: int(count) for state, count in rows}


# --- replies a human approved on the dashboard -------------------------------------------------------------
APPROVAL_STALE_AFTER = timedelta(minutes=5)  # a claim older than this was left by a crashed sender


def claim_for_approval(conn: Connection, reply_key: str, text: str) -> dict[str, Any] | None:
    """escalated -> approved (with the human's text), or re-claim an approval a crash left behind.
    None when the reply is not waiting for a human: two approvals never both send."""
    r = support_replies
    stale = now() - APPROVAL_STALE_AFTER
    result = conn.execute(
        sa.update(r)
        .where(
            r.c.reply_key == reply_key,
            sa.or_(r.c.state == "escalated", sa.and_(r.c.state == "approved", r.c.updated_at < stale)),
        )
        .values(state="approved", reply_text=text, run_id="dashboard", updated_at=now())
    )
    if result.rowcount != 1:
        return None
    row = conn.execute(
        sa.select(
            r,
            support_tickets.c.customer_email,
            support_tickets.c.subject.label("ticket_subject"),
            support_tickets.c.tags,
        )
        .select_from(r.join(support_tickets, support_tickets.c.ticket_id == r.c.ticket_id))
        .where(r.c.reply_key == reply_key)
    ).first()
    return dict(row._mapping) if row else None
