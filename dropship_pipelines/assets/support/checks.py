"""Guards of the support workflow; the blocking one stands between an unvalidated reply and a customer."""

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.assets.support.assets import support_replies, support_tickets
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.support_policy import SupportPolicyResource
from dropship_pipelines.store import support_queries as q
from dropship_pipelines.store.support_tables import support_messages
from dropship_pipelines.store.support_tables import support_replies as replies_t


@dg.asset_check(
    asset=support_replies,
    blocking=True,
    description="No reply reached a customer with a validation problem, and every sent reply has its text.",
)
def no_unvalidated_reply_sent(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        flagged = q.sent_with_problems(conn)
        blank = (
            conn.execute(
                sa.select(replies_t.c.reply_key).where(
                    replies_t.c.state == "sent",
                    sa.or_(replies_t.c.reply_text.is_(None), replies_t.c.validation_problems.is_(None)),
                )
            )
            .scalars()
            .all()
        )
    bad = [{"reply_key": r["reply_key"], "problems": r["validation_problems"]} for r in flagged]
    bad += [{"reply_key": key, "problems": "sent without a validated text"} for key in blank]
    return dg.AssetCheckResult(
        passed=not bad,
        metadata={"violations": len(bad), "records": preview_table(bad[:20], ("reply_key", "problems"))},
    )


@dg.asset_check(
    asset=support_replies,
    description="Every customer message read is answered or escalated (none dropped), bar the newest batch.",
)
def every_message_handled(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        waiting = q.unanswered(conn, 1000)
        in_flight = q.in_flight(conn)
    return dg.AssetCheckResult(
        passed=not in_flight,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "waiting_for_next_run": len(waiting),
            "unconfirmed_sends": len(in_flight),
            "records": preview_table(
                [{"ticket": r["ticket_id"], "state": r["state"]} for r in in_flight[:20]], ("ticket", "state")
            ),
        },
    )


@dg.asset_check(
    asset=support_tickets, description="Every stored customer message belongs to a stored ticket."
)
def messages_have_tickets(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(support_messages)
            .where(~sa.exists().where(q.support_tickets.c.ticket_id == support_messages.c.ticket_id))
        ).scalar_one()
    return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphan_messages": int(orphans)})


@dg.asset_check(
    asset=support_replies,
    description="Today's LLM tokens stay within the daily budget (past it, every message goes to a human).",
)
def daily_token_budget_kept(
    store_db: StoreDatabase, support_policy: SupportPolicyResource
) -> dg.AssetCheckResult:
    budget = support_policy.policy().daily_token_budget
    with store_db.engine().connect() as conn:
        spent = q.tokens_on(conn, q.now().date())
    return dg.AssetCheckResult(
        passed=spent < budget,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"tokens_today": spent, "daily_token_budget": budget, "share": round(spent / budget, 3)},
    )
