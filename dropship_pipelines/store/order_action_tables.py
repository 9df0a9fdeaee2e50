"""Actions on a store order (cancel, refund, address change, tracking resent), claimed before they are made.

One row per (origin, kind): whoever asks (a support ticket today, the store's own cancellation handling
later) claims the action under that key before the store or the supplier is called, so a repeated or an
overlapping run never performs it twice; a claim a crashed run left is resolved by reading the remote
state. Refunds here are what analytics subtracts from profit.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, created_column, metadata, updated_column

order_actions = sa.Table(
    "order_actions",
    metadata,
    sa.Column("action_key", sa.String(200), primary_key=True),  # "<origin>:<kind>", the idempotency key
    sa.Column("origin", sa.String(120), nullable=False),  # who asked: "support-ticket:<id>"
    sa.Column("kind", sa.String(24), nullable=False),  # refund | cancel | address_change | resend_tracking
    sa.Column("order_id", sa.String(100), nullable=False, index=True),
    sa.Column("order_name", sa.String(32), nullable=True),
    # claimed (before the remote call) | done | refused (a precondition failed) | failed (the remote said no)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("amount", MONEY, nullable=True),  # refunds
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),  # the new address; the supplier order withdrawn
    sa.Column("remote_id", sa.String(120), nullable=True),  # the store's refund id, ...
    sa.Column("reason", sa.Text, nullable=True),  # why refused or failed
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
    sa.UniqueConstraint("origin", "kind", name="uq_order_actions_origin_kind"),
)
