"""The soak's cancellation and refund invariants, the world against the ledger:

- 0 supplier orders paid after the store's cancellation was known: a CJ order paid (wall clock, the
  sandbox's `paid_real_at`) after the ledger first knew its store order was cancelled (`order_cases`'
  `known_at`) is money sent for an order no one will receive;
- every supplier failure (CJ cancelled it, ran out of stock after it was ordered, the parcel was lost)
  either refunded or escalated: the ledger has a supplier case for it, closed 'done' with the refund made or
  'escalated' for a human. A failure whose order the store had cancelled already is the store case's.
- no CJ dispute opened twice for one order and reason.

The sandbox's ground truth counts go in the report beside the ledger's."""

from collections import Counter
from datetime import UTC
from typing import Any, Protocol

FAILURE_KINDS = {  # the sandbox's audit kind (keyed by CJ orderNumber) -> the ledger's failure reason
    "supplier_cancellations": "supplier_cancelled",
    "supplier_stockouts": "out_of_stock",
}
# An order CJ held for stock and then cancelled did one thing: it did not ship. Either reason's case (one
# refund, one dispute) is its handling; a second case would be the double refund or dispute.
NOT_SHIPPING = ("supplier_cancelled", "out_of_stock")
LOST_PARCELS = "parcels_lost"  # keyed by CJ order number (dropship_sandbox/parcels.py)


class Finding(Protocol):
    def __call__(self, area: str, kind: str, key: str, detail: str) -> Any: ...


def parcel_left(cj_order: dict[str, Any]) -> bool:
    """The supplier shipped it (a lost parcel is never delivered: it stays SHIPPED)."""
    held = bool(cj_order.get("interceptOrderReasons"))
    return cj_order.get("orderStatus") in ("SHIPPED", "DELIVERED") and not held


def _timestamp(moment: Any) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def audit_cancellations(
    world_orders: list[dict[str, Any]],
    cj_orders: list[dict[str, Any]],
    counts: dict[str, dict[str, int]],
    ledger_orders: list[dict[str, Any]],
    supplier_orders: list[dict[str, Any]],
    cases: list[dict[str, Any]],
    finding: Finding,
) -> tuple[dict[str, Any], list[Any]]:
    """(the report's `cancellations` section, the findings)."""
    findings: list[Any] = []
    store_cases = {c["order_id"]: c for c in cases if c["side"] == "store"}
    supplier_cases = {(c["order_id"], c["reason"]): c for c in cases if c["side"] == "supplier"}
    by_number = {s["order_number"]: s for s in supplier_orders}
    cancelled_in_store = {f"gid://shopify/Order/{o['id']}" for o in world_orders if o.get("cancelledAt")}
    tally: Counter[str] = Counter()

    for order in cj_orders:
        paid = (order.get("_sim") or {}).get("paid_real_at")
        row = by_number.get(order.get("orderNum"))
        case = store_cases.get(row["order_id"]) if row else None
        known = _timestamp(case["known_at"]) if case else None
        if paid and known is not None and float(paid) > known:
            tally["paid_after_cancel_known"] += 1
            findings.append(
                finding(
                    "cancellations",
                    "money",
                    order["orderNum"],
                    "paid at the supplier after the ledger knew the store had cancelled it",
                )
            )

    failures: list[tuple[str, str]] = []
    for kind, reason in FAILURE_KINDS.items():
        failures += [(number, reason) for number in counts.get(kind, {})]
    # The sandbox counts a lost parcel by its CJ order number (dropship_sandbox/parcels.py); an older world
    # counted it by tracking number.
    # A parcel's fate is drawn when CJ is paid: one "lost" whose order CJ then cancelled or held for stock
    # never left, so it is that failure's, not a lost parcel.
    numbers = {o["orderNum"]: o for o in cj_orders}
    by_track = {o.get("_sim", {}).get("track_number"): o["orderNum"] for o in cj_orders}
    for key in counts.get(LOST_PARCELS, {}):
        number = key if key in numbers else by_track.get(key)
        if number is not None and parcel_left(numbers[number]):
            failures.append((number, "lost_parcel"))
    judged: set[tuple[str, str]] = set()
    for number, reason in failures:
        tally[f"supplier_{reason}"] += 1
        row = by_number.get(number)
        if row is None:
            continue  # never in the ledger: the orders audit reports it
        same = NOT_SHIPPING if reason in NOT_SHIPPING else (reason,)
        if (number, same[0]) in judged:
            continue  # held for stock and cancelled: one failure, judged once
        judged.add((number, same[0]))
        case = next(
            (supplier_cases[(row["order_id"], r)] for r in same if (row["order_id"], r) in supplier_cases),
            None,
        )
        if row["order_id"] in cancelled_in_store and case is None:
            tally["failure_of_a_cancelled_order"] += 1
            continue
        refunded = bool(case and (case.get("detail") or {}).get("refunded"))
        if case is not None and case["state"] == "escalated":
            tally["failures_escalated"] += 1
        elif (
            case is not None
            and case["state"] == "done"
            and (refunded or row["order_id"] in cancelled_in_store)
        ):
            tally["failures_refunded"] += 1
        else:
            tally["failures_unhandled"] += 1
            state = case["state"] if case else "no case"
            findings.append(
                finding(
                    "cancellations",
                    "lost",
                    number,
                    f"supplier failure {reason} neither refunded nor escalated ({state})",
                )
            )

    reasons_by_order: dict[str, set[str]] = {}
    for order_id, reason in supplier_cases:
        reasons_by_order.setdefault(order_id, set()).add(reason)
    for order_id, reasons in sorted(reasons_by_order.items()):
        if set(NOT_SHIPPING) <= reasons:
            findings.append(
                finding("cancellations", "duplicated", order_id, "two cases for one order that did not ship")
            )
    for key, count in counts.get("cj_disputes_per_order", {}).items():
        if count > 1:
            findings.append(finding("cancellations", "duplicated", key, f"{count} CJ disputes"))
    report = {
        "store_cancelled": len(cancelled_in_store),
        "customer_cancellations": len(counts.get("customer_cancellations", {})),
        "store_refunds": len(counts.get("store_refunds", {})),
        "chargebacks": len(counts.get("chargebacks", {})),
        "cj_disputes": len(counts.get("cj_disputes_created", {})),
        "ledger_cases": dict(Counter(f"{c['side']}:{c['state']}" for c in cases)),
        "ledger_cancelled_orders": sum(1 for o in ledger_orders if o["state"] == "cancelled"),
        **{
            k: tally.get(k, 0)
            for k in (
                "paid_after_cancel_known",
                "failures_refunded",
                "failures_escalated",
                "failures_unhandled",
                "failure_of_a_cancelled_order",
            )
        },
        **{k: v for k, v in tally.items() if k.startswith("supplier_")},
    }
    return report, findings
