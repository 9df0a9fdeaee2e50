"""The customer-service workflow's ledger protocol, step by step.

Reading (`sync_tickets`): every ticket whose newest customer message is at or after the stored cursor (minus
an overlap) is read, the messages of those that changed are fetched and stored, and only then does the
cursor move: a message written while we read is never skipped.

Answering one message (`answer_new_messages`), under its reply key `dropship-reply:<ticket>:<message>`:
1. claim: a 'drafting' row in `support_replies`; another run's claim on the same message wins;
2. classify and route by the policy; what a machine may not answer is escalated: the ticket is tagged for
   a human and the row records 'escalated' with the reason;
3. draft from the order's facts and validate, up to `max_drafts` times;
4. record 'sending' with the validated text, before the channel is called;
5. send with the reply key as marker (the channel looks for the marker before posting), record 'sent',
   close the ticket.
After a crash: a 'sending' row of a run that is no longer alive is sent again, and the channel finds the
marker if the first attempt landed; a 'drafting' row is released and the message drafted afresh.

A human's approval from the dashboard (`send_approved_reply`) claims an 'escalated' row as 'approved' and
then takes the same send step (`deliver`) with its own marker.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource, LlmResult
from dropship_pipelines.resources.support_channel import SentReply, SupportChannel, Ticket
from dropship_pipelines.rules.reply_validation import (
    OrderFacts,
    classify_risks,
    order_names_in,
    refund_allowed,
    route,
    validate_reply,
)
from dropship_pipelines.rules.support_policy import SupportPolicy
from dropship_pipelines.rules.support_prompts import (
    INTENT_SYSTEM_PROMPT,
    REPLY_SYSTEM_PROMPT,
    IntentAnswer,
    ReplyDraft,
    intent_prompt,
    reply_facts,
    reply_prompt,
)
from dropship_pipelines.store import support_queries as q
from dropship_pipelines.store.database import get_engine

Log = logging.Logger | logging.LoggerAdapter[Any]  # a Dagster context's `log` is one
log = logging.getLogger("dropship_pipelines.services.support")
HUMAN_TAG = "human-approved"  # on a ticket whose reply an operator approved


@dataclass(frozen=True)
class SupportDesk:
    """Everything answering a customer needs: the ledger, the channel, the policy, the model, and who asks.

    `run_is_alive(run_id)` says whether another run still owns the rows it claimed."""

    engine: Engine
    channel: SupportChannel
    policy: SupportPolicy
    run_id: str
    log: Log
    llm: LlmResource | None = None  # only drafting needs the model; an approved reply does not
    run_is_alive: Callable[[str], bool] = field(default=lambda run_id: False)


# --- reading ---------------------------------------------------------------------------------------------
@dataclass
class TicketSync:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0  # tickets re-read whose newest customer message we already had
    cursor: datetime | None = None

    @property
    def customer_messages(self) -> int:
        return sum(1 for m in self.messages if not m["from_agent"])


def _ticket_row(ticket: Ticket, fetched_at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": str(ticket.id),
        "channel": ticket.channel,
        "status": ticket.status,
        "subject": (ticket.subject or "")[:500],
        "customer_email": ticket.customer.email if ticket.customer else None,
        "customer_name": ticket.customer.name if ticket.customer else None,
        "language": ticket.language,
        "tags": [t.name for t in ticket.tags],
        "last_received_at": ticket.last_received_message_datetime,
        "fetched_at": fetched_at,
    }


def sync_tickets(channel: SupportChannel, engine: Engine, overlap: timedelta) -> TicketSync:
    """Tickets and messages read incrementally from the channel into the ledger; the cursor moves last."""
    with engine.connect() as conn:
        cursor = q.read_cursor(conn)
        known = {
            r["ticket_id"]: q.as_utc(r["last_received_at"])
            for r in conn.execute(q.support_tickets.select()).mappings()
        }
    since = cursor - overlap if cursor else None
    fetched_at = q.now()
    result = TicketSync(cursor=cursor)
    for ticket in channel.tickets_with_messages_since(since):
        received = ticket.last_received_message_datetime
        result.cursor = max(filter(None, (result.cursor, received)), default=None)
        ticket_id = str(ticket.id)
        result.tickets.append(_ticket_row(ticket, fetched_at))
        if ticket_id in known and known[ticket_id] == received:
            result.unchanged += 1
            continue
        for message in channel.messages(ticket.id):
            result.messages.append(
                {
                    "message_id": str(message.id),
                    "ticket_id": ticket_id,
                    "from_agent": message.from_agent,
                    "public": message.public,
                    "sender_email": message.sender.email if message.sender else None,
                    "subject": (message.subject or "")[:500],
                    "body_text": message.body_text or message.body_html or "",
                    "external_id": message.external_id,
                    "sent_at": message.sent_datetime or message.created_datetime,
                    "fetched_at": fetched_at,
                }
            )
    with engine.begin() as conn:
        q.save_tickets(conn, result.tickets, result.messages)
        if result.cursor is not None:
            q.write_cursor(conn, result.cursor)
    return result


# --- answering -------------------------------------------------------------------------------------------
@dataclass
class ReplyRun:
    """What happened to the messages of one run: counters for its metadata."""

    messages: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    escalated: list[tuple[str, str]] = field(default_factory=list)  # (ticket, reason)
    recovered: int = 0  # sends found already delivered (by their marker) after a crash
    left_in_flight: list[tuple[str, str]] = field(default_factory=list)  # (ticket, error): unconfirmed sends
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    ledger: dict[str, int] = field(default_factory=dict)  # rows per state after the run

    def escalations_by_reason(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for _, reason in self.escalated:
            key = reason.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
        return sorted(counts.items(), key=lambda kv: -kv[1])


@dataclass
class _Spend:
    """The model's usage on one message, recorded on its ledger row and added to the run's."""

    run: ReplyRun
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, result: LlmResult[Any]) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.cost_usd += result.cost_usd
        self.run.prompt_tokens += result.prompt_tokens
        self.run.completion_tokens += result.completion_tokens
        self.run.cost_usd += result.cost_usd

    def values(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


def answer_new_messages(desk: SupportDesk, *, max_messages: int, max_drafts: int) -> ReplyRun:
    """Finish what a crashed run left, then answer or escalate each ticket's newest unanswered message."""
    run = ReplyRun()
    resume_in_flight(desk, run)
    with desk.engine.connect() as conn:
        work = q.unanswered(conn, max_messages)
    run.messages = len(work)
    for message in work:
        answer_message(desk, message, run, max_drafts=max_drafts)
    with desk.engine.connect() as conn:
        run.ledger = q.ledger_counts(conn)
    return run


