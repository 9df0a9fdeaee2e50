"""What a support channel is to the support workflow: tickets and messages in, one reply out, tags and status.

Two channels implement it: the helpdesk API (`HelpdeskResource`, Gorgias) and a mailbox
(`EmailChannelResource`, IMAP + SMTP). Both speak in the shapes below, which are the helpdesk's: a mailbox
maps its threads onto them, so the workflow never knows which channel it talks to.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from dropship_pipelines.rules.reply_context import ReplyContext


class Person(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    email: str | None = None
    name: str | None = None
    firstname: str | None = None


class Tag(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str


class Ticket(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    channel: str = "email"
    status: str
    subject: str | None = None
    language: str | None = None
    customer: Person | None = None
    tags: list[Tag] = Field(default_factory=list)
    created_datetime: datetime
    updated_datetime: datetime | None = None
    last_received_message_datetime: datetime | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    ticket_id: int
    channel: str
    from_agent: bool
    public: bool = True
    sender: Person | None = None
    subject: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    external_id: str | None = None  # our idempotency marker on the replies we sent
    created_datetime: datetime
    sent_datetime: datetime | None = None


@dataclass(frozen=True)
class SentReply:
    message_id: str
    recovered: bool  # True when the reply was already on the channel (found by its marker)


@runtime_checkable
class SupportChannel(Protocol):
    """Where customer messages come from and replies go. A reply carries a marker (the ledger's key): a
    channel looks for it before posting, so asking twice never sends twice. A reply also carries the
    context it was written in: the channel sends only what the last gate passes against it
    (`rules.outgoing_reply.checked_text`), so no send path can skip the gate."""

    def tickets_with_messages_since(self, since: datetime | None) -> Iterator[Ticket]: ...

    def newest_received_at(self) -> datetime | None: ...

    def messages(self, ticket_id: int | str) -> list[Message]: ...

    def find_reply(self, ticket_id: int | str, marker: str) -> Message | None: ...

    def send_reply(
        self,
        ticket_id: int | str,
        *,
        marker: str,
        to_email: str,
        subject: str,
        body_text: str,
        context: ReplyContext,
    ) -> SentReply: ...

    def tag_and_set_status(
        self, ticket_id: int | str, tags: list[str], status: str | None = None
    ) -> None: ...
