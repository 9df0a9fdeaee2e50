"""The customer-service workflow's ledger protocol, step by step.

Reading (`sync_tickets`): every ticket whose newest customer message is at or after the stored cursor (minus
an overlap) is read, the messages of those that changed are fetched and stored, and only then does the
cursor move: a message written while we read is never skipped.

Answering one message (`answer_new_messages`), under its reply key `dropship-reply:<ticket>:<message>`:
1. claim: a 'drafting' row in `support_replies`; another run's claim on the same message wins;
2. bound the cost: the customer's newest words only (quoted history and signature stripped, cut to
   `max_body_chars`); a sender over the day's message cap, the store over its daily cap or its daily
   token budget goes to a human before the model is asked anything;
3. classify (`max_intent_tokens`) and route by the policy; what a machine may not answer is escalated:
   the ticket is tagged for a human and the row records 'escalated' with the reason;
4. the order, only its owner's: the sender's email is the order's; without an email the message must name
   the order and its email or postal code, else the customer is asked for them and told nothing;
5. act, not promise: the intent's action (cancel, refund; services/order_actions.py) is performed under
   its own claim, or refused with the reason and escalated;
6. draft a StructuredReply (`max_reply_tokens`), render it (rules/reply_render.py) from the ReplyContext
   (the order's facts, the store policy file, the actions executed for this ticket, the language) and
   pass it through the last gate (`verify_outgoing`); a refused draft is retried with the reasons, up to
   `max_drafts` drafts, then escalated with the draft and the reasons kept for the human;
7. record 'sending' with the rendered text, before the channel is called;
8. send with the reply key as marker (the channel gates the text again and looks for the marker before
   posting), record 'sent', close the ticket.
After a crash: a 'sending' row of a run that is no longer alive is sent again, and the channel finds the
marker if the first attempt landed; a 'drafting' row is released and the message drafted afresh (an
action it claimed is resolved against the store, never made twice).

A human's approval from the dashboard (`send_approved_reply`) passes the same gate against the same
context, claims an 'escalated' row as 'approved' and then takes the same send step (`deliver`) with its
own marker.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource, LlmResult
from dropship_pipelines.resources.shopify.models import AddressInput
from dropship_pipelines.resources.support_channel import SentReply, SupportChannel, Ticket
from dropship_pipelines.rules.outgoing_reply import ReplyBlocked, checked_text
from dropship_pipelines.rules.reply_context import ExecutedAction, OrderFacts, ReplyContext
from dropship_pipelines.rules.reply_draft import ActionKind, StructuredReply, structured_reply_schema
from dropship_pipelines.rules.reply_languages import SUPPORTED_LANGUAGES
from dropship_pipelines.rules.reply_render import ReplyRefused, render_reply
from dropship_pipelines.rules.reply_validation import Risk, injection_attempt, legal_threat, verify_outgoing
from dropship_pipelines.rules.store_policy import StorePolicy, default_store_policy
from dropship_pipelines.rules.support_policy import SupportPolicy
from dropship_pipelines.rules.support_prompts import (
    INTENT_SYSTEM_PROMPT,
    REPLY_SYSTEM_PROMPT,
    IntentAnswer,
    NewAddress,
    customer_words,
    identity_request,
    intent_prompt,
    order_references,
    reply_prompt,
)
from dropship_pipelines.store import order_action_queries as oq
from dropship_pipelines.store import support_queries as q
from dropship_pipelines.store.database import get_engine

Log = logging.Logger | logging.LoggerAdapter[Any]  # a Dagster context's `log` is one
log = logging.getLogger("dropship_pipelines.services.support")
# A claim whose owner this instance cannot see is taken over only after it has not moved for this long: runs
# of other instances are invisible here, and taking a live run's row would send its reply twice.
CLAIM_LEASE = timedelta(minutes=10)
HUMAN_TAG = "human-approved"  # on a ticket whose reply an operator approved


@dataclass(frozen=True)
class SupportDesk:
    """Everything answering a customer needs: the ledger, the channel, the policy, the model, and who asks.

    `run_is_alive(run_id)` says whether another run still owns the rows it claimed: True or False when this
    Dagster instance knows the run, None when it does not (a run of another instance: the CLI beside the
    daemon, a second deployment), whose rows are then left alone until their claim lease runs out."""

    engine: Engine
    channel: SupportChannel
    policy: SupportPolicy
    run_id: str
    log: Log
    llm: LlmResource | None = None  # only drafting needs the model; an approved reply does not
    run_is_alive: Callable[[str], bool | None] = field(default=lambda run_id: False)
    store_policy: StorePolicy = field(default_factory=default_store_policy)  # what replies may state
    order_actions: "OrderActionDesk | None" = None  # what the agent may do; None: every action to a human


class ActionOutcome(Protocol):
    done: bool
    reason: str


class OrderActionDesk(Protocol):
    """The order actions the agent may perform (services/order_actions.py implements it)."""

    def perform(
        self,
        kind: ActionKind,
        order: dict[str, Any],
        *,
        origin: str,
        run_id: str,
        new_address: AddressInput | None = None,
    ) -> ActionOutcome: ...


def store_address(written: NewAddress | None) -> AddressInput | None:
    """The new address a customer wrote, as the store takes it (never put into a reply)."""
    if written is None:
        return None
    first, _, last = written.name.strip().partition(" ")
    return AddressInput(
        first_name=first or None,
        last_name=last or None,
        address1=written.address1,
        address2=written.address2,
        city=written.city,
        province_code=written.province_code,
        zip=written.zip,
        country_code=written.country_code,
    )


def executed_action(row: dict[str, Any]) -> ExecutedAction:
    """An order action the ledger records as done, as a reply may state it."""
    kind = ActionKind(row["kind"])
    if kind is ActionKind.REFUND:
        return ExecutedAction(kind, amount=row["amount"], currency=row["currency"])
    return ExecutedAction(kind)


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
    tokens_per_reply: list[int] = field(default_factory=list)  # prompt + completion, per message answered
    tokens_today: int = 0  # the store's LLM tokens today, after the run (the daily budget's measure)

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
        self.add_spent((result.prompt_tokens, result.completion_tokens, result.cost_usd))

    def add_spent(self, spent: tuple[int, int, float]) -> None:
        prompt, completion, cost = spent
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.cost_usd += cost
        self.run.prompt_tokens += prompt
        self.run.completion_tokens += completion
        self.run.cost_usd += cost

    def values(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


def answer_new_messages(desk: SupportDesk, *, max_messages: int, max_drafts: int | None = None) -> ReplyRun:
    """Finish what a crashed run left, then answer or escalate each ticket's newest unanswered message."""
    run = ReplyRun()
    resume_in_flight(desk, run)
    with desk.engine.connect() as conn:
        work = q.unanswered(conn, max_messages)
    run.messages = len(work)
    for message in work:
        answer_message(desk, message, run, max_drafts=max_drafts or desk.policy.max_drafts)
    with desk.engine.connect() as conn:
        run.ledger = q.ledger_counts(conn)
        run.tokens_today = q.tokens_on(conn, q.now().date())
    return run


