"""Reads of the ledger for the analytics assets: aggregated in SQL, money as integer cents.

Days are UTC calendar days of `store_orders.placed_at` (SQLite stores the UTC wall time; PostgreSQL is
converted to UTC). Windows are half-open: start <= placed_at < end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.rules.profit import (
    DAY_SUMS,
    DISPUTE_FEE,
    ORDER_COLUMNS,
    PRODUCT_MONEY,
    PROFIT_COLUMNS,
    FeeTerms,
    unreported_fee_rules,
)
from dropship_pipelines.store.ads_tables import ad_campaigns, ad_metrics_daily
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders, supplier_orders
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_pipelines.store.profit_tables import order_payments, supplier_costs
from dropship_pipelines.store.refund_tables import order_refunds

if TYPE_CHECKING:  # pandas/numpy cost ~0.3 s to import: loaded by the functions that compute
    import pandas as pd

COUNTED = sa.and_(store_orders.c.state != "cancelled", store_orders.c.cancelled_at.is_(None))


def cents(expr: Any) -> sa.ColumnElement:
    """Exact cents of a money expression (SQLite keeps NUMERIC as REAL: rounding absorbs its error)."""
    return sa.cast(sa.func.round(sa.func.coalesce(expr, 0) * 100), sa.BigInteger)


def day_of(conn: Connection, column: Any) -> sa.ColumnElement:
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)


def _money_back(kind: str, amount: Any) -> Any:
    rows = order_refunds.c
    return (
        sa.select(sa.func.coalesce(sa.func.sum(amount), 0))
        .where(rows.order_id == store_orders.c.order_id, rows.kind == kind)
        .scalar_subquery()
    )


def refunds_column() -> Any:
    """Refunds per order: the most any ledger knows the store refunded (each sees the same store's
    refunds, so the largest is the most complete and none is counted twice): the refunds made through
    the order actions (`order_actions`, state 'done'), the refunds recorded per order (`order_refunds`)
    and the order's refund transactions as the store reports them (`order_payments.refunded`)."""
    refunds = order_actions.c
    actions = (
        sa.select(sa.func.coalesce(sa.func.sum(refunds.amount), 0))
        .where(refunds.order_id == store_orders.c.order_id, refunds.kind == "refund", refunds.state == "done")
        .scalar_subquery()
    )
    recorded = _money_back("refund", order_refunds.c.amount)
    reported = sa.func.coalesce(order_payments.c.refunded, 0)
    return sa.case(
        (sa.and_(actions >= recorded, actions >= reported), actions),
        (recorded >= reported, recorded),
        else_=reported,
    )


def chargebacks_column() -> Any:
    """A chargeback costs its amount unless the dispute was won, and its dispute fee in any case."""
    rows = order_refunds.c
    lost_amount = sa.case((sa.func.coalesce(rows.status, "") == "WON", 0), else_=rows.amount)
    return _money_back("chargeback", lost_amount + sa.func.coalesce(rows.fee, DISPUTE_FEE))


def supplier_refunds_column() -> Any:
    return _money_back("supplier_refund", order_refunds.c.amount)


def utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _bound(conn: Connection, moment: datetime) -> datetime:
    # SQLite stores naive UTC wall time and compares strings: bind the same form.
    return moment.replace(tzinfo=None) if conn.dialect.name == "sqlite" else moment


def _window(conn: Connection, start: datetime, end: datetime) -> sa.ColumnElement:
    return sa.and_(
        store_orders.c.placed_at >= _bound(conn, start), store_orders.c.placed_at < _bound(conn, end)
    )


