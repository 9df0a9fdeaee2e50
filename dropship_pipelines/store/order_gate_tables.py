"""The order gate: one row per store order the gate held (or whose hold an operator released or cancelled).

The row is the claim of the Shopify fulfillment hold: it is inserted (state 'claimed', under the order id)
in one statement BEFORE `fulfillmentOrderHold` is called, so two overlapping runs put one hold on an order;
the hold's `handle` (our key, unique per app and fulfillment order at Shopify) is how a claim a crashed run
left is matched to the hold that landed. A released row lets the order through the gate once.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import created_column, metadata, updated_column

order_holds = sa.Table(
    "order_holds",
    metadata,
    sa.Column("order_id", sa.String(100), primary_key=True),  # gid://shopify/Order/N
    sa.Column("order_name", sa.String(32), nullable=False),
    # claimed (before the hold call) | held | releasing | released | cancelled | failed (Shopify refused)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),  # Shopify FulfillmentHoldReason
    sa.Column("note", sa.Text, nullable=False),  # the human reason, as sent in reasonNotes
    sa.Column("handle", sa.String(64), nullable=False),  # the hold's handle at Shopify (idempotency key)
    sa.Column("fulfillment_order_id", sa.String(100), nullable=True),
    sa.Column("hold_id", sa.String(100), nullable=True),  # gid://shopify/FulfillmentHold/N
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("released_by", sa.String(120), nullable=True),  # who released or cancelled it
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
)

# The dashboard's holds list: the open ones, newest first.
sa.Index("ix_order_holds_state_created_at", order_holds.c.state, order_holds.c.created_at)
