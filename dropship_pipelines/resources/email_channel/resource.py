"""The support mailbox as a support channel: IMAP to read and flag, SMTP to send (see the package doc)."""

import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import dagster as dg
from pydantic import PrivateAttr

from dropship_pipelines.resources.email_channel.imap import Mailbox, Security, imap_session
from dropship_pipelines.resources.email_channel.mime import (
    MailItem,
    MalformedMailError,
    compose_reply,
    parse_mail,
    reply_message_id,
    stable_id,
)
from dropship_pipelines.resources.email_channel.smtp import smtp_send
from dropship_pipelines.resources.email_channel.threads import (
    ANSWERED,
    MALFORMED_KEYWORD,
    Envelope,
    ThreadIndex,
    envelope,
    keyword,
    our_keywords,
    ticket,
)
from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError
from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.resources.support_channel import Message, SentReply, Ticket
from dropship_pipelines.rules.outgoing_reply import checked_text
from dropship_pipelines.rules.reply_context import ReplyContext

API = "email"
HEADER_FIELDS = "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES)]"
WHOLE_MAIL = ["INTERNALDATE", "FLAGS", "BODY.PEEK[]"]
T = TypeVar("T")


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
class RejectedMail:
    uid: int
    reason: str


@dataclass(frozen=True)
class MailBatch:
    items: list[MailItem]
    rejected: list[RejectedMail]
    cursor: MailboxCursor


