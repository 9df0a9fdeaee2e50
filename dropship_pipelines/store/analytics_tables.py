"""Analytics: the numbers the operator's dashboard reads, recomputed from the ledger by the analytics assets.

Daily tables are keyed by day (UTC) and rewritten per partition (delete-then-insert); the others are
small snapshots rewritten whole.
"""

import sqlalchemy as sa

from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders, supplier_orders
from dropship_pipelines.store.schema import MONEY, metadata

analytics_daily_sales = sa.Table(
    "analytics_daily_sales",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("items", sa.Integer, nullable=False),
    sa.Column("sales", MONEY, nullable=False),  # total price of orders not cancelled
    sa.Column("aov", MONEY, nullable=True),  # average order value; null on a day without orders
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)

analytics_daily_profit = sa.Table(
    "analytics_daily_profit",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("product_cost", MONEY, nullable=False),
    sa.Column("shipping_cost", MONEY, nullable=False),
    sa.Column("payment_fees", MONEY, nullable=False),
    sa.Column("ad_spend", MONEY, nullable=False),
    sa.Column("refunds", MONEY, nullable=False),
    # disputed amounts not won plus dispute fees; what the supplier paid back (migration 0006)
    sa.Column("chargebacks", MONEY, nullable=False, server_default="0"),
    sa.Column("supplier_refunds", MONEY, nullable=False, server_default="0"),
    sa.Column("profit", MONEY, nullable=False),
    sa.Column(
        "estimated_cost_orders", sa.Integer, nullable=False
    ),  # costs from the listing, not the supplier
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)

analytics_kpis = sa.Table(
    "analytics_kpis",
    metadata,
    sa.Column("period", sa.String(16), primary_key=True),  # all_time | last_30_days | last_7_days | today
    sa.Column("start_day", sa.Date, nullable=True),
    sa.Column("end_day", sa.Date, nullable=True),
    sa.Column("sales", MONEY, nullable=False),
    sa.Column("profit", MONEY, nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("ad_spend", MONEY, nullable=False),
    sa.Column("ad_clicks", sa.Integer, nullable=False),
    sa.Column("total_cost", MONEY, nullable=False),
    sa.Column("roi", sa.Float, nullable=True),  # profit / total cost
    sa.Column("roas", sa.Float, nullable=True),  # sales / ad spend
    sa.Column("conversion_rate", sa.Float, nullable=True),  # orders / ad clicks
    sa.Column("aov", MONEY, nullable=True),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)

analytics_top_products = sa.Table(
    "analytics_top_products",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("product_cost", MONEY, nullable=False),  # units x listing unit cost
    sa.Column("shipping_cost", MONEY, nullable=False),  # units x listing shipping cost
    sa.Column("ad_spend", MONEY, nullable=False),
    sa.Column("contribution", MONEY, nullable=False),  # revenue - costs - ad spend (before payment fees)
    # True profit (migration 0006): each order's fees and money given back (refunds + chargebacks -
    # supplier refunds) shared by line revenue; profit also counts the supplier's actual charges.
    sa.Column("payment_fees", MONEY, nullable=False, server_default="0"),
    sa.Column("money_back", MONEY, nullable=False, server_default="0"),
    sa.Column("profit", MONEY, nullable=False, server_default="0"),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)

analytics_ad_performance = sa.Table(
    "analytics_ad_performance",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("campaign_id", sa.String(64), primary_key=True),
    sa.Column("pid", sa.String(64), nullable=True),
    sa.Column("state", sa.String(16), nullable=True),  # from ad_campaigns, when the campaign is known
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("impressions", sa.BigInteger, nullable=False),
    sa.Column("clicks", sa.BigInteger, nullable=False),
    sa.Column("purchases", sa.BigInteger, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("ctr", sa.Float, nullable=True),
    sa.Column("cpc", MONEY, nullable=True),
    sa.Column("roas", sa.Float, nullable=True),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)

# --- what the daily and per-product aggregations read, in index order --------------------------------
# The analytics sum every counted order of a window by day, and every line by order (store/
# analytics_queries.py). These indexes hold every column those reads take, so the database reads them
# alone (narrow and in placement order) instead of each order's and line's whole row (migration 0015).
sa.Index(
    "ix_store_orders_analytics",
    store_orders.c.placed_at,
    store_orders.c.order_id,
    store_orders.c.state,
    store_orders.c.cancelled_at,
    store_orders.c.total_price,
)
sa.Index(
    "ix_store_order_lines_analytics",
    store_order_lines.c.order_id,
    store_order_lines.c.line_id,
    store_order_lines.c.quantity,
    store_order_lines.c.unit_price,
    store_order_lines.c.pid,
    store_order_lines.c.vid,
)
sa.Index(
    "ix_supplier_orders_analytics",
    supplier_orders.c.order_id,
    supplier_orders.c.product_amount,
    supplier_orders.c.postage_amount,
)

# What changed since a moment (the ledger-change sensor, the daily checks' pending days) is read by these
# (migration 0017), not by a scan of every order.
sa.Index("ix_store_orders_updated_at", store_orders.c.updated_at)
sa.Index("ix_supplier_orders_updated_at", supplier_orders.c.updated_at)
