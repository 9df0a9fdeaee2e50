"""The soak's order-gate invariant, from the sandbox's ground truth: 0 high-risk or invalid-address orders
sent to the supplier without a release, and no supplier order made while its store order was on hold.

The sandbox counts, per store order GID, the orders it made risky or with an invalid address
(`risky_orders_placed`, `invalid_address_orders_placed`), the holds and releases the store received, and,
as the supplier creates an order, whether its store order was flagged and never released
(`flagged_orders_sent_unreleased`) or on hold (`supplier_orders_while_held`): dropship_sandbox/order_risk.py.
Either of the last two is money paid for an order the gate should have stopped."""

from typing import Any, Protocol

UNSAFE = {
    "flagged_orders_sent_unreleased": "high-risk or invalid-address order sent to the supplier unreleased",
    "supplier_orders_while_held": "a supplier order created while its store order was on hold",
}


class Finding(Protocol):
    def __call__(self, area: str, kind: str, key: str, detail: str) -> Any: ...


def audit_gate(audit: dict[str, dict[str, int]], finding: Finding) -> tuple[dict[str, Any], list[Any]]:
    """The gate's figures for the report, and a failing finding for every unsafe supplier order."""
    count = {kind: len(audit.get(kind, {})) for kind in (
        "risky_orders_placed", "invalid_address_orders_placed", "fulfillment_holds_created",
        "fulfillment_holds_released", *UNSAFE)}  # fmt: skip
    findings = [
        finding("order gate", "unsafe", order_gid, detail)
        for kind, detail in UNSAFE.items()
        for order_gid in sorted(audit.get(kind, {}))
    ]
    doubled = sorted(k for k, n in audit.get("fulfillment_holds_created", {}).items() if n > 1)
    findings += [finding("order gate", "duplicated", k, "held more than once") for k in doubled]
    return count, findings
