"""A store's support mailbox over IMAP and SMTP, for stores without a helpdesk.

It offers the helpdesk's interface (`SupportChannel`), so the support assets read and answer either:
- a ticket is an email thread, named by its root Message-ID (first of `References`, else `In-Reply-To`,
  else the message's own); ids are stable integers hashed from Message-IDs, never IMAP UIDs, because UIDs
  are renumbered when the server resets UIDVALIDITY and the ledger must keep recognising a message;
- reading is incremental by UID (`read_new`): UIDs only grow within a UIDVALIDITY, so "every UID above
  the cursor" misses nothing and repeats nothing; bodies are fetched with `BODY.PEEK`, so reading never
  marks a customer's mail as seen for the humans who share the mailbox;
- a reply goes out by SMTP with `In-Reply-To`/`References` (it threads in the customer's client) and a
  `Message-ID` derived from the ledger's reply key, then a copy is appended to the Sent mailbox, where
  `find_reply` looks for it before a resend; a resend after a crash carries the same Message-ID, so the
  customer's client and our Sent search both recognise it;
- answered means the IMAP `\\Answered` flag; tags are IMAP keywords;
- a message that cannot be answered (no From, broken MIME) stays in the mailbox, flagged for a human
  (`\\Flagged` + `dropship-malformed`), and is reported with the reason; it never stops the batch.
"""

import contextlib
import hashlib
import imaplib
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
from html.parser import HTMLParser
from typing import Literal, TypeVar

import dagster as dg
from pydantic import PrivateAttr

from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError
from dropship_pipelines.resources.support_channel import Message, Person, SentReply, Tag, Ticket
from dropship_pipelines.resources.retry import call_with_retries

API = "email"
MALFORMED_KEYWORD = "dropship-malformed"
REPLY_KEY_HEADER = "X-Dropship-Reply-Key"
FETCH_CHUNK = 200  # UIDs per FETCH: keeps each command line and answer bounded on big mailboxes
# MIME defects after which the body cannot be trusted to be what the customer wrote.
STRUCTURE_DEFECTS: tuple[type[MessageDefect], ...] = (
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
    MultipartInvariantViolationDefect,
)
Security = Literal["ssl", "starttls", "none"]
T = TypeVar("T")

_MSGID = re.compile(rb"<[^<>\s]+>")
_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_NOT_ATOM = re.compile(r'[(){\s%*"\\\]\x00-\x1f\x7f]')


class MalformedMailError(ValueError):
    """A message that cannot be answered as it is; the reason says what is wrong with it."""


def stable_id(message_id: str) -> int:
    """A 60-bit integer for a Message-ID: fits every database's BIGINT and the helpdesk's int ids."""
    return int(hashlib.sha256(message_id.encode()).hexdigest()[:15], 16)


def reply_message_id(reply_key: str, domain: str) -> str:
    """The Message-ID of our reply for a ledger key: the same key always gives the same id."""
    return f"<dropship-reply.{hashlib.sha256(reply_key.encode()).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class MailboxCursor:
    """Where incremental reading stopped: UIDs are only comparable within one UIDVALIDITY."""

    uidvalidity: int
    last_uid: int

    def serialize(self) -> str:
        return f"{self.uidvalidity}:{self.last_uid}"

    @classmethod
    def parse(cls, text: str) -> "MailboxCursor":
        validity, last = text.split(":")
        return cls(int(validity), int(last))


@dataclass(frozen=True)
class MailItem:
    """One message as read from the mailbox, in the helpdesk's `Message` shape plus its email identity."""

    uid: int
    message: Message
    message_id: str  # the Message-ID header (synthesised from the content when the sender left it out)
    references: tuple[str, ...]  # the thread so far, oldest first, for our reply's `References`
    flags: frozenset[str]


@dataclass(frozen=True)
class RejectedMail:
    uid: int
    reason: str


