"""What happens to orders after checkout, both ways: customers cancel within hours, the staff refunds,
cardholders charge back; the supplier cancels a paid order or runs out of stock after it was ordered.

Each order draws its fate once, when it is placed (store side) or paid at the supplier (supplier side),
from an RNG seeded by the order, at the world's rates (`WorldSettings.customer_cancel_rate`, ...; all 0
by default, `REALISTIC_RATES` for a store's usual share). The events wait in one due index and happen
as the clock passes them (`AftermathSimulator`), or at once through the control API (tests). Every event
is counted at the source in the audit (`customer_cancellations`, `store_refunds`, `chargebacks`,
`supplier_cancellations`, `supplier_stockouts`, `cj_disputes_created`, ...), and `ground_truth` derives
what the soak checks: supplier orders paid after the store's cancellation, disputes opened twice.

Store events change the Shopify order as the Admin API would (cancelledAt, refunds, `disputes`, a new
updatedAt) and emit the webhooks Shopify sends (`orders/cancelled`, `refunds/create`, `disputes/create`).
"""

import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dropship_sandbox.world import World

DUE = "aftermath:due"  # event key -> ISO time it happens
# A store's usual shares (for demos and the soak): about 3 % of orders cancelled within hours, 4 %
# refunded in part or whole later, 0.5 % charged back; CJ cancels 1.5 % of paid orders and runs out of
# stock on 1 % after ordering.
REALISTIC_RATES = {
    "customer_cancel_rate": 0.03,
    "store_refund_rate": 0.04,
    "chargeback_rate": 0.005,
    "supplier_cancel_rate": 0.015,
    "supplier_stockout_rate": 0.01,
}
CHARGEBACK_REASONS = ("FRAUDULENT", "PRODUCT_NOT_RECEIVED", "PRODUCT_UNACCEPTABLE", "UNRECOGNIZED")
STOCKOUT_CODE = (
    1003  # CJ's interception code for an inventory shortfall (unconfirmed: CJ lists codes per case)
)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def _due(world: World) -> dict[str, str]:
    return json.loads(world.state.meta(DUE, "{}") or "{}")


def _schedule(world: World, key: str, at: datetime) -> None:
    due = _due(world)
    due[key] = iso(at)
    world.state.set_meta(DUE, json.dumps(due))


def _gid(kind: str, number: Any) -> str:
    return f"gid://shopify/{kind}/{number}"


# --- drawing the fates --------------------------------------------------------------------------------
def draw_store_fate(world: World, doc: dict[str, Any]) -> None:
    """At checkout: whether (and when) the customer cancels, the staff refunds, the cardholder disputes."""
    settings = world.settings
    rng = world.rng("aftermath_store", doc["id"])
    placed = datetime.fromisoformat(doc["createdAt"].replace("Z", "+00:00"))
    if rng.random() < settings.customer_cancel_rate:
        _schedule(world, f"cancel:{doc['id']}", placed + timedelta(hours=rng.uniform(0.1, 6)))
    if rng.random() < settings.store_refund_rate:
        _schedule(world, f"refund:{doc['id']}", placed + timedelta(days=rng.uniform(3, 20)))
    if rng.random() < settings.chargeback_rate:
        _schedule(world, f"chargeback:{doc['id']}", placed + timedelta(days=rng.uniform(10, 40)))


def on_supplier_paid(world: World, order: dict[str, Any]) -> None:
    """A CJ order was paid from the wallet: the moment is kept (ground truth) and its fate drawn."""
    order["_sim"]["paid_real_at"] = time.time()
    order["_sim"]["paid_sim_at"] = iso(world.now())
    world.state.put("cj_order", order["orderId"], order)
    settings = world.settings
    rng = world.rng("aftermath_supplier", order["orderNum"])
    paid = datetime.fromisoformat(order["_sim"]["paid_at"]) if order["_sim"].get("paid_at") else world.now()
    shipped = datetime.fromisoformat(order["_sim"]["shipped_at"]) if order["_sim"].get("shipped_at") else None
    window = (shipped - paid) if shipped else timedelta(days=1)
    roll = rng.random()
    if roll < settings.supplier_cancel_rate:
        _schedule(world, f"supplier_cancel:{order['orderId']}", paid + window * rng.uniform(0.2, 0.9))
    elif roll < settings.supplier_cancel_rate + settings.supplier_stockout_rate:
        _schedule(world, f"stockout:{order['orderId']}", paid + window * rng.uniform(0.1, 0.9))


