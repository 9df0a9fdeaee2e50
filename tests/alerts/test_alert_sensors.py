"""The alert sensors on a real instance: a failing job and a failing check, each evaluated repeatedly, give
one notification per incident, re-armed after recovery."""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors.alerts import alert_on_asset_check_failure, alert_on_run_failure
from tests.alerts.conftest import SmtpServer, WebhookReceiver

PLANTED = "planted-secret-ALERT-987654"
FAIL_FLAG = "DROPSHIP_TEST_ALERT_FAIL"  # the test flips the outcome without changing the job


@dg.asset(group_name="test", kinds={"python"}, owners=["team:store"])
def flaky_orders() -> dg.MaterializeResult:
    """Fails while the flag is set, the way an API outage fails a real step."""
    if os.environ.get(FAIL_FLAG) == "1":
        raise ConnectionError(f"supplier unreachable (key {PLANTED}) for jane@example.com")
    return dg.MaterializeResult(metadata={"orders": 3})


@dg.asset(group_name="test", kinds={"python"}, owners=["team:store"])
def priced_items() -> dg.MaterializeResult:
    """Always materializes; its check decides."""
    return dg.MaterializeResult(metadata={"items": 2})


@dg.asset_check(asset=priced_items, description="No item sold under cost.")
def items_cover_cost() -> dg.AssetCheckResult:
    under = os.environ.get(FAIL_FLAG) == "1"
    records = "| sku | customer |\n|---|---|\n| SKU-1 | bob@example.com |" if under else "_none_"
    return dg.AssetCheckResult(passed=not under, metadata={"under_cost": int(under), "records": records})


orders_job = dg.define_asset_job("flaky_orders_job", selection=[flaky_orders])
items_job = dg.define_asset_job("priced_items_job", selection=[priced_items])


@pytest.fixture
def alert_env(
    monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    monkeypatch.setenv("ALERT_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("ALERT_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("ALERT_EMAIL_TO", "ops@shop.test")
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "https://dagster.shop.test")
    monkeypatch.setenv("CJ_API_KEY", PLANTED)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def definitions(tmp_path: Path) -> dg.Definitions:
    return dg.Definitions(
        assets=[flaky_orders, priced_items],
        asset_checks=[items_cover_cost],
        jobs=[orders_job, items_job],
        sensors=[alert_on_run_failure, alert_on_asset_check_failure],
        resources={"store_db": StoreDatabase(url=f"sqlite:///{tmp_path}/store.db")},
    )


class SensorRunner:
    """Evaluates a sensor the way the daemon does: one tick at a time, carrying the cursor forward."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, name: str) -> None:
        self.repository = defs.get_repository_def()
        self.sensor = self.repository.get_sensor_def(name)
        self.instance = instance
        self.cursor: str | None = None

    def tick(self) -> None:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            repository_def=self.repository,
            resources=self.repository.get_top_level_resources(),
        )
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor


def run(defs: dg.Definitions, instance: dg.DagsterInstance, job: str, fail: bool) -> bool:
    os.environ[FAIL_FLAG] = "1" if fail else "0"
    try:
        result = defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)
    finally:
        del os.environ[FAIL_FLAG]
    return result.success


def test_failed_run_notifies_once_per_incident(
    alert_env: None,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    defs = definitions(tmp_path)
    sensor = SensorRunner(defs, instance, "alert_on_run_failure")
    sensor.tick()  # the first tick starts the cursor at "now", as in a fresh deployment

    assert not run(defs, instance, "flaky_orders_job", fail=True)
    sensor.tick()
    sensor.tick()
    assert len(webhook_receiver.posts) == 1 and len(smtp_server.mailbox.messages) == 1
    alert = webhook_receiver.posts[0]["json"]
    [failed_run] = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert alert["job"] == "flaky_orders_job" and alert["run_id"] == failed_run.run_id
    assert alert["run_url"] == f"https://dagster.shop.test/runs/{failed_run.run_id}"
    assert "ConnectionError" in alert["subject"] and "supplier unreachable" in alert["error"]
    mail = (smtp_server.mailbox.messages[0].original_content or b"").decode()
    for sent in (str(alert), mail):
        assert PLANTED not in sent and "jane@example.com" not in sent

    # The same failure again, before any success: the same incident, no new message.
    assert not run(defs, instance, "flaky_orders_job", fail=True)
    sensor.tick()
    assert len(webhook_receiver.posts) == 1

    # Recovery re-arms it: the next failure is a new incident.
    assert run(defs, instance, "flaky_orders_job", fail=False)
    sensor.tick()
    assert not run(defs, instance, "flaky_orders_job", fail=True)
    sensor.tick()
    assert len(webhook_receiver.posts) == 2


def test_failed_check_notifies_once_with_redacted_records(
    alert_env: None, instance: dg.DagsterInstance, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    defs = definitions(tmp_path)
    sensor = SensorRunner(defs, instance, "alert_on_asset_check_failure")
    assert run(defs, instance, "priced_items_job", fail=True)  # a failing WARN check does not fail the run
    sensor.tick()
    sensor.tick()
    assert len(webhook_receiver.posts) == 1
    alert = webhook_receiver.posts[0]["json"]
    assert alert["incident_key"] == "check:priced_items:items_cover_cost"
    assert "SKU-1" in alert["text"] and "bob@example.com" not in alert["text"]
    assert alert["details"]["Failing records"]["under_cost"] == 1

    assert run(defs, instance, "priced_items_job", fail=True)
    sensor.tick()
    assert len(webhook_receiver.posts) == 1
    assert run(defs, instance, "priced_items_job", fail=False)  # passes: re-armed
    sensor.tick()
    assert run(defs, instance, "priced_items_job", fail=True)
    sensor.tick()
    assert len(webhook_receiver.posts) == 2


def test_without_a_channel_the_sensors_skip_and_say_why(
    instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ALERT_SMTP_HOST", "ALERT_EMAIL_TO", "ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    defs = definitions(tmp_path)
    sensor = defs.get_repository_def().get_sensor_def("alert_on_asset_check_failure")
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert result.skip_message and "no alert channel configured" in result.skip_message
