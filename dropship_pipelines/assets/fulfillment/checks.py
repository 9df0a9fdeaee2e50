"""Guards of the fulfillment workflow: money goes to the supplier once, customers get real tracking."""

import dagster as dg

from dropship_pipelines.assets.fulfillment.assets import shipment_tracking, supplier_orders
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import fulfillment_queries as q


@dg.asset_check(
    asset=supplier_orders,
    description="Orders that cannot go to the supplier as they are (address, country, unmapped variant, "
    "refused by the supplier) — each needs a person; the rest of the batch went through.",
)
def no_orders_held(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        held = q.held_orders(conn)
    return dg.AssetCheckResult(
        passed=not held,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "held": len(held),
            "orders": preview_table(held[:25], ("name", "order_id", "problem", "placed_at")),
        },
    )


@dg.asset_check(
    asset=supplier_orders,
    blocking=True,
    description="Every order marked sent has exactly one supplier order, created there with its order id.",
)
def sent_orders_are_at_supplier(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        broken = q.sent_without_supplier_id(conn)
    return dg.AssetCheckResult(
        passed=not broken,
        metadata={
            "broken": len(broken),
            "orders": preview_table(broken[:25], ("name", "order_id", "state", "supplier_order_id")),
        },
    )


@dg.asset_check(
    asset=shipment_tracking,
    blocking=True,
    description="Every fulfillment posted to the store carries a tracking number and notified the customer.",
)
def fulfillments_carry_tracking(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        broken = q.posted_without_tracking(conn)
    return dg.AssetCheckResult(
        passed=not broken,
        metadata={
            "broken": len(broken),
            "fulfillments": preview_table(broken[:25], ("order_id", "fulfillment_id", "track_number")),
        },
    )