def resume_in_flight(desk: SupportDesk, run: ReplyRun) -> None:
    """Finish what a killed run left: a 'sending' reply is looked up by its marker before it is re-sent."""
    with desk.engine.connect() as conn:
        rows = q.in_flight(conn)
    for row in rows:
        if row["run_id"] and row["run_id"] != desk.run_id and _owner_may_be_alive(desk, row):
            continue  # that run is alive (or may be, in another instance) and owns the row
        if row["state"] == "drafting":
            # Nothing was sent: forget the claim so the message is drafted afresh (an action it claimed
            # stays claimed under the ticket and is resolved against the store, never made twice).
            with desk.engine.begin() as conn:
                q.release_claim(conn, row["reply_key"])
            continue
        desk.log.info("ticket %s: resuming a reply left in 'sending'", row["ticket_id"])
        with desk.engine.begin() as conn:
            q.finish(conn, row["reply_key"], run_id=desk.run_id)
        context = _context_of_row(desk, row)
        _send(desk, row, row["reply_text"] or "", context, run)


def _owner_may_be_alive(desk: SupportDesk, row: dict[str, Any]) -> bool:
    alive = desk.run_is_alive(row["run_id"])
    if alive is not None:
        return alive
    touched = q.as_utc(row.get("updated_at")) or q.as_utc(row.get("created_at"))
    return touched is None or q.now() - touched < CLAIM_LEASE


