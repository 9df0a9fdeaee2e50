"""Creative tests: each product's challenger video, each variant's ad, per-ad daily metrics, the tests.

`ad_creative_variants` holds the price-first challenger ("b") of each product's creative (the control is
its `ad_creatives` row); `ad_variant_ads` claims each variant's ad before it is created; per-ad numbers
land in `ad_variant_metrics_daily`; `creative_tests` holds each test's state and decision.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0011"
down_revision = "0010"
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
        "ad_creative_variants",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=8), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opening", sa.String(length=16), nullable=False),
        sa.Column("headline", sa.String(length=255), nullable=True),
        sa.Column("hooks", sa.JSON(), nullable=True),
        sa.Column("video_path", sa.Text(), nullable=True),
        sa.Column("video_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("video_bytes", sa.Integer(), nullable=True),
        sa.Column("render_seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid", "variant"),
    )
    op.create_table(
        "ad_variant_ads",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("adset_id", sa.String(length=64), nullable=False),
        sa.Column("video_id", sa.String(length=64), nullable=True),
        sa.Column("ad_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("pid", "platform", "variant"),
        sa.UniqueConstraint("ad_id"),
    )
    op.create_table(
        "ad_variant_metrics_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("ad_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "ad_id"),
    )
    op.create_index("ix_ad_variant_metrics_daily_campaign_id", "ad_variant_metrics_daily", ["campaign_id"])
    op.create_table(
        "creative_tests",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("winner", sa.String(length=8), nullable=True),
        sa.Column("loser", sa.String(length=8), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("pid", "platform"),
    )


def downgrade() -> None:
    op.drop_table("creative_tests")
    op.drop_index("ix_ad_variant_metrics_daily_campaign_id", table_name="ad_variant_metrics_daily")
    op.drop_table("ad_variant_metrics_daily")
    op.drop_table("ad_variant_ads")
    op.drop_table("ad_creative_variants")
