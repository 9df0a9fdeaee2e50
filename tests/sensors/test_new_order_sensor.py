"""The new-order sensor asks for a run when an order's cancellation buffer ends, on the store's clock: an
order the buffer held back in a quiet store goes out one tick after its buffer, not at the next schedule."""

import json

import dagster as dg
import pytest

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.rules.fulfillment import supplier_order_number
from dropship_pipelines.sensors.fulfillment import NEW_ORDER_ASSETS, new_store_orders
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_server import RunningSandbox
from tests.fulfillment.helpers import created_at_supplier, place, run_fulfillment
from tests.sensors.helpers import tick_new_orders


def _tick(cursor: str | None) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
    with dg.build_sensor_context(cursor=cursor, resources=build_resources()) as context:
        result = new_store_orders(context)
        return result, context.cursor


def test_a_run_is_asked_once_when_the_buffer_of_a_waiting_order_ends(
    sandbox: RunningSandbox, store_url: str, pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "60")
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    _, cursor = _tick(None)  # the store's orders so far (none): the cursor starts here
    orders = [o for o in place(sandbox, 3) if o["defect"] is None][:1]
    assert orders, "the sandbox gave every order a defect"
    number = supplier_order_number(orders[0]["name"])

    # The store is asked again (no receiver here, so no webhook): as every NEW_ORDER_POLL_SECONDS.
    asked, cursor = _tick(json.dumps({**json.loads(cursor or "{}"), "polled_at": 0.0}))
    assert isinstance(asked, dg.RunRequest) and asked.tags["dropship/trigger"] == "new-order"
    assert asked.asset_selection == NEW_ORDER_ASSETS
    assert run_fulfillment().success
    assert number not in created_at_supplier(sandbox)  # kept back: its hour has not passed

    waiting, cursor = _tick(cursor)
    assert isinstance(waiting, dg.SkipReason), "asked again while the buffer still runs"
    assert "cancellation buffer" in (waiting.skip_message or "")

    sandbox.control("POST", "/clock", {"advance_seconds": 61 * 60})  # the store's hour has passed
    due, cursor = _tick(cursor)
    assert isinstance(due, dg.RunRequest) and due.tags["dropship/trigger"] == "buffer-ended"
    assert due.run_key != asked.run_key
    assert run_fulfillment().success
    assert created_at_supplier(sandbox).get(number) == 1

    again, cursor = _tick(cursor)
    assert isinstance(again, dg.SkipReason), "the ended buffer asked for a second run"


def test_no_second_run_is_asked_while_one_waits_in_the_queue(
    sandbox: RunningSandbox, store_url: str, pipeline_env: dict[str, str]
) -> None:
    # A loaded demo queued a hundred fulfillment runs, one per tick, none started: the run that waits
    # reads the store's orders when it starts, so it places the new ones too.
    from dropship_pipelines.assets.fulfillment.defs import fulfillment_defs

    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    defs = dg.Definitions.merge(fulfillment_defs, dg.Definitions(resources=build_resources()))
    job = defs.resolve_job_def("order_fulfillment_job")
    with dg.instance_for_test() as instance:

        def tick(cursor: str | None) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
            return tick_new_orders(instance, cursor)

        _, cursor = tick(None)
        place(sandbox, 2)
        polled = json.dumps({**json.loads(cursor or "{}"), "polled_at": 0.0})
        # Dequeued, its worker not started (a QUEUED run needs a code location's origin to be made here).
        waiting = instance.create_run_for_job(
            job, asset_selection=frozenset(NEW_ORDER_ASSETS), status=dg.DagsterRunStatus.NOT_STARTED
        )
        skipped, cursor = tick(polled)
        assert isinstance(skipped, dg.SkipReason) and waiting.run_id in (skipped.skip_message or "")
        instance.report_run_canceled(waiting)
        asked, _ = tick(json.dumps({**json.loads(cursor or "{}"), "polled_at": 0.0}))
        assert isinstance(asked, dg.RunRequest), "the orders the waiting run was to place were forgotten"
        assert asked.tags["dropship/trigger"] == "new-order"
