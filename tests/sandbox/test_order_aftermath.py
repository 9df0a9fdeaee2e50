"""The sandbox's aftermath at its configured rates: customers cancel within hours, the staff refunds, the
cardholder charges back, CJ cancels and runs out of stock after payment; each counted in the ground truth."""

import httpx
import pytest

from dropship_testkit.ledger_seed import list_products
from tests.fulfillment.helpers import place

HOUR = 3600


def test_rates_drive_the_events_and_the_ground_truth_counts_them(sandbox, store_url):
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    assert sandbox.control("POST", "/aftermath/rates", {"realistic": True})["customer_cancel_rate"] == 0.03
    sandbox.control("POST", "/aftermath/rates", {"customer_cancel_rate": 1.0, "chargeback_rate": 0.0})
    list_products(sandbox.world, store_url, 2)
    orders = place(sandbox, 6)
    assert sandbox.control("GET", "/aftermath/truth")["customer_cancellations"] == 0  # not yet: within hours
    sandbox.control("POST", "/clock", {"advance_seconds": 7 * HOUR})
    truth = sandbox.control("GET", "/aftermath/truth")
    assert truth["customer_cancellations"] == len(orders)
    assert set(sandbox.audit()["orders_cancelled"]) == {o["id"] for o in orders}
    assert truth["supplier_paid_after_store_cancel"] == [] and truth["cj_disputes_twice"] == []


def test_bad_rates_and_unknown_events_are_refused(sandbox):
    for body, status in (
        ({"customer_cancel_rate": 1.5}, 422),
        ({"refund_everything": 1}, 422),
        ({"chargeback_rate": "often"}, 422),
    ):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            sandbox.control("POST", "/aftermath/rates", body)
        assert refused.value.response.status_code == status
    with pytest.raises(httpx.HTTPStatusError) as unknown:
        sandbox.control("POST", "/aftermath/meteor", {})
    assert unknown.value.response.status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as missing:
        sandbox.control("POST", "/aftermath/cancel", {"order": "gid://shopify/Order/404"})
    assert missing.value.response.status_code == 404
