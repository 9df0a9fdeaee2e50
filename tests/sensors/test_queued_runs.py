"""Event sensors ask for no second run while one of their job's runs waits in the queue: it reads the source
when it starts. A loaded demo piled up customer-service runs behind one that had yet to start."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from dropship_pipelines.assets.support.defs import new_customer_messages
from dropship_pipelines.sensors.run_queue import waiting_run_for


@dg.op
def _read_helpdesk() -> None:
    """Stands in for the workflow's steps: only the run's job name and status matter to the sensor."""


@dg.job(name=new_customer_messages.job_name)
def customer_service_job() -> None:
    _read_helpdesk()


FIRST = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Inbox:
    """The helpdesk as the sensor reads it: the newest customer message's time."""

    def __init__(self) -> None:
        self.newest: datetime | None = FIRST

    def newest_received_at(self) -> datetime | None:
        return self.newest


def tick(instance: dg.DagsterInstance, inbox: Inbox, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"helpdesk": inbox})
    return new_customer_messages.evaluate_tick(context)


def test_a_new_message_while_a_run_waits_asks_for_nothing_and_keeps_the_cursor() -> None:
    inbox = Inbox()
    with dg.instance_for_test() as instance:
        first = tick(instance, inbox, None)
        assert [r.run_key for r in first.run_requests or []] == [f"support-{FIRST.isoformat()}"]
        # Dequeued, its worker not started (a QUEUED run needs a code location's origin to be made here;
        # the sensor treats both alike).
        waiting = instance.create_run_for_job(customer_service_job, status=dg.DagsterRunStatus.NOT_STARTED)
        inbox.newest = FIRST + timedelta(minutes=1)
        skipped = tick(instance, inbox, first.cursor)
        assert not skipped.run_requests and waiting.run_id in (skipped.skip_message or "")
        assert skipped.cursor == first.cursor, "the message the waiting run reads is not marked seen"
        instance.report_run_canceled(waiting)  # it never ran: the message is asked for now
        asked = tick(instance, inbox, first.cursor)
        assert [r.run_key for r in asked.run_requests or []] == [f"support-{inbox.newest.isoformat()}"]


def test_a_started_run_does_not_hold_back_a_newer_message() -> None:
    inbox = Inbox()
    with dg.instance_for_test() as instance:
        first = tick(instance, inbox, None)
        instance.create_run_for_job(customer_service_job, status=dg.DagsterRunStatus.STARTED)
        inbox.newest = FIRST + timedelta(minutes=1)
        asked = tick(instance, inbox, first.cursor)  # it may have read the helpdesk before this message
        assert len(asked.run_requests or []) == 1


@dg.asset
def purchase_events() -> None: ...


@dg.asset
def campaign_metrics() -> None: ...


REPORTING = dg.Definitions(
    assets=[purchase_events, campaign_metrics], jobs=[dg.define_asset_job("reporting_job")]
).resolve_job_def("reporting_job")


def test_a_waiting_run_counts_only_if_it_makes_the_asset() -> None:
    events, metrics = dg.AssetKey("purchase_events"), dg.AssetKey("campaign_metrics")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        only_metrics = instance.create_run_for_job(
            REPORTING, status=dg.DagsterRunStatus.NOT_STARTED, asset_selection=frozenset({metrics})
        )
        assert waiting_run_for(context, "reporting_job", events) is None
        assert waiting_run_for(context, "reporting_job", metrics) == only_metrics.run_id
        instance.report_run_canceled(only_metrics)
        whole = instance.create_run_for_job(REPORTING, status=dg.DagsterRunStatus.NOT_STARTED)
        assert waiting_run_for(context, "reporting_job", events) == whole.run_id
