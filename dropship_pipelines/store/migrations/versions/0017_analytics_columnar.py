"""Analytics speed 2: the ledger's changes found by index, not by reading every order.

What changed since a moment (`analytics_queries.order_days_changed_since`: the ledger-change sensor every
minute, and the daily blocking checks' "changed since computed") was a scan of every order joined to its
supplier order; with an index on each table's `updated_at` it reads only the rows stamped since
(store/analytics_tables.py declares them).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_store_orders_updated_at": ("store_orders", ["updated_at"]),
    "ix_supplier_orders_updated_at": ("supplier_orders", ["updated_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
