"""Operator alerts: a failed run or a failed asset check reaches e-mail and/or a webhook, once per incident.

The message and dedupe rules live in `dropship_pipelines.alerts`; these sensors only read Dagster's event log,
apply them and deliver. Without a configured channel they start STOPPED, and if started they skip and say why.
"""

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from dropship_pipelines.alerts import incidents
from dropship_pipelines.alerts.channels import AlertChannels, AlertDeliveryError, channels_from_env, deliver
from dropship_pipelines.alerts.messages import (
    CheckCursor,
    CheckEvaluation,
    advance_checks,
    check_failure_alert,
    run_failure_alert,
    run_incident_is_new,
    run_incident_key,
)
from dropship_pipelines.alerts.redact import secret_values
from dropship_pipelines.cadence import ALERT_SENSOR_SECONDS
from dropship_pipelines.resources.store_db import StoreDatabase

NO_CHANNEL = "no alert channel configured (set ALERT_WEBHOOK_URL and/or ALERT_SMTP_HOST + ALERT_EMAIL_TO)"


def _default_status() -> dg.DefaultSensorStatus:
    # Read when the code location loads: the daemon only starts alerting where someone would receive it.
    if channels_from_env(os.environ).configured:
        return dg.DefaultSensorStatus.RUNNING
    return dg.DefaultSensorStatus.STOPPED


def _root_error(error: Any) -> Any:
    """User code errors arrive wrapped in Dagster's step error; the cause names what really went wrong."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    return error


def _failure_cause(context: dg.RunFailureSensorContext) -> tuple[str | None, str | None, str]:
    """(failing step, error class, message) of a failed run."""
    for event in context.get_step_failure_events():
        outer = getattr(event.event_specific_data, "error", None)
        root = _root_error(outer)
        if root is not None:
            message = root.message if root is outer else f"{outer.message.strip()}\n{root.message}"
            return event.step_key, root.cls_name, message
        return event.step_key, None, event.message or ""
    root = _root_error(getattr(context.failure_event.event_specific_data, "error", None))
    if root is not None:
        return None, root.cls_name, root.message
    return None, None, context.failure_event.message or "run failed"


def _job_succeeded_since(instance: dg.DagsterInstance, job: str, since: float) -> bool:
    records = instance.get_run_records(
        dg.RunsFilter(
            job_name=job,
            statuses=[dg.DagsterRunStatus.SUCCESS],
            updated_after=datetime.fromtimestamp(since, tz=UTC),
        ),
        limit=1,
    )
    return bool(records)


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    minimum_interval_seconds=ALERT_SENSOR_SECONDS,
    default_status=_default_status(),
    description="E-mail / webhook the operator when a run of any job of this code location fails: once per "
    "job + failing step + error class, again only after the job has succeeded in between.",
)
def alert_on_run_failure(
    context: dg.RunFailureSensorContext, store_db: StoreDatabase
) -> dg.SkipReason | None:
    channels = channels_from_env(os.environ)
    run = context.dagster_run
    if not channels.configured:
        context.log.info("run %s of %s failed; %s", run.run_id, run.job_name, NO_CHANNEL)
        return dg.SkipReason(NO_CHANNEL)
    step, error_class, message = _failure_cause(context)
    key = run_incident_key(run.job_name, step, error_class)
    engine = store_db.engine()
    notified = incidents.notified_at(engine, key)
    recovered = notified is not None and _job_succeeded_since(context.instance, run.job_name, notified)
    if not run_incident_is_new(notified, recovered):
        incidents.record_repeat(engine, key, run.run_id)
        return dg.SkipReason(f"{key}: already notified and the job has not succeeded since")
    alert = run_failure_alert(
        job=run.job_name,
        run_id=run.run_id,
        step=step,
        error_class=error_class,
        error_message=message,
        webserver_url=channels.webserver_url,
        secrets=secret_values(os.environ),
    )
    # Raising leaves the incident unrecorded and fails the tick, which the UI shows on the sensor.
    failed = deliver(alert, channels)
    incidents.record_notified(engine, key, run.job_name, run.run_id)
    context.log.info("alerted %s via %s%s", key, channels.describe(), f" ({failed} failed)" if failed else "")
    return None


def _metadata_values(metadata: Any) -> dict[str, Any]:
    # Dagster's own keys (dagster/...) are bookkeeping, not what the check found.
    return {
        str(name): _plain_value(value)
        for name, value in (metadata or {}).items()
        if not str(name).startswith("dagster/")
    }


def _plain_value(value: Any) -> Any:
    # A table (the failing records) as its rows: plain dicts the alert can redact and render.
    if isinstance(value, dg.TableMetadataValue):
        return [dict(record.data) for record in value.records]
    return getattr(value, "value", value)


def read_check_evaluations(
    instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey], after_id: int
) -> list[CheckEvaluation]:
    """Each check's latest completed result, where it is newer than `after_id` (a check execution id).

    Read per check rather than as an event stream: the default SQLite event log is sharded by run and
    refuses a cross-run `get_event_records` query, while the check execution table works on SQLite and
    PostgreSQL alike. A flap between two ticks (fail, then pass) is then seen as its end state, which is
    what the operator needs to know."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    evaluations = []
    for record in latest.values():
        entry = record.event
        data = entry.dagster_event.event_specific_data if entry and entry.dagster_event else None
        if record.id <= after_id or not isinstance(data, dg.AssetCheckEvaluation):
            continue  # already seen, or still planned (the check is running)
        evaluations.append(
            CheckEvaluation(
                storage_id=record.id,
                asset=data.asset_key.to_user_string(),
                check=data.check_name,
                passed=data.passed,
                run_id=record.run_id,
                job=(entry.job_name if entry else None) or "",
                description=data.description or "",
                severity=data.severity.value,
                metadata=_metadata_values(data.metadata),
            )
        )
    return evaluations


