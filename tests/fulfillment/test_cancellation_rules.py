"""The cancellation rules without I/O: what a store cancellation means at each supplier stage, and the
supplier-failure policy (refund within the limit and window, dispute when paid, escalate otherwise)."""

from datetime import date
from decimal import Decimal

import pytest

from dropship_pipelines.rules.order_cancellations import (
    FailurePolicy,
    FailureReason,
    StoreCancelDecision,
    SupplierSide,
    covering_failure,
    dispute_message,
    failure_reason,
    hold_failure,
    store_cancel_decision,
)

D = StoreCancelDecision


@pytest.mark.parametrize(
    ("side", "decision"),
    [
        (SupplierSide(False, None, None, None), D.NOT_SENT),
        (SupplierSide(True, None, "failed", None), D.NOT_SENT),  # refused before it existed
        (SupplierSide(True, None, "pending", None), D.WAIT),  # being placed
        (SupplierSide(True, "SD1", "created", "CREATED"), D.WITHDRAW),
        (SupplierSide(True, "SD1", "created", "UNPAID"), D.WITHDRAW),
        (SupplierSide(True, "SD1", "created", "UNSHIPPED"), D.SUPPLIER_CANCEL),
        (SupplierSide(True, "SD1", "created", "SHIPPED"), D.LEAVE_SHIPPED),
        (SupplierSide(True, "SD1", "created", "DELIVERED"), D.LEAVE_SHIPPED),
        (SupplierSide(True, "SD1", "failed", "CANCELLED"), D.NOTHING),  # withdrawn by the support agent
    ],
)
def test_store_cancellation_by_supplier_stage(side: SupplierSide, decision: StoreCancelDecision) -> None:
    assert store_cancel_decision(side) is decision


def test_failure_plan_refunds_within_policy_disputes_when_paid_and_escalates_otherwise() -> None:
    policy = FailurePolicy(auto_refund_limit=Decimal("100"), refund_window_days=30)
    placed, today = date(2026, 11, 1), date(2026, 11, 10)
    plan = policy.plan(FailureReason.LOST_PARCEL, total=Decimal("40"), placed_on=placed, today=today,
                       supplier_paid=True)  # fmt: skip
    assert (plan.refund_customer, plan.dispute, plan.escalate) == (True, True, False)
    unpaid = policy.plan(FailureReason.SUPPLIER_CANCELLED, total=Decimal("40"), placed_on=placed, today=today,
                         supplier_paid=False)  # fmt: skip
    assert (unpaid.refund_customer, unpaid.dispute) == (True, False)
    big = policy.plan(FailureReason.OUT_OF_STOCK, total=Decimal("100.01"), placed_on=placed, today=today,
                      supplier_paid=True)  # fmt: skip
    assert (big.refund_customer, big.dispute, big.escalate) == (False, True, True)
    late = policy.plan(FailureReason.DAMAGED_PARCEL, total=Decimal("10"), placed_on=placed,
                       today=date(2026, 12, 2), supplier_paid=True)  # fmt: skip
    assert late.escalate and not late.refund_customer
    balance = policy.plan(FailureReason.INSUFFICIENT_BALANCE, total=Decimal("10"), placed_on=placed,
                          today=today, supplier_paid=True)  # fmt: skip
    assert (balance.refund_customer, balance.dispute, balance.escalate) == (False, False, True)
    done = policy.plan(FailureReason.LOST_PARCEL, total=Decimal("10"), placed_on=placed, today=today,
                       supplier_paid=True, already_refunded=True)  # fmt: skip
    assert (done.refund_customer, done.dispute, done.escalate) == (False, True, False)


def test_hold_reasons_and_named_reasons() -> None:
    assert hold_failure(("1003: Out of stock: the inventory ran out",)) is FailureReason.OUT_OF_STOCK
    assert hold_failure(("1001: the shipping address needs review",)) is None
    assert failure_reason(" Lost_Parcel ") is FailureReason.LOST_PARCEL
    with pytest.raises(ValueError, match="one of supplier_cancelled"):
        failure_reason("stolen by pirates")
    with pytest.raises(ValueError, match="refund_window_days"):
        FailurePolicy(refund_window_days=-1)
    assert len(dispute_message("#1001", "lost_parcel", ["x" * 600])) == 500


@pytest.mark.parametrize(
    ("reason", "known", "covered"),
    [
        (FailureReason.OUT_OF_STOCK, set(), None),
        (FailureReason.OUT_OF_STOCK, {"out_of_stock"}, "out_of_stock"),
        (FailureReason.SUPPLIER_CANCELLED, {"out_of_stock"}, "out_of_stock"),  # held, then cancelled
        (FailureReason.OUT_OF_STOCK, {"supplier_cancelled"}, "supplier_cancelled"),
        (FailureReason.LOST_PARCEL, {"supplier_cancelled"}, None),  # a parcel that left: another failure
        (FailureReason.SUPPLIER_CANCELLED, {"lost_parcel"}, None),
        (FailureReason.DAMAGED_PARCEL, {"damaged_parcel", "lost_parcel"}, "damaged_parcel"),
    ],
)
def test_an_order_that_will_not_ship_is_one_failure(
    reason: FailureReason, known: set[str], covered: str | None
) -> None:
    assert covering_failure(reason, known) == covered
