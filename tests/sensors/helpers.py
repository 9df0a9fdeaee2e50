"""What the new-order sensor tests share."""

import dagster as dg

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.sensors.fulfillment import new_store_orders


def tick_new_orders(
    instance: dg.DagsterInstance, cursor: str | None
) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
    """One evaluation of `new_store_orders` from `cursor`, as the daemon makes it: answer, new cursor."""
    with dg.build_sensor_context(cursor=cursor, resources=build_resources(), instance=instance) as context:
        return new_store_orders(context), context.cursor
