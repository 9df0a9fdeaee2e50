"""Where alerts go: e-mail over SMTP and/or a JSON webhook (Slack incoming webhook or any receiver).

Configured by environment only, so an operator switches alerts on without a code change:
ALERT_SMTP_HOST, ALERT_SMTP_PORT, ALERT_SMTP_USER, ALERT_SMTP_PASSWORD, ALERT_EMAIL_FROM, ALERT_EMAIL_TO
(comma-separated) and ALERT_WEBHOOK_URL. DAGSTER_WEBSERVER_URL is where run links point.
"""

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from dropship_pipelines.alerts.messages import DEFAULT_WEBSERVER_URL, Alert

SMTP_TIMEOUT_S = 20.0
WEBHOOK_TIMEOUT_S = 10.0


class AlertDeliveryError(RuntimeError):
    """No configured channel accepted the alert."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str = ""
    password: str = ""

    def __repr__(self) -> str:  # the password must never reach a log line through a repr
        return f"SmtpSettings(host={self.host!r}, port={self.port}, recipients={len(self.recipients)})"


@dataclass(frozen=True)
class AlertChannels:
    smtp: SmtpSettings | None = None
    webhook_url: str | None = None
    webserver_url: str = DEFAULT_WEBSERVER_URL

    @property
    def configured(self) -> bool:
        return self.smtp is not None or bool(self.webhook_url)

    def describe(self) -> str:
        """For logs: which channels, never where the webhook points (its URL is the secret)."""
        names = (["email"] if self.smtp else []) + (["webhook"] if self.webhook_url else [])
        return ", ".join(names) or "none"

    def __repr__(self) -> str:
        return f"AlertChannels({self.describe()})"


def channels_from_env(environ: Mapping[str, str]) -> AlertChannels:
    smtp = None
    host = environ.get("ALERT_SMTP_HOST", "").strip()
    recipients = tuple(a.strip() for a in environ.get("ALERT_EMAIL_TO", "").split(",") if a.strip())
    if host and recipients:
        smtp = SmtpSettings(
            host=host,
            port=int(environ.get("ALERT_SMTP_PORT") or 587),
            sender=environ.get("ALERT_EMAIL_FROM") or f"dagster-alerts@{host}",
            recipients=recipients,
            user=environ.get("ALERT_SMTP_USER", ""),
            password=environ.get("ALERT_SMTP_PASSWORD", ""),
        )
    return AlertChannels(
        smtp=smtp,
        webhook_url=environ.get("ALERT_WEBHOOK_URL", "").strip() or None,
        webserver_url=environ.get("DAGSTER_WEBSERVER_URL", "").strip() or DEFAULT_WEBSERVER_URL,
    )


def send_email(alert: Alert, settings: SmtpSettings) -> None:
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["X-Dropship-Incident"] = alert.incident_key
    message.set_content(alert.text())
    if settings.port == 465:  # implicit TLS (SMTPS)
        with smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context()
        ) as smtp:
            _login_and_send(smtp, settings, message)
        return
    with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_S) as smtp:
        smtp.ehlo()
        # Upgrade whenever the server offers it: credentials and customer context must not cross in clear.
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        _login_and_send(smtp, settings, message)


def _login_and_send(smtp: smtplib.SMTP, settings: SmtpSettings, message: EmailMessage) -> None:
    if settings.user:
        smtp.login(settings.user, settings.password)
    smtp.send_message(message)


def send_webhook(alert: Alert, url: str) -> None:
    response = httpx.post(url, json=alert.payload(), timeout=WEBHOOK_TIMEOUT_S)
    response.raise_for_status()


def deliver(alert: Alert, channels: AlertChannels) -> list[str]:
    """Send through every configured channel; the names that failed. Raise only if all of them failed,
    so one broken channel does not silence the other (and the failure shows on the sensor tick)."""
    attempts: list[tuple[str, Exception | None]] = []
    if channels.smtp is not None:
        try:
            send_email(alert, channels.smtp)
            attempts.append(("email", None))
        except (OSError, smtplib.SMTPException) as error:
            attempts.append(("email", error))
    if channels.webhook_url:
        try:
            send_webhook(alert, channels.webhook_url)
            attempts.append(("webhook", None))
        except httpx.HTTPError as error:
            # The message of an httpx error contains the URL, which for Slack is the secret itself.
            attempts.append(("webhook", RuntimeError(type(error).__name__)))
    failed = [name for name, error in attempts if error is not None]
    if attempts and len(failed) == len(attempts):
        reasons = "; ".join(f"{name}: {type(error).__name__}: {error}" for name, error in attempts)
        raise AlertDeliveryError(f"alert {alert.incident_key} not delivered ({reasons})")
    return failed