class EmailChannelResource(dg.ConfigurableResource):
    """A support mailbox: IMAP to read and flag, SMTP to send, with the support channel's interface."""

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

    _index: ThreadIndex = PrivateAttr(default_factory=ThreadIndex)
    _index_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # --- sessions ------------------------------------------------------------------------------------------
    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.tls_ca_file or None)

    def _call(self, fn: Callable[[Mailbox], T]) -> T:
        """One IMAP session for `fn`, retried whole on transient failures (each session starts clean)."""

        def session() -> T:
            with imap_session(
                self.imap_host,
                self.imap_port,
                user=self.imap_user,
                password=self.imap_password,
                security=self.imap_security,
                tls=self._tls,
                timeout_s=self.timeout_s,
            ) as mailbox:
                return fn(mailbox)

        return call_with_retries(session, max_attempts=self.max_attempts)

    def _parsed(self, mailbox: Mailbox, uids: list[int]) -> tuple[list[MailItem], list[RejectedMail]]:
        """The mails `uids`, parsed; the malformed ones with the reason (they stay for a human)."""
        items: list[MailItem] = []
        bad: list[RejectedMail] = []
        for fetched in mailbox.fetch(uids, WHOLE_MAIL):
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

    def _flag_malformed(self, mailbox: Mailbox, uids: list[int]) -> None:
        mailbox.add_flags(uids, ["\\Flagged", MALFORMED_KEYWORD])

    # --- UID-incremental reading ---------------------------------------------------------------------------
    def read_new(self, cursor: MailboxCursor | None) -> MailBatch:
        """Every message that arrived after `cursor`, parsed; malformed ones flagged and reported.

        A changed UIDVALIDITY means the server renumbered the mailbox: everything is read again, and the
        Message-ID-based ids let the ledger recognise what it already answered."""

        def read(mailbox: Mailbox) -> MailBatch:
            validity, _ = mailbox.select(self.mailbox)
            after = cursor.last_uid if cursor and cursor.uidvalidity == validity else 0
            uids = [u for u in mailbox.search("UID", f"{after + 1}:*") if u > after]
            items, rejected = self._parsed(mailbox, uids)
            self._flag_malformed(mailbox, [r.uid for r in rejected])
            return MailBatch(items, rejected, MailboxCursor(validity, max([after, *uids])))

        return self._call(read)

    # --- the thread index (headers only) -------------------------------------------------------------------
    def _refresh_index(self, mailbox: Mailbox) -> ThreadIndex:
        """Bring the instance's header index up to the mailbox's newest UID (only new UIDs are fetched)."""
        validity, _ = mailbox.select(self.mailbox)
        with self._index_lock:
            index = self._index
            if index.uidvalidity != validity:
                index.uidvalidity, index.last_uid, index.by_uid = validity, 0, {}
            since = (datetime.now(UTC) - timedelta(days=self.lookback_days)).strftime("%d-%b-%Y")
            uids = [
                u
                for u in mailbox.search("UID", f"{index.last_uid + 1}:*", "SINCE", since)
                if u > index.last_uid
            ]
            for fetched in mailbox.fetch(uids, ["INTERNALDATE", "FLAGS", HEADER_FIELDS]):
                index.by_uid[fetched.uid] = envelope(
                    fetched.literal or b"",
                    uid=fetched.uid,
                    uidvalidity=validity,
                    received_at=fetched.received_at,
                    flags=fetched.flags,
                )
            index.last_uid = max([index.last_uid, *uids])
            self._flag_malformed(
                mailbox, [u for u in uids if u in index.by_uid and index.by_uid[u].sender is None]
            )
            return index

    def _fresh_flags(self, mailbox: Mailbox, envelopes: list[Envelope]) -> None:
        """Flags change under us (a human answers in their mail client): re-read them before deciding."""
        by_uid = {e.uid: e for e in envelopes}
        for fetched in mailbox.fetch(sorted(by_uid), ["FLAGS"]):
            if fetched.uid in by_uid:
                by_uid[fetched.uid].flags = fetched.flags

    # --- the support channel's interface -------------------------------------------------------------------
    def tickets_with_messages_since(self, since: datetime | None) -> Iterator[Ticket]:
        """Threads with a customer message received at or after `since`, newest first."""

        def read(mailbox: Mailbox) -> list[Ticket]:
            index = self._refresh_index(mailbox)
            answerable = [e for e in index.by_uid.values() if e.sender is not None]
            changed = {e.ticket_id for e in answerable if since is None or e.received_at >= since}
            threads = {t: [e for e in index.thread(t) if e.sender is not None] for t in changed}
            self._fresh_flags(mailbox, [thread[-1] for thread in threads.values()])
            # INTERNALDATE has whole seconds: the UID breaks ties, as it grows with every delivery.
            newest_first = sorted(threads.items(), key=lambda kv: (kv[1][-1].received_at, kv[1][-1].uid))
            return [ticket(ticket_id, thread) for ticket_id, thread in reversed(newest_first)]

        yield from self._call(read)

    def newest_received_at(self) -> datetime | None:
        """When the newest message arrived (the sensor's probe): the latest INTERNALDATE of the last 50."""

        def read(mailbox: Mailbox) -> datetime | None:
            _, count = mailbox.select(self.mailbox, readonly=True)
            if count == 0:
                return None
            # APPENDed mail may carry an older date than its sequence position: look at a tail, not one.
            tail = mailbox.fetch_positions(max(1, count - 49), count, ["INTERNALDATE"])
            return max((f.received_at for f in tail), default=None)

        return self._call(read)

    def messages(self, ticket_id: int | str) -> list[Message]:
        """A thread's readable messages, oldest first: the customer's from the inbox, ours from Sent."""
        return [item.message for item in self._thread_items(ticket_id)]

    def _thread_items(self, ticket_id: int | str) -> list[MailItem]:
        def read(mailbox: Mailbox) -> list[MailItem]:
            thread = self._refresh_index(mailbox).thread(ticket_id)
            if not thread:
                return []
            items, bad = self._parsed(mailbox, [e.uid for e in thread if e.sender is not None])
            self._flag_malformed(mailbox, [r.uid for r in bad])
            root = (thread[0].references or (thread[0].message_id,))[0]
            mailbox.ensure_folder(self.sent_mailbox)
            mailbox.select(self.sent_mailbox, readonly=True)
            sent, _ = self._parsed(mailbox, mailbox.search("HEADER", "References", root))
            # Same-second ties: a reply sorts after the customer message it answers.
            return sorted(
                items + sent, key=lambda i: (i.message.created_datetime, i.message.from_agent, i.uid)
            )

        return self._call(read)

    def find_reply(self, ticket_id: int | str, marker: str) -> Message | None:
        """Our reply for `marker`, if its copy is in the Sent mailbox (found by its derived Message-ID)."""

        def read(mailbox: Mailbox) -> Message | None:
            mailbox.ensure_folder(self.sent_mailbox)
            mailbox.select(self.sent_mailbox, readonly=True)
            wanted = reply_message_id(marker, self._domain())
            items, _ = self._parsed(mailbox, mailbox.search("HEADER", "Message-ID", wanted))
            return next((i.message for i in items if i.message_id == wanted), None)

        return self._call(read)

    def send_reply(
        self,
        ticket_id: int | str,
        *,
        marker: str,
        to_email: str,
        subject: str,
        body_text: str,
        context: ReplyContext,
    ) -> SentReply:
        """Email the reply once, threaded under the customer's newest message; a resend is recognisable.

        Only a text the last gate passes against `context` is mailed (ReplyBlocked otherwise), as plain
        text: markup never reaches the customer."""
        body_text = checked_text(body_text, context)
        if not to_email or "@" not in to_email:
            raise PermanentApiError(API, f"ticket {ticket_id}: no customer address to reply to")
        found = self.find_reply(ticket_id, marker)
        message_id = reply_message_id(marker, self._domain())
        if found is not None:
            return SentReply(str(found.id), recovered=True)
        customer = [i for i in self._thread_items(ticket_id) if not i.message.from_agent]
        reply = compose_reply(
            from_address=self.from_address,
            to_email=to_email,
            subject=subject,
            body_text=body_text,
            message_id=message_id,
            reply_key=marker,
            parent=customer[-1] if customer else None,
        )
        call_with_retries(
            lambda: smtp_send(
                reply,
                self.smtp_host,
                self.smtp_port,
                user=self.smtp_user,
                password=self.smtp_password,
                security=self.smtp_security,
                tls=self._tls,
                timeout_s=self.timeout_s,
            ),
            max_attempts=self.max_attempts,
        )
        self._keep_sent_copy(reply.as_bytes(), message_id)
        return SentReply(str(stable_id(message_id)), recovered=False)

    def tag_and_set_status(self, ticket_id: int | str, tags: list[str], status: str | None = None) -> None:
        """Tags become the thread's IMAP keywords; closed sets `\\Answered`, open clears it."""

        def write(mailbox: Mailbox) -> None:
            thread = self._refresh_index(mailbox).thread(ticket_id)
            if not thread:
                return
            self._fresh_flags(mailbox, thread)
            wanted = {keyword(t) for t in tags}
            for mail in thread:
                mailbox.remove_flags([mail.uid], sorted(our_keywords(mail.flags) - wanted))
                mailbox.add_flags([mail.uid], sorted(wanted))
            uids = [e.uid for e in thread]
            if status == "closed":
                mailbox.add_flags(uids, [ANSWERED])
            elif status == "open":
                mailbox.remove_flags(uids, [ANSWERED])

        self._call(write)

    def mark_answered(self, ticket_id: int | str) -> None:
        """Set `\\Answered` on the thread's messages, so a human's mail client shows it as replied to."""

        def write(mailbox: Mailbox) -> None:
            thread = self._refresh_index(mailbox).thread(ticket_id)
            mailbox.add_flags([e.uid for e in thread], [ANSWERED])

        self._call(write)

    # --- sending -------------------------------------------------------------------------------------------
    def _domain(self) -> str:
        return self.from_address.rsplit("@", 1)[-1].strip(">").lower() or "localhost"

    def _keep_sent_copy(self, raw: bytes, message_id: str) -> None:
        """The Sent copy is how `find_reply` recognises the reply; failing to keep it never unsends it."""

        def append(mailbox: Mailbox) -> None:
            mailbox.ensure_folder(self.sent_mailbox)
            mailbox.append(self.sent_mailbox, raw, flags=("\\Seen",), received_at=datetime.now(UTC))

        try:
            self._call(append)
        except (TransientApiError, PermanentApiError) as error:
            dg.get_dagster_logger().warning(
                "reply %s sent but not copied to %s (%s): a resend would repeat its Message-ID",
                message_id,
                self.sent_mailbox,
                error,
            )
