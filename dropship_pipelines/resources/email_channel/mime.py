"""Reading and writing RFC 5322 messages (the stdlib `email` package): pure, no I/O.

A message read becomes the support channel's `Message`, with the email identity that threads it; a reply
written carries the headers that thread it in the customer's client and the ledger's key that lets us
recognise it after a crash.
"""

import contextlib
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import (
    MessageDefect,
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime

from dropship_pipelines.resources.email_channel.html_text import html_to_text
from dropship_pipelines.resources.support_channel import Message, Person

REPLY_KEY_HEADER = "X-Dropship-Reply-Key"
# MIME defects after which the body cannot be trusted to be what the customer wrote.
STRUCTURE_DEFECTS: tuple[type[MessageDefect], ...] = (
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
    MultipartInvariantViolationDefect,
)
_MSGID = re.compile(rb"<[^<>\s]+>")


class MalformedMailError(ValueError):
    """A message that cannot be answered as it is; the reason says what is wrong with it."""


def stable_id(message_id: str) -> int:
    """A 60-bit integer for a Message-ID: fits every database's BIGINT and the helpdesk's int ids."""
    return int(hashlib.sha256(message_id.encode()).hexdigest()[:15], 16)


def reply_message_id(reply_key: str, domain: str) -> str:
    """The Message-ID of our reply for a ledger key: the same key always gives the same id."""
    return f"<dropship-reply.{hashlib.sha256(reply_key.encode()).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class MailItem:
    """One message as read from the mailbox, in the channel's `Message` shape plus its email identity."""

    uid: int
    message: Message
    message_id: str  # the Message-ID header (synthesised from the content when the sender left it out)
    references: tuple[str, ...]  # the thread so far, oldest first, for our reply's `References`
    flags: frozenset[str]


def parse_headers(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)  # policy.default always builds EmailMessage
    return msg


def header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg.get(name) or "").strip()
    except (ValueError, IndexError):  # a header the parser cannot fold back: read it raw
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        return str(raw[0]) if raw else ""


def _msgids(value: object) -> list[str]:
    return [m.decode() for m in _MSGID.findall(str(value or "").encode())]


def own_message_id(msg: EmailMessage) -> str | None:
    return next(iter(_msgids(header(msg, "Message-ID"))), None)


def thread_references(msg: EmailMessage) -> tuple[str, ...]:
    """The thread above `msg`, oldest first: its References, then its In-Reply-To if not among them."""
    references = tuple(_msgids(header(msg, "References")))
    in_reply_to = _msgids(header(msg, "In-Reply-To"))
    if in_reply_to and in_reply_to[0] not in references:
        references = (*references, in_reply_to[0])
    return references


def sender(msg: EmailMessage) -> Person:
    pairs = getaddresses([header(msg, "From")])
    name, address = next(((n, a) for n, a in pairs if "@" in a), ("", ""))
    if not address:
        raise MalformedMailError("no From address: there is nobody to answer")
    return Person(email=address.lower(), name=name or None)


def _part_text(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, ValueError):
        # An unknown or lying charset: keep what can be read rather than losing the message.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def parse_mail(raw: bytes, *, uid: int, received_at: datetime, flags: frozenset[str]) -> MailItem:
    """A raw RFC 5322 message as a channel `Message`; `MalformedMailError` says why it cannot be."""
    msg = parse_headers(raw)
    broken = sorted(
        {type(d).__name__ for part in msg.walk() for d in part.defects if isinstance(d, STRUCTURE_DEFECTS)}
    )
    if broken:
        raise MalformedMailError(f"broken MIME structure ({', '.join(broken)}): the body cannot be read")
    person = sender(msg)
    # Without a Message-ID (some web forms) the content names the message, so a re-read keeps its id.
    message_id = own_message_id(msg) or f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-id>"
    references = thread_references(msg)
    root = references[0] if references else message_id
    plain = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    body_html = _part_text(html_part) if isinstance(html_part, EmailMessage) else None
    body_text = _part_text(plain) if isinstance(plain, EmailMessage) else None
    if not body_text and body_html:
        body_text = html_to_text(body_html)
    reply_key = header(msg, REPLY_KEY_HEADER) or None
    sent_at: datetime | None = None
    if reply_key:  # our own reply: its Date is ours to trust
        with contextlib.suppress(TypeError, ValueError):
            sent_at = parsedate_to_datetime(header(msg, "Date"))
    message = Message(
        id=stable_id(message_id),
        ticket_id=stable_id(root),
        channel="email",
        from_agent=reply_key is not None,
        public=True,
        sender=person,
        subject=header(msg, "Subject") or None,
        body_text=(body_text or "").strip(),
        body_html=body_html,
        external_id=reply_key,
        created_datetime=received_at,
        # A customer's Date header is whatever their clock or forger says; the server's receipt time
        # (created_datetime) orders their messages instead.
        sent_datetime=sent_at,
    )
    return MailItem(uid, message, message_id, references, flags)


def compose_reply(
    *,
    from_address: str,
    to_email: str,
    subject: str,
    body_text: str,
    message_id: str,
    reply_key: str,
    parent: MailItem | None,
) -> EmailMessage:
    """Our reply, threaded under `parent` (the customer's newest message) when there is one."""
    reply = EmailMessage()
    reply["From"] = from_address
    reply["To"] = to_email
    reply["Subject"] = subject
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply["Message-ID"] = message_id
    reply[REPLY_KEY_HEADER] = reply_key
    if parent is not None:
        reply["In-Reply-To"] = parent.message_id
        # RFC 5322 3.6.4: the parent's References (or its In-Reply-To) followed by the parent itself.
        reply["References"] = " ".join([*parent.references, parent.message_id])
    reply.set_content(body_text)
    return reply