def answer_message(desk: SupportDesk, message: dict[str, Any], run: ReplyRun, *, max_drafts: int) -> None:
    """One customer message through the protocol: claim, bound, classify, route, act, draft, gate, send."""
    row = _claim(desk, message)
    if row is None:
        return  # another run owns this message
    policy = desk.policy
    spend = _Spend(run)
    words, trimmed = customer_words(message["body_text"] or "", policy.max_body_chars)
    subject = (message["subject"] or "")[:300]
    sender = (message.get("sender_email") or message.get("customer_email") or "").strip().lower() or None
    row["trimmed"] = trimmed
    over = _over_caps(desk, message, sender)
    if over:
        escalate(desk, row, over, run)
        return
    try:
        intent = _classify(desk, words, subject, spend)
    except (ApiError, LlmOutputError) as error:
        escalate(desk, row, f"llm_unavailable: {error}", run, **spend.values())
        return
    language = intent.language.lower()[:2]
    with desk.engine.connect() as conn:
        order, owned = _owned_order(conn, desk, f"{subject}\n{words}", sender)
    decided: dict[str, Any] = {
        "order_name": order.order_name if order else None,
        "intent": intent.intent,
        "language": language,
        "confidence": intent.confidence,
    }
    risks = [r.value for r in _risks(words)]
    decided["risks"] = risks
    reason = _route(desk, intent.intent, intent.confidence, language, risks)
    if reason:
        escalate(desk, row, reason, run, **decided, **spend.values())
        return
    if policy.needs_order(intent.intent) and order is None:
        if sender is None:
            # We cannot tell who writes: ask for the order number and its email, disclose nothing.
            context = ReplyContext(order=None, policy=desk.store_policy, language=language)
            _send_checked(desk, row, identity_request(language), context, run, decided, spend, drafts=0)
        else:
            escalate(desk, row, "no_matching_order", run, **decided, **spend.values())
        return
    executed = _act(desk, row, intent, owned, language)
    if isinstance(executed, str):
        escalate(desk, row, executed, run, **decided, **spend.values())
        return
    context = ReplyContext(
        order=order if policy.needs_order(intent.intent) or order is not None else None,
        policy=desk.store_policy,
        executed_actions=executed,
        language=language,
    )
    draft = _draft(desk, row, context, intent.intent, words, subject, spend, max_drafts=max_drafts)
    if draft.reply_text is None:
        escalate(
            desk,
            row,
            draft.reason,
            run,
            drafts=draft.drafts,
            reply_text=draft.rendered,
            validation_problems=draft.problems,
            draft=draft.structured,
            **decided,
            **spend.values(),
        )
        return
    validated = {
        "reply_text": draft.reply_text,
        "validation_problems": [],
        "drafts": draft.drafts,
        "draft": draft.structured,
    }
    with desk.engine.begin() as conn:
        if not q.mark_sending(
            conn, row["reply_key"], desk.run_id, {**validated, **decided, **spend.values()}
        ):
            return
    _send(desk, row, draft.reply_text, context, run)


def _send_checked(
    desk: SupportDesk,
    row: dict[str, Any],
    reply: StructuredReply,
    context: ReplyContext,
    run: ReplyRun,
    decided: dict[str, Any],
    spend: "_Spend",
    *,
    drafts: int,
) -> None:
    """A code-written reply (no model): rendered and gated like any other, then sent."""
    text = render_reply(reply, context)
    problems = verify_outgoing(text, context)
    if problems:
        escalate(desk, row, f"gate_refused: {'; '.join(problems)}", run, **decided, **spend.values())
        return
    recorded = {"reply_text": text, "validation_problems": [], "drafts": drafts, "draft": reply.model_dump()}
    with desk.engine.begin() as conn:
        if not q.mark_sending(conn, row["reply_key"], desk.run_id, {**recorded, **decided, **spend.values()}):
            return
    _send(desk, row, text, context, run)


