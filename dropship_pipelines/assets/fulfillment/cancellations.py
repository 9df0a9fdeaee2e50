"""Cancellations and refunds, both ways: the store's cancellations and refunds read and acted on at the
supplier, the supplier's failures refunded to the customer and disputed (services/order_cancellations.py)."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.assets.fulfillment.assets import GROUP, OWNERS, store_orders, supplier_orders
from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.rules.order_cancellations import FailurePolicy
from dropship_pipelines.services.order_cancellations import CancellationSettings, OrderCancellations


class OrderCancellationsConfig(dg.Config):
    auto_refund_limit: float = 150.0  # a supplier failure refunds the customer up to this; above, a human
    refund_window_days: int = 90  # ... and within this many days of the order
    dispute_fee: float = 15.0  # what the payment provider charges per chargeback (shop currency)
    max_orders: int = 500  # orders read or handled per run and step

    def service(
        self, store_db: StoreDatabase, shopify: ShopifyAdminResource, supplier: Supplier
    ) -> OrderCancellations:
        return OrderCancellations(
            store_db.engine(),
            shopify,
            supplier,
            FailurePolicy(
                auto_refund_limit=Decimal(str(self.auto_refund_limit)),
                refund_window_days=self.refund_window_days,
            ),
            CancellationSettings(dispute_fee=Decimal(str(self.dispute_fee)), max_orders=self.max_orders),
        )


@dg.asset(
    group_name=GROUP, kinds={"python", "shopify", "cj"}, owners=OWNERS, pool="shopify", deps=[store_orders]
)
def store_cancellations(
    context: dg.AssetExecutionContext,
    config: OrderCancellationsConfig,
    shopify: ShopifyAdminResource,
    supplier: dg.ResourceParam[Supplier],
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """The store's cancellations, refunds and chargebacks (webhooks and the orders poll), and what each
    cancellation means at the supplier: never sent, the unpaid order deleted, the paid one cancelled
    through the supplier's dispute path, a shipped one recorded and left alone."""
    service = config.service(store_db, shopify, supplier)
    changes = service.read_store_changes(context.run.run_id, context.log)
    cases = service.handle_store_cancellations(context.run.run_id, context.log)
    return dg.MaterializeResult(
        metadata={
            "webhook_events": changes.webhook_events,
            "orders_read": changes.orders_read,
            "refunds_new": changes.refunds_new,
            "cases_opened": cases.opened,
            "outcomes": dg.MetadataValue.json(cases.outcomes),
            "errors": reasons_table((changes.read_errors + cases.errors)[:20], ("order", "error")),
            "preview": preview_table(cases.rows[:10], ("order", "order_id", "outcome")),
        }
    )


@dg.asset(
    group_name=GROUP, kinds={"python", "cj", "shopify"}, owners=OWNERS, pool="cj", deps=[supplier_orders]
)
def supplier_failures(
    context: dg.AssetExecutionContext,
    config: OrderCancellationsConfig,
    shopify: ShopifyAdminResource,
    supplier: dg.ResourceParam[Supplier],
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Supplier cancellations, out-of-stock holds after ordering and balance refusals: the customer refunded
    per the policy (and told by the store's email), the supplier disputed when it was paid, escalated when a
    human decides. Each once per order and reason."""
    run = config.service(store_db, shopify, supplier).watch_supplier(context.run.run_id, context.log)
    return dg.MaterializeResult(
        metadata={
            "outcomes": dg.MetadataValue.json(run.outcomes),
            "supplier_refunds_new": run.supplier_refunds,
            "errors": reasons_table(run.errors[:20], ("order", "error")),
            "preview": preview_table(run.rows[:10], ("order", "reason", "state")),
        }
    )
