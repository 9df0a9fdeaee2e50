"""The soak's true-profit money audit on hand-made worlds: agreement passes, a cent off is a finding."""

from dropship_testkit.soak.money_audit import audit_true_profit

ORDERS = [
    {"id": 1, "totalPrice": "50.00", "refunds": [{"amount": "5.00"}],
     "disputes": [{"amount": "50.00", "status": "LOST"}]},
    {"id": 2, "totalPrice": "30.00", "disputes": [{"amount": "30.00", "status": "WON"}]},
    {"id": 3, "totalPrice": "20.00", "cancelledAt": "2026-11-30T00:00:00Z", "refunds": [{"amount": "20.00"}]},
]  # fmt: skip
AUDIT = {"gateway_fees": {"gid://shopify/Order/1 1.75": 1, "gid://shopify/Order/2 1.54": 1,
                          "gid://shopify/Order/3 0.88": 1}}  # fmt: skip
CJ = [
    {"orderNum": "shopify-1", "orderStatus": "DELIVERED", "productAmount": 12.0, "postageAmount": 4.0,
     "_sim": {"parcel": {"actual_postage": "4.60"}}},
    {"orderNum": "shopify-2", "orderStatus": "SHIPPED", "productAmount": 8.0, "postageAmount": 3.0},
    {"orderNum": "shopify-4", "orderStatus": "UNSHIPPED", "productAmount": 9.0, "postageAmount": 3.0},
]  # fmt: skip
COSTS = [{"order_number": "shopify-1", "product_amount": "12.00", "postage_amount": "4.60"}]


def test_agreeing_money_passes_and_pending_charges_are_not_findings() -> None:
    # fees 1.75 + 1.54; refunds 5.00; chargebacks 50.00 + 15.00 (lost) + 15.00 (won: the fee only)
    daily = [{"payment_fees": "3.29", "refunds": "5.00", "chargebacks": "80.00"}]
    figures, findings = audit_true_profit(ORDERS, AUDIT, CJ, daily, COSTS)
    assert findings == []
    assert figures["sandbox_chargebacks"] == "80.00" and figures["supplier_charges_pending"] == "1"


def test_a_cent_off_and_a_quoted_postage_are_findings() -> None:
    daily = [{"payment_fees": "3.28", "refunds": "5.00", "chargebacks": "80.00"}]
    quoted = [{"order_number": "shopify-1", "product_amount": "12.00", "postage_amount": "4.00"}]
    _, findings = audit_true_profit(ORDERS, AUDIT, CJ, daily, quoted)
    assert [key for key, _ in findings] == ["payment_fees", "supplier_charges"]