def _as_day(series: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_datetime(series.astype(str)).dt.date


def order_frame(conn: Connection, start: datetime, end: datetime) -> pd.DataFrame:
    """One row per counted order placed in the window, with its costs (ORDER_COLUMNS, money in cents)."""
    import pandas as pd

    unit_cost = sa.func.coalesce(listing_variants.c.unit_cost, listings.c.unit_cost, 0)
    lines = (
        sa.select(
            store_order_lines.c.order_id,
            sa.func.sum(store_order_lines.c.quantity).label("item_count"),
            sa.func.sum(store_order_lines.c.quantity * unit_cost).label("est_cost"),
            sa.func.sum(store_order_lines.c.quantity * sa.func.coalesce(listings.c.shipping_cost, 0)).label(
                "est_shipping"
            ),
        )
        .select_from(
            store_order_lines.join(store_orders, store_orders.c.order_id == store_order_lines.c.order_id)
            .outerjoin(listings, listings.c.pid == store_order_lines.c.pid)
            .outerjoin(listing_variants, listing_variants.c.vid == store_order_lines.c.vid)
        )
        .where(_window(conn, start, end))
        .group_by(store_order_lines.c.order_id)
        .subquery("lines")
    )
    charged = supplier_costs.c.product_amount.is_not(None)  # CJ's order detail after dispatch
    actual = supplier_orders.c.product_amount.is_not(None)  # CJ's answer when the order was placed
    query = (
        sa.select(
            store_orders.c.order_id,
            day_of(conn, store_orders.c.placed_at).label("day"),
            cents(store_orders.c.total_price).label("revenue_cents"),
            sa.case(
                (charged, cents(supplier_costs.c.product_amount)),
                (actual, cents(supplier_orders.c.product_amount)),
                else_=cents(lines.c.est_cost),
            ).label("product_cost_cents"),
            sa.case(
                (charged, cents(supplier_costs.c.postage_amount)),
                (actual, cents(supplier_orders.c.postage_amount)),
                else_=cents(lines.c.est_shipping),
            ).label("shipping_cents"),
            cents(refunds_column()).label("refund_cents"),
            sa.func.coalesce(lines.c.item_count, 0).label("items"),
            sa.case((sa.or_(charged, actual), 0), else_=1).label("cost_estimated"),
            sa.case((order_payments.c.fees.is_(None), -1), else_=cents(order_payments.c.fees)).label(
                "fee_cents"
            ),
            order_payments.c.gateway,
            cents(chargebacks_column()).label("chargeback_cents"),
            cents(supplier_refunds_column()).label("supplier_refund_cents"),
        )
        .select_from(
            store_orders.outerjoin(supplier_orders, supplier_orders.c.order_id == store_orders.c.order_id)
            .outerjoin(supplier_costs, supplier_costs.c.order_id == store_orders.c.order_id)
            .outerjoin(order_payments, order_payments.c.order_id == store_orders.c.order_id)
            .outerjoin(lines, lines.c.order_id == store_orders.c.order_id)
        )
        .where(COUNTED, _window(conn, start, end))
    )
    rows = conn.execute(query).all()
    frame = pd.DataFrame.from_records(rows, columns=[*ORDER_COLUMNS, *PROFIT_COLUMNS])
    if len(frame):
        frame["day"] = _as_day(frame["day"])
    for col in [*ORDER_COLUMNS[2:], *PROFIT_COLUMNS]:
        if col != "gateway":
            frame[col] = frame[col].astype("int64")
    return frame


def ad_spend_frame(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """Ad spend per day (all platforms), days start <= day < end."""
    import pandas as pd

    query = (
        sa.select(ad_metrics_daily.c.day, cents(sa.func.sum(ad_metrics_daily.c.spend)).label("spend_cents"))
        .where(ad_metrics_daily.c.day >= start, ad_metrics_daily.c.day < end)
        .group_by(ad_metrics_daily.c.day)
    )
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=["day", "spend_cents"])
    if len(frame):
        frame["day"] = _as_day(frame["day"])
    frame["spend_cents"] = frame["spend_cents"].astype("int64")
    return frame


def ad_clicks(conn: Connection, start: date | None = None, end: date | None = None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(ad_metrics_daily.c.clicks), 0))
    if start is not None:
        query = query.where(ad_metrics_daily.c.day >= start)
    if end is not None:
        query = query.where(ad_metrics_daily.c.day < end)
    return int(conn.execute(query).scalar_one())


