"""Fulfillment: store orders, the orders sent to the supplier, and the fulfillments posted back.

Support reads orders and tracking from here; analytics reads revenue and costs.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, created_column, metadata, updated_column

store_orders = sa.Table(
    "store_orders",
    metadata,
    sa.Column("order_id", sa.String(100), primary_key=True),  # gid://shopify/Order/N
    sa.Column("name", sa.String(32), nullable=False, index=True),  # "#1001"
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("customer_name", sa.String(255), nullable=True),
    sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("store_updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("financial_status", sa.String(32), nullable=False),
    sa.Column("fulfillment_status", sa.String(32), nullable=False),
    sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
    sa.Column("total_price", MONEY, nullable=False),
    sa.Column("shipping_address", sa.JSON, nullable=True),
    sa.Column("country_code", sa.String(2), nullable=True),
    # new | sent | shipped | problem | cancelled; indexed with placed_at below
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("problem", sa.Text, nullable=True),  # why it cannot go to the supplier
    sa.Column("source", sa.String(16), nullable=False, server_default="organic"),  # organic | meta | tiktok
    created_column(),
    updated_column(),
    # The order needs a human: not cancelled, and held (state 'problem'), its supplier order refused or
    # failing (SUPPLIER_TROUBLE), or its fulfillment failed (FULFILLMENT_FAILED). Derived, never written by
    # the workflows: triggers on the three tables (migrations 0010 and 0013; SQLite drops a table's
    # triggers when batch mode rebuilds it, so a later migration that rebuilds one recreates them)
    # recompute it whenever a state it is made of changes, so no writer (today's or a later one) can
    # leave it stale. Indexed
    # below: the dashboard's needs-attention list is a lookup, not a join over every order.
    sa.Column("needs_attention", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Orders in a state, newest first (the dashboard's status filter, the workflows' "state = 'new'"): the
# index gives the page in order, without sorting every order in that state.
sa.Index("ix_store_orders_state_placed_at", store_orders.c.state, store_orders.c.placed_at)
# Keyset pages of all orders, newest first ((placed_at, order_id) descending): a page is a range of this
# index, and a bounded count reads at most its first 10,001 entries.
sa.Index("ix_store_orders_placed_at_order_id", store_orders.c.placed_at, store_orders.c.order_id)
# The needs-attention list in page order: a partial index holding only the orders that need a human. The
# literal lets SQLite match the query's WHERE to the index's.
NEEDS_ATTENTION = store_orders.c.needs_attention == sa.literal_column("true")
sa.Index(
    "ix_store_orders_needs_attention",
    store_orders.c.placed_at,
    store_orders.c.order_id,
    sqlite_where=NEEDS_ATTENTION,
    postgresql_where=NEEDS_ATTENTION,
)

# Orders not cancelled per UTC day and source: the dashboard's KPI cards count a period's orders (the
# organic ones) from a few hundred of these rows instead of scanning every order placed in it. Kept by
# triggers on store_orders (migration 0010), as needs_attention is: whoever inserts, cancels or deletes
# an order, the counts follow in the same transaction.
order_counts_daily = sa.Table(
    "order_counts_daily",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
)

store_order_lines = sa.Table(
    "store_order_lines",
    metadata,
    sa.Column("line_id", sa.String(100), primary_key=True),
    sa.Column("order_id", sa.String(100), nullable=False, index=True),
    sa.Column("store_variant_id", sa.String(100), nullable=True),
    sa.Column("sku", sa.String(100), nullable=True),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", MONEY, nullable=False),
    sa.Column("pid", sa.String(64), nullable=True, index=True),  # supplier product, once mapped
    sa.Column("vid", sa.String(64), nullable=True),  # supplier variant, once mapped
)

supplier_orders = sa.Table(
    "supplier_orders",
    metadata,
    sa.Column("order_number", sa.String(50), primary_key=True),  # derived from the store order
    sa.Column("order_id", sa.String(100), nullable=False, unique=True),
    sa.Column("supplier_order_id", sa.String(64), nullable=True, unique=True),  # the supplier's own id
    sa.Column("state", sa.String(24), nullable=False),  # pending | created | failed
    sa.Column("supplier_status", sa.String(24), nullable=True),  # CREATED .. SHIPPED, DELIVERED
    sa.Column("logistic_name", sa.String(100), nullable=True),
    sa.Column("product_amount", MONEY, nullable=True),
    sa.Column("postage_amount", MONEY, nullable=True),
    sa.Column("total_amount", MONEY, nullable=True),
    sa.Column("track_number", sa.String(64), nullable=True),
    sa.Column("carrier", sa.String(100), nullable=True),
    sa.Column("tracking_url", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    created_column(),
    updated_column(),
)

# Supplier orders that need a human (refused, or an error on the last attempt): the dashboard's "needs
# attention" list. A partial index holds just these rows, so the list is a lookup at any ledger size; the
# literal (not a bound parameter) lets SQLite match the query's WHERE to the index's.
SUPPLIER_TROUBLE = sa.or_(
    supplier_orders.c.state == sa.literal_column("'failed'"), supplier_orders.c.last_error.is_not(None)
)
sa.Index(
    "ix_supplier_orders_trouble",
    supplier_orders.c.order_id,
    sqlite_where=SUPPLIER_TROUBLE,
    postgresql_where=SUPPLIER_TROUBLE,
)

fulfillments = sa.Table(
    "fulfillments",
    metadata,
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("fulfillment_id", sa.String(100), nullable=True, unique=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | posted | failed
    sa.Column("track_number", sa.String(64), nullable=False),
    sa.Column("carrier", sa.String(100), nullable=True),
    sa.Column("tracking_url", sa.Text, nullable=True),
    sa.Column("customer_notified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
)

FULFILLMENT_FAILED = fulfillments.c.state == sa.literal_column("'failed'")
sa.Index(
    "ix_fulfillments_failed",
    fulfillments.c.order_id,
    sqlite_where=FULFILLMENT_FAILED,
    postgresql_where=FULFILLMENT_FAILED,
)

# Shopify webhook deliveries as received: recorded (deduplicated on the delivery id) before we answer
# 200, so an event is never lost once Shopify stops retrying. `seq` is the order of arrival (sensor cursor).
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("webhook_id", sa.String(100), nullable=False, unique=True),  # X-Shopify-Webhook-Id
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("shop_domain", sa.String(255), nullable=True),
    sa.Column("resource_id", sa.String(100), nullable=True),  # e.g. gid://shopify/Order/N
    sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)

# Supplier shipping quotes per (destination, basket), so repeat baskets cost no rate-limited call.
freight_quotes = sa.Table(
    "freight_quotes",
    metadata,
    sa.Column("quote_key", sa.String(500), primary_key=True),  # "US|vid:qty,vid:qty"
    sa.Column("options", sa.JSON, nullable=False),  # [{name, price, days_min, days_max}]
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)
