"""Order actions and kept drafts: `order_actions` (cancel, refund, address change, tracking resent, each
claimed under its origin and kind before the remote call) and `support_replies.draft` (the structured
draft of an escalated reply, kept for the human with the gate's reasons).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "order_actions",
        sa.Column("action_key", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("order_name", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("remote_id", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("action_key"),
        sa.UniqueConstraint("origin", "kind", name="uq_order_actions_origin_kind"),
    )
    op.create_index("ix_order_actions_order_id", "order_actions", ["order_id"], unique=False)
    with op.batch_alter_table("support_replies") as batch:
        batch.add_column(sa.Column("draft", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_replies") as batch:
        batch.drop_column("draft")
    op.drop_index("ix_order_actions_order_id", table_name="order_actions")
    op.drop_table("order_actions")
