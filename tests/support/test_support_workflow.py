"""The customer-service workflow end to end on the sandbox: real HTTP, real LLM endpoint, real ledger."""

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from dropship_pipelines.store import support_queries
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_replies
from dropship_testkit.sandbox_world import incoming, outgoing
from tests.support.conftest import SupportWorld

FORBIDDEN_IN_REPLIES = re.compile(
    r"LX\d{9}CN|SORRY50|SYSTEM PROMPT|instructions|\{'|\$500|credit|<script|November 28|2026-12-05",
    re.IGNORECASE,
)
ORDER_NAME = re.compile(r"#\d{4}")
TRACKING = re.compile(r"YT\d{10}")


def ledger(world: SupportWorld) -> list[dict]:
    with get_engine(world.store_url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(support_replies))]


def assert_no_double_send(world: SupportWorld) -> None:
    counts = world.sandbox.audit().get("support_replies_sent", {})
    assert all(n == 1 for n in counts.values()), counts
    markers = Counter(m["external_id"] for m in outgoing(world.sandbox.world))
    assert all(n == 1 for n in markers.values()), markers


def assert_every_message_handled(world: SupportWorld) -> None:
    """Each ticket's newest customer message has a final ledger row (sent or escalated)."""
    newest: dict[int, int] = {}
    for message in incoming(world.sandbox.world):
        newest[message["ticket_id"]] = max(newest.get(message["ticket_id"], 0), message["id"])
    rows = {r["message_id"]: r for r in ledger(world)}
    for ticket_id, message_id in newest.items():
        row = rows.get(str(message_id))
        assert row is not None, f"ticket {ticket_id}: message {message_id} dropped"
        assert row["state"] in ("sent", "escalated"), row


def test_answers_from_the_order_facts_and_escalates_the_rest(support_world) -> None:
    world: SupportWorld = support_world(orders=16, daily_rate=0.8)
    messages = incoming(world.sandbox.world)
    assert len(messages) >= 8
    result = world.run()
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    assert_every_message_handled(world)
    assert_no_double_send(world)

    by_name = {o.name: o for o in world.orders}
    topics = {m["ticket_id"]: m["_sim"]["topic"] for m in messages}
    about = {m["ticket_id"]: m["_sim"]["order"] for m in messages}
    replies = outgoing(world.sandbox.world)
    assert replies, "no message was answered automatically"
    for reply in replies:
        own = by_name[about[reply["ticket_id"]]]
        # Only the customer's own order is named, and only its own tracking number and link.
        assert set(ORDER_NAME.findall(reply["body_text"])) <= {own.name}, reply["body_text"]
        assert set(TRACKING.findall(reply["body_text"])) <= {own.track_number}, reply["body_text"]
        assert not FORBIDDEN_IN_REPLIES.search(reply["body_text"]), reply["body_text"]
        assert topics[reply["ticket_id"]] not in ("injection", "angry", "change_address", "wrong_size")
        assert reply["external_id"].startswith("dropship-reply:")
    rows = ledger(world)
    reasons = {r["reason"] for r in rows if r["state"] == "escalated"}
    if "injection" in topics.values():
        assert "injection_attempt" in reasons
    assert all(r["validation_problems"] == [] for r in rows if r["state"] == "sent")

    # A second run answers nothing twice.
    sent_before = world.sandbox.audit().get("support_replies_sent", {})
    assert world.run().success
    assert world.sandbox.audit().get("support_replies_sent", {}) == sent_before


@pytest.mark.parametrize(
    ("mode", "rate"),
    [("hallucinate", 0.5), ("obey_injection", 1.0), ("unauthorized_refund", 1.0), ("leak_system", 1.0)],
)
def test_a_misbehaving_llm_never_reaches_a_customer(support_world, mode: str, rate: float) -> None:
    world: SupportWorld = support_world(orders=12, daily_rate=0.7)
    world.sandbox.control("POST", "/llm", {"mode": mode, "rate": rate})
    result = world.run()
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    for reply in outgoing(world.sandbox.world):
        assert not FORBIDDEN_IN_REPLIES.search(reply["body_text"]), reply["body_text"]
    assert_every_message_handled(world)
    assert_no_double_send(world)
    misbehaved = world.sandbox.audit().get("llm_misbehaviour", {})
    assert sum(n for key, n in misbehaved.items() if key.startswith("structured_reply")) > 0
    if rate == 1.0:
        assert outgoing(world.sandbox.world) == []
        assert any(r["reason"].startswith("gate_refused") for r in ledger(world))


def test_helpdesk_faults_lose_nothing_and_send_nothing_twice(support_world) -> None:
    world: SupportWorld = support_world(orders=12, daily_rate=0.7)
    world.sandbox.control(
        "POST", "/faults/helpdesk", {"error_rate": 0.15, "rate_limit_rate": 0.15, "lost_response_rate": 0.3}
    )
    for _ in range(3):
        world.run()
    world.sandbox.control("POST", "/faults/helpdesk", {"reset": True, "rate_limits": False})
    assert world.run().success
    assert_every_message_handled(world)
    assert_no_double_send(world)
    assert outgoing(world.sandbox.world)


def test_a_crash_between_send_and_record_never_sends_twice(support_world, monkeypatch) -> None:
    world: SupportWorld = support_world(orders=12, daily_rate=0.7)
    real_finish = support_queries.finish
    crashed: list[str] = []

    def crash_after_send(conn, reply_key, **values):
        if values.get("state") == "sent" and not crashed:
            crashed.append(reply_key)
            raise RuntimeError("killed between the send and the record")
        return real_finish(conn, reply_key, **values)

    monkeypatch.setattr(support_queries, "finish", crash_after_send)
    first = world.run()
    assert not first.success and crashed
    ticket_id = crashed[0].split(":")[1]
    assert world.sandbox.audit()["support_replies_sent"][ticket_id] == 1
    assert {r["reply_key"]: r["state"] for r in ledger(world)}[crashed[0]] == "sending"

    second = world.run()
    assert second.success
    assert world.sandbox.audit()["support_replies_sent"][ticket_id] == 1
    row = {r["reply_key"]: r for r in ledger(world)}[crashed[0]]
    assert row["state"] == "sent" and row["recovered"]
    assert_every_message_handled(world)
    assert_no_double_send(world)


def test_llm_outage_escalates_instead_of_dropping(support_world) -> None:
    world: SupportWorld = support_world(orders=8, daily_rate=0.7)
    world.sandbox.control("POST", "/faults/openai", {"error_rate": 1.0})
    assert world.run().success
    assert_every_message_handled(world)
    rows = ledger(world)
    assert rows and all(r["state"] == "escalated" and r["reason"].startswith("llm_unavailable") for r in rows)
    assert outgoing(world.sandbox.world) == []
