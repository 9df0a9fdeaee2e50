"""Baseline: the store schema as the last release before Alembic created it (all tables, `cj_order_id`).

That release created the tables and added missing columns and indexes at run time (`create_schema`).
`create_baseline` is written against a `SchemaBuilder`: `upgrade` passes Alembic's `op`, and a database
made before Alembic is completed by replaying it into plain SQLAlchemy tables (see `migrations/__init__.py`).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.migrations import SchemaBuilder, baseline_metadata
from dropship_pipelines.store.schema import stamp_now

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    create_baseline(op)


def downgrade() -> None:
    for table in reversed(baseline_metadata().sorted_tables):
        op.drop_table(table.name)


def create_baseline(schema: SchemaBuilder) -> None:
    schema.create_table(
        "ad_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("roas", sa.Float(), nullable=True),
        sa.Column("old_budget", MONEY, nullable=False),
        sa.Column("new_budget", MONEY, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    schema.create_index("ix_ad_actions_campaign_id", "ad_actions", ["campaign_id"], unique=False)
    schema.create_table(
        "ad_campaigns",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("adset_id", sa.String(length=64), nullable=True),
        sa.Column("ad_id", sa.String(length=64), nullable=True),
        sa.Column("video_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("daily_budget", MONEY, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("campaign_name", sa.String(length=255), nullable=True),
        sa.Column("creative_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("budget_changed_day", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("pid", "platform"),
        sa.UniqueConstraint("campaign_id"),
    )
    schema.create_table(
        "ad_creatives",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("headline", sa.String(length=255), nullable=True),
        sa.Column("hooks", sa.JSON(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("call_to_action", sa.String(length=32), nullable=True),
        sa.Column("video_path", sa.Text(), nullable=True),
        sa.Column("video_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("video_bytes", sa.Integer(), nullable=True),
        sa.Column("render_seconds", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    schema.create_table(
        "ad_metrics_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=True),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("ctr", sa.Float(), nullable=True),
        sa.Column("cpc", MONEY, nullable=True),
        sa.Column("roas", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("day", "platform", "campaign_id"),
    )
    schema.create_index("ix_ad_metrics_daily_pid", "ad_metrics_daily", ["pid"], unique=False)
    schema.create_table(
        "alert_incidents",
        sa.Column("incident_key", sa.String(length=500), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("notified_at", sa.Float(), nullable=False),
        sa.Column("last_run_id", sa.String(length=64), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("incident_key"),
    )
    schema.create_table(
        "analytics_ad_performance",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("ctr", sa.Float(), nullable=True),
        sa.Column("cpc", MONEY, nullable=True),
        sa.Column("roas", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "campaign_id"),
    )
    schema.create_table(
        "analytics_daily_profit",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("product_cost", MONEY, nullable=False),
        sa.Column("shipping_cost", MONEY, nullable=False),
        sa.Column("payment_fees", MONEY, nullable=False),
        sa.Column("ad_spend", MONEY, nullable=False),
        sa.Column("refunds", MONEY, nullable=False),
        sa.Column("profit", MONEY, nullable=False),
        sa.Column("estimated_cost_orders", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    schema.create_table(
        "analytics_daily_sales",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("sales", MONEY, nullable=False),
        sa.Column("aov", MONEY, nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    schema.create_table(
        "analytics_kpis",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=True),
        sa.Column("end_day", sa.Date(), nullable=True),
        sa.Column("sales", MONEY, nullable=False),
        sa.Column("profit", MONEY, nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("ad_spend", MONEY, nullable=False),
        sa.Column("ad_clicks", sa.Integer(), nullable=False),
        sa.Column("total_cost", MONEY, nullable=False),
        sa.Column("roi", sa.Float(), nullable=True),
        sa.Column("roas", sa.Float(), nullable=True),
        sa.Column("conversion_rate", sa.Float(), nullable=True),
        sa.Column("aov", MONEY, nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    schema.create_table(
        "analytics_top_products",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("product_cost", MONEY, nullable=False),
        sa.Column("shipping_cost", MONEY, nullable=False),
        sa.Column("ad_spend", MONEY, nullable=False),
        sa.Column("contribution", MONEY, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    schema.create_table(
        "freight_quotes",
        sa.Column("quote_key", sa.String(length=500), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("quote_key"),
    )
    schema.create_table(
        "fulfillments",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("fulfillment_id", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("track_number", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking_url", sa.Text(), nullable=True),
        sa.Column("customer_notified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
        sa.UniqueConstraint("fulfillment_id"),
    )
    schema.create_index(
        "ix_fulfillments_failed",
        "fulfillments",
        ["order_id"],
        unique=False,
        sqlite_where=sa.text("state = 'failed'"),
        postgresql_where=sa.text("state = 'failed'"),
    )
    schema.create_table(
        "listing_variants",
        sa.Column("vid", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("store_variant_id", sa.String(length=100), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("option_value", sa.String(length=200), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("compare_at_price", MONEY, nullable=True),
        sa.Column("unit_cost", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("vid"),
        sa.UniqueConstraint("store_variant_id"),
    )
    schema.create_index("ix_listing_variants_pid", "listing_variants", ["pid"], unique=False)
    schema.create_index("ix_listing_variants_sku", "listing_variants", ["sku"], unique=False)
    schema.create_table(
        "listings",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("store_product_id", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("compare_at_price", MONEY, nullable=True),
        sa.Column("unit_cost", MONEY, nullable=False),
        sa.Column("shipping_cost", MONEY, nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("rule_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("copy_hash", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
        sa.UniqueConstraint("handle"),
        sa.UniqueConstraint("store_product_id"),
    )
    schema.create_table(
        "product_candidates",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit_cost", MONEY, nullable=True),
        sa.Column("shipping_cost", MONEY, nullable=True),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("compare_at_price", MONEY, nullable=True),
        sa.Column("profit", MONEY, nullable=True),
        sa.Column("margin", sa.Float(), nullable=True),
        sa.Column("popularity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("shipping_days_max", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rule_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    schema.create_table(
        "product_copy",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("description_html", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    schema.create_table(
        "product_details",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("description_html", sa.Text(), server_default="", nullable=False),
        sa.Column("image_urls", sa.JSON(), nullable=False),
        sa.Column("option_name", sa.String(length=100), server_default="Title", nullable=False),
        sa.Column("weight_g", sa.Float(), nullable=True),
        sa.Column("shipping_country", sa.String(length=2), nullable=True),
        sa.Column("logistic_name", sa.String(length=100), nullable=True),
        sa.Column("shipping_cost", MONEY, nullable=True),
        sa.Column("shipping_days_min", sa.Integer(), nullable=True),
        sa.Column("shipping_days_max", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    schema.create_table(
        "store_order_lines",
        sa.Column("line_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("store_variant_id", sa.String(length=100), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=300), server_default="", nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=True),
        sa.Column("vid", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("line_id"),
    )
    schema.create_index("ix_store_order_lines_order_id", "store_order_lines", ["order_id"], unique=False)
    schema.create_index("ix_store_order_lines_pid", "store_order_lines", ["pid"], unique=False)
    schema.create_table(
        "store_orders",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("customer_name", sa.String(length=255), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("store_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("financial_status", sa.String(length=32), nullable=False),
        sa.Column("fulfillment_status", sa.String(length=32), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("total_price", MONEY, nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), server_default="organic", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    schema.create_index("ix_store_orders_name", "store_orders", ["name"], unique=False)
    schema.create_index("ix_store_orders_placed_at", "store_orders", ["placed_at"], unique=False)
    schema.create_index(
        "ix_store_orders_state_placed_at", "store_orders", ["state", "placed_at"], unique=False
    )
    schema.create_table(
        "supplier_orders",
        sa.Column("order_number", sa.String(length=50), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("cj_order_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("supplier_status", sa.String(length=24), nullable=True),
        sa.Column("logistic_name", sa.String(length=100), nullable=True),
        sa.Column("product_amount", MONEY, nullable=True),
        sa.Column("postage_amount", MONEY, nullable=True),
        sa.Column("total_amount", MONEY, nullable=True),
        sa.Column("track_number", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking_url", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("order_number"),
        sa.UniqueConstraint("cj_order_id"),
        sa.UniqueConstraint("order_id"),
    )
    schema.create_index(
        "ix_supplier_orders_trouble",
        "supplier_orders",
        ["order_id"],
        unique=False,
        sqlite_where=sa.text("state = 'failed' OR last_error IS NOT NULL"),
        postgresql_where=sa.text("state = 'failed' OR last_error IS NOT NULL"),
    )
    schema.create_table(
        "supplier_products",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=300), server_default="", nullable=False),
        sa.Column("sell_price", MONEY, nullable=True),
        sa.Column("listed_num", sa.Integer(), server_default="0", nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("supplier_created_at", sa.String(length=32), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("detail_hash", sa.String(length=64), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    schema.create_table(
        "supplier_variants",
        sa.Column("vid", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("option_value", sa.String(length=200), nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("weight_g", sa.Float(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("vid"),
    )
    schema.create_index("ix_supplier_variants_pid", "supplier_variants", ["pid"], unique=False)
    schema.create_table(
        "support_messages",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("from_agent", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("sender_email", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=500), server_default="", nullable=False),
        sa.Column("body_text", sa.Text(), server_default="", nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    schema.create_index("ix_support_messages_sent_at", "support_messages", ["sent_at"], unique=False)
    schema.create_index("ix_support_messages_ticket_id", "support_messages", ["ticket_id"], unique=False)
    schema.create_table(
        "support_replies",
        sa.Column("reply_key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("order_name", sa.String(length=32), nullable=True),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("risks", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("validation_problems", sa.JSON(), nullable=True),
        sa.Column("drafts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cost_usd", sa.Float(), server_default="0", nullable=False),
        sa.Column("helpdesk_message_id", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovered", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("reply_key"),
        sa.UniqueConstraint("message_id"),
    )
    schema.create_index("ix_support_replies_received_at", "support_replies", ["received_at"], unique=False)
    schema.create_index("ix_support_replies_state", "support_replies", ["state"], unique=False)
    schema.create_index("ix_support_replies_ticket_id", "support_replies", ["ticket_id"], unique=False)
    schema.create_table(
        "support_tickets",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=500), server_default="", nullable=False),
        sa.Column("customer_email", sa.String(length=255), nullable=True),
        sa.Column("customer_name", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    schema.create_index(
        "ix_support_tickets_customer_email", "support_tickets", ["customer_email"], unique=False
    )
    schema.create_index(
        "ix_support_tickets_last_received_at", "support_tickets", ["last_received_at"], unique=False
    )
    schema.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    schema.create_table(
        "webhook_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=True),
        sa.Column("resource_id", sa.String(length=100), nullable=True),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("webhook_id"),
    )
