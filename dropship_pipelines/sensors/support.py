"""New customer message -> answer it: a sensor on the helpdesk's newest incoming message."""

from typing import Any

import dagster as dg

from dropship_pipelines.cadence import NEW_MESSAGE_SENSOR_SECONDS
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.resources.support_channel import SupportChannel
from dropship_pipelines.sensors.run_queue import waiting_runs


def build_new_message_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_customer_messages",
        job=job,
        minimum_interval_seconds=NEW_MESSAGE_SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launches customer service when a customer message newer than the last one seen arrives.",
    )
    def new_customer_messages(
        context: dg.SensorEvaluationContext, helpdesk: dg.ResourceParam[SupportChannel]
    ):
        seen = context.cursor or ""
        try:
            newest = helpdesk.newest_received_at()
        except ApiError as error:
            return dg.SkipReason(f"helpdesk not reachable, will look again: {error}")
        if newest is None:
            return dg.SkipReason("the helpdesk has no customer message yet")
        stamp = newest.isoformat()
        if seen and stamp <= seen:
            return dg.SkipReason(f"no customer message newer than {seen}")
        waiting = waiting_runs(context, job.name)
        if waiting:  # it reads the helpdesk when it starts: the new message is its; the cursor stays
            return dg.SkipReason(f"a new message; run {waiting[0].run_id}, queued, will read it")
        context.update_cursor(stamp)
        return dg.RunRequest(run_key=f"support-{stamp}", tags={"dropship/trigger": "new_message"})

    return new_customer_messages
