"""Ads: campaigns per product per platform and their daily metrics (analytics reads both)."""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, created_column, metadata, updated_column

ad_campaigns = sa.Table(
    "ad_campaigns",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),  # one campaign per product per platform
    sa.Column("platform", sa.String(16), primary_key=True),  # meta | tiktok
    sa.Column("campaign_id", sa.String(64), nullable=True, unique=True),
    sa.Column("adset_id", sa.String(64), nullable=True),  # Meta ad set / TikTok ad group
    sa.Column("ad_id", sa.String(64), nullable=True),
    sa.Column("video_id", sa.String(64), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | active | paused | failed
    sa.Column("daily_budget", MONEY, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
)

ad_metrics_daily = sa.Table(
    "ad_metrics_daily",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("campaign_id", sa.String(64), primary_key=True),
    sa.Column("pid", sa.String(64), nullable=True, index=True),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("impressions", sa.Integer, nullable=False),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("ctr", sa.Float, nullable=True),
    sa.Column("cpc", MONEY, nullable=True),
    sa.Column("roas", sa.Float, nullable=True),
)