@contextmanager
def consistent_read(engine: Engine) -> Iterator[Connection]:
    """A connection whose statements all read one snapshot of the database: PostgreSQL's REPEATABLE READ
    (its default, READ COMMITTED, gives each statement its own snapshot, so orders arriving between two
    reads of one computation would be half in it); SQLite's one read transaction."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def ledger_totals_by_day(
    conn: Connection, first: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The ledger's own per-day totals (independent of the analytics code) for the reconciliation checks;
    days [first, end) when given."""
    import pandas as pd

    day = day_of(conn, store_orders.c.placed_at).label("day")
    order_query = (
        sa.select(day, sa.func.count().label("orders"), cents(sa.func.sum(store_orders.c.total_price)))
        .where(COUNTED)
        .group_by(day)
    )
    spend_query = sa.select(ad_metrics_daily.c.day, cents(sa.func.sum(ad_metrics_daily.c.spend))).group_by(
        ad_metrics_daily.c.day
    )
    if first is not None and end is not None:
        order_query = order_query.where(_window(conn, utc_start(first), utc_start(end)))
        spend_query = spend_query.where(ad_metrics_daily.c.day >= first, ad_metrics_daily.c.day < end)
    orders = pd.DataFrame.from_records(
        conn.execute(order_query).all(), columns=["day", "orders", "sales_cents"]
    )
    spend = pd.DataFrame.from_records(conn.execute(spend_query).all(), columns=["day", "ad_spend_cents"])
    for frame in (orders, spend):
        if len(frame):
            frame["day"] = _as_day(frame["day"])
    merged = orders.merge(spend, on="day", how="outer").fillna(0)
    for col in ("orders", "sales_cents", "ad_spend_cents"):
        merged[col] = merged[col].astype("int64")
    return merged


def product_sales(conn: Connection) -> pd.DataFrame:
    """Per product: orders, units, revenue and listing-based costs of counted orders (money in cents)."""
    import pandas as pd

    unit_cost = sa.func.coalesce(listing_variants.c.unit_cost, listings.c.unit_cost, 0)
    query = (
        sa.select(
            store_order_lines.c.pid,
            sa.func.max(sa.func.coalesce(listings.c.title, store_order_lines.c.title)).label("title"),
            sa.func.count(sa.distinct(store_order_lines.c.order_id)).label("orders"),
            sa.func.sum(store_order_lines.c.quantity).label("units"),
            cents(sa.func.sum(store_order_lines.c.quantity * store_order_lines.c.unit_price)).label(
                "revenue"
            ),
            cents(sa.func.sum(store_order_lines.c.quantity * unit_cost)).label("product_cost"),
            cents(
                sa.func.sum(store_order_lines.c.quantity * sa.func.coalesce(listings.c.shipping_cost, 0))
            ).label("shipping_cost"),
        )
        .select_from(
            store_order_lines.join(store_orders, store_orders.c.order_id == store_order_lines.c.order_id)
            .outerjoin(listings, listings.c.pid == store_order_lines.c.pid)
            .outerjoin(listing_variants, listing_variants.c.vid == store_order_lines.c.vid)
        )
        .where(COUNTED, store_order_lines.c.pid.is_not(None))
        .group_by(store_order_lines.c.pid)
    )
    columns = ["pid", "title", "orders", "units", "revenue", "product_cost", "shipping_cost"]
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=columns)
    frame = frame.merge(product_ad_spend(conn), on="pid", how="left").fillna({"ad_spend": 0})
    for col in ("orders", "units", "revenue", "product_cost", "shipping_cost", "ad_spend"):
        frame[col] = frame[col].astype("int64")
    frame["title"] = frame["title"].fillna("").astype(str)
    return frame


def product_units_revenue(conn: Connection) -> pd.DataFrame:
    """Per product: units and revenue (cents) of counted orders, the ledger's own figures without the
    listing joins of `product_sales`: what the top-products follow check compares, read from the two
    covering indexes alone."""
    import pandas as pd

    lines = store_order_lines.c
    query = (
        sa.select(
            lines.pid,
            sa.func.sum(lines.quantity).label("units"),
            cents(sa.func.sum(lines.quantity * lines.unit_price)).label("revenue"),
        )
        .select_from(store_order_lines.join(store_orders, store_orders.c.order_id == lines.order_id))
        .where(COUNTED, lines.pid.is_not(None))
        .group_by(lines.pid)
    )
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=["pid", "units", "revenue"])
    for col in ("units", "revenue"):
        frame[col] = frame[col].astype("int64")
    return frame


