"""Cancellations, refunds and supplier failures, both ways: what happened to an order's money after checkout.

- `order_refunds`: every movement of an order's money back, one row each, as the store or the supplier
  reports it: the store's refunds (ours and the staff's), its chargebacks (with the dispute fee) and what
  the supplier paid back. Amounts in the shop currency, with the presentment currency the customer paid
  in. This is what true profit subtracts (`refund_queries.money_back_per_order`).
- `order_cases`: one case per order and side: the store cancelled it ("store:<order>"), or the supplier
  failed it ("supplier:<order>:<reason>"); what was decided, when the ledger first knew, how it ended.
- `order_case_steps`: each remote step of a case (withdraw the supplier order, ask the supplier to cancel,
  open a supplier dispute), claimed under "<case>:<step>" BEFORE the remote call, so a repeated or an
  overlapping run never makes it twice; a claim a crashed run left is resolved against the remote side.
  The customer's refund itself is an `order_actions` row (services/order_actions.py claims it).
- `order_money_synced`: the store's `updatedAt` of each order whose refunds and disputes were last read,
  so an order is read again only when the store changed it.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, created_column, metadata, updated_column

order_refunds = sa.Table(
    "order_refunds",
    metadata,
    # "refund:<store refund GID>" | "chargeback:<store dispute GID>" | "supplier:<supplier dispute id>"
    sa.Column("refund_key", sa.String(200), primary_key=True),
    sa.Column("order_id", sa.String(100), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # refund | chargeback | supplier_refund
    sa.Column("remote_id", sa.String(120), nullable=False),
    # A chargeback's dispute status (NEEDS_RESPONSE, UNDER_REVIEW, WON, LOST, ACCEPTED); a supplier
    # dispute's; None for a refund (a refund is final once made).
    sa.Column("status", sa.String(24), nullable=True),
    sa.Column("amount", MONEY, nullable=False),  # shop currency
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("presentment_amount", MONEY, nullable=True),  # what the customer sees, in their currency
    sa.Column("presentment_currency", sa.String(3), nullable=True),
    sa.Column("fee", MONEY, nullable=True),  # a chargeback's dispute fee (shop currency)
    sa.Column("reason", sa.String(200), nullable=True),  # the refund's note, the dispute's reason
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    created_column(),
    updated_column(),
)

order_cases = sa.Table(
    "order_cases",
    metadata,
    sa.Column("case_key", sa.String(200), primary_key=True),  # "store:<order>" | "supplier:<order>:<reason>"
    sa.Column("order_id", sa.String(100), nullable=False, index=True),
    sa.Column("order_name", sa.String(32), nullable=True),
    sa.Column("side", sa.String(16), nullable=False),  # store | supplier
    # store: cancelled | supplier: supplier_cancelled | out_of_stock | lost_parcel | damaged_parcel |
    # insufficient_balance
    sa.Column("reason", sa.String(32), nullable=False),
    # What the rules decided (rules/order_cancellations.py): not_sent | withdraw | supplier_cancel |
    # leave_shipped | wait | refund | escalate ...
    sa.Column("decision", sa.String(32), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # open | done | escalated
    sa.Column("escalation", sa.Text, nullable=True),  # why a human must look (shown on the dashboard)
    sa.Column("detail", sa.JSON, nullable=True),  # the supplier status seen, the refund made, ...
    # When the ledger first knew of the cancellation or failure (wall clock): nothing may be paid after it.
    sa.Column("known_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
)

OPEN_CASE = order_cases.c.state == sa.literal_column("'open'")
sa.Index("ix_order_cases_open", order_cases.c.order_id, sqlite_where=OPEN_CASE, postgresql_where=OPEN_CASE)

order_case_steps = sa.Table(
    "order_case_steps",
    metadata,
    sa.Column("step_key", sa.String(240), primary_key=True),  # "<case_key>:<step>"
    sa.Column("case_key", sa.String(200), nullable=False, index=True),
    sa.Column("step", sa.String(24), nullable=False),  # withdraw | supplier_cancel | dispute
    # claimed (before the remote call) | done | refused (a precondition failed) | failed (remote said no)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("remote_id", sa.String(120), nullable=True),  # the supplier dispute id, the order deleted
    sa.Column("detail", sa.JSON, nullable=True),  # the evidence sent
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
)

order_money_synced = sa.Table(
    "order_money_synced",
    metadata,
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("store_updated_at", sa.DateTime(timezone=True), nullable=False),
    updated_column(),
)
