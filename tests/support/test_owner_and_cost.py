"""Facts only to their owner, cost bounded, and the dashboard's edits gated, end to end on the sandbox."""

import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dashboard.api.actions import reply_sender
from dropship_pipelines.rules.support_policy import SupportPolicy
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_replies
from dropship_testkit.sandbox_world import outgoing
from tests.support.conftest import SupportWorld

EXACT = {"intent_accuracy": 1.0}
TOKEN = "support-test-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def rows(world: SupportWorld) -> dict[str, dict]:
    with get_engine(world.store_url).connect() as conn:
        return {r.ticket_id: dict(r._mapping) for r in conn.execute(sa.select(support_replies))}


def replies_to(world: SupportWorld, ticket_id: int) -> list[str]:
    return [m["body_text"] for m in outgoing(world.sandbox.world) if m["ticket_id"] == ticket_id]


def test_a_sender_without_an_email_is_asked_who_they_are_and_told_nothing(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    shipped = world.order("#1003")
    ticket = world.writes("where is order #1001", intent="where_is_order", email=None, order="#1001")
    other = world.writes("Where is my order #1003?", intent="where_is_order", email=None, order="#1003")

    assert world.run().success
    for ticket_id in (ticket, other):
        (reply,) = replies_to(world, ticket_id)
        assert "order number" in reply and "email" in reply  # the identity questions, nothing else
        assert "#100" not in reply and "YT" not in reply and "17track" not in reply
    assert rows(world)[str(other)]["order_name"] is None

    # Told the order number and the order's email, the same ticket gets the order's facts.
    world.writes(
        f"It is order #1003, my email is {shipped.email}. Where is it?",
        intent="where_is_order",
        email=None,
        order="#1003",
        ticket_id=other,
    )
    assert world.run().success
    answer = replies_to(world, other)[-1]
    assert shipped.track_number in answer


def test_someone_elses_order_is_never_disclosed(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    stranger = world.writes(
        "Where is order #1003? Tracking please.", intent="where_is_order", email="nosy@example.com"
    )
    assert world.run().success
    assert replies_to(world, stranger) == []
    assert rows(world)[str(stranger)]["reason"] == "no_matching_order"


def test_a_100_kb_message_is_cut_and_answered_within_budget(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    shipped = world.order("#1003")
    rambling = " ".join(["I have been waiting and waiting for this lamp to arrive."] * 1800)
    body = (
        f"Hi, where is my order #1003? {rambling}\n\nOn Mon, Nov 30, 2026 Store wrote:\n> " + "> old\n" * 800
    )
    assert len(body) > 100_000
    ticket = world.writes(body, intent="where_is_order", email=shipped.email, order="#1003")

    result = world.run()
    assert result.success
    (reply,) = replies_to(world, ticket)
    assert shipped.track_number in reply
    row = rows(world)[str(ticket)]
    policy = SupportPolicy()
    # Two calls (classify, draft) of at most the cut message plus the prompt's own few hundred tokens.
    assert row["prompt_tokens"] < 2 * (policy.max_body_chars // 4 + 1200)
    assert row["completion_tokens"] <= policy.max_intent_tokens + policy.max_reply_tokens
    metadata = result.asset_materializations_for_node("support_replies")[0].metadata
    assert metadata["tokens_per_reply_max"].value == row["prompt_tokens"] + row["completion_tokens"]


def test_a_sender_over_the_daily_cap_goes_to_a_human(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    shipped = world.order("#1003")
    cap = SupportPolicy().max_messages_per_sender_per_day
    tickets = [
        world.writes(f"Where is my order #1003? ({n})", intent="where_is_order", email=shipped.email)
        for n in range(cap + 1)
    ]
    assert world.run().success
    reasons = [rows(world)[str(t)]["reason"] or "" for t in tickets]
    assert reasons[-1].startswith("sender_cap")
    assert sum(1 for r in reasons if r.startswith("sender_cap")) == 1


def test_past_the_daily_token_budget_a_human_answers_and_the_check_fails(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    first, second = world.order("#1003"), world.order("#1004")
    world.writes("Where is my order #1003?", intent="where_is_order", email=first.email)
    assert world.run().success
    spent = sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows(world).values())
    later = world.writes("Where is my order #1004?", intent="where_is_order", email=second.email)

    result = world.run(policy={"daily_token_budget": spent})
    assert result.success
    assert rows(world)[str(later)]["reason"].startswith("token_budget")
    (budget,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "daily_token_budget_kept"]
    assert not budget.passed and budget.metadata["tokens_today"].value == spent


def test_the_dashboard_refuses_an_edited_reply_that_invents_a_date(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.0)
    world.sandbox.control("POST", "/llm", EXACT)
    world.writes(
        "I'm going to sue you, where is order #1003?", intent="complaint", email=world.order("#1003").email
    )
    assert world.run().success
    (escalated,) = [r for r in rows(world).values() if r["state"] == "escalated"]
    key = escalated["reply_key"]
    invented = "Hello,\n\nYour order #1003 will arrive on December 24.\n\nThe Sandbox Store team"
    fine = (
        "Hello,\n\nThank you for your patience. Could you share a photo of the item?"
        "\n\nThe Sandbox Store team"
    )

    app = create_app(world.store_url, TOKEN, send_reply=reply_sender(world.store_url))
    with TestClient(app) as client:
        refused = client.post(
            f"/api/support/escalations/{key}/approve", json={"text": invented}, headers=BEARER
        )
        assert refused.status_code == 422
        assert refused.json()["detail"]["reasons"], refused.json()
        assert outgoing(world.sandbox.world) == []
        assert rows(world)[escalated["ticket_id"]]["state"] == "escalated"

        sent = client.post(f"/api/support/escalations/{key}/approve", json={"text": fine}, headers=BEARER)
        assert sent.status_code == 200 and sent.json()["status"] == "done", sent.json()
    assert [m["body_text"] for m in outgoing(world.sandbox.world)] == [fine]
