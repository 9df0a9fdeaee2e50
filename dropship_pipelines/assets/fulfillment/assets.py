"""Order fulfillment assets: store orders -> orders at the supplier -> tracking back to the customer.

The services are imported by the assets that use them: loading the code location (every `dagster job
execute`, whatever its job) defines these assets but need not import the services and what they bring."""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import dagster as dg

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.order_gate_policy import OrderGatePolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.rules.tracking import TrackingPolicy

if TYPE_CHECKING:
    from dropship_pipelines.services import fulfillment

GROUP = "fulfillment"
OWNERS = ["team:store"]


class StoreOrdersConfig(dg.Config):
    # Re-read this much before the cursor: same-second updates, the search index trailing writes by seconds,
    # clock skew. Not more: every order changed in the overlap (our own fulfillments too) is read again on
    # each run, at ~11 Shopify points per order (10 minutes after a 1,000-order burst: ~110 s a run).
    overlap_minutes: int = 2
    # x lineItems(first: 10) and the sale's fees keep a page under Shopify's 1,000-point query cap (952)
    page_size: int = 19


class SupplierOrdersConfig(dg.Config):
    max_orders_per_run: int = 2000
    max_shipping_days: int = 15
    value_of_a_day: float = 0.50  # USD a faster route may cost per worst-case transit day saved
    quote_max_age_hours: int = 24
    pay_with_balance: bool = True  # the supplier pays itself from the account balance and ships

    def routing(self) -> "fulfillment.RoutingSettings":
        from dropship_pipelines.services import fulfillment  # here: see the module docstring

        return fulfillment.RoutingSettings(
            max_shipping_days=self.max_shipping_days,
            value_of_a_day=Decimal(str(self.value_of_a_day)),
            quote_max_age=timedelta(hours=self.quote_max_age_hours),
            pay_from_balance=self.pay_with_balance,
        )


class TrackingConfig(dg.Config):
    batch_size: int = 100  # supplier orders per status poll
    max_attempts: int = 5  # fulfillment posts refused this often wait for a human
    notify_at: str = "first_scan"  # "first_scan": email at the carrier's first scan; "label": at once
    no_tracking_days: int = 7  # stalled: no tracking this long after the supplier order
    no_scan_days: int = 7  # stalled: no carrier scan this long after shipping (or the last scan)
    lost_after_days: int = 30  # lost: no scan this long (or the carrier says lost / returned)

    def policy(self) -> TrackingPolicy:
        return TrackingPolicy(
            notify_at=self.notify_at,  # type: ignore[arg-type]  (checked by TrackingPolicy)
            no_tracking_days=self.no_tracking_days,
            no_scan_days=self.no_scan_days,
            lost_after_days=self.lost_after_days,
        )


class OrdersConfig(StoreOrdersConfig, SupplierOrdersConfig):
    """Both steps' settings: the two assets are materialized by one step, side by side."""


STORE_ORDERS_DOC = """Every order placed on the Shopify store, read incrementally by last change.

The cursor is the newest `updatedAt` seen; each run re-reads an overlap before it, so orders that
share a second with the cursor or land on a page boundary are never skipped (re-reads are upserts)."""

SUPPLIER_ORDERS_DOC = """Each sendable store order placed once at the supplier (CJ), paid from the balance,
on the best route.

The ledger row is written before the supplier is called and a pending row is resolved by asking the
supplier first (`services.fulfillment.place_supplier_orders`), so no order ever reaches the supplier
twice. Orders that cannot be sent are held with a reason. Before any supplier order is paid, the order
passes the gate (`services.order_gate`): its cancellation buffer, fraud risk, address, stock and landed
cost; a failure is a Shopify fulfillment hold with its reason, released or cancelled on the dashboard."""

store_orders = dg.AssetKey("store_orders")
supplier_orders = dg.AssetKey("supplier_orders")


