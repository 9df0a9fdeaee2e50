"""Going live: the webhook subscriptions the pipelines registered, and the writes shadow mode held back.

- `webhook_subscriptions`: one row per (service, topic), claimed before the remote call. Shopify's are
  checked against `webhookSubscriptions` and created when missing; CJ has no read endpoint for its
  settings, so its row says which callback URL was last set and when (set again when it changes or ages).
- `shadow_writes`: with `DROPSHIP_WRITE_MODE=shadow` every write a client would have sent is recorded
  here instead (unique on its key, so a run repeated records it once), with a summary free of secrets.
  Its answer carries synthetic ids made from the key (`shadow_ref`), so the writes after it are recorded
  too. In shadow mode this table lives in the shadow ledger (store/shadow_ledger.py), like every claim.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import created_column, metadata, updated_column

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("subscription_key", sa.String(120), primary_key=True),  # "<service>:<topic>"
    sa.Column("service", sa.String(16), nullable=False),  # shopify | cj
    sa.Column("topic", sa.String(64), nullable=False),  # Shopify ORDERS_CREATE, ...; CJ product, stock, ...
    sa.Column("callback_url", sa.Text, nullable=False),
    # claimed (before the remote call) | registered | failed
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("remote_id", sa.String(120), nullable=True),  # Shopify's WebhookSubscription GID
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),  # last seen at the service
    created_column(),
    updated_column(),
)

shadow_writes = sa.Table(
    "shadow_writes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("write_key", sa.String(200), nullable=False, unique=True),  # service:operation:payload hash
    # The hash every synthetic id of this write carries (`shadow:<kind>:<ref>`): reads of them resolve here.
    sa.Column("shadow_ref", sa.String(20), nullable=True, index=True),
    sa.Column("service", sa.String(16), nullable=False),
    sa.Column("operation", sa.String(120), nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),  # the payload, secrets and long text cut
    sa.Column("run_id", sa.String(64), nullable=True),
    created_column(),
)
