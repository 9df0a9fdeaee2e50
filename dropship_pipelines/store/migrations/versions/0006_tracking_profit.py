"""Tracking events, stalls and true profit: `parcel_tracking` (carrier status, first and last scan,
stall, a lost parcel reported once), `tracking_updates` (a changed tracking number re-posted once),
`order_payments` (gateway, fees, refunds, presentment currency), `supplier_costs` (what CJ charged)
and `analytics_daily_profit.chargebacks` / `supplier_refunds`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from dropship_pipelines.store.schema import stamp_now

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def _stamps(*, created: bool = True) -> list[sa.Column]:
    columns = [
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False)
    ]
    if created:
        columns.insert(
            0, sa.Column("created_at", sa.DateTime(timezone=True), server_default=stamp_now(), nullable=False)
        )
    return columns


def upgrade() -> None:
    op.create_table(
        "parcel_tracking",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("order_number", sa.String(length=50), nullable=False),
        sa.Column("track_number", sa.String(length=64), nullable=True),
        sa.Column("carrier_status", sa.String(length=64), nullable=True),
        sa.Column("shopify_company", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stall", sa.String(length=16), nullable=True),
        sa.Column("stalled_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_outcome", sa.Text(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index(
        "ix_parcel_tracking_stalled",
        "parcel_tracking",
        ["order_id"],
        unique=False,
        sqlite_where=sa.text("stall IS NOT NULL"),
        postgresql_where=sa.text("stall IS NOT NULL"),
    )
    op.create_table(
        "tracking_updates",
        sa.Column("update_key", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("fulfillment_id", sa.String(length=100), nullable=False),
        sa.Column("old_number", sa.String(length=64), nullable=True),
        sa.Column("new_number", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("update_key"),
    )
    op.create_index("ix_tracking_updates_order_id", "tracking_updates", ["order_id"], unique=False)
    op.create_table(
        "order_payments",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=True),
        sa.Column("paid", MONEY, server_default="0", nullable=False),
        sa.Column("fees", MONEY, nullable=True),
        sa.Column("refunded", MONEY, server_default="0", nullable=False),
        sa.Column("shop_currency", sa.String(length=3), nullable=False),
        sa.Column("presentment_currency", sa.String(length=3), nullable=True),
        sa.Column("presentment_total", MONEY, nullable=True),
        *_stamps(created=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "supplier_costs",
        sa.Column("order_number", sa.String(length=50), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("product_amount", MONEY, nullable=False),
        sa.Column("postage_amount", MONEY, nullable=False),
        sa.Column("total_amount", MONEY, nullable=True),
        sa.Column("supplier_status", sa.String(length=24), nullable=True),
        *_stamps(created=False),
        sa.PrimaryKeyConstraint("order_number"),
        sa.UniqueConstraint("order_id"),
    )
    with op.batch_alter_table("analytics_daily_profit") as batch:
        batch.add_column(sa.Column("chargebacks", MONEY, server_default="0", nullable=False))
        batch.add_column(sa.Column("supplier_refunds", MONEY, server_default="0", nullable=False))
    with op.batch_alter_table("analytics_top_products") as batch:
        for name in ("payment_fees", "money_back", "profit"):
            batch.add_column(sa.Column(name, MONEY, server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("analytics_top_products") as batch:
        for name in ("profit", "money_back", "payment_fees"):
            batch.drop_column(name)
    with op.batch_alter_table("analytics_daily_profit") as batch:
        batch.drop_column("supplier_refunds")
        batch.drop_column("chargebacks")
    op.drop_table("supplier_costs")
    op.drop_table("order_payments")
    op.drop_index("ix_tracking_updates_order_id", table_name="tracking_updates")
    op.drop_table("tracking_updates")
    op.drop_index("ix_parcel_tracking_stalled", table_name="parcel_tracking")
    op.drop_table("parcel_tracking")
