"""Analytics speed: covering indexes for the analytics' aggregations in the database.

The daily analytics sum every counted order of a window by day, and its lines (items, listing
estimates); top products shares each order among its lines (store/analytics_queries.py). These indexes
hold every column those reads take, so SQLite and PostgreSQL read the narrow index in placement order
instead of each order's and line's whole row (store/analytics_tables.py declares them).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_store_orders_analytics": (
        "store_orders",
        ["placed_at", "order_id", "state", "cancelled_at", "total_price"],
    ),
    "ix_store_order_lines_analytics": (
        "store_order_lines",
        ["order_id", "line_id", "quantity", "unit_price", "pid", "vid"],
    ),
    "ix_supplier_orders_analytics": ("supplier_orders", ["order_id", "product_amount", "postage_amount"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
