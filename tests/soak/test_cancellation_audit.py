"""The soak's cancellation invariants on a hand-made world and ledger (fast: no soak run)."""

from datetime import UTC, datetime

from dropship_testkit.soak.audit import Finding
from dropship_testkit.soak.cancellation_audit import audit_cancellations

KNOWN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _run(cj_orders, counts, cases, world_orders=()):
    supplier_orders = [
        {"order_number": f"shopify-{n}", "order_id": f"gid://shopify/Order/{n}"} for n in (1, 2, 3, 4)
    ]
    return audit_cancellations(list(world_orders), cj_orders, counts, [], supplier_orders, cases, Finding)


def test_a_supplier_order_paid_after_the_cancellation_was_known_fails():
    case = {"order_id": "gid://shopify/Order/1", "side": "store", "state": "done", "known_at": KNOWN}
    before = {"orderNum": "shopify-1", "_sim": {"paid_real_at": KNOWN.timestamp() - 5}}
    report, findings = _run([before], {}, [case])
    assert report["paid_after_cancel_known"] == 0 and not findings
    after = {"orderNum": "shopify-1", "_sim": {"paid_real_at": KNOWN.timestamp() + 5}}
    report, findings = _run([after], {}, [case])
    assert report["paid_after_cancel_known"] == 1
    assert [(f.kind, f.key) for f in findings] == [("money", "shopify-1")]


def test_every_supplier_failure_refunded_or_escalated():
    counts = {
        "supplier_cancellations": {"shopify-1": 1, "shopify-2": 1},
        "supplier_stockouts": {"shopify-3": 1},
        "parcels_lost": {"TRACK4": 1},
        "cj_disputes_per_order": {"shopify-1:2": 2},
    }
    cj_orders = [
        {"orderNum": "shopify-4", "orderStatus": "SHIPPED", "_sim": {"track_number": "TRACK4"}},
        # Drawn lost at payment, then cancelled by CJ before it shipped: the cancellation's, not lost.
        {"orderNum": "shopify-2", "orderStatus": "CANCELLED", "_sim": {}},
    ]
    counts["parcels_lost"]["shopify-2"] = 1
    cases = [
        {"order_id": "gid://shopify/Order/1", "side": "supplier", "reason": "supplier_cancelled",
         "state": "done", "detail": {"refunded": "20.00"}},
        {"order_id": "gid://shopify/Order/3", "side": "supplier", "reason": "out_of_stock",
         "state": "escalated", "detail": {}},
        {"order_id": "gid://shopify/Order/4", "side": "supplier", "reason": "lost_parcel",
         "state": "open", "detail": {}},
    ]  # fmt: skip
    report, findings = _run(cj_orders, counts, cases)
    assert report["failures_refunded"] == 1 and report["failures_escalated"] == 1
    assert report["failures_unhandled"] == 2
    assert sorted((f.kind, f.key) for f in findings) == [
        ("duplicated", "shopify-1:2"),
        ("lost", "shopify-2"),
        ("lost", "shopify-4"),
    ]
    assert all(f.fails for f in findings)


def test_held_for_stock_then_cancelled_is_one_failure():
    counts = {"supplier_cancellations": {"shopify-1": 1}, "supplier_stockouts": {"shopify-1": 1}}
    cj_orders = [{"orderNum": "shopify-1", "orderStatus": "CANCELLED", "_sim": {}}]
    case = {"order_id": "gid://shopify/Order/1", "side": "supplier", "state": "done",
            "detail": {"refunded": "20.00"}}  # fmt: skip
    for reason in ("supplier_cancelled", "out_of_stock"):  # whichever word the ledger read first
        report, findings = _run(cj_orders, counts, [{**case, "reason": reason}])
        assert not findings and report["failures_refunded"] == 1 and report["failures_unhandled"] == 0
    both = [{**case, "reason": "supplier_cancelled"}, {**case, "reason": "out_of_stock"}]
    report, findings = _run(cj_orders, counts, both)
    assert [(f.kind, f.key) for f in findings] == [("duplicated", "gid://shopify/Order/1")]
