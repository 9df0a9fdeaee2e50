"""The fulfillment rules alone: which orders can go to the supplier, their number, their route."""

from decimal import Decimal

import pytest

from dropship_pipelines.rules.fulfillment import (
    OrderFacts,
    OrderLine,
    ShippingChoice,
    carrier_phone,
    choose_shipping,
    order_problem,
    supplier_order_number,
)

ADDRESS = {
    "name": "Jane Doe",
    "address1": "1 Main St",
    "city": "Austin",
    "zip": "78701",
    "countryCodeV2": "US",
    "phone": "+1 512-555-0100",
}
LINE = OrderLine("gid://shopify/LineItem/1", "CJ-SKU-1", 1, "VID-1")


def facts(**changes) -> OrderFacts:
    base = {
        "order_id": "gid://shopify/Order/1",
        "name": "#1001",
        "financial_status": "PAID",
        "cancelled": False,
        "address": ADDRESS,
        "lines": (LINE,),
    }
    return OrderFacts(**{**base, **changes})


def test_a_clean_paid_order_can_be_sent():
    assert order_problem(facts()) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"address": None}, "no shipping address"),
        ({"address": {**ADDRESS, "city": " "}}, "missing city"),
        ({"address": {**ADDRESS, "phone": None}}, "no phone"),
        ({"address": {**ADDRESS, "countryCodeV2": "BR"}}, "does not ship to BR"),
        (
            {"lines": (LINE, OrderLine("gid://shopify/LineItem/2", "CUSTOM-1", 1, None))},
            "no supplier variant for CUSTOM-1",
        ),
        ({"financial_status": "PENDING"}, "not paid"),
        ({"cancelled": True}, "cancelled"),
        ({"lines": ()}, "no line items"),
    ],
)
def test_unsendable_orders_get_a_reason(changes, reason):
    assert reason in (order_problem(facts(**changes)) or "")


def test_supplier_order_number_is_derived_from_the_store_order():
    assert supplier_order_number("#1001") == "shopify-1001"
    assert supplier_order_number("#1001") == supplier_order_number("#1001")
    with pytest.raises(ValueError):
        supplier_order_number("#")
    with pytest.raises(ValueError):
        supplier_order_number("#" + "9" * 60)


def test_phone_is_cut_to_the_supplier_limit():
    assert carrier_phone("+1 (512) 555-0100") == "+15125550100"
    assert len(carrier_phone("+" + "1" * 40)) == 20


def test_route_weighs_price_against_days():
    slow = ShippingChoice("CJPacket Ordinary", Decimal("3.00"), 9, 16)
    mid = ShippingChoice("USPS+", Decimal("5.50"), 4, 8)
    fast = ShippingChoice("DHL Official", Decimal("14.00"), 3, 7)
    # slow is over the 15-day bar; mid costs 5.50 + 8 x 0.50 = 9.50 < DHL's 17.50
    assert choose_shipping([slow, mid, fast], max_days=15) == mid
    # without a day bar and days worth nothing, the cheapest wins
    assert choose_shipping([slow, mid, fast], max_days=30, day_value=Decimal("0")) == slow
    # nothing within the bar: the fastest
    assert choose_shipping([slow], max_days=5) == slow
    assert choose_shipping([], max_days=15) is None
