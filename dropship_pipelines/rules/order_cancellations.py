"""What to do when an order is cancelled at the store, or fails at the supplier: pure rules, no I/O.

Store side (the customer or the staff cancelled): what happens at the supplier depends only on where the
supplier order is:

| supplier order                         | decision         | effect                                         |
|----------------------------------------|------------------|------------------------------------------------|
| none (or refused before it existed)    | `not_sent`       | never sent: the ledger marks it cancelled     |
| being placed (no supplier id yet)      | `wait`           | the next run looks again                       |
| unpaid (CREATED, IN_CART, UNPAID)      | `withdraw`       | the supplier order is deleted                  |
| paid, not shipped (UNSHIPPED)          | `supplier_cancel`| the supplier's cancellation path (a dispute)   |
| shipped or delivered                   | `leave_shipped`  | recorded; the parcel is on its way             |
| already cancelled at the supplier      | `nothing`        | recorded                                       |

Supplier side (`FailurePolicy`): a failure the customer pays for (a supplier cancellation, a stock-out
after ordering, a lost or damaged parcel) refunds the customer when the amount is within the automatic
limit and window, else escalates; a supplier that was paid gets a dispute asking for the money back; an
insufficient balance refunds nobody (the order can still be sent once the balance is topped up) and is
escalated to the operator.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from dropship_pipelines.resources.supplier import SHIPPED_STATUSES, UNPAID_STATUSES

CANCELLED_STATUSES = ("CANCELLED",)


class StoreCancelDecision(StrEnum):
    NOT_SENT = "not_sent"
    WAIT = "wait"
    WITHDRAW = "withdraw"
    SUPPLIER_CANCEL = "supplier_cancel"
    LEAVE_SHIPPED = "leave_shipped"
    NOTHING = "nothing"


class FailureReason(StrEnum):
    SUPPLIER_CANCELLED = "supplier_cancelled"
    OUT_OF_STOCK = "out_of_stock"
    LOST_PARCEL = "lost_parcel"
    DAMAGED_PARCEL = "damaged_parcel"
    INSUFFICIENT_BALANCE = "insufficient_balance"


@dataclass(frozen=True)
class SupplierSide:
    """Where the supplier order of a store order is, as the ledger (and the supplier) says."""

    exists: bool  # a ledger row: placing was at least begun
    supplier_order_id: str | None  # the supplier's id, once it accepted
    ledger_state: str | None  # pending | created | failed
    status: str | None  # the supplier's status (CREATED .. DELIVERED, CANCELLED)


def store_cancel_decision(side: SupplierSide) -> StoreCancelDecision:
    """What the store's cancellation of an order means at the supplier (the table above)."""
    if not side.exists or (side.ledger_state == "failed" and not side.supplier_order_id):
        return StoreCancelDecision.NOT_SENT
    if not side.supplier_order_id:
        return StoreCancelDecision.WAIT
    status = (side.status or "").upper()
    if status in CANCELLED_STATUSES:
        return StoreCancelDecision.NOTHING
    if status in SHIPPED_STATUSES:
        return StoreCancelDecision.LEAVE_SHIPPED
    if status in UNPAID_STATUSES or not status:
        return StoreCancelDecision.WITHDRAW
    return StoreCancelDecision.SUPPLIER_CANCEL


def failure_reason(text: str) -> FailureReason:
    """A failure reason named by a caller (the tracking workflow says "lost_parcel"); a clear error else."""
    try:
        return FailureReason(text.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in FailureReason)
        raise ValueError(f"unknown supplier failure reason {text!r}: one of {known}") from None


STOCK_WORDS = ("stock", "inventory")


def hold_failure(reasons: tuple[str, ...] | list[str]) -> FailureReason | None:
    """A supplier hold that means the order will not ship as bought (out of stock after ordering); None for
    a hold it lifts by itself or that needs our answer (an address review: the order gate's business)."""
    text = " ".join(reasons).lower()
    return FailureReason.OUT_OF_STOCK if any(word in text for word in STOCK_WORDS) else None