def evaluate_check_alerts(
    instance: dg.DagsterInstance,
    check_keys: Sequence[dg.AssetCheckKey],
    cursor: CheckCursor,
    channels: AlertChannels,
    log: Any,
) -> tuple[CheckCursor, int, list[str]]:
    """(new cursor, alerts sent, incident keys not delivered) for the check results after `cursor`."""
    evaluations = read_check_evaluations(instance, check_keys, cursor.after_storage_id)
    advanced, to_notify = advance_checks(cursor, evaluations)
    secrets = secret_values(os.environ)
    undelivered = []
    for evaluation in to_notify:
        alert = check_failure_alert(
            asset=evaluation.asset,
            check=evaluation.check,
            job=evaluation.job,
            run_id=evaluation.run_id,
            description=evaluation.description,
            metadata=evaluation.metadata,
            webserver_url=channels.webserver_url,
            severity=evaluation.severity,
            secrets=secrets,
        )
        try:
            deliver(alert, channels)
        except AlertDeliveryError as error:
            log.error("%s", error)
            undelivered.append(evaluation.incident_key)
    # An undelivered incident stays closed, so the check's next failure tries again.
    open_incidents = advanced.open_incidents - set(undelivered)
    new_cursor = CheckCursor(advanced.after_storage_id, open_incidents)
    return new_cursor, len(to_notify) - len(undelivered), undelivered


@dg.sensor(
    name="alert_on_asset_check_failure",
    minimum_interval_seconds=ALERT_SENSOR_SECONDS,
    default_status=_default_status(),
    description="E-mail / webhook the operator when a check fails, with its failing records (redacted): "
    "once per asset + check, re-armed when the check passes again.",
)
def alert_on_asset_check_failure(context: dg.SensorEvaluationContext) -> dg.SkipReason | None:
    channels = channels_from_env(os.environ)
    if not channels.configured:
        context.log.info(NO_CHANNEL)
        return dg.SkipReason(NO_CHANNEL)
    cursor = CheckCursor.from_json(context.cursor)
    check_keys = sorted(context.repository_def.asset_graph.asset_check_keys) if context.repository_def else []
    new_cursor, sent, undelivered = evaluate_check_alerts(
        context.instance, check_keys, cursor, channels, context.log
    )
    context.update_cursor(new_cursor.to_json())
    if undelivered:
        return dg.SkipReason(f"{len(undelivered)} alert(s) not delivered: {', '.join(undelivered)}")
    if not sent:
        return dg.SkipReason(
            f"no new check failure after check execution {cursor.after_storage_id} "
            f"({len(new_cursor.open_incidents)} incident(s) open)"
        )
    context.log.info("sent %d check alert(s) via %s", sent, channels.describe())
    return None


alerts_defs = dg.Definitions(sensors=[alert_on_run_failure, alert_on_asset_check_failure])
