"""Ads on product margins: decisions inputs, purchase events.

`ad_campaigns` learns who paused a campaign (`paused_by`), the reporting day the rule's kill judged
(`killed_as_of`, re-judged on restated metrics) and its last significant edit (`learning_since`);
`ad_actions` records each decision's reporting day, breakeven ROAS and inputs; `ad_purchase_events` claims
one purchase event per ad-attributed order and platform before it is sent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    with op.batch_alter_table("ad_campaigns") as batch:
        batch.add_column(sa.Column("paused_by", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("killed_as_of", sa.Date(), nullable=True))
        batch.add_column(sa.Column("learning_since", sa.Date(), nullable=True))
    with op.batch_alter_table("ad_actions") as batch:
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
        batch.add_column(sa.Column("breakeven_roas", sa.Float(), nullable=True))
        batch.add_column(sa.Column("inputs", sa.JSON(), nullable=True))
    op.create_table(
        "ad_purchase_events",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "platform"),
    )


def downgrade() -> None:
    op.drop_table("ad_purchase_events")
    with op.batch_alter_table("ad_actions") as batch:
        batch.drop_column("inputs")
        batch.drop_column("breakeven_roas")
        batch.drop_column("as_of")
    with op.batch_alter_table("ad_campaigns") as batch:
        batch.drop_column("learning_since")
        batch.drop_column("killed_as_of")
        batch.drop_column("paused_by")