def product_ad_spend(conn: Connection) -> pd.DataFrame:
    """Ad spend per product (cents), all time and platforms."""
    import pandas as pd

    return pd.DataFrame.from_records(
        conn.execute(
            sa.select(ad_metrics_daily.c.pid, cents(sa.func.sum(ad_metrics_daily.c.spend)).label("ad_spend"))
            .where(ad_metrics_daily.c.pid.is_not(None))
            .group_by(ad_metrics_daily.c.pid)
        ).all(),
        columns=["pid", "ad_spend"],
    )


def campaign_totals(conn: Connection) -> pd.DataFrame:
    """Per platform and campaign, all time: spend, delivery and attributed revenue (money in cents)."""
    import pandas as pd

    m = ad_metrics_daily.c
    query = sa.select(
        m.platform,
        m.campaign_id,
        sa.func.max(m.pid).label("pid"),
        sa.func.count().label("days"),
        cents(sa.func.sum(m.spend)).label("spend"),
        sa.func.sum(m.impressions).label("impressions"),
        sa.func.sum(m.clicks).label("clicks"),
        sa.func.sum(m.purchases).label("purchases"),
        cents(sa.func.sum(m.revenue)).label("revenue"),
    ).group_by(m.platform, m.campaign_id)
    columns = [
        "platform",
        "campaign_id",
        "pid",
        "days",
        "spend",
        "impressions",
        "clicks",
        "purchases",
        "revenue",
    ]
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=columns)
    states = pd.DataFrame.from_records(
        conn.execute(
            sa.select(ad_campaigns.c.platform, ad_campaigns.c.campaign_id, ad_campaigns.c.state).where(
                ad_campaigns.c.campaign_id.is_not(None)
            )
        ).all(),
        columns=["platform", "campaign_id", "state"],
    )
    frame = frame.merge(states, on=["platform", "campaign_id"], how="left")
    for col in ("days", "spend", "impressions", "clicks", "purchases", "revenue"):
        frame[col] = frame[col].astype("int64")
    return frame


def order_days_changed_since(conn: Connection, since: datetime | None) -> dict[date, datetime]:
    """Order days whose orders (or their supplier orders) changed at or after `since`, each with its newest
    change: what the daily analytics must recompute. Late changes (a cancellation, a supplier cost known
    days later) land on the day the order was placed, not the day they happened."""
    stamp = sa.func.coalesce(supplier_orders.c.updated_at, store_orders.c.updated_at)
    newest = sa.func.max(sa.case((stamp > store_orders.c.updated_at, stamp), else_=store_orders.c.updated_at))
    day = day_of(conn, store_orders.c.placed_at)
    query = sa.select(day.label("day"), newest.label("newest")).select_from(
        store_orders.outerjoin(supplier_orders, supplier_orders.c.order_id == store_orders.c.order_id)
    )
    if since is not None:
        bound = _bound(conn, since)
        # the orders stamped since, from each table's `updated_at` index (an OR across the outer join
        # would read every order)
        changed = sa.union(
            sa.select(store_orders.c.order_id).where(store_orders.c.updated_at >= bound),
            sa.select(supplier_orders.c.order_id).where(supplier_orders.c.updated_at >= bound),
        ).subquery("changed")
        query = query.where(store_orders.c.order_id.in_(sa.select(changed.c.order_id)))
    return {
        date.fromisoformat(str(row.day)[:10]): as_utc_datetime(row.newest)
        for row in conn.execute(query.group_by(day))
    }


def as_utc_datetime(value: object) -> datetime:
    """SQLite hands back `max()` of a timestamp as text; PostgreSQL as an aware datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def product_lines(conn: Connection) -> pd.DataFrame:
    """Each line of a counted order that has a product: order, product, line revenue in cents (what
    true profit per product shares an order's costs by)."""
    import pandas as pd

    query = (
        sa.select(
            store_order_lines.c.order_id,
            store_order_lines.c.pid,
            cents(store_order_lines.c.quantity * store_order_lines.c.unit_price).label("revenue_cents"),
        )
        .select_from(
            store_order_lines.join(store_orders, store_orders.c.order_id == store_order_lines.c.order_id)
        )
        .where(COUNTED, store_order_lines.c.pid.is_not(None))
    )
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=["order_id", "pid", "revenue_cents"])
    frame["revenue_cents"] = frame["revenue_cents"].astype("int64")
    return frame


ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