# The supplier's ways of saying an order will not ship: CJ holds it for stock, and may cancel it later. Each
# is the same failure of the same order, so the first one the ledger records is its case (one refund, one
# dispute); a later word of the other kind adds nothing. A lost or damaged parcel has left the warehouse.
NOT_SHIPPING = frozenset({FailureReason.SUPPLIER_CANCELLED, FailureReason.OUT_OF_STOCK})


def covering_failure(reason: FailureReason, known: Collection[str]) -> str | None:
    """The failure the ledger already has for an order that this new `reason` is the same failure as (the
    reason itself, or the other way of saying the order will not ship); None when `reason` is new."""
    if reason in known:
        return reason
    if reason in NOT_SHIPPING:
        return next((k for k in sorted(known) if k in NOT_SHIPPING), None)  # a StrEnum equals its value
    return None


@dataclass(frozen=True)
class FailurePlan:
    refund_customer: bool
    dispute: bool  # ask the supplier for the money back
    escalate: bool
    why: str


@dataclass(frozen=True)
class FailurePolicy:
    """The store's policy for supplier failures; also the `RefundPolicy` of the refunds it makes."""

    auto_refund_limit: Decimal = Decimal("150.00")  # above it a human decides
    refund_window_days: int = 90  # after it a human decides
    refund_reasons: frozenset[FailureReason] = field(
        default_factory=lambda: frozenset(
            {
                FailureReason.SUPPLIER_CANCELLED,
                FailureReason.OUT_OF_STOCK,
                FailureReason.LOST_PARCEL,
                FailureReason.DAMAGED_PARCEL,
            }
        )
    )
    # Always told to the operator even when refunded (a damaged parcel may be a pattern worth a look).
    escalate_reasons: frozenset[FailureReason] = field(
        default_factory=lambda: frozenset({FailureReason.INSUFFICIENT_BALANCE})
    )

    def __post_init__(self) -> None:
        if self.auto_refund_limit < 0:
            raise ValueError("auto_refund_limit must not be negative")
        if self.refund_window_days < 0:
            raise ValueError("refund_window_days must not be negative")

    def refund_within_policy(self, total: Decimal, placed_on: date, today: date) -> bool:
        return total <= self.auto_refund_limit and (today - placed_on).days <= self.refund_window_days

    def plan(
        self,
        reason: FailureReason,
        *,
        total: Decimal,
        placed_on: date,
        today: date,
        supplier_paid: bool,
        already_refunded: bool = False,
    ) -> FailurePlan:
        """What to do for one supplier failure of an order worth `total`."""
        dispute = supplier_paid and reason is not FailureReason.INSUFFICIENT_BALANCE
        if reason not in self.refund_reasons:
            return FailurePlan(False, dispute, True, f"{reason.value}: the operator decides")
        if already_refunded:
            return FailurePlan(False, dispute, reason in self.escalate_reasons, "already refunded")
        if not self.refund_within_policy(total, placed_on, today):
            return FailurePlan(
                False,
                dispute,
                True,
                f"{total} is above the automatic refund limit {self.auto_refund_limit} or outside "
                f"{self.refund_window_days} days: a human decides the refund",
            )
        return FailurePlan(True, dispute, reason in self.escalate_reasons, f"{reason.value}: refunded")


# The supplier's dispute reasons per failure (supplier-neutral names; the client maps them to its ids).
DISPUTE_REASON = {
    FailureReason.SUPPLIER_CANCELLED: "supplier_cancelled",
    FailureReason.OUT_OF_STOCK: "out_of_stock",
    FailureReason.LOST_PARCEL: "lost_parcel",
    FailureReason.DAMAGED_PARCEL: "damaged_parcel",
}
STORE_CANCEL_DISPUTE_REASON = "cancel_before_shipping"


def dispute_message(order_name: str, reason: str, evidence: list[str]) -> str:
    """The dispute's text, within the supplier's 500 characters: the order and the ledger's evidence."""
    text = f"Order {order_name}: {reason.replace('_', ' ')}. " + " ".join(evidence)
    return text[:500]
