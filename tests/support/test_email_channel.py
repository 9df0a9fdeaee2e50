"""The email channel against real mail servers: Dovecot (IMAP, started here from a temporary config) and
aiosmtpd (SMTP). Customer mail goes in over SMTP and is delivered into the Maildir by `dovecot-lda`, as an
MTA would; our replies go out over SMTP and are captured at the server with their exact bytes."""

import imaplib
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from dropship_pipelines.resources.email_channel.mime import (
    MalformedMailError,
    parse_mail,
    reply_message_id,
    stable_id,
)
from dropship_pipelines.resources.email_channel.resource import EmailChannelResource
from dropship_pipelines.resources.email_channel.threads import MALFORMED_KEYWORD
from dropship_pipelines.resources.helpdesk import HelpdeskResource
from dropship_pipelines.resources.support_channel import SupportChannel
from dropship_pipelines.rules.outgoing_reply import ReplyBlocked
from dropship_pipelines.rules.reply_context import OrderFacts, ReplyContext
from dropship_pipelines.rules.store_policy import default_store_policy
from dropship_testkit.sandbox_server import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"
STORE = "support@shop.example"
USER, PASSWORD = "support", "test-password"
RECEIVED = datetime(2026, 1, 5, tzinfo=UTC)
# What the replies below may state: order #1001, shipped with tracking number YT1.
CONTEXT = ReplyContext(
    order=OrderFacts(
        order_name="#1001",
        status="shipped",
        placed_on=date(2026, 1, 2),
        total=Decimal("19.90"),
        track_number="YT1",
    ),
    policy=default_store_policy(),
)
SHIPPED = "Hello,\n\nYour order #1001 has shipped.\n\nThe Sandbox Store team"
TRACKING = "Hello,\n\nYour tracking number is YT1.\n\nThe Sandbox Store team"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(DOVECOT) and os.path.exists(LDA)),
    reason="Dovecot not installed (scripts/install.sh installs dovecot-imapd)",
)


