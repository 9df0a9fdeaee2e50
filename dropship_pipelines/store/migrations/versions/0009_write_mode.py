"""Webhook subscriptions, preflight, shadow writes: `webhook_subscriptions` (what the pipelines registered
at Shopify and CJ, claimed per service and topic) and `shadow_writes` (the writes shadow mode held back).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("subscription_key", sa.String(length=120), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("subscription_key"),
    )
    op.create_table(
        "shadow_writes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("write_key", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("operation", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("write_key"),
    )


def downgrade() -> None:
    op.drop_table("shadow_writes")
    op.drop_table("webhook_subscriptions")