def _claim(desk: SupportDesk, message: dict[str, Any]) -> dict[str, Any] | None:
    """The message's ledger row claimed in 'drafting'; None when another run already claimed it."""
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
    row.update(
        customer_email=message["customer_email"],
        ticket_subject=message["ticket_subject"],
        tags=[t for t in (message["ticket_tags"] or []) if not t.startswith("escalated:")],
    )
    return row


def _over_caps(desk: SupportDesk, message: dict[str, Any], sender: str | None) -> str:
    """Why this message may not cost the model anything today ("" when it may): the sender's or the
    store's daily message cap, or the daily token budget."""
    policy = desk.policy
    day = q.as_utc(message["sent_at"]).date()  # type: ignore[union-attr]
    with desk.engine.connect() as conn:
        from_sender = q.messages_from_sender_on(conn, sender, message)
        answered_today = q.replies_received_on(conn, day)
        tokens = q.tokens_on(conn, q.now().date())
    if from_sender > policy.max_messages_per_sender_per_day:
        return f"sender_cap: {from_sender} messages today (cap {policy.max_messages_per_sender_per_day})"
    if answered_today > policy.max_messages_per_day:
        return f"daily_cap: {answered_today} messages today (cap {policy.max_messages_per_day})"
    if tokens >= policy.daily_token_budget:
        return f"token_budget: {tokens} tokens today (budget {policy.daily_token_budget})"
    return ""


def _risks(words: str) -> list[Risk]:
    risks = []
    if injection_attempt(words):
        risks.append(Risk.INJECTION_ATTEMPT)
    if legal_threat(words):
        risks.append(Risk.LEGAL_THREAT)
    return risks


def _route(desk: SupportDesk, intent: str, confidence: float, language: str, risks: list[str]) -> str:
    """Why a human must answer, the first that applies; "" when the machine may."""
    policy = desk.policy
    if risks:
        return risks[0]
    if confidence < policy.min_confidence:
        return "low_confidence"
    if not policy.auto_answers(intent):
        return f"policy_topic:{intent}"
    if language not in policy.languages or language not in SUPPORTED_LANGUAGES:
        return f"unsupported_language:{language}"
    return ""


def _owned_order(
    conn: Connection, desk: SupportDesk, text: str, sender: str | None
) -> tuple[OrderFacts | None, dict[str, Any] | None]:
    """The order the message is about, only when the sender is its owner: their verified email matches
    the order's, or (no email on the channel) the message names the order and its email or postal
    code. (facts, the ledger's order row), or (None, None): nothing is disclosed to anyone else."""
    numbers = order_references(text, desk.policy.order_name_prefix)
    names = [
        f"{prefix}{n}" for n in numbers for prefix in dict.fromkeys(("#", desk.policy.order_name_prefix))
    ]
    candidates = q.orders_named(conn, names)
    lowered = text.lower()
    for name in names:
        for order in candidates.get(name, []):
            email = (order["email"] or "").strip().lower()
            if sender is not None:
                if email and email == sender:
                    return q.facts_of(conn, order), order
                continue
            zip_code = ((order["shipping_address"] or {}).get("zip") or "").strip().lower()
            if (email and email in lowered) or (len(zip_code) >= 4 and zip_code in lowered):
                return q.facts_of(conn, order), order
    if sender is not None and not numbers:
        latest = q.latest_order_of(conn, sender)
        if latest is not None:
            return q.facts_of(conn, latest), latest
    return None, None


def _classify(desk: SupportDesk, words: str, subject: str, spend: "_Spend") -> IntentAnswer:
    assert desk.llm is not None, "answering needs the model"
    try:
        classified = desk.llm.structured(
            system=INTENT_SYSTEM_PROMPT,
            user=intent_prompt(words, subject),
            schema_name="support_intent",
            output=IntentAnswer,
            max_tokens=desk.policy.max_intent_tokens,
        )
    except LlmOutputError as error:
        spend.add_spent(error.spent)
        raise
    spend.add(classified)
    return classified.value


