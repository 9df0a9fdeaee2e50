"""Cancellations, refunds and supplier disputes: `order_refunds` (each refund, chargeback and supplier
refund of an order, shop and presentment currency), `order_cases` (a store cancellation or a supplier
failure of an order, what was decided, when the ledger knew) and `order_case_steps` (each remote step of
a case, claimed before it is made), `order_money_synced` (the store change last read per order).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "order_refunds",
        sa.Column("refund_key", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("presentment_amount", MONEY, nullable=True),
        sa.Column("presentment_currency", sa.String(length=3), nullable=True),
        sa.Column("fee", MONEY, nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("refund_key"),
    )
    op.create_index("ix_order_refunds_order_id", "order_refunds", ["order_id"], unique=False)
    op.create_table(
        "order_cases",
        sa.Column("case_key", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("order_name", sa.String(length=32), nullable=True),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("escalation", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("known_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("case_key"),
    )
    op.create_index("ix_order_cases_order_id", "order_cases", ["order_id"], unique=False)
    op.create_index(
        "ix_order_cases_open",
        "order_cases",
        ["order_id"],
        unique=False,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "order_case_steps",
        sa.Column("step_key", sa.String(length=240), nullable=False),
        sa.Column("case_key", sa.String(length=200), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=120), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("step_key"),
    )
    op.create_index("ix_order_case_steps_case_key", "order_case_steps", ["case_key"], unique=False)
    op.create_table(
        "order_money_synced",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("store_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("order_money_synced")
    op.drop_index("ix_order_case_steps_case_key", table_name="order_case_steps")
    op.drop_table("order_case_steps")
    op.drop_index("ix_order_cases_open", table_name="order_cases")
    op.drop_index("ix_order_cases_order_id", table_name="order_cases")
    op.drop_table("order_cases")
    op.drop_index("ix_order_refunds_order_id", table_name="order_refunds")
    op.drop_table("order_refunds")