def resume_in_flight(desk: SupportDesk, run: ReplyRun) -> None:
    """Finish what a killed run left: a 'sending' reply is looked up by its marker before it is re-sent."""
    with desk.engine.connect() as conn:
        rows = q.in_flight(conn)
    for row in rows:
        if row["run_id"] and row["run_id"] != desk.run_id and desk.run_is_alive(row["run_id"]):
            continue  # that run is alive and owns the row
        if row["state"] == "drafting":
            # Nothing was sent: forget the claim so the message is drafted afresh.
            with desk.engine.begin() as conn:
                q.release_claim(conn, row["reply_key"])
            continue
        desk.log.info("ticket %s: resuming a reply left in 'sending'", row["ticket_id"])
        with desk.engine.begin() as conn:
            q.finish(conn, row["reply_key"], run_id=desk.run_id)
        _send(desk, row, row["reply_text"] or "", run)


def answer_message(desk: SupportDesk, message: dict[str, Any], run: ReplyRun, *, max_drafts: int) -> None:
    """One customer message through the protocol: claim, classify, route, draft, validate, send."""
    claimed = _claim(desk, message)
    if claimed is None:
        return  # another run owns this message
    row, facts = claimed
    spend = _Spend(run)
    body = message["body_text"] or ""
    try:
        intent = _classify(desk, body, message["subject"] or "", spend)
    except (ApiError, LlmOutputError) as error:
        escalate(desk, row, f"llm_unavailable: {error}", run, **spend.values())
        return
    language = intent.language.lower()[:2]
    today = row["received_at"].date()
    risks = classify_risks(body, intent.intent, facts, desk.policy, today)
    decision = route(intent.intent, intent.confidence, language, risks, facts, desk.policy)
    decided = {
        "order_name": facts.order_name if facts else None,
        "intent": intent.intent,
        "language": language,
        "confidence": intent.confidence,
        "risks": [r.value for r in risks],
    }
    if not decision.auto or facts is None:
        escalate(desk, row, decision.reason, run, **decided, **spend.values())
        return
    may_refund = refund_allowed(facts, desk.policy, today)
    prompt = reply_facts(
        facts, desk.policy, intent=intent.intent, language=language, message=body, may_refund=may_refund
    )
    draft = _draft(desk, row, prompt, facts, intent.intent, may_refund, spend, max_drafts=max_drafts)
    if draft.reply_text is None:
        escalate(desk, row, draft.reason, run, drafts=draft.drafts, **decided, **spend.values())
        return
    validated = {"reply_text": draft.reply_text, "validation_problems": [], "drafts": draft.drafts}
    with desk.engine.begin() as conn:
        if not q.mark_sending(
            conn, row["reply_key"], desk.run_id, {**validated, **decided, **spend.values()}
        ):
            return
    _send(desk, row, draft.reply_text, run)