def _act(
    desk: SupportDesk, row: dict[str, Any], intent: IntentAnswer, order: dict[str, Any] | None, language: str
) -> tuple[ExecutedAction, ...] | str:
    """Perform the action the intent asks for, when the policy maps one; the actions executed for this
    ticket (a reply may state only those), or why a human must decide instead."""
    kind = desk.policy.action_for(intent.intent)
    origin = f"support-ticket:{row['ticket_id']}"
    if kind is not None:
        if order is None:
            return f"action_needs_order:{kind.value}"
        if desk.order_actions is None:
            return f"action_unavailable:{kind.value}"
        outcome = desk.order_actions.perform(
            kind, order, origin=origin, run_id=desk.run_id, new_address=store_address(intent.new_address)
        )
        if not outcome.done:
            return f"action_refused:{kind.value}: {outcome.reason}"
    with desk.engine.connect() as conn:
        done = oq.done_for_origin(conn, origin)
    return tuple(executed_action(action) for action in done)


@dataclass(frozen=True)
class _Draft:
    drafts: int  # drafts asked for
    reply_text: str | None = None  # a rendered reply the gate passed, or None: a human answers, for `reason`
    reason: str = ""
    rendered: str | None = None  # the last draft as rendered (for the human), when it could be rendered
    problems: list[str] = field(default_factory=list)  # the gate's (or the renderer's) reasons
    structured: dict[str, Any] | None = None  # the last structured draft


def _draft(
    desk: SupportDesk,
    row: dict[str, Any],
    context: ReplyContext,
    intent: str,
    words: str,
    subject: str,
    spend: "_Spend",
    *,
    max_drafts: int,
) -> _Draft:
    """Drafts until one renders and passes the gate; each refused draft's reasons are fed back."""
    assert desk.llm is not None, "answering needs the model"
    problems: list[str] = []
    rendered: str | None = None
    structured: dict[str, Any] | None = None
    schema = structured_reply_schema(desk.store_policy.snippet_ids)
    for number in range(1, max_drafts + 1):
        try:
            drafted = desk.llm.structured(
                system=REPLY_SYSTEM_PROMPT,
                user=reply_prompt(context, intent=intent, message=words, subject=subject, feedback=problems),
                schema_name="structured_reply",
                output=StructuredReply,
                schema=schema,
                max_tokens=desk.policy.max_reply_tokens,
            )
        except LlmOutputError as error:
            spend.add_spent(error.spent)
            problems = [f"unusable answer: {error}"]
            continue
        except ApiError as error:
            return _Draft(number, reason=f"llm_unavailable: {error}", problems=problems)
        spend.add(drafted)
        structured = drafted.value.model_dump(mode="json")
        if drafted.value.escalate:
            return _Draft(number, reason="model_unsure", structured=structured)
        try:
            rendered = render_reply(drafted.value, context)
        except ReplyRefused as refused:
            problems = [str(refused)]
            rendered = None
        else:
            problems = verify_outgoing(rendered, context)
            if not problems:
                return _Draft(number, reply_text=rendered, structured=structured)
        desk.log.info("ticket %s: draft %d refused: %s", row["ticket_id"], number, "; ".join(problems)[:300])
    return _Draft(
        max_drafts,
        reason=f"gate_refused: {'; '.join(problems)}",
        rendered=rendered,
        problems=problems,
        structured=structured,
    )


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


def _context_of_row(desk: SupportDesk, row: dict[str, Any]) -> ReplyContext:
    """The reply context of a ledger row, rebuilt from the ledger: its order (only the one the row named,
    which the owner check chose), the actions executed for its ticket, its language."""
    with desk.engine.connect() as conn:
        order = q.order_named(conn, row["order_name"]) if row.get("order_name") else None
        facts = q.facts_of(conn, order) if order is not None else None
        done = oq.done_for_origin(conn, f"support-ticket:{row['ticket_id']}")
    language = (row.get("language") or "en")[:2]
    return ReplyContext(
        order=facts,
        policy=desk.store_policy,
        executed_actions=tuple(executed_action(action) for action in done),
        language=language,
    )


