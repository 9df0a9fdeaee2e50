"""What an operator does to a customer conversation from the dashboard: send a reply a human approved.

The same guarantees as the workflow's own replies: the ledger row is claimed before the helpdesk is called
(so two approvals never both send), the helpdesk is asked for our marker before posting (so a retry after a
crash never sends twice), and the ticket is closed and tagged as answered afterwards.
"""

import logging
from typing import Any

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.support_channel import SupportChannel
from dropship_pipelines.store import support_queries as q
from dropship_pipelines.store.database import get_engine

log = logging.getLogger("dropship_pipelines.support_actions")
HUMAN_TAG = "human-approved"


class ReplyNotAwaitingApproval(Exception):
    """The reply was sent, is being sent, or was never escalated: nothing to approve."""


def support_channel() -> SupportChannel:
    """The configured support channel (helpdesk API or mailbox), its secrets resolved from the environment."""
    return build_resources()["helpdesk"].process_config_and_initialize()


def escalation_tag() -> str:
    """The tag the workflow puts on tickets waiting for a human (store policy configuration)."""
    return build_resources()["support_policy"].policy().escalation_tag


def send_approved_reply(
    store_url: str, reply_key: str, text: str, channel: SupportChannel | None = None
) -> str:
    """Send `text` as the answer to the escalated reply `reply_key`; returns the helpdesk message id."""
    engine = get_engine(store_url)
    with engine.begin() as conn:
        row = q.claim_for_approval(conn, reply_key, text)
    if row is None:
        raise ReplyNotAwaitingApproval(f"reply {reply_key} is not waiting for approval")
    channel = channel or support_channel()
    sent = channel.send_reply(
        row["ticket_id"],
        marker=f"{reply_key}:approved",  # never confused with an AI draft that may have been posted
        to_email=row["customer_email"] or "",
        subject=f"Re: {row.get('ticket_subject') or ''}".strip(),
        body_text=text,
    )
    with engine.begin() as conn:
        q.finish(
            conn,
            reply_key,
            state="sent",
            # A human read and approved this text: that is its validation (the AI draft's problems are
            # why it was escalated, and stay in `reason`).
            validation_problems=[],
            reason=f"approved by an operator; escalated for: {row.get('reason') or 'unknown'}"[:2000],
            helpdesk_message_id=sent.message_id,
            answered_at=q.now(),
            recovered=sent.recovered,
        )
    waiting = escalation_tag()
    tags = [HUMAN_TAG, *[t for t in _tags(row) if t != waiting]]
    try:
        channel.tag_and_set_status(row["ticket_id"], tags, status="closed")
    except Exception as error:  # the reply is out; an open ticket is only cosmetic
        log.warning("ticket %s: approved reply sent, ticket not closed (%s)", row["ticket_id"], error)
    log.info("ticket %s: approved reply sent (message %s)", row["ticket_id"], sent.message_id)
    return sent.message_id


def _tags(row: dict[str, Any]) -> list[str]:
    return [str(t) for t in row.get("tags") or [] if not str(t).startswith("escalated:")]
