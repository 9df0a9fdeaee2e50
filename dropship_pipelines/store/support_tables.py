"""Customer service: helpdesk tickets and messages as read, and the ledger of every answer.

`support_replies` is the ledger that makes an answer happen once: one row per ticket and incoming message
(unique), written 'sending' before the helpdesk is called, so a run killed between the send and the record
finds the row on resume and checks the helpdesk for our marker instead of sending again.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import created_column, metadata, updated_column

support_tickets = sa.Table(
    "support_tickets",
    metadata,
    sa.Column("ticket_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | closed (as the helpdesk says)
    sa.Column("subject", sa.String(500), nullable=False, server_default=""),
    sa.Column("customer_email", sa.String(255), nullable=True, index=True),
    sa.Column("customer_name", sa.String(255), nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("tags", sa.JSON, nullable=True),
    sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=True, index=True),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    created_column(),
    updated_column(),
)

support_messages = sa.Table(
    "support_messages",
    metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.String(64), nullable=False, index=True),
    sa.Column("from_agent", sa.Boolean, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("sender_email", sa.String(255), nullable=True),
    sa.Column("subject", sa.String(500), nullable=False, server_default=""),
    sa.Column("body_text", sa.Text, nullable=False, server_default=""),
    sa.Column("external_id", sa.String(200), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

support_replies = sa.Table(
    "support_replies",
    metadata,
    sa.Column("reply_key", sa.String(200), primary_key=True),  # "<ticket_id>:<message_id>", our marker
    sa.Column("ticket_id", sa.String(64), nullable=False, index=True),
    sa.Column("message_id", sa.String(64), nullable=False, unique=True),  # the incoming message answered
    # drafting | sending | sent | escalated
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("order_name", sa.String(32), nullable=True),
    sa.Column("intent", sa.String(32), nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("risks", sa.JSON, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),  # why escalated
    sa.Column("reply_text", sa.Text, nullable=True),
    sa.Column("validation_problems", sa.JSON, nullable=True),  # of the reply that was sent: must be []
    # The structured draft the model returned, kept with the gate's reasons for the human who answers.
    sa.Column("draft", sa.JSON, nullable=True),
    sa.Column("drafts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Column("helpdesk_message_id", sa.String(64), nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    # indexed: the dashboard pages replies newest first
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=True, index=True),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("recovered", sa.Boolean, nullable=False, server_default=sa.false()),  # found on the helpdesk
    created_column(),
    updated_column(),
)
# A ticket's replies in a state (the dashboard's ticket status asks "a sent reply to the newest message?"
# per ticket): one probe each, where the single-column state index made SQLite walk every sent reply.
sa.Index(
    "ix_support_replies_ticket_state",
    support_replies.c.ticket_id,
    support_replies.c.state,
    support_replies.c.received_at,
)
# Replies in a state newest first (the escalations list): the page's keys read in order from the index.
sa.Index("ix_support_replies_state_received_at", support_replies.c.state, support_replies.c.received_at)
