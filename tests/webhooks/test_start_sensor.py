"""The start check: the sensor asks for a webhook check when the daemon starts (nothing in the ledger),
skips once everything is registered and fresh, and asks again when a topic is missing or an hour old;
the asset check fails while a topic is not registered."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.readiness.checks import webhooks_registered
from dropship_pipelines.assets.readiness.defs import webhook_subscriptions_sensor
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.write_mode_tables import webhook_subscriptions
from dropship_testkit.pipelines import subscribe_webhooks

BASE = "https://hooks.example-store.com"


def _tick(store_url: str) -> dg.RunRequest | dg.SkipReason:
    context = dg.build_sensor_context(resources={"store_db": StoreDatabase(url=store_url)})
    return webhook_subscriptions_sensor(context)


def test_sensor_asks_at_start_skips_when_registered_and_asks_again_when_stale(
    sandbox, store_url, pipeline_env, monkeypatch
):
    monkeypatch.delenv("WEBHOOK_BASE_URL", raising=False)
    skipped = _tick(store_url)
    assert isinstance(skipped, dg.SkipReason) and "WEBHOOK_BASE_URL is not set" in skipped.skip_message
    monkeypatch.setenv("WEBHOOK_BASE_URL", BASE)
    first = _tick(store_url)
    assert isinstance(first, dg.RunRequest) and "never checked" in first.tags["dropship/reason"]
    check = webhooks_registered(StoreDatabase(url=store_url))
    assert not check.passed

    subscribe_webhooks(store_url, BASE)  # what the requested run does
    assert isinstance(_tick(store_url), dg.SkipReason)
    assert webhooks_registered(StoreDatabase(url=store_url)).passed

    with get_engine(store_url).begin() as conn:  # an hour and more since the last look
        conn.execute(
            sa.update(webhook_subscriptions).values(checked_at=datetime.now(UTC) - timedelta(hours=2))
        )
    again = _tick(store_url)
    assert isinstance(again, dg.RunRequest) and "last checked" in again.tags["dropship/reason"]
