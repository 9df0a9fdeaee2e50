"""Channel senders against real receivers: aiosmtpd over SMTP, a local HTTP server for the webhook."""

import email
import email.policy

import pytest

from dropship_pipelines.alerts.channels import (
    AlertChannels,
    AlertDeliveryError,
    SmtpSettings,
    channels_from_env,
    deliver,
    send_email,
    send_webhook,
)
from dropship_pipelines.alerts.messages import run_failure_alert
from dropship_testkit.sandbox_server import free_port
from tests.alerts.conftest import SmtpServer, WebhookReceiver

ALERT = run_failure_alert(
    job="product_discovery_job",
    run_id="run-1",
    step="store_listings",
    error_class="PermanentApiError",
    error_message="shopify: invalid access token",
    webserver_url="http://127.0.0.1:3000",
)


def test_email_reaches_a_real_smtp_server(smtp_server: SmtpServer) -> None:
    settings = SmtpSettings(smtp_server.host, smtp_server.port, "alerts@shop.test", ("ops@shop.test",))
    send_email(ALERT, settings)
    [envelope] = smtp_server.mailbox.messages
    assert envelope.rcpt_tos == ["ops@shop.test"]
    message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    assert message["Subject"] == ALERT.subject
    body = message.get_content()  # type: ignore[attr-defined]
    assert "http://127.0.0.1:3000/runs/run-1" in body and "product_discovery_job" in body


def test_webhook_posts_slack_compatible_json(webhook_receiver: WebhookReceiver) -> None:
    send_webhook(ALERT, webhook_receiver.url)
    [post] = webhook_receiver.posts
    assert post["json"]["text"].startswith(ALERT.subject)
    assert post["json"]["run_url"] == "http://127.0.0.1:3000/runs/run-1"


def test_channels_from_env() -> None:
    assert not channels_from_env({}).configured
    channels = channels_from_env(
        {
            "ALERT_SMTP_HOST": "smtp.test",
            "ALERT_SMTP_PORT": "2525",
            "ALERT_SMTP_PASSWORD": "planted-secret-smtp",
            "ALERT_EMAIL_TO": "a@x.test, b@x.test",
            "ALERT_WEBHOOK_URL": "https://hooks.slack.test/services/T/B/planted-secret-hook",
            "DAGSTER_WEBSERVER_URL": "https://dagster.shop.test",
        }
    )
    assert channels.smtp is not None and channels.smtp.port == 2525
    assert channels.smtp.recipients == ("a@x.test", "b@x.test")
    assert channels.webserver_url == "https://dagster.shop.test"
    assert "planted-secret" not in repr(channels) and "planted-secret" not in repr(channels.smtp)


def test_one_broken_channel_does_not_silence_the_other(
    smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.status[0] = 500
    smtp = SmtpSettings(smtp_server.host, smtp_server.port, "alerts@shop.test", ("ops@shop.test",))
    failed = deliver(ALERT, AlertChannels(smtp=smtp, webhook_url=webhook_receiver.url))
    assert failed == ["webhook"] and len(smtp_server.mailbox.messages) == 1


def test_all_channels_down_raises_without_leaking_the_webhook_url(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.status[0] = 500
    dead_smtp = SmtpSettings("127.0.0.1", free_port(), "a@shop.test", ("ops@shop.test",))
    with pytest.raises(AlertDeliveryError) as raised:
        deliver(ALERT, AlertChannels(smtp=dead_smtp, webhook_url=webhook_receiver.url))
    assert "secretpath" not in str(raised.value)
