"""Guards of tracking that holds: stalled parcels are flagged for a person, a lost parcel is always handed
to the supplier-failure path (refund and dispute), and a changed tracking number reaches the store."""

import dagster as dg

from dropship_pipelines.assets.fulfillment.assets import shipment_tracking
from dropship_pipelines.assets.fulfillment.checks import _none_found
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import tracking_queries as q

PARCEL_COLUMNS = ("order_name", "order_id", "track_number", "stall", "carrier_status", "stalled_since")


@dg.asset_check(
    asset=shipment_tracking,
    description="Parcels stalled: no tracking N days after the supplier order, or no carrier scan N days "
    "after shipping (TrackingConfig). Support answers 'where is my order' for these from the same flag.",
)
def no_stalled_parcels(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        stalled = [r for r in q.stalled_parcels(conn) if r["stall"] != "lost"]
    return _none_found(
        stalled,
        count_key="stalled",
        rows_key="parcels",
        columns=PARCEL_COLUMNS,
        severity=dg.AssetCheckSeverity.WARN,
    )


@dg.asset_check(
    asset=shipment_tracking,
    description="Every lost parcel (no scan for the lost threshold, or the carrier says lost / returned) "
    "was handed to the supplier-failure path once (the customer refunded, the supplier disputed).",
)
def lost_parcels_reported(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        waiting = q.lost_unreported(conn)
    return _none_found(
        waiting, count_key="lost_unreported", rows_key="parcels", columns=(*PARCEL_COLUMNS, "failure_outcome")
    )


@dg.asset_check(
    asset=shipment_tracking,
    description="Every tracking number the supplier changed is on the store (fulfillmentTrackingInfoUpdate).",
)
def changed_tracking_numbers_posted(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        open_updates = q.tracking_updates_open(conn)
    return _none_found(
        open_updates,
        count_key="not_posted",
        rows_key="updates",
        columns=("order_id", "old_number", "new_number", "state", "attempts", "last_error"),
        severity=dg.AssetCheckSeverity.WARN,
    )
