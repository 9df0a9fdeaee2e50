"""Guards of the fulfillment workflow: money goes to the supplier once, customers get real tracking."""

from typing import Any

import dagster as dg

from dropship_pipelines.assets.fulfillment.assets import shipment_tracking, supplier_orders
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import fulfillment_queries as q
from dropship_pipelines.store import order_gate_queries as gate_q


def _none_found(
    found: list[dict[str, Any]],
    *,
    count_key: str,
    rows_key: str,
    columns: tuple[str, ...],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """Passes when the query found no row; the count and the first 25 rows are shown either way."""
    return dg.AssetCheckResult(
        passed=not found,
        severity=severity,
        metadata={count_key: len(found), rows_key: preview_table(found[:25], columns)},
    )


@dg.asset_check(
    asset=supplier_orders,
    description="Orders that cannot go to the supplier as they are (address, country, unmapped variant, "
    "refused by the supplier) — each needs a person; the rest of the batch went through.",
)
def no_orders_held(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        held = q.held_orders(conn)
    return _none_found(
        held,
        count_key="held",
        rows_key="orders",
        columns=("name", "order_id", "problem", "placed_at"),
        severity=dg.AssetCheckSeverity.WARN,
    )


@dg.asset_check(
    asset=supplier_orders,
    blocking=True,
    description="No supplier order for an order the gate holds (fraud risk, address, stock, landed cost) "
    "and nobody released: the supplier is paid only for orders that passed the gate.",
)
def no_supplier_order_while_held(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        paid = gate_q.paid_while_held(conn)
    return _none_found(
        paid, count_key="paid_while_held", rows_key="orders", columns=("order_name", "reason", "order_number")
    )


@dg.asset_check(
    asset=supplier_orders,
    blocking=True,
    description="Every order marked sent has exactly one supplier order, created there with its order id.",
)
def sent_orders_are_at_supplier(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        broken = q.sent_without_supplier_id(conn)
    return _none_found(
        broken,
        count_key="broken",
        rows_key="orders",
        columns=("name", "order_id", "state", "supplier_order_id"),
    )


@dg.asset_check(
    asset=shipment_tracking,
    blocking=True,
    description="Every fulfillment posted to the store carries a tracking number and notified the customer.",
)
def fulfillments_carry_tracking(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        broken = q.posted_without_tracking(conn)
    return _none_found(
        broken,
        count_key="broken",
        rows_key="fulfillments",
        columns=("order_id", "fulfillment_id", "track_number"),
    )
