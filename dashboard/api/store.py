"""What the dashboard reads from the store database, and the one table it writes: its own action log.

The core tables (orders, listings, ads, analytics) are the pipelines' SQLAlchemy tables. The support
tables and the ads optimiser's `ad_actions` log belong to workflows that may not be deployed (or may
not exist yet in this database): they are reflected when the app starts, and the pages that read them
say so instead of failing when they are absent.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.store.ads_tables import ad_campaigns, ad_metrics_daily
from dropship_pipelines.store.analytics_tables import (
    analytics_ad_performance,
    analytics_daily_profit,
    analytics_daily_sales,
    analytics_kpis,
    analytics_top_products,
)
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings, product_candidates
from dropship_pipelines.store.fulfillment_tables import (
    FULFILLMENT_FAILED,
    SUPPLIER_TROUBLE,
    fulfillments,
    store_orders,
    supplier_orders,
)

dashboard_metadata = sa.MetaData()

dashboard_actions = sa.Table(
    "dashboard_actions",
    dashboard_metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "kind", sa.String(32), nullable=False, index=True
    ),  # approve_reply | edit_reply | pause_campaign
    sa.Column("target", sa.String(200), nullable=False, index=True),  # reply key, "platform:campaign", job
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # done | recorded | failed
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

OPTIONAL_TABLES = ("support_tickets", "support_messages", "support_replies", "ad_actions")
# Per row of the orders query (its outer joins): shown as a flag on each order of a page.
NEEDS_ATTENTION = sa.or_(store_orders.c.state == "problem", SUPPLIER_TROUBLE, FULFILLMENT_FAILED)


def attention_order_ids() -> sa.CompoundSelect:
    """The same set as NEEDS_ATTENTION, as order ids each read from an index (a filter over the joined
    rows would scan every order); the partial indexes hold only the few rows in trouble."""
    return sa.union(
        sa.select(store_orders.c.order_id).where(store_orders.c.state == "problem"),
        sa.select(supplier_orders.c.order_id).where(SUPPLIER_TROUBLE),
        sa.select(fulfillments.c.order_id).where(FULFILLMENT_FAILED),
    )


@dataclass
class Store:
    engine: Engine
    optional: dict[str, sa.Table] = field(default_factory=dict)

    @classmethod
    def open(cls, url: str) -> "Store":
        engine = get_engine(url)
        dashboard_metadata.create_all(engine, checkfirst=True)
        store = cls(engine)
        store.refresh_optional_tables()
        return store

    def refresh_optional_tables(self) -> None:
        present = set(sa.inspect(self.engine).get_table_names())
        reflected = sa.MetaData()
        self.optional = {
            name: sa.Table(name, reflected, autoload_with=self.engine)
            for name in OPTIONAL_TABLES
            if name in present
        }

    def connect(self) -> Connection:
        return self.engine.connect()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def bind_time(conn: Connection, moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if conn.dialect.name == "sqlite" else moment


def page(
    conn: Connection,
    query: sa.Select,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
    count: sa.Select | None = None,
) -> tuple[list, int]:
    """One page of `query` and its row count. `count` is a cheaper `SELECT count(*)` with the same
    result: the base table alone, when the query only adds outer joins to at most one row per key
    (counting the joined query makes the database perform every join for every row)."""
    if count is None:
        count = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = conn.execute(count).scalar_one()
    rows = conn.execute(query.order_by(*order_by).limit(limit).offset(offset)).mappings().all()
    return [dict(r) for r in rows], int(total)


def kpis(conn: Connection) -> list[dict]:
    order = sa.case(
        {"all_time": 0, "last_30_days": 1, "last_7_days": 2, "today": 3},
        value=analytics_kpis.c.period,
        else_=9,
    )
    return [dict(r) for r in conn.execute(sa.select(analytics_kpis).order_by(order)).mappings()]


def daily(conn: Connection, start: date | None, end: date | None) -> list[dict]:
    p, s = analytics_daily_profit.c, analytics_daily_sales.c
    query = sa.select(
        p.day,
        p.orders,
        sa.func.coalesce(s["items"], 0).label("items"),
        p.revenue.label("sales"),
        s.aov,
        p.product_cost,
        p.shipping_cost,
        p.payment_fees,
        p.ad_spend,
        p.refunds,
        p.profit,
        p.estimated_cost_orders,
    ).select_from(analytics_daily_profit.outerjoin(analytics_daily_sales, s.day == p.day))
    if start:
        query = query.where(p.day >= start)
    if end:
        query = query.where(p.day <= end)
    return [dict(r) for r in conn.execute(query.order_by(p.day)).mappings()]


def top_products(conn: Connection, limit: int, offset: int) -> tuple[list, int]:
    t = analytics_top_products
    return page(conn, sa.select(t), [t.c.rank], limit, offset)


def ad_performance(conn: Connection, platform: str | None, limit: int, offset: int) -> tuple[list, int]:
    t = analytics_ad_performance
    query = sa.select(t)
    if platform:
        query = query.where(t.c.platform == platform)
    return page(conn, query, [t.c.spend.desc(), t.c.platform, t.c.campaign_id], limit, offset)


def candidates(conn: Connection, status: str | None, limit: int, offset: int) -> tuple[list, int]:
    t = product_candidates
    query = sa.select(t)
    if status:
        query = query.where(t.c.status == status)
    return page(conn, query, [t.c.score.desc().nulls_last(), t.c.pid], limit, offset)


def listing_rows(conn: Connection, status: str | None, limit: int, offset: int) -> tuple[list, int]:
    t = listings
    query = sa.select(t)
    if status:
        query = query.where(t.c.status == status)
    return page(conn, query, [t.c.updated_at.desc(), t.c.pid], limit, offset)


def orders(
    conn: Connection,
    state: str | None,
    needs_attention: bool | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> tuple[list, int]:
    o, so, f = store_orders.c, supplier_orders.c, fulfillments.c
    query = sa.select(
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
        sa.case((NEEDS_ATTENTION, True), else_=False).label("needs_attention"),
    ).select_from(
        store_orders.outerjoin(supplier_orders, so.order_id == o.order_id).outerjoin(
            fulfillments, f.order_id == o.order_id
        )
    )
    # Every filter is on store_orders, so the count needs no join (one supplier order and at most one
    # fulfillment per order: the outer joins never add rows).
    where: list[sa.ColumnElement[bool]] = []
    if state:
        where.append(o.state == state)
    if needs_attention is not None:
        ids = attention_order_ids()
        where.append(o.order_id.in_(ids) if needs_attention else o.order_id.not_in(ids))
    if start:
        where.append(o.placed_at >= bind_time(conn, day_start(start)))
    if end:
        where.append(o.placed_at < bind_time(conn, day_start(end + timedelta(days=1))))
    count = sa.select(sa.func.count()).select_from(store_orders).where(*where)
    rows, total = page(conn, query.where(*where), [o.placed_at.desc(), o.order_id], limit, offset, count)
    for row in rows:
        row["needs_attention"] = bool(row["needs_attention"])
    return rows, total


def pause_requests(conn: Connection) -> set[str]:
    t = dashboard_actions.c
    query = sa.select(t.target).where(t.kind == "pause_campaign", t.status != "failed")
    return set(conn.execute(query).scalars())


def campaigns(
    conn: Connection, platform: str | None, state: str | None, limit: int, offset: int
) -> tuple[list, int]:
    c, perf = ad_campaigns.c, analytics_ad_performance.c
    query = sa.select(
        c.platform,
        c.pid,
        c.campaign_id,
        listings.c.title,
        c.state,
        c.daily_budget,
        c.last_error,
        c.launched_at,
        sa.func.coalesce(perf.spend, 0).label("spend"),
        sa.func.coalesce(perf.revenue, 0).label("revenue"),
        sa.func.coalesce(perf.clicks, 0).label("clicks"),
        sa.func.coalesce(perf.purchases, 0).label("purchases"),
        perf.roas,
    ).select_from(
        ad_campaigns.outerjoin(
            analytics_ad_performance, sa.and_(perf.platform == c.platform, perf.campaign_id == c.campaign_id)
        ).outerjoin(listings, listings.c.pid == c.pid)
    )
    if platform:
        query = query.where(c.platform == platform)
    if state:
        query = query.where(c.state == state)
    rows, total = page(conn, query, [sa.desc("spend"), c.platform, c.pid], limit, offset)
    paused = pause_requests(conn)
    for row in rows:
        row["pause_requested"] = f"{row['platform']}:{row['campaign_id']}" in paused
    return rows, total


def campaign(conn: Connection, platform: str, campaign_id: str) -> dict | None:
    row = (
        conn.execute(
            sa.select(ad_campaigns).where(
                ad_campaigns.c.platform == platform, ad_campaigns.c.campaign_id == campaign_id
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def ad_daily(conn: Connection, start: date | None, end: date | None, platform: str | None) -> list[dict]:
    m = ad_metrics_daily.c
    query = sa.select(
        m.day,
        m.platform,
        sa.func.sum(m.spend).label("spend"),
        sa.func.sum(m.clicks).label("clicks"),
        sa.func.sum(m.purchases).label("purchases"),
        sa.func.sum(m.revenue).label("revenue"),
    ).group_by(m.day, m.platform)
    if start:
        query = query.where(m.day >= start)
    if end:
        query = query.where(m.day <= end)
    if platform:
        query = query.where(m.platform == platform)
    return [dict(r) for r in conn.execute(query.order_by(m.day, m.platform)).mappings()]


def _col(table: sa.Table, *names: str) -> Any:
    for name in names:
        if name in table.c:
            return table.c[name]
    return None


def ad_actions(store: Store, conn: Connection, limit: int, offset: int) -> tuple[list, int]:
    """The optimiser's actions (table `ad_actions`, if the ads workflow keeps one) and operator pauses."""
    items: list[dict] = []
    ads = store.optional.get("ad_actions")
    if ads is not None:
        when = _col(ads, "created_at", "acted_at", "at", "day")
        query = sa.select(ads)
        if when is not None:
            query = query.order_by(when.desc())
        for row in conn.execute(query.limit(limit + offset)).mappings():
            row = dict(row)
            at = row.get(when.name) if when is not None else None
            items.append(
                {
                    "source": "ads",
                    "at": at if isinstance(at, datetime) else None,
                    "platform": row.get("platform"),
                    "campaign_id": row.get("campaign_id"),
                    "action": str(row.get("action") or row.get("kind") or "action"),
                    "reason": row.get("reason") or row.get("why"),
                    "detail": {k: _jsonable(v) for k, v in row.items()},
                }
            )
    t = dashboard_actions.c
    for row in conn.execute(
        sa.select(dashboard_actions)
        .where(t.kind == "pause_campaign")
        .order_by(t.created_at.desc())
        .limit(limit + offset)
    ).mappings():
        platform, _, campaign_id = row["target"].partition(":")
        items.append(
            {
                "source": "dashboard",
                "at": row["created_at"],
                "platform": platform,
                "campaign_id": campaign_id,
                "action": "pause",
                "reason": (row["detail"] or {}).get("reason"),
                "detail": {"status": row["status"], "message": row["message"]},
            }
        )
    items.sort(key=lambda i: _sortable(i["at"]), reverse=True)
    return items[offset : offset + limit], len(items)


