"""Sending one message by SMTP; failures as the API errors (a 4xx or a lost connection is transient)."""

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage

from dropship_pipelines.resources.email_channel.imap import Security
from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError
from dropship_pipelines.resources.write_gate import gate_write

API = "email"


def smtp_send(
    message: EmailMessage,
    host: str,
    port: int,
    *,
    user: str,
    password: str,
    security: Security,
    tls: Callable[[], ssl.SSLContext],
    timeout_s: float,
) -> None:
    """Hand `message` to the relay; no `user` means the relay takes us without AUTH (a local MTA)."""
    # A reply sent is the mailbox's one write: shadow mode records it here instead (no body, no address).
    if gate_write(API, "send", {"subject": message["Subject"], "message_id": message["Message-ID"]}):
        return  # recorded, not sent
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout_s, context=tls())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout_s)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=tls())
            if user:
                smtp.login(user, password)
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
        raise TransientApiError(API, f"SMTP {host}:{port}: {exc}") from exc
