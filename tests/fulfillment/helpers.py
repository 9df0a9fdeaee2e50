"""Shared by the fulfillment tests: run the job in process, read the sandbox's ground truth (the orders
the rules let through: `dropship_testkit.sandbox_world.sendable_numbers`)."""

import dagster as dg

from dropship_pipelines.assets.fulfillment.defs import fulfillment_defs
from dropship_testkit.pipelines import build_defs
from dropship_testkit.sandbox_server import RunningSandbox


def run_fulfillment() -> dg.ExecuteInProcessResult:
    job = build_defs(fulfillment_defs).resolve_job_def("order_fulfillment_job")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def created_at_supplier(sandbox: RunningSandbox) -> dict[str, int]:
    return sandbox.audit().get("supplier_orders_created", {})


def fulfilled(sandbox: RunningSandbox) -> dict[str, int]:
    return sandbox.audit().get("fulfillments_created", {})


def place(sandbox: RunningSandbox, count: int) -> list[dict]:
    return sandbox.control("POST", "/orders", {"count": count})["orders"]
