"""Tracking that holds: each shipped parcel's carrier status and stall, and the tracking updates re-posted
to the store (claimed once per order and new tracking number before `fulfillmentTrackingInfoUpdate`).

Support reads a parcel's stall here (so a reply about a late parcel is honest); the dashboard lists them.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import created_column, metadata, updated_column

parcel_tracking = sa.Table(
    "parcel_tracking",
    metadata,
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("order_number", sa.String(50), nullable=False),  # the supplier order number
    sa.Column("track_number", sa.String(64), nullable=True),  # the supplier's current one
    sa.Column("carrier_status", sa.String(64), nullable=True),  # the carrier's latest word
    sa.Column("shopify_company", sa.String(100), nullable=True),  # the company posted (Shopify's spelling)
    sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),  # first seen with a tracking number
    sa.Column("first_scan_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("stall", sa.String(16), nullable=True),  # no_tracking | no_scan | lost; null when moving
    sa.Column("stalled_since", sa.DateTime(timezone=True), nullable=True),
    # A lost parcel handed to the supplier-failure path (refund and dispute) once: when, and what it said.
    sa.Column("failure_reported_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("failure_outcome", sa.Text, nullable=True),
    created_column(),
    updated_column(),
)

PARCEL_STALLED = parcel_tracking.c.stall.is_not(None)
sa.Index(
    "ix_parcel_tracking_stalled",
    parcel_tracking.c.order_id,
    sqlite_where=PARCEL_STALLED,
    postgresql_where=PARCEL_STALLED,
)

tracking_updates = sa.Table(
    "tracking_updates",
    metadata,
    sa.Column("update_key", sa.String(200), primary_key=True),  # "<order id>|<new tracking number>"
    sa.Column("order_id", sa.String(100), nullable=False, index=True),
    sa.Column("fulfillment_id", sa.String(100), nullable=False),
    sa.Column("old_number", sa.String(64), nullable=True),
    sa.Column("new_number", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending | done | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    created_column(),
    updated_column(),
)
