"""The support workflow's assets: read the channel, answer each new message (services/support.py)."""

from datetime import timedelta
from functools import partial

import dagster as dg

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.resources.support_channel import SupportChannel
from dropship_pipelines.resources.support_policy import SupportPolicyResource
from dropship_pipelines.services import support as service
from dropship_pipelines.services.order_actions import OrderActions

GROUP = "support"
OWNERS = ["team:support"]
FINISHED_RUN_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")


class TicketSyncConfig(dg.Config):
    # Re-read this far behind the newest message seen: a message written while we read is never skipped.
    overlap_minutes: int = 15


class ReplyConfig(dg.Config):
    max_replies_per_run: int = 300  # bounds LLM spend and helpdesk calls per run
    max_drafts: int = 2  # a second refused draft sends the message to a human


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
    synced = service.sync_tickets(helpdesk, store_db.engine(), timedelta(minutes=config.overlap_minutes))
    context.log.info(
        "support tickets: %d read (%d unchanged), %d messages (%d from customers)",
        len(synced.tickets),
        synced.unchanged,
        len(synced.messages),
        synced.customer_messages,
    )
    return dg.MaterializeResult(
        metadata={
            "tickets_read": len(synced.tickets),
            "tickets_unchanged": synced.unchanged,
            "messages_read": len(synced.messages),
            "customer_messages": synced.customer_messages,
            "cursor": synced.cursor.isoformat() if synced.cursor else "",
            "preview": preview_table(
                synced.tickets[:10], ("ticket_id", "channel", "status", "language", "last_received_at")
            ),
        }
    )


def percentile(values: list[int], share: int) -> int:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[max(0, -(-share * len(ordered) // 100) - 1)]


def _run_is_alive(instance: dg.DagsterInstance, run_id: str) -> bool | None:
    """None when this instance has no such run (another instance's run: the service waits out its lease)."""
    run = instance.get_run_by_id(run_id)
    return None if run is None else run.status.value not in FINISHED_RUN_STATUSES


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
    shopify: ShopifyAdminResource,
    supplier: dg.ResourceParam[Supplier],
) -> dg.MaterializeResult:
    """Each new customer message answered from the real state of their order, or handed to a human.

    The model never types a fact: it classifies the message and drafts a structured reply naming facts,
    policy snippets and executed actions, which code renders from the store database, the store policy
    file and the action ledger; the rendered text is sent only if the allow-list gate passes it. Order
    facts go only to the order's owner (a sender without an email is asked for the order number and its
    email first). Cancellations and refunds within the policy are performed (claimed in the ledger
    first), never promised. Legal threats, injection attempts, low confidence, policy topics, caps and
    budgets exceeded, and drafts refused twice go to a human, tagged with the reason. A reply is
    recorded 'sending' before it is posted and carries a marker, so it is never sent twice."""
    policy = support_policy.policy()
    engine = store_db.engine()
    desk = service.SupportDesk(
        engine=engine,
        channel=helpdesk,
        policy=policy,
        run_id=context.run.run_id,
        log=context.log,
        llm=llm,
        run_is_alive=partial(_run_is_alive, context.instance),
        store_policy=support_policy.store_policy(),
        order_actions=OrderActions(engine=engine, store=shopify, supplier=supplier, policy=policy),
    )
    run = service.answer_new_messages(
        desk, max_messages=config.max_replies_per_run, max_drafts=config.max_drafts
    )
    handled = len(run.sent) + len(run.escalated)
    return dg.MaterializeResult(
        metadata={
            "messages": run.messages,
            "sent": len(run.sent),
            "escalated": len(run.escalated),
            "recovered_after_crash": run.recovered,
            "unconfirmed_sends": len(run.left_in_flight),
            "auto_answered_share": round(len(run.sent) / handled, 3) if handled else 0.0,
            "llm_prompt_tokens": run.prompt_tokens,
            "llm_completion_tokens": run.completion_tokens,
            "llm_cost_usd": round(run.cost_usd, 6),
            "tokens_per_reply_p50": percentile(run.tokens_per_reply, 50),
            "tokens_per_reply_max": max(run.tokens_per_reply, default=0),
            "tokens_today": run.tokens_today,
            "daily_token_budget": policy.daily_token_budget,
            "ledger": dg.MetadataValue.json(run.ledger),
            "escalations_by_reason": reasons_table(run.escalations_by_reason(), ("reason", "count")),
            "escalated_tickets": reasons_table(run.escalated[:20], ("ticket", "reason")),
            "answered": preview_table(
                [{"ticket": r["ticket_id"], "message": r["message_id"]} for r in run.sent[:10]],
                ("ticket", "message"),
            ),
        }
    )