# --- the events ---------------------------------------------------------------------------------------
def _webhook(world: World, topic: str, payload: dict[str, Any]) -> None:
    from dropship_sandbox.webhooks import queue_webhook  # webhooks imports the API pipeline

    queue_webhook(world, topic, payload)


def cancelled_payload(world: World, doc: dict[str, Any]) -> dict[str, Any]:
    from dropship_sandbox.shop_orders import rest_payload

    return {
        **rest_payload(world, doc),
        "cancelled_at": doc["cancelledAt"],
        "cancel_reason": (doc.get("cancelReason") or "customer").lower(),
        "financial_status": doc["displayFinancialStatus"].lower(),
    }


def refund_payload(doc: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
    """`refunds/create` as Shopify sends it (REST shape, abridged)."""
    return {
        "id": refund["id"],
        "admin_graphql_api_id": _gid("Refund", refund["id"]),
        "order_id": doc["id"],
        "created_at": refund["createdAt"],
        "note": refund.get("note"),
        "restock": False,
        "transactions": [
            {
                "id": refund["id"],
                "order_id": doc["id"],
                "kind": "refund",
                "status": "success",
                "gateway": "shopify_payments",
                "amount": refund["amount"],
                "currency": doc.get("currencyCode", "USD"),
            }
        ],
        "refund_line_items": [],
    }


def store_changed(world: World, doc: dict[str, Any], topic: str, payload: dict[str, Any]) -> None:
    """For the pipelines' own `orderCancel` and `refundCreate` too: the webhook Shopify sends."""
    _webhook(world, topic, payload)


def customer_cancels(world: World, doc: dict[str, Any]) -> bool:
    """The customer cancels (the staff presses Cancel with a refund): refused once it shipped."""
    from dropship_sandbox.apis.shopify.orders import refunded_amount
    from dropship_sandbox.shop_orders import iso as shop_iso

    if doc.get("cancelledAt"):
        return False
    if doc.get("fulfillments"):
        world.state.audit_increment("customer_cancellations_too_late", _gid("Order", doc["id"]))
        return False
    now = shop_iso(world.now())
    left = Decimal(doc["totalPrice"]) - refunded_amount(doc)
    refund = None
    if left > 0:
        refund = _refund(world, doc, left, "customer cancelled")
    doc["cancelledAt"] = now
    doc["cancelReason"] = "CUSTOMER"
    doc["updatedAt"] = now
    doc.setdefault("_sim", {})["cancelled_real_at"] = time.time()
    for fo in doc.get("fulfillmentOrders", []):
        fo["status"], fo["requestStatus"] = "CANCELLED", "CLOSED"
    world.state.put("shopify_order", str(doc["id"]), doc)
    world.state.audit_increment("customer_cancellations", _gid("Order", doc["id"]))
    world.state.audit_increment("orders_cancelled", _gid("Order", doc["id"]))
    _webhook(world, "orders/cancelled", cancelled_payload(world, doc))
    if refund is not None:
        _webhook(world, "refunds/create", refund_payload(doc, refund))
    return True


def _refund(world: World, doc: dict[str, Any], amount: Decimal, note: str) -> dict[str, Any]:
    from dropship_sandbox.apis.shopify.order_changes import _record_refund

    return _record_refund(world, doc, amount, note, emit=False)


def staff_refunds(world: World, doc: dict[str, Any], share: float | None = None) -> dict[str, Any] | None:
    """The staff refunds part of an order from Shopify's admin (a return, a goodwill gesture)."""
    from dropship_sandbox.apis.shopify.orders import refunded_amount

    if doc.get("cancelledAt"):
        return None
    left = Decimal(doc["totalPrice"]) - refunded_amount(doc)
    if share is None:
        share = world.rng("aftermath_refund_share", doc["id"]).uniform(0.3, 1.0)
    amount = min(left, (Decimal(doc["totalPrice"]) * Decimal(str(share))).quantize(Decimal("0.01")))
    if amount <= 0:
        return None
    refund = _refund(world, doc, amount, "staff: returned by the customer")
    world.state.put("shopify_order", str(doc["id"]), doc)
    world.state.audit_increment("store_refunds", _gid("Order", doc["id"]))
    _webhook(world, "refunds/create", refund_payload(doc, refund))
    return refund


def charge_back(world: World, doc: dict[str, Any]) -> dict[str, Any]:
    """The cardholder disputes the charge: a `ShopifyPaymentsDispute` on the order (`Order.disputes`)."""
    from dropship_sandbox.shop_orders import iso as shop_iso

    rng = world.rng("aftermath_chargeback", doc["id"])
    number = world.new_id("dispute", 9_100_000_000)
    now = world.now()
    dispute = {
        "id": number,
        "initiatedAs": "CHARGEBACK",
        "type": "CHARGEBACK",
        "status": "NEEDS_RESPONSE",
        "amount": doc["totalPrice"],
        "currencyCode": doc.get("currencyCode", "USD"),
        "reason": rng.choice(CHARGEBACK_REASONS),
        "initiatedAt": shop_iso(now),
        "evidenceDueBy": shop_iso(now + timedelta(days=7)),
        "finalizedOn": None,
    }
    doc.setdefault("disputes", []).append(dispute)
    doc["updatedAt"] = shop_iso(now)
    world.state.put("shopify_order", str(doc["id"]), doc)
    world.state.put("shopify_dispute", str(number), {"order_id": str(doc["id"])})
    world.state.audit_increment("chargebacks", _gid("Order", doc["id"]))
    _schedule(world, f"chargeback_settle:{doc['id']}:{number}", now + timedelta(days=rng.uniform(20, 60)))
    _webhook(
        world,
        "disputes/create",
        {
            "id": number,
            "admin_graphql_api_id": _gid("ShopifyPaymentsDispute", number),
            "order_id": doc["id"],
            "type": "chargeback",
            "amount": dispute["amount"],
            "currency": dispute["currencyCode"],
            "reason": dispute["reason"].lower(),
            "status": "needs_response",
            "initiated_at": dispute["initiatedAt"],
            "evidence_due_by": dispute["evidenceDueBy"],
        },
    )
    return dispute


def _settle_chargeback(world: World, order_number: str, dispute_number: str) -> None:
    from dropship_sandbox.shop_orders import iso as shop_iso

    doc = world.state.get("shopify_order", order_number)
    if doc is None:
        return
    for dispute in doc.get("disputes", []):
        if str(dispute["id"]) == dispute_number and dispute["status"] == "NEEDS_RESPONSE":
            won = world.rng("aftermath_chargeback_won", dispute_number).random() < 0.3
            dispute["status"] = "WON" if won else "LOST"
            dispute["finalizedOn"] = world.now().date().isoformat()
            doc["updatedAt"] = shop_iso(world.now())
            world.state.put("shopify_order", order_number, doc)
            world.state.audit_increment(
                f"chargebacks_{dispute['status'].lower()}", _gid("Order", order_number)
            )


def supplier_cancels(world: World, order: dict[str, Any]) -> bool:
    """CJ cancels a paid order it will not ship (the supplier withdrew the product, a warehouse problem)."""
    if order["orderStatus"] in ("SHIPPED", "DELIVERED", "CANCELLED"):
        return False
    order["orderStatus"] = "CANCELLED"
    order["_sim"]["supplier_cancelled"] = True
    _stop_timeline(world, order)
    world.state.audit_increment("supplier_cancellations", order["orderNum"])
    return True


def stock_runs_out(world: World, order: dict[str, Any]) -> bool:
    """CJ's stock of a line ran out after the order was paid: it holds the order, reporting why on detail."""
    if order["orderStatus"] in ("SHIPPED", "DELIVERED", "CANCELLED") or order.get("interceptOrderReasons"):
        return False
    sku = next((p.get("vid") for p in order.get("productList", [])), "")
    order["interceptOrderReasons"] = [
        {"code": STOCKOUT_CODE, "message": f"Out of stock: the inventory of variant {sku} ran out"}
    ]
    if order["orderStatus"] in ("CREATED", "UNPAID", "IN_CART") and order["_sim"].get("paid_at"):
        order["orderStatus"] = "UNSHIPPED"  # paid: it stays awaiting shipment, held
    _stop_timeline(world, order)
    world.state.audit_increment("supplier_stockouts", order["orderNum"])
    return True


def _stop_timeline(world: World, order: dict[str, Any]) -> None:
    from dropship_sandbox.apis.cj_orders import _schedule as schedule_cj

    order["_sim"]["shipped_at"] = None
    order["_sim"]["delivered_at"] = None
    world.state.put("cj_order", order["orderId"], order)
    schedule_cj(world, order)


class AftermathSimulator:
    """Runs the due store and supplier events as the clock passes them."""

    name = "order_aftermath"

    def advance(self, world: World, start: datetime, end: datetime) -> None:
        due = _due(world)
        ready = sorted((at, key) for key, at in due.items() if datetime.fromisoformat(at) <= end)
        if not ready:
            return
        for _, key in ready:
            due.pop(key, None)
        world.state.set_meta(DUE, json.dumps(due))
        for _, key in ready:
            kind, _, rest = key.partition(":")
            if kind in ("cancel", "refund", "chargeback"):
                doc = world.state.get("shopify_order", rest)
                if doc is None:
                    continue
                {"cancel": customer_cancels, "refund": staff_refunds, "chargeback": charge_back}[kind](
                    world, doc
                )
            elif kind == "chargeback_settle":
                order_number, _, dispute_number = rest.partition(":")
                _settle_chargeback(world, order_number, dispute_number)
            elif kind in ("supplier_cancel", "stockout"):
                order = world.state.get("cj_order", rest)
                if order is not None:
                    (supplier_cancels if kind == "supplier_cancel" else stock_runs_out)(world, order)
            elif kind == "dispute_settle":
                from dropship_sandbox.apis.cj_disputes import settle

                settle(world, rest)


# --- ground truth -------------------------------------------------------------------------------------
def ground_truth(world: World) -> dict[str, Any]:
    """What the soak audits against the ledger: counts of each event, and the supplier orders paid after
    the store's order was cancelled (wall clock: the pipelines could have known)."""
    cancelled_at: dict[str, float] = {}
    for doc in world.state.all("shopify_order"):
        real = (doc.get("_sim") or {}).get("cancelled_real_at")
        if doc.get("cancelledAt") and real:
            cancelled_at[f"shopify-{doc['number']}"] = float(real)
    paid_after: list[str] = []
    for order in world.state.all("cj_order"):
        paid = order.get("_sim", {}).get("paid_real_at")
        cancelled = cancelled_at.get(order["orderNum"])
        if paid and cancelled and float(paid) > cancelled:
            paid_after.append(order["orderNum"])
    disputes = world.state.audit_counts("cj_disputes_per_order")
    return {
        "customer_cancellations": len(world.state.audit_counts("customer_cancellations")),
        "store_refunds": len(world.state.audit_counts("store_refunds")),
        "chargebacks": len(world.state.audit_counts("chargebacks")),
        "supplier_cancellations": len(world.state.audit_counts("supplier_cancellations")),
        "supplier_stockouts": len(world.state.audit_counts("supplier_stockouts")),
        "supplier_paid_after_store_cancel": sorted(paid_after),
        "cj_disputes_twice": sorted(k for k, n in disputes.items() if n > 1),
        "cancelled_real_at": cancelled_at,
    }