@dataclass(frozen=True)
class MailBatch:
    items: list[MailItem]
    rejected: list[RejectedMail]
    cursor: MailboxCursor


# --- parsing: pure, no I/O -------------------------------------------------------------------------------
class _HtmlText(HTMLParser):
    """Visible text of an HTML mail body; block elements become line breaks."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, ValueError):
        # An unknown or lying charset: keep what can be read rather than losing the message.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _msgids(value: object) -> list[str]:
    return [m.decode() for m in _MSGID.findall(str(value or "").encode())]


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg.get(name) or "").strip()
    except (ValueError, IndexError):  # a header the parser cannot fold back: read it raw
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        return str(raw[0]) if raw else ""


def _sender(msg: EmailMessage) -> Person:
    pairs = getaddresses([_header(msg, "From")])
    name, address = next(((n, a) for n, a in pairs if "@" in a), ("", ""))
    if not address:
        raise MalformedMailError("no From address: there is nobody to answer")
    return Person(email=address.lower(), name=name or None)


def parse_mail(raw: bytes, *, uid: int, received_at: datetime, flags: frozenset[str]) -> MailItem:
    """A raw RFC 5322 message as a helpdesk-shaped `Message`; `MalformedMailError` says why it cannot be."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)  # policy.default always builds EmailMessage
    broken = sorted(
        {type(d).__name__ for part in msg.walk() for d in part.defects if isinstance(d, STRUCTURE_DEFECTS)}
    )
    if broken:
        raise MalformedMailError(f"broken MIME structure ({', '.join(broken)}): the body cannot be read")
    sender = _sender(msg)
    # Without a Message-ID (some web forms) the content names the message, so a re-read keeps its id.
    message_id = (_msgids(_header(msg, "Message-ID")) or [f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-id>"])[
        0
    ]
    references = tuple(_msgids(_header(msg, "References")))
    in_reply_to = _msgids(_header(msg, "In-Reply-To"))
    if in_reply_to and in_reply_to[0] not in references:
        references = (*references, in_reply_to[0])
    root = references[0] if references else message_id
    plain = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    body_html = _part_text(html_part) if isinstance(html_part, EmailMessage) else None
    body_text = _part_text(plain) if isinstance(plain, EmailMessage) else None
    if not body_text and body_html:
        body_text = html_to_text(body_html)
    reply_key = _header(msg, REPLY_KEY_HEADER) or None
    sent_at: datetime | None = None
    if reply_key:  # our own reply: its Date is ours to trust
        with contextlib.suppress(TypeError, ValueError):
            sent_at = parsedate_to_datetime(_header(msg, "Date"))
    message = Message(
        id=stable_id(message_id),
        ticket_id=stable_id(root),
        channel="email",
        from_agent=reply_key is not None,
        public=True,
        sender=sender,
        subject=_header(msg, "Subject") or None,
        body_text=(body_text or "").strip(),
        body_html=body_html,
        external_id=reply_key,
        created_datetime=received_at,
        # A customer's Date header is whatever their clock or forger says; the server's receipt time
        # (created_datetime) orders their messages instead.
        sent_datetime=sent_at,
    )
    return MailItem(uid, message, message_id, references, flags)


# --- IMAP plumbing -------------------------------------------------------------------------------------
def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _keyword(tag: str) -> str:
    """A tag as an IMAP keyword atom (no spaces, parentheses, quotes, wildcards or backslashes)."""
    return _NOT_ATOM.sub("_", tag.strip())[:64] or "_"


def _internaldate(text: bytes) -> datetime:
    return datetime.strptime(text.decode().strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)


@dataclass
class _Fetched:
    uid: int
    received_at: datetime
    flags: frozenset[str]
    literal: bytes | None


def _fetched(data: list[object]) -> list[_Fetched]:
    """imaplib's FETCH answer (tuples of head+literal, then the closing bytes) as one record per UID."""
    out: list[_Fetched] = []
    for i, item in enumerate(data):
        if isinstance(item, tuple):
            head, literal = bytes(item[0]), bytes(item[1])
            tail = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
            meta = head + bytes(tail)  # type: ignore[arg-type]
        elif isinstance(item, bytes) and _UID.search(item):
            meta, literal = item, None
        else:
            continue
        uid, date, flags = _UID.search(meta), _INTERNALDATE.search(meta), _FLAGS.search(meta)
        if uid is None:
            continue
        out.append(
            _Fetched(
                int(uid.group(1)),
                _internaldate(date.group(1)) if date else datetime.now(UTC),
                frozenset(flags.group(1).decode().split()) if flags else frozenset(),
                literal,
            )
        )
    return out


def _check(answer: tuple[str, list[object]], what: str) -> list[object]:
    typ, data = answer
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise PermanentApiError(API, f"IMAP {what}: {typ} {detail[:300]}")
    return data


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(u) for u in uids)


