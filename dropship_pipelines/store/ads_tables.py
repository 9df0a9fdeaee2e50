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
    # Added by the ads workflow (the columns above are read by analytics and keep their names):
    sa.Column("campaign_name", sa.String(255), nullable=True),  # deterministic: looked up on resume
    sa.Column("creative_fingerprint", sa.String(64), nullable=True),  # the video the ad was launched with
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("budget_changed_day", sa.Date, nullable=True),  # reporting day of the last budget change
    # Added for the margin rules (0008): who paused it (rule | unpublished | operator), the reporting day
    # the rule's kill judged (its window is re-judged on restated metrics), the last significant edit.
    sa.Column("paused_by", sa.String(16), nullable=True),
    sa.Column("killed_as_of", sa.Date, nullable=True),
    sa.Column("learning_since", sa.Date, nullable=True),
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
    sa.Column("ctr", sa.Float, nullable=True),  # clicks / impressions, a fraction (0.012 = 1.2 %)
    sa.Column("cpc", MONEY, nullable=True),
    sa.Column("roas", sa.Float, nullable=True),  # revenue / spend; NULL when nothing was spent
)
# The dashboard's daily totals per platform (/api/ads/daily) read from this index alone: a covering index
# in the key's order, so a month is one range of it, summed without visiting the table.
sa.Index(
    "ix_ad_metrics_daily_day_totals",
    ad_metrics_daily.c.day,
    ad_metrics_daily.c.platform,
    ad_metrics_daily.c.spend,
    ad_metrics_daily.c.clicks,
    ad_metrics_daily.c.purchases,
    ad_metrics_daily.c.revenue,
)

ad_creatives = sa.Table(
    "ad_creatives",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),  # one current creative per listed product
    sa.Column("content_hash", sa.String(64), nullable=False),  # facts + video settings it was made from
    sa.Column("status", sa.String(16), nullable=False),  # ok | failed
    sa.Column("headline", sa.String(255), nullable=True),
    sa.Column("hooks", sa.JSON, nullable=True),
    sa.Column("caption", sa.Text, nullable=True),
    sa.Column("call_to_action", sa.String(32), nullable=True),
    sa.Column("video_path", sa.Text, nullable=True),
    sa.Column("video_fingerprint", sa.String(64), nullable=True),
    sa.Column("video_bytes", sa.Integer, nullable=True),
    sa.Column("render_seconds", sa.Float, nullable=True),
    sa.Column("model", sa.String(100), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
)

ad_actions = sa.Table(
    "ad_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("campaign_id", sa.String(64), nullable=False, index=True),
    sa.Column("pid", sa.String(64), nullable=True),
    sa.Column("action", sa.String(16), nullable=False),  # pause | scale
    sa.Column("status", sa.String(16), nullable=False),  # proposed (dry run) | pending | applied | failed
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("window_days", sa.Integer, nullable=False),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("roas", sa.Float, nullable=True),
    sa.Column("old_budget", MONEY, nullable=False),
    sa.Column("new_budget", MONEY, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    # Added for the margin rules (0008): the reporting day judged, the product's breakeven ROAS and every
    # input of the decision (margin and its costs, learning count, windows).
    sa.Column("as_of", sa.Date, nullable=True),
    sa.Column("breakeven_roas", sa.Float, nullable=True),
    sa.Column("inputs", sa.JSON, nullable=True),
)

ad_purchase_events = sa.Table(
    "ad_purchase_events",
    metadata,
    # One purchase event per ad-attributed order per platform, claimed here before it is sent.
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("platform", sa.String(16), primary_key=True),  # meta | tiktok
    sa.Column("event_id", sa.String(100), nullable=False),  # the platforms deduplicate on it: the order id
    sa.Column("state", sa.String(16), nullable=False),  # pending | sent | failed
    sa.Column("value", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),  # when the order was placed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    created_column(),
    updated_column(),
)

# --- creative tests (0011) -------------------------------------------------------------------------------
# The challenger video of each product (variant "b", price-first); the control "a" is its `ad_creatives`
# row. Made from the same copy, keyed by the same content hash.
ad_creative_variants = sa.Table(
    "ad_creative_variants",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("variant", sa.String(8), primary_key=True),  # b
    sa.Column("content_hash", sa.String(64), nullable=False),  # the control's: made from the same copy
    sa.Column("status", sa.String(16), nullable=False),  # ok | failed
    sa.Column("opening", sa.String(16), nullable=False),  # problem | price
    sa.Column("headline", sa.String(255), nullable=True),  # its hook line
    sa.Column("hooks", sa.JSON, nullable=True),
    sa.Column("video_path", sa.Text, nullable=True),
    sa.Column("video_fingerprint", sa.String(64), nullable=True),
    sa.Column("video_bytes", sa.Integer, nullable=True),
    sa.Column("render_seconds", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
)

# Each variant's ad in the product's ad set / ad group, claimed (`pending`) before it is created.
ad_variant_ads = sa.Table(
    "ad_variant_ads",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("variant", sa.String(8), primary_key=True),  # a | b
    sa.Column("campaign_id", sa.String(64), nullable=False),
    sa.Column("adset_id", sa.String(64), nullable=False),
    sa.Column("video_id", sa.String(64), nullable=True),
    sa.Column("ad_id", sa.String(64), nullable=True, unique=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | active | paused | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    created_column(),
    updated_column(),
)

# Per-ad daily numbers (Meta insights level=ad, TikTok AUCTION_AD by ad_id): what the tests are judged on.
ad_variant_metrics_daily = sa.Table(
    "ad_variant_metrics_daily",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("ad_id", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(64), nullable=False, index=True),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("impressions", sa.Integer, nullable=False),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
)

# One test per product and platform: running until decided; `pausing` is the claim of the loser's pause
# (compare-and-set from running, with its `ad_actions` row), resolved `decided` once the platform paused it.
creative_tests = sa.Table(
    "creative_tests",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("campaign_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # running | pausing | decided
    sa.Column("winner", sa.String(8), nullable=True),
    sa.Column("loser", sa.String(8), nullable=True),
    sa.Column("as_of", sa.Date, nullable=True),  # the reporting day judged
    sa.Column("p_value", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("inputs", sa.JSON, nullable=True),
    sa.Column("action_id", sa.Integer, nullable=True),  # the ad_actions row of the loser's pause
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
)
