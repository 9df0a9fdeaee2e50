"""The new-order runs go in two lanes (each one run at a time in the run queue): the next run takes the lane
no run holds, so its worker starts while the run ahead places its orders; with both held, the lane whose
run is the oldest (it frees first). Each asks to be dequeued ahead of the other workflows' runs."""

import json

import dagster as dg

from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.sensors.fulfillment import (
    FULFILLMENT_JOB,
    NEW_ORDER_LANES,
    NEW_ORDER_PRIORITY,
    PRIORITY_TAG,
    order_lane,
)
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_server import RunningSandbox
from tests.fulfillment.helpers import place
from tests.sensors.helpers import tick_new_orders


@dg.op
def _place_orders() -> None:
    """Stands in for the workflow's steps: only the runs' job name, status and tags matter to the lanes."""


@dg.job(name=FULFILLMENT_JOB, tags={WORKFLOW_TAG: "fulfillment"})
def order_fulfillment_job() -> None:
    _place_orders()


def _lane(instance: dg.DagsterInstance) -> str:
    with dg.build_sensor_context(instance=instance) as context:
        return order_lane(context)


def _run(instance: dg.DagsterInstance, lane: str | None, status: dg.DagsterRunStatus) -> dg.DagsterRun:
    tags = {WORKFLOW_TAG: lane} if lane else {}
    return instance.create_run_for_job(order_fulfillment_job, tags=tags, status=status)


def test_the_next_run_takes_the_lane_no_run_holds() -> None:
    first, second = NEW_ORDER_LANES
    with dg.instance_for_test() as instance:
        assert _lane(instance) == first
        _run(instance, None, dg.DagsterRunStatus.STARTED)  # the schedule's run of the whole job: no lane
        assert _lane(instance) == first
        ahead = _run(instance, first, dg.DagsterRunStatus.STARTED)
        assert _lane(instance) == second, "queued behind the run that is placing orders"
        instance.report_run_canceled(ahead)  # ended: its lane is free again
        assert _lane(instance) == first


def test_with_both_lanes_held_the_oldest_runs_lane() -> None:
    first, second = NEW_ORDER_LANES
    with dg.instance_for_test() as instance:
        _run(instance, second, dg.DagsterRunStatus.STARTED)  # the older
        _run(instance, first, dg.DagsterRunStatus.STARTING)
        assert _lane(instance) == second


def test_a_context_without_an_instance_takes_the_first_lane() -> None:
    with dg.build_sensor_context() as context:
        assert order_lane(context) == NEW_ORDER_LANES[0]


def test_the_lanes_are_workflow_values_of_their_own_and_ask_for_priority() -> None:
    assert len(set(NEW_ORDER_LANES)) == len(NEW_ORDER_LANES) == 2
    assert "fulfillment" not in NEW_ORDER_LANES  # the schedule's runs keep their own one-at-a-time value
    assert int(str(NEW_ORDER_PRIORITY)) > 0 and PRIORITY_TAG == "dagster/priority"


def test_the_sensors_run_request_names_its_lane_and_priority(
    sandbox: RunningSandbox, store_url: str, pipeline_env: dict[str, str]
) -> None:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    with dg.instance_for_test() as instance:

        def tick(cursor: str | None) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
            return tick_new_orders(instance, cursor)

        _, cursor = tick(None)
        place(sandbox, 1)
        _run(instance, NEW_ORDER_LANES[0], dg.DagsterRunStatus.STARTED)  # placing the orders before
        asked, _ = tick(json.dumps({**json.loads(cursor or "{}"), "polled_at": 0.0}))
        assert isinstance(asked, dg.RunRequest)
        assert asked.tags[WORKFLOW_TAG] == NEW_ORDER_LANES[1]
        assert asked.tags[PRIORITY_TAG] == str(NEW_ORDER_PRIORITY)