@dataclass
class _Envelope:
    """Headers of one inbox message: enough to thread it, order it and answer it."""

    uid: int
    message_id: str
    references: tuple[str, ...]
    ticket_id: int
    received_at: datetime
    flags: frozenset[str]
    sender: Person | None
    subject: str


@dataclass
class _ThreadIndex:
    uidvalidity: int = 0
    last_uid: int = 0
    by_uid: dict[int, _Envelope] = field(default_factory=dict)

    def thread(self, ticket_id: int | str) -> list[_Envelope]:
        return sorted(
            (e for e in self.by_uid.values() if e.ticket_id == int(ticket_id)),
            key=lambda e: (e.received_at, e.uid),
        )


class EmailChannelResource(dg.ConfigurableResource):
    """A support mailbox: IMAP to read and flag, SMTP to send, with the helpdesk's interface."""

    imap_host: str
    imap_port: int = 993
    imap_user: str
    imap_password: str
    imap_security: Security = "ssl"
    smtp_host: str
    smtp_port: int = 587
    smtp_user: str = ""  # empty: the relay accepts us without AUTH (e.g. a local MTA)
    smtp_password: str = ""
    smtp_security: Security = "starttls"
    from_address: str  # the store's support address; replies come from it
    mailbox: str = "INBOX"
    sent_mailbox: str = "Sent"
    tls_ca_file: str = ""  # a private CA for the mail servers' certificates; empty: the system's
    timeout_s: float = 30.0
    max_attempts: int = 4
    lookback_days: int = 60  # threads older than this are not read back (bounds the header scan)

    _index: _ThreadIndex = PrivateAttr(default_factory=_ThreadIndex)
    _index_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # --- connections -------------------------------------------------------------------------------------
    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.tls_ca_file or None)

    @contextlib.contextmanager
    def _imap(self) -> Iterator[imaplib.IMAP4]:
        try:
            if self.imap_security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.imap_host, self.imap_port, ssl_context=self._tls(), timeout=self.timeout_s
                )
            else:
                conn = imaplib.IMAP4(self.imap_host, self.imap_port, timeout=self.timeout_s)
                if self.imap_security == "starttls":
                    conn.starttls(ssl_context=self._tls())
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise TransientApiError(
                API, f"IMAP {self.imap_host}:{self.imap_port} unreachable: {exc}"
            ) from exc
        try:
            try:
                conn.login(self.imap_user, self.imap_password)
            except imaplib.IMAP4.abort as exc:
                raise TransientApiError(API, f"IMAP login interrupted: {exc}") from exc
            except imaplib.IMAP4.error as exc:
                raise PermanentApiError(
                    API, f"IMAP login refused ({exc}): check EMAIL_IMAP_USER / EMAIL_IMAP_PASSWORD"
                ) from exc
            try:
                yield conn
            except (OSError, imaplib.IMAP4.abort) as exc:
                raise TransientApiError(API, f"IMAP connection lost: {exc}") from exc
            except imaplib.IMAP4.error as exc:
                raise PermanentApiError(API, f"IMAP refused a command: {exc}") from exc
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()

    def _select(self, conn: imaplib.IMAP4, mailbox: str, *, readonly: bool = False) -> tuple[int, int]:
        """Open `mailbox`; returns (UIDVALIDITY, message count)."""
        count = _check(conn.select(_quoted(mailbox), readonly=readonly), f"SELECT {mailbox}")
        validity = conn.response("UIDVALIDITY")[1]
        return int(bytes(validity[0])) if validity and validity[0] else 0, int(bytes(count[0] or b"0"))  # type: ignore[arg-type]

    def _search(self, conn: imaplib.IMAP4, *criteria: str) -> list[int]:
        data = _check(conn.uid("SEARCH", *criteria), "SEARCH")
        return sorted(int(u) for u in bytes(data[0] or b"").split())  # type: ignore[arg-type]

    def _fetch(self, conn: imaplib.IMAP4, uids: list[int], items: str) -> list[_Fetched]:
        out: list[_Fetched] = []
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            out.extend(_fetched(_check(conn.uid("FETCH", _uid_set(chunk), items), "FETCH")))
        return out

    def _flag_malformed(self, conn: imaplib.IMAP4, uids: list[int]) -> None:
        if uids:
            _check(conn.uid("STORE", _uid_set(uids), "+FLAGS", f"(\\Flagged {MALFORMED_KEYWORD})"), "STORE")

    def _call(self, fn: Callable[[imaplib.IMAP4], T]) -> T:
        """One IMAP session for `fn`, retried whole on transient failures (each session starts clean)."""

        def session() -> T:
            with self._imap() as conn:
                return fn(conn)

        return call_with_retries(session, max_attempts=self.max_attempts)

    # --- UID-incremental reading ---------------------------------------------------------------------------
    def read_new(self, cursor: MailboxCursor | None) -> MailBatch:
        """Every message that arrived after `cursor`, parsed; malformed ones flagged and reported.

        A changed UIDVALIDITY means the server renumbered the mailbox: everything is read again, and the
        Message-ID-based ids let the ledger recognise what it already answered."""

        def read(conn: imaplib.IMAP4) -> MailBatch:
            validity, _ = self._select(conn, self.mailbox)
            after = cursor.last_uid if cursor and cursor.uidvalidity == validity else 0
            uids = [u for u in self._search(conn, "UID", f"{after + 1}:*") if u > after]
            items, rejected = self._parsed(conn, uids)
            self._flag_malformed(conn, [r.uid for r in rejected])
            return MailBatch(items, rejected, MailboxCursor(validity, max([after, *uids])))

        return self._call(read)

    # --- the thread index (headers only) -------------------------------------------------------------------
    def _refresh_index(self, conn: imaplib.IMAP4) -> _ThreadIndex:
        """Bring the run's header index up to the mailbox's newest UID (only new UIDs are fetched)."""
        validity, _ = self._select(conn, self.mailbox)
        with self._index_lock:
            index = self._index
            if index.uidvalidity != validity:
                index.uidvalidity, index.last_uid, index.by_uid = validity, 0, {}
            since = (datetime.now(UTC) - timedelta(days=self.lookback_days)).strftime("%d-%b-%Y")
            uids = [
                u
                for u in self._search(conn, "UID", f"{index.last_uid + 1}:*", "SINCE", since)
                if u > index.last_uid
            ]
            fields = "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES)]"
            no_sender: list[int] = []
            for fetched in self._fetch(conn, uids, f"(UID INTERNALDATE FLAGS {fields})"):
                headers = BytesParser(policy=policy.default).parsebytes(fetched.literal or b"")
                assert isinstance(headers, EmailMessage)
                try:
                    sender: Person | None = _sender(headers)
                except MalformedMailError:
                    sender = None
                    no_sender.append(fetched.uid)
                item_id = (
                    _msgids(_header(headers, "Message-ID")) or [f"<uid-{validity}-{fetched.uid}@no-id>"]
                )[0]
                references = tuple(_msgids(_header(headers, "References")))
                in_reply_to = _msgids(_header(headers, "In-Reply-To"))
                if in_reply_to and in_reply_to[0] not in references:
                    references = (*references, in_reply_to[0])
                index.by_uid[fetched.uid] = _Envelope(
                    uid=fetched.uid,
                    message_id=item_id,
                    references=references,
                    ticket_id=stable_id(references[0] if references else item_id),
                    received_at=fetched.received_at,
                    flags=fetched.flags,
                    sender=sender,
                    subject=_header(headers, "Subject"),
                )
            index.last_uid = max([index.last_uid, *uids])
            self._flag_malformed(conn, no_sender)
            return index

    def _fresh_flags(self, conn: imaplib.IMAP4, envelopes: list[_Envelope]) -> None:
        """Flags change under us (a human answers in their mail client): re-read them before deciding."""
        by_uid = {e.uid: e for e in envelopes}
        for fetched in self._fetch(conn, sorted(by_uid), "(UID FLAGS)"):
            if fetched.uid in by_uid:
                by_uid[fetched.uid].flags = fetched.flags

    # --- the helpdesk interface ----------------------------------------------------------------------------
    def tickets_with_messages_since(self, since: datetime | None) -> Iterator[Ticket]:
        """Threads with a customer message received at or after `since`, newest first."""

        def read(conn: imaplib.IMAP4) -> list[Ticket]:
            index = self._refresh_index(conn)
            answerable = [e for e in index.by_uid.values() if e.sender is not None]
            changed = {e.ticket_id for e in answerable if since is None or e.received_at >= since}
            threads = {t: [e for e in index.thread(t) if e.sender is not None] for t in changed}
            self._fresh_flags(conn, [thread[-1] for thread in threads.values()])
            # INTERNALDATE has whole seconds: the UID breaks ties, as it grows with every delivery.
            newest_first = sorted(threads.items(), key=lambda kv: (kv[1][-1].received_at, kv[1][-1].uid))
            return [_ticket(ticket_id, thread) for ticket_id, thread in reversed(newest_first)]

        yield from self._call(read)

    def newest_received_at(self) -> datetime | None:
        """When the newest message arrived (the sensor's probe): the latest INTERNALDATE of the last 50."""

        def read(conn: imaplib.IMAP4) -> datetime | None:
            _, count = self._select(conn, self.mailbox, readonly=True)
            if count == 0:
                return None
            # APPENDed mail may carry an older date than its sequence position: look at a tail, not one.
            data = _check(conn.fetch(f"{max(1, count - 49)}:{count}", "(UID INTERNALDATE)"), "FETCH")
            return max((f.received_at for f in _fetched(data)), default=None)

        return self._call(read)

    def messages(self, ticket_id: int | str) -> list[Message]:
        """A thread's readable messages, oldest first: the customer's from the inbox, ours from Sent."""
        return [item.message for item in self._thread_items(ticket_id)]

    def _thread_items(self, ticket_id: int | str) -> list[MailItem]:
        def read(conn: imaplib.IMAP4) -> list[MailItem]:
            thread = self._refresh_index(conn).thread(ticket_id)
            if not thread:
                return []
            items, bad = self._parsed(conn, [e.uid for e in thread if e.sender is not None])
            self._flag_malformed(conn, [r.uid for r in bad])
            root = (thread[0].references or (thread[0].message_id,))[0]
            self._ensure_sent_mailbox(conn)
            self._select(conn, self.sent_mailbox, readonly=True)
            sent, _ = self._parsed(conn, self._search(conn, "HEADER", "References", _quoted(root)))
            # Same-second ties: a reply sorts after the customer message it answers.
            return sorted(
                items + sent, key=lambda i: (i.message.created_datetime, i.message.from_agent, i.uid)
            )

        return self._call(read)

    def _parsed(self, conn: imaplib.IMAP4, uids: list[int]) -> tuple[list[MailItem], list[RejectedMail]]:
        """The mails `uids`, parsed; the malformed ones with the reason (they stay for a human)."""
        items: list[MailItem] = []
        bad: list[RejectedMail] = []
        for fetched in self._fetch(conn, uids, "(UID INTERNALDATE FLAGS BODY.PEEK[])"):
            try:
                items.append(
                    parse_mail(
                        fetched.literal or b"",
                        uid=fetched.uid,
                        received_at=fetched.received_at,
                        flags=fetched.flags,
                    )
                )
            except MalformedMailError as error:
                dg.get_dagster_logger().warning("mail uid %s left for a human: %s", fetched.uid, error)
                bad.append(RejectedMail(fetched.uid, f"uid {fetched.uid}: {error}"))
        return items, bad

    def find_reply(self, ticket_id: int | str, marker: str) -> Message | None:
        """Our reply for `marker`, if its copy is in the Sent mailbox (found by its derived Message-ID)."""

        def read(conn: imaplib.IMAP4) -> Message | None:
            self._ensure_sent_mailbox(conn)
            self._select(conn, self.sent_mailbox, readonly=True)
            wanted = reply_message_id(marker, self._domain())
            items, _ = self._parsed(conn, self._search(conn, "HEADER", "Message-ID", _quoted(wanted)))
            return next((i.message for i in items if i.message_id == wanted), None)

        return self._call(read)

    def send_reply(
        self, ticket_id: int | str, *, marker: str, to_email: str, subject: str, body_text: str
    ) -> SentReply:
        """Email the reply once, threaded under the customer's newest message; a resend is recognisable."""
        if not to_email or "@" not in to_email:
            raise PermanentApiError(API, f"ticket {ticket_id}: no customer address to reply to")
        found = self.find_reply(ticket_id, marker)
        message_id = reply_message_id(marker, self._domain())
        if found is not None:
            return SentReply(str(found.id), recovered=True)
        customer = [i for i in self._thread_items(ticket_id) if not i.message.from_agent]
        reply = EmailMessage()
        reply["From"] = self.from_address
        reply["To"] = to_email
        reply["Subject"] = subject
        reply["Date"] = format_datetime(datetime.now(UTC))
        reply["Message-ID"] = message_id
        reply[REPLY_KEY_HEADER] = marker
        if customer:
            parent = customer[-1]
            reply["In-Reply-To"] = parent.message_id
            # RFC 5322 3.6.4: the parent's References (or its In-Reply-To) followed by the parent itself.
            reply["References"] = " ".join([*parent.references, parent.message_id])
        reply.set_content(body_text)
        call_with_retries(lambda: self._smtp_send(reply), max_attempts=self.max_attempts)
        self._keep_sent_copy(reply)
        return SentReply(str(stable_id(message_id)), recovered=False)

    def tag_and_set_status(self, ticket_id: int | str, tags: list[str], status: str | None = None) -> None:
        """Tags become the thread's IMAP keywords; closed sets `\\Answered`, open clears it."""

        def write(conn: imaplib.IMAP4) -> None:
            thread = self._refresh_index(conn).thread(ticket_id)
            if not thread:
                return
            self._fresh_flags(conn, thread)
            wanted = {_keyword(t) for t in tags}
            for envelope in thread:
                # System flags (\\...) and registered keywords ($...) belong to the mail client, not us.
                ours = {f for f in envelope.flags if not f.startswith(("\\", "$")) and f != MALFORMED_KEYWORD}
                if stale := ours - wanted:
                    _check(
                        conn.uid("STORE", str(envelope.uid), "-FLAGS", f"({' '.join(sorted(stale))})"),
                        "STORE",
                    )
                if wanted:
                    _check(
                        conn.uid("STORE", str(envelope.uid), "+FLAGS", f"({' '.join(sorted(wanted))})"),
                        "STORE",
                    )
            if status in ("closed", "open"):
                sign = "+" if status == "closed" else "-"
                _check(
                    conn.uid("STORE", _uid_set([e.uid for e in thread]), f"{sign}FLAGS", "(\\Answered)"),
                    "STORE",
                )

        self._call(write)

    def mark_answered(self, ticket_id: int | str) -> None:
        """Set `\\Answered` on the thread's messages, so a human's mail client shows it as replied to."""

        def write(conn: imaplib.IMAP4) -> None:
            thread = self._refresh_index(conn).thread(ticket_id)
            if thread:
                _check(
                    conn.uid("STORE", _uid_set([e.uid for e in thread]), "+FLAGS", "(\\Answered)"), "STORE"
                )

        self._call(write)

    # --- sending -------------------------------------------------------------------------------------------
    def _domain(self) -> str:
        return self.from_address.rsplit("@", 1)[-1].strip(">").lower() or "localhost"

    def _smtp_send(self, message: EmailMessage) -> None:
        try:
            if self.smtp_security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.smtp_host, self.smtp_port, timeout=self.timeout_s, context=self._tls()
                )
            else:
                smtp = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_s)
            with smtp:
                if self.smtp_security == "starttls":
                    smtp.starttls(context=self._tls())
                if self.smtp_user:
                    smtp.login(self.smtp_user, self.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentApiError(
                API, "SMTP login refused: check EMAIL_SMTP_USER / EMAIL_SMTP_PASSWORD", code=exc.smtp_code
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentApiError(API, f"SMTP refused the recipient {list(exc.recipients)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentApiError(API, f"SMTP server lacks a required extension: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            error = TransientApiError if 400 <= exc.smtp_code < 500 else PermanentApiError
            raise error(API, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", code=exc.smtp_code) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            # Includes timeouts: the reply may have gone out; a resend carries the same Message-ID.
            raise TransientApiError(API, f"SMTP {self.smtp_host}:{self.smtp_port}: {exc}") from exc

    def _ensure_sent_mailbox(self, conn: imaplib.IMAP4) -> None:
        listed = _check(conn.list('""', _quoted(self.sent_mailbox)), "LIST")
        if not any(item for item in listed if item):
            _check(conn.create(_quoted(self.sent_mailbox)), f"CREATE {self.sent_mailbox}")

    def _keep_sent_copy(self, reply: EmailMessage) -> None:
        """The Sent copy is how `find_reply` recognises the reply; failing to keep it never unsends it."""

        def append(conn: imaplib.IMAP4) -> None:
            self._ensure_sent_mailbox(conn)
            _check(
                conn.append(
                    _quoted(self.sent_mailbox),
                    "(\\Seen)",
                    imaplib.Time2Internaldate(datetime.now(UTC)),
                    reply.as_bytes(),
                ),
                "APPEND",
            )

        try:
            self._call(append)
        except (TransientApiError, PermanentApiError) as error:
            dg.get_dagster_logger().warning(
                "reply %s sent but not copied to %s (%s): a resend would repeat its Message-ID",
                reply["Message-ID"],
                self.sent_mailbox,
                error,
            )


def _ticket(ticket_id: int, thread: list[_Envelope]) -> Ticket:
    first, newest = thread[0], thread[-1]
    keywords = sorted(f for f in newest.flags if not f.startswith(("\\", "$")) and f != MALFORMED_KEYWORD)
    subject = re.sub(r"^\s*((re|aw|sv|fwd?|wg)\s*:\s*)+", "", first.subject, flags=re.IGNORECASE)
    return Ticket(
        id=ticket_id,
        channel="email",
        status="closed" if "\\Answered" in newest.flags else "open",
        subject=subject or None,
        customer=newest.sender,
        tags=[Tag(name=k) for k in keywords],
        created_datetime=first.received_at,
        updated_datetime=newest.received_at,
        last_received_message_datetime=newest.received_at,
    )