def _sortable(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


# --- support ---------------------------------------------------------------------------------------


def support_available(store: Store) -> bool:
    return "support_tickets" in store.optional and "support_replies" in store.optional


def tickets(store: Store, conn: Connection, status: str | None, limit: int, offset: int) -> tuple[list, int]:
    t, r = store.optional["support_tickets"], store.optional["support_replies"]
    state = _col(r, "state", "status")
    query = sa.select(
        t.c.ticket_id,
        t.c.status,
        _col(t, "subject").label("subject"),
        _col(t, "customer_email").label("customer_email"),
        _col(t, "customer_name").label("customer_name"),
        _col(t, "last_received_at", "updated_at").label("last_received_at"),
    )
    if status:
        query = query.where(t.c.status == status)
    rows, total = page(conn, query, [sa.desc("last_received_at"), t.c.ticket_id], limit, offset)
    # Reply counts for this page's tickets only: grouping every reply of the helpdesk's history per
    # request grows with it.
    counts = {
        ticket_id: (int(replies), int(escalated or 0))
        for ticket_id, replies, escalated in conn.execute(
            sa.select(
                r.c.ticket_id, sa.func.count(), sa.func.sum(sa.case((state == "escalated", 1), else_=0))
            )
            .where(r.c.ticket_id.in_([row["ticket_id"] for row in rows]))
            .group_by(r.c.ticket_id)
        )
    }
    for row in rows:
        row["subject"] = row["subject"] or ""
        row["replies"], row["escalated"] = counts.get(row["ticket_id"], (0, 0))
    return rows, total


def latest_decisions(conn: Connection, keys: list[str]) -> dict[str, dict]:
    if not keys:
        return {}
    t = dashboard_actions.c
    rows = conn.execute(
        sa.select(dashboard_actions)
        .where(t.kind.in_(("approve_reply", "edit_reply")), t.target.in_(keys))
        .order_by(t.action_id)
    ).mappings()
    return {row["target"]: dict(row) for row in rows}


def replies(
    store: Store, conn: Connection, state: str | None, limit: int, offset: int, reply_key: str | None = None
) -> tuple[list, int]:
    t, r = store.optional["support_tickets"], store.optional["support_replies"]
    state_col = _col(r, "state", "status")
    message = store.optional.get("support_messages")
    columns = [
        r.c.reply_key,
        r.c.ticket_id,
        state_col.label("state"),
        _col(t, "subject").label("subject"),
        _col(t, "customer_email").label("customer_email"),
        _col(r, "intent").label("intent"),
        _col(r, "confidence").label("confidence"),
        _col(r, "reason").label("reason"),
        _col(r, "reply_text").label("reply_text"),
        _col(r, "received_at", "created_at").label("received_at"),
        _col(r, "answered_at").label("answered_at"),
    ]
    joined = r.outerjoin(t, t.c.ticket_id == r.c.ticket_id)
    if message is not None and "message_id" in r.c and "body_text" in message.c:
        columns.append(message.c.body_text.label("customer_message"))
        joined = joined.outerjoin(message, message.c.message_id == r.c.message_id)
    else:
        columns.append(sa.literal(None).label("customer_message"))
    # Filters are on support_replies and the joins are to one ticket and one message: count it alone.
    where: list[sa.ColumnElement[bool]] = []
    if state:
        where.append(state_col == state)
    if reply_key:
        where.append(r.c.reply_key == reply_key)
    query = sa.select(*[c if c is not None else sa.literal(None) for c in columns]).select_from(joined)
    count = sa.select(sa.func.count()).select_from(r).where(*where)
    rows, total = page(
        conn, query.where(*where), [sa.desc("received_at"), r.c.reply_key], limit, offset, count
    )
    decisions = latest_decisions(conn, [row["reply_key"] for row in rows])
    for row in rows:
        decision = decisions.get(row["reply_key"])
        row["decision"] = decision["kind"].removesuffix("_reply") if decision else None
        row["decision_status"] = decision["status"] if decision else None
        row["decision_text"] = (decision["detail"] or {}).get("text") if decision else None
    return rows, total


def record_action(conn: Connection, kind: str, target: str, detail: dict, status: str, message: str) -> int:
    result = conn.execute(
        dashboard_actions.insert().values(
            kind=kind,
            target=target,
            detail=detail,
            status=status,
            message=message,
            created_at=datetime.now(UTC),
        )
    )
    return int(result.inserted_primary_key[0])


def update_action(conn: Connection, action_id: int, status: str, message: str) -> None:
    conn.execute(
        dashboard_actions.update()
        .where(dashboard_actions.c.action_id == action_id)
        .values(status=status, message=message)
    )