def _users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid): Dovecot refuses uid 0 for mail, so root runs the
    mailbox as an unprivileged account; anyone else runs everything as themselves."""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    internal = "dovecot" if _exists("dovecot") else "nobody"
    login = "dovenull" if _exists("dovenull") else "nobody"
    nobody = pwd.getpwnam("nobody")
    return internal, login, nobody.pw_uid, nobody.pw_gid


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def _dovecot_config(root: Path, port: int) -> Path:
    internal, login, uid, gid = _users()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    for directory in ("Maildir", "home", "run"):
        (root / directory).mkdir()
    for directory in ("Maildir", "home"):
        os.chown(root / directory, uid, gid)
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/run/state
instance_name = dropship-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
    )
    return config


@dataclass
class Captured:
    mail_from: str
    rcpt_to: str
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Relay:
    """The SMTP server's delivery: the store's address into the Maildir via dovecot-lda, others captured."""

    config: Path
    captured: list[Captured] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            if rcpt.lower() == STORE:
                delivered = subprocess.run(
                    [LDA, "-c", str(self.config), "-d", USER, "-f", envelope.mail_from or "<>"],
                    input=raw,
                    capture_output=True,
                    timeout=20,
                )
                if delivered.returncode != 0:
                    detail = (delivered.stderr or delivered.stdout).decode()[:200]
                    return f"451 local delivery failed ({delivered.returncode}): {detail}"
            else:
                self.captured.append(Captured(envelope.mail_from or "", rcpt, raw))
        return "250 OK"


@dataclass
class MailServer:
    imap_port: int
    smtp_port: int
    relay: _Relay

    def channel(self, **overrides: object) -> EmailChannelResource:
        settings: dict[str, object] = {
            "imap_host": "127.0.0.1",
            "imap_port": self.imap_port,
            "imap_user": USER,
            "imap_password": PASSWORD,
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.smtp_port,
            "smtp_security": "none",
            "from_address": STORE,
            "max_attempts": 2,
            **overrides,
        }
        return EmailChannelResource(**settings)  # type: ignore[arg-type]

    def customer_sends(self, raw: bytes | EmailMessage, sender: str = "alex@customer.example") -> None:
        """A customer's mail arrives the way real mail does: over SMTP, then local delivery."""
        data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.sendmail(sender, [STORE], data)

    def imap(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def flags(self, mailbox: str = "INBOX") -> dict[int, set[str]]:
        conn = self.imap()
        try:
            conn.select(mailbox, readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            out: dict[int, set[str]] = {}
            for line in data:
                if isinstance(line, bytes) and b"UID" in line:
                    text = line.decode()
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    out[uid] = set(text.split("FLAGS (")[1].split(")")[0].split())
            return out
        finally:
            conn.logout()


@pytest.fixture
def mail_root() -> Iterator[Path]:
    """pytest's tmp_path sits under a 0700 directory the unprivileged mail user could not enter."""
    root = Path(tempfile.mkdtemp(prefix="dropship-mail-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mail_server(mail_root: Path) -> Iterator[MailServer]:
    imap_port = free_port()
    config = _dovecot_config(mail_root, imap_port)
    # -F: stay in the foreground as our child, so the test owns and ends exactly this process.
    dovecot = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stderr=subprocess.PIPE)
    relay = _Relay(config)
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                imaplib.IMAP4("127.0.0.1", imap_port, timeout=2).logout()
                break
            except OSError:
                log = mail_root / "dovecot.log"
                if dovecot.poll() is not None or time.monotonic() > deadline:
                    detail = (dovecot.stderr.read() if dovecot.stderr else b"").decode()
                    pytest.fail(f"dovecot did not start: {detail} {log.read_text() if log.exists() else ''}")
                time.sleep(0.05)
        controller.start()
        yield MailServer(imap_port, controller.port, relay)
    finally:
        controller.stop()
        dovecot.terminate()
        dovecot.wait(timeout=10)


def mail(
    subject: str,
    body: str,
    *,
    sender: str = "Alex Doe <alex@customer.example>",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = STORE
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    return msg


def test_both_channels_offer_the_support_interface(mail_server: MailServer) -> None:
    helpdesk = HelpdeskResource(base_url="http://127.0.0.1:9", username="u", api_key="k")
    assert isinstance(helpdesk, SupportChannel)
    assert isinstance(mail_server.channel(), SupportChannel)


def test_reads_new_mail_incrementally_none_missed_none_twice(mail_server: MailServer) -> None:
    channel = mail_server.channel()
    for n in range(3):
        mail_server.customer_sends(
            mail(f"Order #100{n}", f"Where is order #100{n}?", message_id=f"<a{n}@c.x>")
        )
    first = channel.read_new(None)
    assert [i.message_id for i in first.items] == ["<a0@c.x>", "<a1@c.x>", "<a2@c.x>"]
    assert first.rejected == []

    for n in range(3, 5):
        mail_server.customer_sends(mail(f"Order #100{n}", "Any news?", message_id=f"<a{n}@c.x>"))
    second = channel.read_new(first.cursor)
    assert [i.message_id for i in second.items] == ["<a3@c.x>", "<a4@c.x>"]
    assert channel.read_new(second.cursor).items == []

    ids = [i.message.id for i in first.items + second.items]
    assert len(set(ids)) == 5 and ids[0] == stable_id("<a0@c.x>")
    # Reading peeks: a human sharing the mailbox still sees the mail as unread.
    assert all("\\Seen" not in flags for flags in mail_server.flags().values())

    # The helpdesk-shaped path: one ticket per thread, newest first, ids stable across instances.
    tickets = list(mail_server.channel().tickets_with_messages_since(None))
    assert [t.id for t in tickets] == [stable_id(f"<a{n}@c.x>") for n in (4, 3, 2, 1, 0)]
    later = list(channel.tickets_with_messages_since(tickets[1].last_received_message_datetime))
    assert {t.id for t in later} >= {tickets[0].id, tickets[1].id}
    assert tickets[0].customer is not None and tickets[0].customer.email == "alex@customer.example"


def test_parses_multipart_html_and_non_english_mail(mail_server: MailServer) -> None:
    alternative = mail(
        "Wo ist meine Bestellung?", "Grüße aus Köln, wo bleibt #1001?", sender="Jürgen <j@k.de>"
    )
    alternative.add_alternative("<p>Grüße aus <b>Köln</b>, wo bleibt #1001?</p>", subtype="html")
    alternative.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="lampe.png")
    html_only = EmailMessage()
    html_only["From"] = "=?utf-8?b?55Sw5Lit?= <tanaka@example.jp>"
    html_only["To"] = STORE
    html_only["Subject"] = "=?iso-2022-jp?b?GyRCQ21KOBsoQg==?= #1002"
    html_only.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>注文はいつ届きますか</p>"
        "<div>よろしく&amp;お願いします</div></body></html>",
        subtype="html",
        charset="utf-8",
    )
    cyrillic = (
        b"From: =?koi8-r?b?7MXOwQ==?= <lena@example.ru>\r\nTo: support@shop.example\r\n"
        b"Subject: =?koi8-r?b?0M/T2czLwQ==?=\r\nMessage-ID: <ru1@example.ru>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Где мой заказ #1003?".encode("koi8-r")
        + b"\r\n"
    )
    for raw in (alternative, html_only, cyrillic):
        mail_server.customer_sends(raw)
    batch = mail_server.channel().read_new(None)
    assert batch.rejected == []
    german, japanese, russian = (i.message for i in batch.items)

    assert german.subject == "Wo ist meine Bestellung?"
    assert german.sender is not None and german.sender.name == "Jürgen"
    assert german.body_text == "Grüße aus Köln, wo bleibt #1001?"
    assert german.body_html is not None and "<b>Köln</b>" in german.body_html

    assert japanese.sender is not None and japanese.sender.name == "田中"
    assert japanese.subject == "注文 #1002"
    assert (
        japanese.body_text == "注文はいつ届きますか\n\nよろしく&お願いします"
    )  # style dropped, entity decoded

    assert russian.subject == "посылка" and russian.body_text == "Где мой заказ #1003?"
    assert russian.sender is not None and russian.sender.name == "Лена"


def test_sends_a_threaded_reply_once_and_reads_it_back(mail_server: MailServer) -> None:
    channel = mail_server.channel()
    mail_server.customer_sends(mail("Order #1001", "Where is it?", message_id="<c1@customer.example>"))
    (ticket,) = channel.tickets_with_messages_since(None)
    (incoming,) = channel.messages(ticket.id)
    marker = f"dropship-reply:{ticket.id}:{incoming.id}"

    sent = channel.send_reply(
        ticket.id,
        marker=marker,
        to_email="alex@customer.example",
        subject="Re: Order #1001",
        body_text=SHIPPED,
        context=CONTEXT,
    )
    assert not sent.recovered
    (delivered,) = mail_server.relay.captured
    reply = delivered.message
    assert delivered.rcpt_to == "alex@customer.example" and delivered.mail_from == STORE
    assert reply["Message-ID"] == reply_message_id(marker, "shop.example")
    assert reply["In-Reply-To"] == "<c1@customer.example>"
    assert reply["References"] == "<c1@customer.example>"
    assert reply["Subject"] == "Re: Order #1001"
    assert reply.get_content().replace("\r\n", "\n").strip() == SHIPPED

    # A resend after a crash finds the copy in Sent and sends nothing; a fresh instance knows it too.
    again = mail_server.channel().send_reply(
        ticket.id,
        marker=marker,
        to_email="alex@customer.example",
        subject="Re: Order #1001",
        body_text=SHIPPED,
        context=CONTEXT,
    )
    assert again.recovered and again.message_id == sent.message_id
    assert len(mail_server.relay.captured) == 1
    thread = channel.messages(ticket.id)
    assert [m.from_agent for m in thread] == [False, True]
    assert thread[1].external_id == marker and str(thread[1].id) == sent.message_id

    # The customer answers our reply: same ticket, and our next reply threads under the whole chain.
    mail_server.customer_sends(
        mail(
            "Re: Order #1001",
            "Thanks! And the tracking?",
            message_id="<c2@customer.example>",
            in_reply_to=reply["Message-ID"],
            references=f"<c1@customer.example> {reply['Message-ID']}",
        )
    )
    (same,) = channel.tickets_with_messages_since(ticket.last_received_message_datetime)
    assert same.id == ticket.id
    channel.send_reply(
        ticket.id,
        marker=marker + "-2",
        to_email="alex@customer.example",
        subject="Re: Order #1001",
        body_text=TRACKING,
        context=CONTEXT,
    )
    second = mail_server.relay.captured[-1].message
    assert second["In-Reply-To"] == "<c2@customer.example>"
    assert second["References"] == f"<c1@customer.example> {reply['Message-ID']} <c2@customer.example>"


def test_the_channel_sends_only_what_the_gate_passes_without_markup(mail_server: MailServer) -> None:
    channel = mail_server.channel()
    mail_server.customer_sends(mail("Order #1001", "Where is it?", message_id="<g1@customer.example>"))
    (ticket,) = channel.tickets_with_messages_since(None)
    (incoming,) = channel.messages(ticket.id)
    marker = f"dropship-reply:{ticket.id}:{incoming.id}"
    send = {"marker": marker, "to_email": "alex@customer.example", "subject": "Re: Order #1001"}

    invented = "Hello,\n\nYour order #1001 has shipped. It arrives next Friday.\n\nThe Sandbox Store team"
    with pytest.raises(ReplyBlocked) as blocked:
        channel.send_reply(ticket.id, body_text=invented, context=CONTEXT, **send)
    assert blocked.value.reasons
    assert mail_server.relay.captured == []

    marked_up = SHIPPED.replace("has shipped.", "has <b>shipped</b>.<script>alert('x')</script>")
    channel.send_reply(ticket.id, body_text=marked_up, context=CONTEXT, **send)
    (delivered,) = mail_server.relay.captured
    assert delivered.message.get_content().replace("\r\n", "\n").strip() == SHIPPED


def test_marks_answered_and_tags_the_thread(mail_server: MailServer) -> None:
    channel = mail_server.channel()
    mail_server.customer_sends(mail("Order #1001", "Where is it?", message_id="<t1@c.x>"))
    mail_server.customer_sends(mail("Other", "Unrelated", message_id="<t2@c.x>"))
    ticket = next(t for t in channel.tickets_with_messages_since(None) if t.id == stable_id("<t1@c.x>"))

    channel.tag_and_set_status(ticket.id, ["needs-human", "escalated:legal threat"], status="open")
    flags = mail_server.flags()
    assert {"needs-human", "escalated:legal_threat"} <= flags[1] and "\\Answered" not in flags[1]
    assert flags[2] == set()  # the other thread is untouched

    channel.tag_and_set_status(ticket.id, ["auto-answered"], status="closed")
    flags = mail_server.flags()
    assert "\\Answered" in flags[1] and "auto-answered" in flags[1]
    assert "needs-human" not in flags[1]  # tags are replaced, as on the helpdesk
    (closed,) = [t for t in channel.tickets_with_messages_since(None) if t.id == ticket.id]
    assert closed.status == "closed" and [t.name for t in closed.tags] == ["auto-answered"]

    channel.mark_answered(stable_id("<t2@c.x>"))
    assert "\\Answered" in mail_server.flags()[2]


BROKEN_MIME = (
    b"From: Sam <sam@customer.example>\r\nTo: support@shop.example\r\nSubject: broken\r\n"
    b"Message-ID: <broken@c.x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
    b"--nothing\r\nContent-Type: text/plain\r\n\r\nWhere is my order?\r\n--nothing--\r\n"
)
NO_FROM = (
    b"To: support@shop.example\r\nSubject: anonymous\r\nMessage-ID: <nofrom@c.x>\r\n\r\n"
    b"Where is my order?\r\n"
)


def test_malformed_mail_gets_a_clear_error_and_is_not_lost(mail_server: MailServer) -> None:
    with pytest.raises(MalformedMailError, match="no From address"):
        parse_mail(NO_FROM, uid=1, received_at=RECEIVED, flags=frozenset())
    with pytest.raises(MalformedMailError, match="broken MIME structure"):
        parse_mail(BROKEN_MIME, uid=1, received_at=RECEIVED, flags=frozenset())

    mail_server.customer_sends(NO_FROM)
    mail_server.customer_sends(BROKEN_MIME)
    mail_server.customer_sends(mail("Fine", "A normal question", message_id="<ok@c.x>"))
    channel = mail_server.channel()
    batch = channel.read_new(None)
    assert [i.message_id for i in batch.items] == ["<ok@c.x>"]
    reasons = {r.uid: r.reason for r in batch.rejected}
    assert "no From address" in reasons[1] and "broken MIME" in reasons[2]
    assert batch.cursor.last_uid == 3  # the batch went on past them

    # Still in the mailbox, flagged for a human in any mail client.
    flags = mail_server.flags()
    assert set(flags) == {1, 2, 3}
    assert {"\\Flagged", MALFORMED_KEYWORD} <= flags[1] and {"\\Flagged", MALFORMED_KEYWORD} <= flags[2]

    # The support assets' path neither crashes nor tries to answer them.
    tickets = list(mail_server.channel().tickets_with_messages_since(None))
    assert stable_id("<nofrom@c.x>") not in {t.id for t in tickets}
    assert mail_server.channel().messages(stable_id("<broken@c.x>")) == []
    assert [m.body_text for m in channel.messages(stable_id("<ok@c.x>"))] == ["A normal question"]
