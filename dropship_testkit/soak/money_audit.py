"""True profit's money, to the cent, across the sandbox, the ledger and the analytics (issue 13's soak
invariant): the gateway's fees, refunds, chargebacks (with Shopify's dispute fee) and what the supplier
actually charged.

- fees: the sandbox's truth per order (audit `gateway_fees`, "<order GID> <fee>") summed over the orders
  not cancelled = the daily analytics' payment fees (reported by Shopify Payments, PayPal's configured
  rate: the same rate the sandbox charges).
- refunds: what the sandbox's store refunded on the orders not cancelled = the analytics' refunds.
- chargebacks: every dispute on an order not cancelled costs its amount unless WON, and the dispute fee
  = the analytics' chargebacks.
- supplier charges: each CJ order's actual product and postage (re-weighed at dispatch) = the ledger's
  `supplier_costs` row for it; a shipped order the ledger has not polled yet is pending, not a finding.
"""

from decimal import Decimal
from typing import Any

from dropship_pipelines.rules.profit import DISPUTE_FEE

CENT = Decimal("0.01")
SHIPPED = ("SHIPPED", "DELIVERED")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _gid(doc: dict[str, Any]) -> str:
    return f"gid://shopify/Order/{doc['id']}"


def sandbox_money(orders: list[dict[str, Any]], audit: dict[str, dict[str, int]]) -> dict[str, Decimal]:
    counted = [o for o in orders if not o.get("cancelledAt")]
    fees = {key.split(" ")[0]: _money(key.split(" ")[1]) for key in audit.get("gateway_fees", {})}
    chargebacks = Decimal(0)
    for order in counted:
        for dispute in order.get("disputes", []):
            lost = Decimal(0) if dispute.get("status") == "WON" else _money(dispute["amount"])
            chargebacks += lost + DISPUTE_FEE
    return {
        "payment_fees": sum((fees.get(_gid(o), Decimal(0)) for o in counted), Decimal(0)),
        "refunds": sum((_money(r["amount"]) for o in counted for r in o.get("refunds", [])), Decimal(0)),
        "chargebacks": chargebacks,
    }


def analytics_money(daily_profit: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {
        name: sum((_money(d.get(name)) for d in daily_profit), Decimal(0))
        for name in ("payment_fees", "refunds", "chargebacks")
    }


def supplier_charges(cj_orders: list[dict[str, Any]], costs: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Order numbers whose ledger charge differs from CJ's actual one; shipped orders not polled yet."""
    ledger = {row["order_number"]: row for row in costs}
    wrong, pending = [], 0
    for order in cj_orders:
        if order.get("orderStatus") not in SHIPPED:
            continue
        parcel = (order.get("_sim") or {}).get("parcel") or {}
        postage = _money(parcel.get("actual_postage") or order.get("postageAmount"))
        row = ledger.get(order.get("orderNum"))
        if row is None:
            pending += 1
        elif (_money(row["product_amount"]), _money(row["postage_amount"])) != (
            _money(order.get("productAmount")),
            postage,
        ):
            wrong.append(str(order.get("orderNum")))
    return wrong, pending


def audit_true_profit(
    orders: list[dict[str, Any]],
    audit: dict[str, dict[str, int]],
    cj_orders: list[dict[str, Any]],
    daily_profit: list[dict[str, Any]],
    costs: list[dict[str, Any]],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The figures, and the disagreements as (key, detail)."""
    world, ours = sandbox_money(orders, audit), analytics_money(daily_profit)
    figures = {f"sandbox_{k}": str(v) for k, v in world.items()}
    figures.update({f"analytics_{k}": str(v) for k, v in ours.items()})
    wrong_charges, pending = supplier_charges(cj_orders, costs)
    figures["supplier_charges_checked"] = str(len(costs))
    figures["supplier_charges_pending"] = str(pending)
    findings = [(k, f"sandbox {world[k]} / analytics {ours[k]}") for k in world if world[k] != ours[k]]
    if wrong_charges:
        findings.append(("supplier_charges", f"ledger differs from CJ's charge: {wrong_charges[:20]}"))
    return figures, findings
