"""An escalated reply approved by a human on the dashboard reaches the customer once, through the helpdesk."""

import threading

import pytest
import sqlalchemy as sa

from dropship_pipelines.rules.outgoing_reply import ReplyBlocked
from dropship_pipelines.services.support import ReplyNotAwaitingApproval, send_approved_reply
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_replies
from dropship_testkit.sandbox_world import outgoing
from tests.support.conftest import SupportWorld

TEXT = (
    "Hello,\n\nThank you for your message. We're sorry for the inconvenience. "
    "Could you share a photo of the item?\n\nThe Sandbox Store team"
)


def escalated_reply(world: SupportWorld) -> dict:
    assert world.run().success
    with get_engine(world.store_url).connect() as conn:
        rows = conn.execute(sa.select(support_replies).where(support_replies.c.state == "escalated")).all()
    assert rows, "the workflow escalated nothing"
    return dict(rows[0]._mapping)


def test_approved_reply_is_sent_once_and_recorded(support_world) -> None:
    world: SupportWorld = support_world(orders=16, daily_rate=0.8)
    reply = escalated_reply(world)

    message_id = send_approved_reply(world.store_url, reply["reply_key"], TEXT)

    sent = [m for m in outgoing(world.sandbox.world) if m["body_text"] == TEXT]
    assert len(sent) == 1 and str(sent[0]["id"]) == message_id
    assert str(sent[0]["ticket_id"]) == str(reply["ticket_id"])
    with get_engine(world.store_url).connect() as conn:
        row = conn.execute(
            sa.select(support_replies).where(support_replies.c.reply_key == reply["reply_key"])
        ).one()
    assert (row.state, row.reply_text, row.helpdesk_message_id) == ("sent", TEXT, message_id)

    with pytest.raises(ReplyNotAwaitingApproval):
        send_approved_reply(world.store_url, reply["reply_key"], TEXT)
    assert world.run().success  # the workflow leaves a human's answer alone
    assert len([m for m in outgoing(world.sandbox.world) if m["body_text"] == TEXT]) == 1


def test_two_simultaneous_approvals_send_once(support_world) -> None:
    world: SupportWorld = support_world(orders=16, daily_rate=0.8)
    reply = escalated_reply(world)
    outcomes: list[str] = []

    def approve() -> None:
        try:
            outcomes.append(send_approved_reply(world.store_url, reply["reply_key"], TEXT))
        except ReplyNotAwaitingApproval:
            outcomes.append("refused")

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o == "refused" for o in outcomes) == [False, True]
    assert len([m for m in outgoing(world.sandbox.world) if m["body_text"] == TEXT]) == 1


def test_an_approved_text_that_invents_a_date_is_refused_and_stays_escalated(support_world) -> None:
    world: SupportWorld = support_world(orders=16, daily_rate=0.8)
    reply = escalated_reply(world)
    invented = "Hello,\n\nYour parcel arrives on December 24.\n\nThe Sandbox Store team"

    with pytest.raises(ReplyBlocked) as blocked:
        send_approved_reply(world.store_url, reply["reply_key"], invented)

    assert blocked.value.reasons
    assert [m for m in outgoing(world.sandbox.world) if "December" in m["body_text"]] == []
    with get_engine(world.store_url).connect() as conn:
        state = conn.execute(
            sa.select(support_replies.c.state).where(support_replies.c.reply_key == reply["reply_key"])
        ).scalar_one()
    assert state == "escalated"