def _send(
    desk: SupportDesk, row: dict[str, Any], reply_text: str, context: ReplyContext, run: ReplyRun
) -> None:
    """The workflow's send: a refusal escalates; a failure that may have delivered stays 'sending'."""
    try:
        sent = deliver(
            desk, row, reply_text, context, marker=row["reply_key"], answered_tag=desk.policy.answered_tag
        )
    except ReplyBlocked as blocked:
        escalate(desk, row, f"gate_refused: {blocked}", run, validation_problems=blocked.reasons)
        return
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
    with desk.engine.connect() as conn:
        tokens = q.tokens_of(conn, row["reply_key"])
    run.tokens_per_reply.append(tokens)


# --- the send step, shared by the workflow and the dashboard's approvals -----------------------------------
def deliver(
    desk: SupportDesk,
    row: dict[str, Any],
    text: str,
    context: ReplyContext,
    *,
    marker: str,
    answered_tag: str,
    **recorded: Any,
) -> SentReply:
    """Post a claimed reply, record it 'sent', then close the ticket tagged `answered_tag`.

    The text goes through the last gate first (`checked_text`: markup stripped, allow-list): a refused text
    raises ReplyBlocked and nothing is posted. The row is already claimed under its key ('sending' or
    'approved'), so no one else sends it; the channel gates the text again and looks for `marker` before
    posting, so a retry after a crash never sends twice. A failed post raises (ApiError) and leaves the
    claim for the next attempt; a ticket left open after a sent reply is only logged, as the customer has
    their answer."""
    clean = checked_text(text, context)
    sent = desk.channel.send_reply(
        row["ticket_id"],
        marker=marker,
        to_email=row["customer_email"] or "",
        subject=f"Re: {row.get('ticket_subject') or ''}".strip(),
        body_text=clean,
        context=context,
    )
    with desk.engine.begin() as conn:
        q.finish(
            conn,
            row["reply_key"],
            state="sent",
            reply_text=clean,
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


def configured_store_policy() -> StorePolicy:
    """The store policy file the code location configures (what replies may state)."""
    return build_resources()["support_policy"].store_policy()


def approval_context(store_url: str, reply_key: str) -> ReplyContext:
    """What an operator's reply to `reply_key` may state: its order, its ticket's executed actions, its
    language (the same context the workflow's own draft had)."""
    engine = get_engine(store_url)
    with engine.connect() as conn:
        row = q.reply_row(conn, reply_key)
    if row is None:
        raise ReplyNotAwaitingApproval(
            f"reply {reply_key} is not waiting for approval: there is no such reply"
        )
    desk = SupportDesk(
        engine=engine,
        channel=None,  # type: ignore[arg-type]  (reading only)
        policy=configured_policy(),
        run_id="dashboard",
        log=log,
        store_policy=configured_store_policy(),
    )
    return _context_of_row(desk, row)


def check_approved_text(store_url: str, reply_key: str, text: str) -> list[str]:
    """The gate's reasons against an operator's text for `reply_key` ([] when it may be sent)."""
    try:
        checked_text(text, approval_context(store_url, reply_key))
    except ReplyBlocked as blocked:
        return blocked.reasons
    return []


def send_approved_reply(
    store_url: str, reply_key: str, text: str, channel: SupportChannel | None = None
) -> str:
    """Send `text` as the answer to the escalated reply `reply_key`; returns the channel's message id.

    The same guarantees as the workflow's own replies: the text passes the same gate against the same
    context (ReplyBlocked with the reasons, before anything is claimed), the row is claimed before the
    channel is called (two approvals never both send), and the send step is the workflow's own
    (`deliver`)."""
    context = approval_context(store_url, reply_key)
    checked_text(text, context)  # refuse before claiming: a blocked text leaves the reply escalated
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
        store_policy=context.policy,
    )
    sent = deliver(
        desk,
        row,
        text,
        context,
        marker=f"{reply_key}:approved",  # never confused with an AI draft that may have been posted
        answered_tag=HUMAN_TAG,
        # A human wrote or approved this text and the gate passed it: no problem is left.
        validation_problems=[],
        reason=f"approved by an operator; escalated for: {row.get('reason') or 'unknown'}"[:2000],
    )
    log.info("ticket %s: approved reply sent (message %s)", row["ticket_id"], sent.message_id)
    return sent.message_id