# --- the daily aggregation in the database ------------------------------------------------------------
# The daily assets' sums, each summed by the database per day (`GROUP BY day`) from per-order (or
# per-line) amounts in integer cents, so a recompute reads a few hundred rows instead of every order.
# The same amounts as `order_frame` + `rules/profit.daily_profit_frame`, to the cent (tests/analytics/
# test_daily_sums.py compares them on a ledger with every kind of money).


def _floor_div(numerator: Any, denominator: int) -> sa.ColumnElement:
    """Integer division rounding toward -inf (SQLite and PostgreSQL truncate toward 0) by a positive
    constant, as Python's `//` in pricing's `fee_cents`."""
    # SQLAlchemy's `//` on integers is the backends' integer `/`; its `/` would be true division.
    return sa.case(
        (numerator >= 0, numerator // denominator),
        else_=-((denominator - 1 - numerator) // denominator),
    )


def _fee_formula(revenue_cents: Any, terms: FeeTerms) -> sa.ColumnElement:
    return _floor_div(2 * (revenue_cents * terms.per_cent + terms.base) + terms.scale, 2 * terms.scale)


def payment_fee_cents_column(rule: PriceRule) -> sa.ColumnElement:
    """Each order's payment fees in cents: the ones its transactions report, else its gateway's rule
    applied to its total (`rules/profit.payment_fee_cents`)."""
    configured, default = unreported_fee_rules(rule)
    gateway = sa.func.lower(sa.func.coalesce(order_payments.c.gateway, ""))
    revenue = cents(store_orders.c.total_price)
    return sa.case(
        (order_payments.c.fees.is_not(None), cents(order_payments.c.fees)),
        *((gateway == name, _fee_formula(revenue, terms)) for name, terms in configured.items()),
        else_=_fee_formula(revenue, default),
    )


def _money_back_per_order() -> sa.Subquery:
    """Per order with any: refunds recorded, chargebacks lost plus dispute fees, supplier refunds."""
    rows = order_refunds.c
    lost = sa.case((sa.func.coalesce(rows.status, "") == "WON", 0), else_=rows.amount)
    return (
        sa.select(
            rows.order_id,
            sa.func.sum(sa.case((rows.kind == "refund", rows.amount), else_=0)).label("recorded"),
            sa.func.sum(
                sa.case((rows.kind == "chargeback", lost + sa.func.coalesce(rows.fee, DISPUTE_FEE)), else_=0)
            ).label("chargebacks"),
            sa.func.sum(sa.case((rows.kind == "supplier_refund", rows.amount), else_=0)).label(
                "supplier_refunds"
            ),
        )
        .group_by(rows.order_id)
        .subquery("money_back")
    )


def _refund_actions_per_order() -> sa.Subquery:
    actions = order_actions.c
    return (
        sa.select(actions.order_id, sa.func.sum(actions.amount).label("refunded"))
        .where(actions.kind == "refund", actions.state == "done")
        .group_by(actions.order_id)
        .subquery("refund_actions")
    )


def _greatest_of(*amounts: Any) -> sa.ColumnElement:
    """The largest of three amounts, as `refunds_column` picks it (portable: SQLite has no GREATEST)."""
    a, b, c = amounts
    return sa.case((sa.and_(a >= b, a >= c), a), (b >= c, b), else_=c)


def _cost_known() -> tuple[sa.ColumnElement, sa.ColumnElement]:
    return supplier_costs.c.product_amount.is_not(None), supplier_orders.c.product_amount.is_not(None)


def _with_supplier(source: Any) -> Any:
    return source.outerjoin(supplier_orders, supplier_orders.c.order_id == store_orders.c.order_id).outerjoin(
        supplier_costs, supplier_costs.c.order_id == store_orders.c.order_id
    )


def _sum(expr: Any, label: str) -> sa.Label:
    return sa.func.coalesce(sa.func.sum(expr), 0).label(label)


def daily_order_sums(conn: Connection, start: datetime, end: datetime, rule: PriceRule) -> sa.Select:
    """Per day, over the counted orders placed in [start, end): what each order row gives (the supplier's
    costs where known; the line estimates are `daily_line_sums`')."""
    charged, actual = _cost_known()
    money_back = _money_back_per_order()
    actions = _refund_actions_per_order()
    refunds = _greatest_of(
        sa.func.coalesce(actions.c.refunded, 0),
        sa.func.coalesce(money_back.c.recorded, 0),
        sa.func.coalesce(order_payments.c.refunded, 0),
    )
    day = day_of(conn, store_orders.c.placed_at).label("day")
    source = (
        _with_supplier(store_orders)
        .outerjoin(order_payments, order_payments.c.order_id == store_orders.c.order_id)
        .outerjoin(money_back, money_back.c.order_id == store_orders.c.order_id)
        .outerjoin(actions, actions.c.order_id == store_orders.c.order_id)
    )
    return (
        sa.select(
            day,
            sa.func.count().label("orders"),
            _sum(cents(store_orders.c.total_price), "revenue"),
            _sum(
                sa.case(
                    (charged, cents(supplier_costs.c.product_amount)),
                    (actual, cents(supplier_orders.c.product_amount)),
                    else_=0,
                ),
                "product_cost",
            ),
            _sum(
                sa.case(
                    (charged, cents(supplier_costs.c.postage_amount)),
                    (actual, cents(supplier_orders.c.postage_amount)),
                    else_=0,
                ),
                "shipping_cost",
            ),
            _sum(payment_fee_cents_column(rule), "payment_fees"),
            _sum(cents(refunds), "refunds"),
            _sum(cents(money_back.c.chargebacks), "chargebacks"),
            _sum(cents(money_back.c.supplier_refunds), "supplier_refunds"),
            _sum(sa.case((sa.or_(charged, actual), 0), else_=1), "estimated_cost_orders"),
        )
        .select_from(source)
        .where(COUNTED, _window(conn, start, end))
        .group_by(day)
    )


def daily_line_sums(conn: Connection, start: datetime, end: datetime) -> sa.Select:
    """Per day, over the lines of the counted orders placed in [start, end): items, and the listing's
    costs of the orders the supplier has not priced yet. Each line's amount is whole cents (quantity x a
    money column), so summing lines' cents equals rounding each order's sum."""
    charged, actual = _cost_known()
    estimated = sa.not_(sa.or_(charged, actual))
    lines = store_order_lines.c
    unit_cost = sa.func.coalesce(listing_variants.c.unit_cost, listings.c.unit_cost, 0)
    day = day_of(conn, store_orders.c.placed_at).label("day")
    source = (
        _with_supplier(store_order_lines.join(store_orders, store_orders.c.order_id == lines.order_id))
        .outerjoin(listings, listings.c.pid == lines.pid)
        .outerjoin(listing_variants, listing_variants.c.vid == lines.vid)
    )
    return (
        sa.select(
            day,
            _sum(lines.quantity, "items"),
            _sum(sa.case((estimated, cents(lines.quantity * unit_cost)), else_=0), "product_cost"),
            _sum(
                sa.case(
                    (estimated, cents(lines.quantity * sa.func.coalesce(listings.c.shipping_cost, 0))),
                    else_=0,
                ),
                "shipping_cost",
            ),
        )
        .select_from(source)
        .where(COUNTED, _window(conn, start, end))
        .group_by(day)
    )


def daily_sums(conn: Connection, start: datetime, end: datetime, rule: PriceRule) -> pd.DataFrame:
    """The orders' per-day sums (rules/profit.DAY_SUMS, integer cents) of the counted orders placed in
    [start, end), from two aggregations in the database (orders, lines) read in the caller's snapshot."""
    import pandas as pd

    orders = pd.DataFrame.from_records(
        conn.execute(daily_order_sums(conn, start, end, rule)).all(),
        columns=[c for c in DAY_SUMS if c != "items"],
    )
    lines = pd.DataFrame.from_records(
        conn.execute(daily_line_sums(conn, start, end)).all(),
        columns=["day", "items", "line_product_cost", "line_shipping_cost"],
    )
    for frame in (orders, lines):
        if len(frame):
            frame["day"] = _as_day(frame["day"])
    merged = orders.merge(lines, on="day", how="left").fillna(0)
    for col in merged.columns:
        if col != "day":
            merged[col] = merged[col].astype("int64")
    merged["product_cost"] += merged.pop("line_product_cost")
    merged["shipping_cost"] += merged.pop("line_shipping_cost")
    return merged.loc[:, list(DAY_SUMS)]


# --- true profit per product in the database ----------------------------------------------------------
def _floor_div_by(numerator: Any, denominator: Any) -> sa.ColumnElement:
    """`numerator // denominator` rounding toward -inf for a positive integer denominator expression."""
    return sa.case(
        (numerator >= 0, numerator // denominator),
        else_=-((denominator - 1 - numerator) // denominator),
    )


def _whole(expr: Any) -> sa.ColumnElement:
    """A sum of integers as an integer: PostgreSQL's sum(bigint) is NUMERIC, whose `/` is not `//`."""
    return sa.cast(expr, sa.BigInteger)


# What `product_figures` returns beside PRODUCT_MONEY: `product_sales`' columns (the listing's costs as
# `product_cost` / `shipping_cost`, so the actual ones of PRODUCT_MONEY are renamed `actual_*`).
PRODUCT_SALES = ("pid", "title", "orders", "units", "revenue", "product_cost", "shipping_cost")
ACTUAL = {"product_cost": "actual_product_cost", "shipping_cost": "actual_shipping_cost"}


def product_profit_sums(conn: Connection, rule: PriceRule) -> pd.DataFrame:
    """`rules/profit.product_profit` of every counted order, done by the database: each order's costs,
    fees, money given back and profit before ads shared among its lines with a product by line revenue,
    floored, the remainder cents to its largest line (ties: the first line id), summed per product.
    Returns `pid` and PRODUCT_MONEY in integer cents, one row per product sold."""
    frame = product_figures(conn, rule).drop(columns=list(ACTUAL))
    return frame.rename(columns={v: k for k, v in ACTUAL.items()}).loc[:, ["pid", *PRODUCT_MONEY]]


def product_figures(conn: Connection, rule: PriceRule) -> pd.DataFrame:
    """`product_sales` without its ad spend (units, revenue, the listing's costs per product) and
    `product_profit_sums` (PRODUCT_MONEY, the actual costs as `actual_product_cost` /
    `actual_shipping_cost`) in one pass over the lines: on SQLite a pass over every line joined to its
    order is most of the top-products snapshot's time. Money in integer cents; per product each line's
    amount is whole cents before it is summed (as `product_sales` rounds the sum: equal, the amounts being
    exact cents)."""
    import pandas as pd

    charged, actual = _cost_known()
    money_back = _money_back_per_order()
    actions = _refund_actions_per_order()
    lines = store_order_lines.c
    refunds = _greatest_of(
        sa.func.coalesce(actions.c.refunded, 0),
        sa.func.coalesce(money_back.c.recorded, 0),
        sa.func.coalesce(order_payments.c.refunded, 0),
    )
    unit_cost = sa.func.coalesce(listing_variants.c.unit_cost, listings.c.unit_cost, 0)
    line_revenue = cents(lines.quantity * lines.unit_price)
    # 1. every line of a counted order, beside its order's amounts (the supplier's costs where known)
    per_line = (
        sa.select(
            lines.order_id,
            lines.pid,
            lines.line_id,
            lines.quantity,
            line_revenue.label("line_revenue"),
            sa.func.coalesce(listings.c.title, lines.title).label("title"),
            sa.case((line_revenue > 0, line_revenue), else_=0).label("weight"),
            cents(lines.quantity * unit_cost).label("est_cost"),
            cents(lines.quantity * sa.func.coalesce(listings.c.shipping_cost, 0)).label("est_shipping"),
            sa.case((sa.or_(charged, actual), 1), else_=0).label("known"),
            sa.case(
                (charged, cents(supplier_costs.c.product_amount)),
                (actual, cents(supplier_orders.c.product_amount)),
                else_=0,
            ).label("known_cost"),
            sa.case(
                (charged, cents(supplier_costs.c.postage_amount)),
                (actual, cents(supplier_orders.c.postage_amount)),
                else_=0,
            ).label("known_shipping"),
            cents(store_orders.c.total_price).label("revenue"),
            payment_fee_cents_column(rule).label("payment_fees"),
            (cents(refunds) + cents(money_back.c.chargebacks) - cents(money_back.c.supplier_refunds)).label(
                "money_back"
            ),
        )
        .select_from(
            _with_supplier(store_order_lines.join(store_orders, store_orders.c.order_id == lines.order_id))
            .outerjoin(order_payments, order_payments.c.order_id == store_orders.c.order_id)
            .outerjoin(money_back, money_back.c.order_id == store_orders.c.order_id)
            .outerjoin(actions, actions.c.order_id == store_orders.c.order_id)
            .outerjoin(listings, listings.c.pid == lines.pid)
            .outerjoin(listing_variants, listing_variants.c.vid == lines.vid)
        )
        .where(COUNTED)
        .subquery("per_line")
    )
    p = per_line.c
    order = {"partition_by": p.order_id}
    has_product = p.pid.is_not(None)
    largest_first = (sa.case((has_product, 0), else_=1), p.weight.desc(), p.line_id)
    # 2. the order's totals over its lines: the listing estimate, the weights of its lines with a product
    with_totals = sa.select(
        p.order_id,
        p.pid,
        p.weight,
        p.known,
        p.known_cost,
        p.known_shipping,
        p.revenue,
        p.payment_fees,
        p.money_back,
        p.quantity,
        p.line_revenue,
        p.title,
        p.est_cost.label("line_est_cost"),
        p.est_shipping.label("line_est_shipping"),
        _whole(sa.func.sum(p.est_cost).over(**order)).label("est_cost"),
        _whole(sa.func.sum(p.est_shipping).over(**order)).label("est_shipping"),
        _whole(sa.func.sum(sa.case((has_product, p.weight), else_=0)).over(**order)).label("total"),
        sa.func.count(p.pid).over(**order).label("shared_by"),
        sa.func.row_number().over(partition_by=p.order_id, order_by=largest_first).label("rank"),
    ).subquery("with_totals")
    t = with_totals.c
    product_cost = sa.case((t.known == 1, t.known_cost), else_=t.est_cost)
    shipping = sa.case((t.known == 1, t.known_shipping), else_=t.est_shipping)
    amounts = {
        "product_cost": product_cost,
        "shipping_cost": shipping,
        "payment_fees": t.payment_fees,
        "money_back": t.money_back,
        "order_profit": t.revenue - product_cost - shipping - t.payment_fees - t.money_back,
    }
    # an order whose lines are all free shares equally
    weight = sa.case((t.total > 0, t.weight), else_=1)
    total = sa.case((t.total > 0, t.total), else_=t.shared_by)
    # 3. each line's floored share, and each amount itself, of the lines with a product
    shares = (
        sa.select(
            t.order_id,
            t.pid,
            t.rank,
            t.quantity,
            t.line_revenue,
            t.title,
            t.line_est_cost,
            t.line_est_shipping,
            *(sa.cast(amount, sa.BigInteger).label(f"{name}_all") for name, amount in amounts.items()),
            *(_floor_div_by(amount * weight, total).label(name) for name, amount in amounts.items()),
        )
        .where(t.pid.is_not(None))
        .subquery("shares")
    )
    s = shares.c
    # 4. the remainder of each order (its amount less its lines' floored shares) to its largest line
    with_remainder = sa.select(
        s.pid,
        s.order_id,
        s.quantity,
        s.line_revenue,
        s.title,
        s.line_est_cost,
        s.line_est_shipping,
        *(
            (
                s[name]
                + sa.case(
                    (
                        s.rank == 1,
                        s[f"{name}_all"] - _whole(sa.func.sum(s[name]).over(partition_by=s.order_id)),
                    ),
                    else_=0,
                )
            ).label(name)
            for name in PRODUCT_MONEY
        ),
    ).subquery("with_remainder")
    r = with_remainder.c
    query = sa.select(
        r.pid,
        sa.func.max(r.title).label("title"),
        sa.func.count(sa.distinct(r.order_id)).label("orders"),
        sa.func.sum(r.quantity).label("units"),
        sa.func.sum(r.line_revenue).label("revenue"),
        sa.func.sum(r.line_est_cost).label("product_cost"),
        sa.func.sum(r.line_est_shipping).label("shipping_cost"),
        *(sa.func.sum(r[name]).label(ACTUAL.get(name, name)) for name in PRODUCT_MONEY),
    ).group_by(r.pid)
    money = [*PRODUCT_SALES[2:], *(ACTUAL.get(name, name) for name in PRODUCT_MONEY)]
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=[*PRODUCT_SALES[:2], *money])
    for column in money:
        frame[column] = frame[column].astype("int64")
    frame["title"] = frame["title"].fillna("").astype(str)
    return frame
