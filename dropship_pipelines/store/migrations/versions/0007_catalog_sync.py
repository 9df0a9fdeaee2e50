"""Catalog sync: supplier webhook events, the supplier's word on each listed variant, shipping to the main
markets, whether each listing is published, the store writes claimed, and the lineage of every price.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "supplier_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("message_type", sa.String(length=16), nullable=True),
        sa.Column("pid", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_supplier_events_pid", "supplier_events", ["pid"], unique=False)
    op.create_table(
        "variant_supply",
        sa.Column("vid", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("cost", MONEY, nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("offered", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("store_in_stock", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vid"),
    )
    op.create_index("ix_variant_supply_pid", "variant_supply", ["pid"], unique=False)
    op.create_table(
        "market_shipping",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("logistic_name", sa.String(length=100), nullable=True),
        sa.Column("cost", MONEY, nullable=True),
        sa.Column("days_max", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid", "country"),
    )
    op.create_table(
        "listing_publication",
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("store_product_id", sa.String(length=100), nullable=True),
        sa.Column("published", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("still_sold", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("write_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("pid"),
    )
    op.create_index(
        "ix_listing_publication_store_product_id", "listing_publication", ["store_product_id"], unique=False
    )
    op.create_table(
        "catalog_writes",
        sa.Column("write_key", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False),
        sa.PrimaryKeyConstraint("write_key"),
    )
    op.create_index("ix_catalog_writes_pid", "catalog_writes", ["pid"], unique=False)
    op.create_table(
        "price_lineage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vid", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.String(length=64), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("compare_at_price", MONEY, nullable=True),
        sa.Column("previous_price", MONEY, nullable=True),
        sa.Column("rule_price", MONEY, nullable=False),
        sa.Column("supplier_cost", MONEY, nullable=False),
        sa.Column("shipping_cost", MONEY, nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_price_lineage_vid", "price_lineage", ["vid"], unique=False)
    op.create_index("ix_price_lineage_pid", "price_lineage", ["pid"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_price_lineage_pid", table_name="price_lineage")
    op.drop_index("ix_price_lineage_vid", table_name="price_lineage")
    op.drop_table("price_lineage")
    op.drop_index("ix_catalog_writes_pid", table_name="catalog_writes")
    op.drop_table("catalog_writes")
    op.drop_index("ix_listing_publication_store_product_id", table_name="listing_publication")
    op.drop_table("listing_publication")
    op.drop_table("market_shipping")
    op.drop_index("ix_variant_supply_pid", table_name="variant_supply")
    op.drop_table("variant_supply")
    op.drop_index("ix_supplier_events_pid", table_name="supplier_events")
    op.drop_table("supplier_events")
