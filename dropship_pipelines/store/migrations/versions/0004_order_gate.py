"""Order gate: `order_holds`, the Shopify fulfillment holds the gate put on orders, each claimed under
the order before `fulfillmentOrderHold` is called, with its reason, note and who released it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_holds",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("order_name", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("fulfillment_order_id", sa.String(length=100), nullable=True),
        sa.Column("hold_id", sa.String(length=100), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("released_by", sa.String(length=120), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_order_holds_state_created_at", "order_holds", ["state", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_order_holds_state_created_at", table_name="order_holds")
    op.drop_table("order_holds")
