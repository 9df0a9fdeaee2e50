"""Customer service: every customer message answered with the facts of their order, or escalated."""

from datetime import datetime, timedelta
from typing import Any

import dagster as dg
from sqlalchemy.engine import Engine

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.support_channel import SupportChannel
from dropship_pipelines.resources.support_policy import SupportPolicyResource
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

GROUP = "support"
OWNERS = ["team:support"]
FINISHED_RUN_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")


class TicketSyncConfig(dg.Config):
    # Re-read this far behind the newest message seen: a message written while we read is never skipped.
    overlap_minutes: int = 15


class ReplyConfig(dg.Config):
    max_replies_per_run: int = 300  # bounds LLM spend and helpdesk calls per run
    max_drafts: int = 2  # a second rejected draft sends the message to a human


@dg.asset(group_name=GROUP, kinds={"python", "gorgias"}, owners=OWNERS, pool="helpdesk")
def support_tickets(
    context: dg.AssetExecutionContext,
    config: TicketSyncConfig,
    helpdesk: dg.ResourceParam[SupportChannel],
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Customer tickets and their messages, read incrementally from the helpdesk; none missed.

    Reads every ticket whose newest customer message is at or after the stored cursor (minus an
    overlap), fetches the messages of those that changed, and only then moves the cursor."""
    engine = store_db.engine()
    with engine.connect() as conn:
        cursor = q.read_cursor(conn)
        known = {
            r["ticket_id"]: q.as_utc(r["last_received_at"])
            for r in conn.execute(q.support_tickets.select()).mappings()
        }
    since = cursor - timedelta(minutes=config.overlap_minutes) if cursor else None
    fetched_at = q.now()
    tickets: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    newest = cursor
    unchanged = 0
    for ticket in helpdesk.tickets_with_messages_since(since):
        received = ticket.last_received_message_datetime
        newest = max(filter(None, (newest, received)), default=None)
        ticket_id = str(ticket.id)
        tickets.append(
            {
                "ticket_id": ticket_id,
                "channel": ticket.channel,
                "status": ticket.status,
                "subject": (ticket.subject or "")[:500],
                "customer_email": ticket.customer.email if ticket.customer else None,
                "customer_name": ticket.customer.name if ticket.customer else None,
                "language": ticket.language,
                "tags": [t.name for t in ticket.tags],
                "last_received_at": received,
                "fetched_at": fetched_at,
            }
        )
        if ticket_id in known and known[ticket_id] == received:
            unchanged += 1
            continue
        for message in helpdesk.messages(ticket.id):
            messages.append(
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
        q.save_tickets(conn, tickets, messages)
        if newest is not None:
            q.write_cursor(conn, newest)
    incoming = [m for m in messages if not m["from_agent"]]
    context.log.info(
        "support tickets: %d read (%d unchanged), %d messages (%d from customers)",
        len(tickets),
        unchanged,
        len(messages),
        len(incoming),
    )
    return dg.MaterializeResult(
        metadata={
            "tickets_read": len(tickets),
            "tickets_unchanged": unchanged,
            "messages_read": len(messages),
            "customer_messages": len(incoming),
            "cursor": newest.isoformat() if newest else "",
            "preview": preview_table(
                tickets[:10], ("ticket_id", "channel", "status", "language", "last_received_at")
            ),
        }
    )


class _Outcome:
    """What happened to one message: counters for the run's metadata."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.escalated: list[tuple[str, str]] = []
        self.recovered = 0
        self.left_in_flight: list[tuple[str, str]] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_usd = 0.0


def _escalate(
    context: dg.AssetExecutionContext,
    engine: Engine,
    helpdesk: dg.ResourceParam[SupportChannel],
    policy: SupportPolicy,
    row: dict[str, Any],
    reason: str,
    outcome: _Outcome,
    **values: Any,
) -> None:
    """A human answers: the ticket is tagged for the team and the ledger says why."""
    tags = [policy.escalation_tag, f"escalated:{reason.split(':')[0]}"]
    try:
        helpdesk.tag_and_set_status(row["ticket_id"], tags + list(row.get("tags") or []), status="open")
    except ApiError as error:
        context.log.warning(
            "ticket %s: escalation tag not set (%s); ledger still records it", row["ticket_id"], error
        )
    with engine.begin() as conn:
        q.finish(
            conn, row["reply_key"], state="escalated", reason=reason[:2000], answered_at=q.now(), **values
        )
    outcome.escalated.append((row["ticket_id"], reason[:200]))
    context.log.info("ticket %s: escalated (%s)", row["ticket_id"], reason[:200])


def _send(
    context: dg.AssetExecutionContext,
    engine: Engine,
    helpdesk: dg.ResourceParam[SupportChannel],
    policy: SupportPolicy,
    row: dict[str, Any],
    reply_text: str,
    outcome: _Outcome,
) -> None:
    try:
        sent = helpdesk.send_reply(
            row["ticket_id"],
            marker=row["reply_key"],
            to_email=row["customer_email"] or "",
            subject=f"Re: {row.get('ticket_subject') or row.get('subject') or ''}".strip(),
            body_text=reply_text,
        )
    except PermanentApiError as error:
        _escalate(context, engine, helpdesk, policy, row, f"send_failed: {error}", outcome)
        return
    except ApiError as error:
        # May or may not have landed: the row stays 'sending'; the next run looks for our marker first.
        outcome.left_in_flight.append((row["ticket_id"], str(error)[:200]))
        context.log.warning(
            "ticket %s: reply not confirmed (%s); will check before resending", row["ticket_id"], error
        )
        return
    with engine.begin() as conn:
        q.finish(
            conn,
            row["reply_key"],
            state="sent",
            helpdesk_message_id=sent.message_id,
            answered_at=q.now(),
            recovered=sent.recovered,
        )
    outcome.recovered += int(sent.recovered)
    try:
        helpdesk.tag_and_set_status(
            row["ticket_id"],
            [policy.answered_tag, *[t for t in row.get("tags") or [] if t != policy.escalation_tag]],
            status="closed",
        )
    except ApiError as error:
        context.log.warning("ticket %s: answered, but not closed (%s)", row["ticket_id"], error)
    outcome.sent.append(row)


def _resume(
    context: dg.AssetExecutionContext,
    engine: Engine,
    helpdesk: dg.ResourceParam[SupportChannel],
    policy: SupportPolicy,
    outcome: _Outcome,
) -> None:
    """Finish what a killed run left: a 'sending' reply is looked up by its marker before it is re-sent."""
    with engine.connect() as conn:
        rows = q.in_flight(conn)
    for row in rows:
        if row["run_id"] and row["run_id"] != context.run.run_id:
            other = context.instance.get_run_by_id(row["run_id"])
            if other is not None and other.status.value not in FINISHED_RUN_STATUSES:
                continue  # that run is alive and owns the row
        if row["state"] == "drafting":
            # Nothing was sent: forget the claim so the message is drafted afresh.
            with engine.begin() as conn:
                conn.execute(
                    q.support_replies.delete().where(q.support_replies.c.reply_key == row["reply_key"])
                )
            continue
        context.log.info("ticket %s: resuming a reply left in 'sending'", row["ticket_id"])
        with engine.begin() as conn:
            q.finish(conn, row["reply_key"], run_id=context.run.run_id)
        _send(context, engine, helpdesk, policy, row, row["reply_text"] or "", outcome)


def _answer(
    context: dg.AssetExecutionContext,
    engine: Engine,
    helpdesk: dg.ResourceParam[SupportChannel],
    llm: LlmResource,
    policy: SupportPolicy,
    config: ReplyConfig,
    message: dict[str, Any],
    outcome: _Outcome,
) -> None:
    ticket_id, message_id = message["ticket_id"], message["message_id"]
    received_at: datetime = q.as_utc(message["sent_at"])  # type: ignore[assignment]
    row = {
        "reply_key": f"dropship-reply:{ticket_id}:{message_id}",
        "ticket_id": ticket_id,
        "message_id": message_id,
        "state": "drafting",
        "run_id": context.run.run_id,
        "received_at": received_at,
    }
    with engine.begin() as conn:
        if not q.claim(conn, row):
            return  # another run owns this message
        names = order_names_in(f"{message['subject']}\n{message['body_text']}")
        facts: OrderFacts | None = q.order_facts(conn, names, message["customer_email"])
    row.update(
        customer_email=message["customer_email"],
        ticket_subject=message["ticket_subject"],
        tags=[t for t in (message["ticket_tags"] or []) if not t.startswith("escalated:")],
    )
    tokens = {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}

    def count(result: Any) -> None:
        tokens["prompt_tokens"] += result.prompt_tokens
        tokens["completion_tokens"] += result.completion_tokens
        tokens["cost_usd"] += result.cost_usd
        outcome.prompt_tokens += result.prompt_tokens
        outcome.completion_tokens += result.completion_tokens
        outcome.cost_usd += result.cost_usd

    body = message["body_text"] or ""
    try:
        classified = llm.structured(
            system=INTENT_SYSTEM_PROMPT,
            user=intent_prompt(body, message["subject"] or ""),
            schema_name="support_intent",
            output=IntentAnswer,
        )
    except (ApiError, LlmOutputError) as error:
        _escalate(context, engine, helpdesk, policy, row, f"llm_unavailable: {error}", outcome, **tokens)
        return
    count(classified)
    intent = classified.value
    language = intent.language.lower()[:2]
    today = received_at.date()
    risks = classify_risks(body, intent.intent, facts, policy, today)
    decision = route(intent.intent, intent.confidence, language, risks, facts, policy)
    facts_values = {
        "order_name": facts.order_name if facts else None,
        "intent": intent.intent,
        "language": language,
        "confidence": intent.confidence,
        "risks": [r.value for r in risks],
    }
    if not decision.auto or facts is None:
        _escalate(context, engine, helpdesk, policy, row, decision.reason, outcome, **facts_values, **tokens)
        return
    may_refund = refund_allowed(facts, policy, today)
    prompt_facts = reply_facts(
        facts, policy, intent=intent.intent, language=language, message=body, may_refund=may_refund
    )
    problems: list[str] = []
    for draft_number in range(1, config.max_drafts + 1):
        try:
            drafted = llm.structured(
                system=REPLY_SYSTEM_PROMPT,
                user=reply_prompt(prompt_facts, problems),
                schema_name="support_reply",
                output=ReplyDraft,
            )
        except LlmOutputError as error:
            problems = [f"unusable answer: {error}"]
            continue
        except ApiError as error:
            _escalate(
                context,
                engine,
                helpdesk,
                policy,
                row,
                f"llm_unavailable: {error}",
                outcome,
                drafts=draft_number,
                **facts_values,
                **tokens,
            )
            return
        count(drafted)
        if drafted.value.needs_human:
            _escalate(
                context,
                engine,
                helpdesk,
                policy,
                row,
                "model_unsure",
                outcome,
                drafts=draft_number,
                **facts_values,
                **tokens,
            )
            return
        problems = validate_reply(
            drafted.value.reply,
            facts,
            policy,
            intent=intent.intent,
            system_prompt=REPLY_SYSTEM_PROMPT,
            may_refund=may_refund,
        )
        if problems:
            context.log.info(
                "ticket %s: draft %d rejected: %s", ticket_id, draft_number, "; ".join(problems)[:300]
            )
            continue
        reply_text = drafted.value.reply.strip()
        with engine.begin() as conn:
            if not q.mark_sending(
                conn,
                row["reply_key"],
                context.run.run_id,
                {
                    "reply_text": reply_text,
                    "validation_problems": [],
                    "drafts": draft_number,
                    **facts_values,
                    **tokens,
                },
            ):
                return
        _send(context, engine, helpdesk, policy, row, reply_text, outcome)
        return
    _escalate(
        context,
        engine,
        helpdesk,
        policy,
        row,
        f"validation_failed_twice: {'; '.join(problems)}",
        outcome,
        drafts=config.max_drafts,
        **facts_values,
        **tokens,
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "gorgias", "openai"},
    owners=OWNERS,
    pool="helpdesk",
    deps=[support_tickets],
)
def support_replies(
    context: dg.AssetExecutionContext,
    config: ReplyConfig,
    helpdesk: dg.ResourceParam[SupportChannel],
    llm: LlmResource,
    support_policy: SupportPolicyResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Each new customer message answered from the real state of their order, or handed to a human.

    Order, supplier and tracking facts come from the store database; the LLM classifies and drafts from
    those facts only; every draft is validated (no invented number, date, amount or promise, no leaked
    instructions) before it is sent. Refunds above the limit, legal threats, injection attempts, low
    confidence, policy topics and drafts rejected twice go to a human, tagged with the reason. A reply
    is recorded 'sending' before it is posted and carries a marker, so it is never sent twice."""
    policy = support_policy.policy()
    engine = store_db.engine()
    outcome = _Outcome()
    _resume(context, engine, helpdesk, policy, outcome)
    with engine.connect() as conn:
        work = q.unanswered(conn, config.max_replies_per_run)
    for message in work:
        _answer(context, engine, helpdesk, llm, policy, config, message, outcome)
    with engine.connect() as conn:
        ledger = q.ledger_counts(conn)
    reasons: dict[str, int] = {}
    for _, reason in outcome.escalated:
        key = reason.split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
    handled = len(outcome.sent) + len(outcome.escalated)
    return dg.MaterializeResult(
        metadata={
            "messages": len(work),
            "sent": len(outcome.sent),
            "escalated": len(outcome.escalated),
            "recovered_after_crash": outcome.recovered,
            "unconfirmed_sends": len(outcome.left_in_flight),
            "auto_answered_share": round(len(outcome.sent) / handled, 3) if handled else 0.0,
            "llm_prompt_tokens": outcome.prompt_tokens,
            "llm_completion_tokens": outcome.completion_tokens,
            "llm_cost_usd": round(outcome.cost_usd, 6),
            "ledger": dg.MetadataValue.json(ledger),
            "escalations_by_reason": reasons_table(
                sorted(reasons.items(), key=lambda kv: -kv[1]), ("reason", "count")
            ),
            "escalated_tickets": reasons_table(outcome.escalated[:20], ("ticket", "reason")),
            "answered": preview_table(
                [{"ticket": r["ticket_id"], "message": r["message_id"]} for r in outcome.sent[:10]],
                ("ticket", "message"),
            ),
        }
    )