@dg.multi_asset(
    name="store_and_supplier_orders",
    specs=[
        dg.AssetSpec(
            store_orders,
            group_name=GROUP,
            kinds={"python", "shopify"},
            owners=OWNERS,
            description=STORE_ORDERS_DOC,
        ),
        dg.AssetSpec(
            supplier_orders,
            group_name=GROUP,
            kinds={"python", "cj"},
            owners=OWNERS,
            deps=[store_orders],
            description=SUPPLIER_ORDERS_DOC,
        ),
    ],
    can_subset=True,
    pool="cj",
)
def store_and_supplier_orders(
    context: dg.AssetExecutionContext,
    config: OrdersConfig,
    supplier: dg.ResourceParam[Supplier],
    shopify: ShopifyAdminResource,
    order_gate: OrderGatePolicy,
    store_db: StoreDatabase,
) -> Iterator[dg.MaterializeResult]:
    """Store orders and supplier orders in one step, so they overlap (issue 16): each page of store orders
    goes to the supplier as soon as it is saved while the next is read (the read is bound by Shopify's
    cost bucket, the supplier orders by CJ's QPS). Either asset alone runs as before."""
    from dropship_pipelines.services import fulfillment  # here: see the module docstring
    from dropship_pipelines.services.order_gate import OrderGate

    selected = context.selected_asset_keys
    engine = store_db.engine()
    overlap = timedelta(minutes=config.overlap_minutes)
    if supplier_orders not in selected:
        yield _store_orders_result(
            context, fulfillment.read_store_orders(shopify, engine, overlap, config.page_size)
        )
        return
    gate = OrderGate(
        engine,
        shopify,
        supplier,  # type: ignore[arg-type]  # the CJ client reads stock and prices too
        order_gate.policy(),
        run_id=context.run.run_id,
    )
    if store_orders in selected:
        read, run = fulfillment.read_and_place_orders(
            shopify,
            supplier,
            engine,
            overlap=overlap,
            page_size=config.page_size,
            settings=config.routing(),
            max_orders=config.max_orders_per_run,
            log=context.log,
            gate=gate,
        )
        yield _store_orders_result(context, read)
    else:
        run = fulfillment.place_supplier_orders(
            supplier, engine, config.routing(), config.max_orders_per_run, context.log, gate
        )
    yield dg.MaterializeResult(
        asset_key=supplier_orders,
        metadata={
            "candidates": run.candidates,
            "sent": len(run.sent),
            "recovered": run.recovered,
            "held": len(run.held),
            "failed_will_retry": len(run.failed),
            "held_orders": reasons_table(run.held[:20], ("order", "reason")),
            "gate_checked": gate.stats.checked,
            "gate_waiting_buffer": gate.stats.waiting,
            "gate_held": len(gate.stats.held),
            "gate_released_passed": gate.stats.released_passed,
            "gate_ms_per_order": round(1000 * gate.stats.seconds / max(gate.stats.checked, 1), 2),
            "failures": reasons_table(run.failed[:20], ("order", "error")),
            "preview": preview_table(
                run.sent[:10], ("order_number", "supplier_order_id", "route", "cost", "customer_paid")
            ),
        },
    )


def _store_orders_result(
    context: dg.AssetExecutionContext, result: "fulfillment.OrdersRead"
) -> dg.MaterializeResult:
    for order in result.new[:50]:
        context.log.info("order %s (%s): new, from %s", order["name"], order["order_id"], order["source"])
    return dg.MaterializeResult(
        asset_key=store_orders,
        metadata={
            "read": result.read,
            "new": len(result.new),
            "unmapped_lines": result.unmapped_lines,
            "cursor": result.cursor_text,
            "by_state": dg.MetadataValue.json(result.by_state),
            "new_orders": preview_table(
                [{**o, "total": o["total_price"]} for o in result.new[:10]],
                ("name", "order_id", "placed_at", "total", "country_code", "source"),
            ),
        },
    )


@dg.asset(
    group_name=GROUP, kinds={"python", "cj", "shopify"}, owners=OWNERS, pool="shopify", deps=[supplier_orders]
)
def shipment_tracking(
    context: dg.AssetExecutionContext,
    config: TrackingConfig,
    supplier: dg.ResourceParam[Supplier],
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Tracking from the supplier and the carrier: each fulfillment posted once with Shopify's carrier
    name, the customer emailed at the first carrier scan, a changed tracking number re-posted once, and
    stalled or lost parcels flagged (services/tracking.py).

    The ledger row is written first and the store's own fulfillment orders are read before posting, so a
    run killed after Shopify accepted never fulfils (or emails) twice."""
    from dropship_pipelines.services import tracking  # here: see the module docstring

    run = tracking.sync_tracking(
        supplier,
        shopify,
        store_db.engine(),
        policy=config.policy(),
        batch_size=config.batch_size,
        max_attempts=config.max_attempts,
        log=context.log,
        run_id=context.run.run_id,
    )
    return dg.MaterializeResult(
        metadata={
            "awaiting_shipment": run.open,
            "supplier_status": dg.MetadataValue.json(run.supplier_status),
            "fulfilled": run.outcomes["posted"],
            "already_fulfilled": run.outcomes["found"],
            "failed": run.outcomes["failed"],
            "waiting_first_scan": run.outcomes["waiting_scan"],
            "tracking_numbers_changed": len(run.updated),
            "stalls": dg.MetadataValue.json(run.stalls),
            "lost_reported": len(run.lost_reported),
            "poll_errors": run.poll_errors,
            "preview": preview_table(run.shipped[:10], ("order_id", "track_number", "outcome")),
        }
    )
