"""Shared by the fulfillment tests: run the job in process, read the sandbox's ground truth."""

import dagster as dg

from dropship_pipelines.assets.fulfillment_defs import fulfillment_defs
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


def sendable_numbers(orders: list[dict]) -> set[str]:
    return {"shopify-" + o["name"].lstrip("#") for o in orders if o["defect"] is None}