def _claim(desk: SupportDesk, message: dict[str, Any]) -> tuple[dict[str, Any], OrderFacts | None] | None:
    """The message's ledger row claimed in 'drafting', with the facts of the order it is about; None when
    another run already claimed it."""
    ticket_id, message_id = message["ticket_id"], message["message_id"]
    row = {
        "reply_key": f"dropship-reply:{ticket_id}:{message_id}",
        "ticket_id": ticket_id,
        "message_id": message_id,
        "state": "drafting",
        "run_id": desk.run_id,
        "received_at": q.as_utc(message["sent_at"]),
    }
    with desk.engine.begin() as conn:
        if not q.claim(conn, row):
            return None
        names = order_names_in(f"{message['subject']}\n{message['body_text']}")
        facts = q.order_facts(conn, names, message["customer_email"])
    row.update(
        customer_email=message["customer_email"],
        ticket_subject=message["ticket_subject"],
        tags=[t for t in (message["ticket_tags"] or []) if not t.startswith("escalated:")],
    )
    return row, facts


def _classify(desk: SupportDesk, body: str, subject: str, spend: _Spend) -> IntentAnswer:
    assert desk.llm is not None, "answering needs the model"
    classified = desk.llm.structured(
        system=INTENT_SYSTEM_PROMPT,
        user=intent_prompt(body, subject),
        schema_name="support_intent",
        output=IntentAnswer,
    )
    spend.add(classified)
    return classified.value


@dataclass(frozen=True)
class _Draft:
    drafts: int  # drafts asked for
    reply_text: str | None = None  # a validated reply, or None: a human answers, for `reason`
    reason: str = ""


def _draft(
    desk: SupportDesk,
    row: dict[str, Any],
    prompt: dict[str, Any],
    facts: OrderFacts,
    intent: str,
    may_refund: bool,
    spend: _Spend,
    *,
    max_drafts: int,
) -> _Draft:
    """Drafts until one passes validation; each rejected draft's problems are fed back into the next."""
    assert desk.llm is not None, "answering needs the model"
    problems: list[str] = []
    for number in range(1, max_drafts + 1):
        try:
            drafted = desk.llm.structured(
                system=REPLY_SYSTEM_PROMPT,
                user=reply_prompt(prompt, problems),
                schema_name="support_reply",
                output=ReplyDraft,
            )
        except LlmOutputError as error:
            problems = [f"unusable answer: {error}"]
            continue
        except ApiError as error:
            return _Draft(number, reason=f"llm_unavailable: {error}")
        spend.add(drafted)
        if drafted.value.needs_human:
            return _Draft(number, reason="model_unsure")
        problems = validate_reply(
            drafted.value.reply,
            facts,
            desk.policy,
            intent=intent,
            system_prompt=REPLY_SYSTEM_PROMPT,
            may_refund=may_refund,
        )
        if not problems:
            return _Draft(number, reply_text=drafted.value.reply.strip())
        desk.log.info("ticket %s: draft %d rejected: %s", row["ticket_id"], number, "; ".join(problems)[:300])
    return _Draft(max_drafts, reason=f"validation_failed_twice: {'; '.join(problems)}")


def escalate(desk: SupportDesk, row: dict[str, Any], reason: str, run: ReplyRun, **recorded: Any) -> None:
    """A human answers: the ticket is tagged for the team and the ledger says why."""
    tags = [desk.policy.escalation_tag, f"escalated:{reason.split(':')[0]}"]
    try:
        desk.channel.tag_and_set_status(row["ticket_id"], tags + list(row.get("tags") or []), status="open")
    except ApiError as error:
        desk.log.warning(
            "ticket %s: escalation tag not set (%s); ledger still records it", row["ticket_id"], error
        )
    with desk.engine.begin() as conn:
        q.finish(
            conn, row["reply_key"], state="escalated", reason=reason[:2000], answered_at=q.now(), **recorded
        )
    run.escalated.append((row["ticket_id"], reason[:200]))
    desk.log.info("ticket %s: escalated (%s)", row["ticket_id"], reason[:200])


