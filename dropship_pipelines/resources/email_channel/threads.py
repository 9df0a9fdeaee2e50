"""Mail threads as the support channel's tickets, IMAP flags as its tags and status."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from dropship_pipelines.resources.email_channel.mime import (
    MalformedMailError,
    header,
    own_message_id,
    parse_headers,
    sender,
    stable_id,
    thread_references,
)
from dropship_pipelines.resources.support_channel import Person, Tag, Ticket

MALFORMED_KEYWORD = "dropship-malformed"
ANSWERED = "\\Answered"
_NOT_ATOM = re.compile(r'[(){\s%*"\\\]\x00-\x1f\x7f]')
_REPLY_PREFIXES = re.compile(r"^\s*((re|aw|sv|fwd?|wg)\s*:\s*)+", re.IGNORECASE)


def keyword(tag: str) -> str:
    """A tag as an IMAP keyword atom (no spaces, parentheses, quotes, wildcards or backslashes)."""
    return _NOT_ATOM.sub("_", tag.strip())[:64] or "_"


def our_keywords(flags: frozenset[str]) -> set[str]:
    """The keywords that are our tags: system flags (\\...) and registered keywords ($...) belong to the
    mail client, and the malformed mark to the humans who clear it."""
    return {f for f in flags if not f.startswith(("\\", "$")) and f != MALFORMED_KEYWORD}


@dataclass
class Envelope:
    """Headers of one inbox message: enough to thread it, order it and answer it."""

    uid: int
    message_id: str
    references: tuple[str, ...]
    ticket_id: int
    received_at: datetime
    flags: frozenset[str]
    sender: Person | None  # None: nobody to answer (the message is flagged for a human)
    subject: str


def envelope(
    headers: bytes, *, uid: int, uidvalidity: int, received_at: datetime, flags: frozenset[str]
) -> Envelope:
    msg = parse_headers(headers)
    try:
        person: Person | None = sender(msg)
    except MalformedMailError:
        person = None
    message_id = own_message_id(msg) or f"<uid-{uidvalidity}-{uid}@no-id>"
    references = thread_references(msg)
    return Envelope(
        uid=uid,
        message_id=message_id,
        references=references,
        ticket_id=stable_id(references[0] if references else message_id),
        received_at=received_at,
        flags=flags,
        sender=person,
        subject=header(msg, "Subject"),
    )


@dataclass
class ThreadIndex:
    """The inbox's envelopes by UID, kept for a resource instance and grown by new UIDs only."""

    uidvalidity: int = 0
    last_uid: int = 0
    by_uid: dict[int, Envelope] = field(default_factory=dict)

    def thread(self, ticket_id: int | str) -> list[Envelope]:
        return sorted(
            (e for e in self.by_uid.values() if e.ticket_id == int(ticket_id)),
            key=lambda e: (e.received_at, e.uid),
        )


def ticket(ticket_id: int, thread: list[Envelope]) -> Ticket:
    """A thread (oldest first) as a ticket: closed once its newest message is answered."""
    first, newest = thread[0], thread[-1]
    subject = _REPLY_PREFIXES.sub("", first.subject)
    return Ticket(
        id=ticket_id,
        channel="email",
        status="closed" if ANSWERED in newest.flags else "open",
        subject=subject or None,
        customer=newest.sender,
        tags=[Tag(name=k) for k in sorted(our_keywords(newest.flags))],
        created_datetime=first.received_at,
        updated_datetime=newest.received_at,
        last_received_message_datetime=newest.received_at,
    )
