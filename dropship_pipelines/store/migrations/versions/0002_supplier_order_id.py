"""Supplier orders name no supplier: `supplier_orders.cj_order_id` becomes `supplier_order_id`.

CJ is the first implementation of the `Supplier` protocol; the ledger keeps whichever supplier's order id.
The column stays unique. SQLite rebuilds the table (batch mode), keeping its rows, constraints and
indexes; PostgreSQL renames the column in place, and its unique constraint too, so that the constraint's
name says what it guards.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rename("cj_order_id", "supplier_order_id")


def downgrade() -> None:
    _rename("supplier_order_id", "cj_order_id")


# Literal statements, one per direction: no SQL is built from strings (tests/security checks it).
_RENAME_CONSTRAINT = {
    ("cj_order_id", "supplier_order_id"): (
        "ALTER TABLE supplier_orders RENAME CONSTRAINT supplier_orders_cj_order_id_key"
        " TO supplier_orders_supplier_order_id_key"
    ),
    ("supplier_order_id", "cj_order_id"): (
        "ALTER TABLE supplier_orders RENAME CONSTRAINT supplier_orders_supplier_order_id_key"
        " TO supplier_orders_cj_order_id_key"
    ),
}


def _rename(old: str, new: str) -> None:
    with op.batch_alter_table("supplier_orders") as batch:
        batch.alter_column(old, new_column_name=new, existing_type=sa.String(64), existing_nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        for constraint in sa.inspect(op.get_bind()).get_unique_constraints("supplier_orders"):
            if constraint["column_names"] == [new] and constraint["name"] == f"supplier_orders_{old}_key":
                op.execute(sa.text(_RENAME_CONSTRAINT[(old, new)]))