def _send(desk: SupportDesk, row: dict[str, Any], reply_text: str, run: ReplyRun) -> None:
    """The workflow's send: a refusal escalates; a failure that may have delivered stays 'sending'."""
    try:
        sent = deliver(desk, row, reply_text, marker=row["reply_key"], answered_tag=desk.policy.answered_tag)
    except PermanentApiError as error:
        escalate(desk, row, f"send_failed: {error}", run)
        return
    except ApiError as error:
        # May or may not have landed: the row stays 'sending'; the next run looks for our marker first.
        run.left_in_flight.append((row["ticket_id"], str(error)[:200]))
        desk.log.warning(
            "ticket %s: reply not confirmed (%s); will check before resending", row["ticket_id"], error
        )
        return
    run.recovered += int(sent.recovered)
    run.sent.append(row)


# --- the send step, shared by the workflow and the dashboard's approvals -----------------------------------
def deliver(
    desk: SupportDesk, row: dict[str, Any], text: str, *, marker: str, answered_tag: str, **recorded: Any
) -> SentReply:
    """Post a claimed reply, record it 'sent', then close the ticket tagged `answered_tag`.

    The row is already claimed under its key ('sending' or 'approved'), so no one else sends it; the channel
    looks for `marker` before posting, so a retry after a crash never sends twice. A failed post raises
    (ApiError) and leaves the claim for the next attempt; a ticket left open after a sent reply is only
    logged, as the customer has their answer."""
    sent = desk.channel.send_reply(
        row["ticket_id"],
        marker=marker,
        to_email=row["customer_email"] or "",
        subject=f"Re: {row.get('ticket_subject') or ''}".strip(),
        body_text=text,
    )
    with desk.engine.begin() as conn:
        q.finish(
            conn,
            row["reply_key"],
            state="sent",
            helpdesk_message_id=sent.message_id,
            answered_at=q.now(),
            recovered=sent.recovered,
            **recorded,
        )
    waiting = {desk.policy.escalation_tag}
    kept = [str(t) for t in row.get("tags") or [] if t not in waiting and not str(t).startswith("escalated:")]
    try:
        desk.channel.tag_and_set_status(row["ticket_id"], [answered_tag, *kept], status="closed")
    except ApiError as error:
        desk.log.warning("ticket %s: answered, but not closed (%s)", row["ticket_id"], error)
    return sent


# --- a reply a human approved on the dashboard -------------------------------------------------------------
class ReplyNotAwaitingApproval(Exception):
    """The reply was sent, is being sent, or was never escalated: nothing to approve."""


def configured_channel() -> SupportChannel:
    """The configured support channel (helpdesk API or mailbox), its secrets resolved from the environment."""
    return build_resources()["helpdesk"].process_config_and_initialize()


def configured_policy() -> SupportPolicy:
    """The store's support policy as the code location configures it."""
    return build_resources()["support_policy"].policy()


def send_approved_reply(
    store_url: str, reply_key: str, text: str, channel: SupportChannel | None = None
) -> str:
    """Send `text` as the answer to the escalated reply `reply_key`; returns the channel's message id.

    The same guarantees as the workflow's own replies: the row is claimed before the channel is called
    (two approvals never both send), and the send step is the workflow's own (`deliver`)."""
    engine = get_engine(store_url)
    with engine.begin() as conn:
        row = q.claim_for_approval(conn, reply_key, text)
    if row is None:
        raise ReplyNotAwaitingApproval(f"reply {reply_key} is not waiting for approval")
    desk = SupportDesk(
        engine=engine,
        channel=channel or configured_channel(),
        policy=configured_policy(),
        run_id="dashboard",
        log=log,
    )
    sent = deliver(
        desk,
        row,
        text,
        marker=f"{reply_key}:approved",  # never confused with an AI draft that may have been posted
        answered_tag=HUMAN_TAG,
        # A human read and approved this text: that is its validation (the AI draft's problems are why it
        # was escalated, and stay in `reason`).
        validation_problems=[],
        reason=f"approved by an operator; escalated for: {row.get('reason') or 'unknown'}"[:2000],
    )
    log.info("ticket %s: approved reply sent (message %s)", row["ticket_id"], sent.message_id)
    return sent.message_id
