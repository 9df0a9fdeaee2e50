"""The soak's world, quickly (no pipelines): its seed and store-life rates give the first orders every
event the short soak must meet, and its settle phase moves the clock on weeks with the checkout closed, so
refunds and chargebacks happen and no order is placed."""

import time

from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_server import running_sandbox
from dropship_testkit.soak.chaos import SOAK_WORLD_SEED, STORE_LIFE, SandboxControl
from tests.conftest import fast_settings
from tests.fulfillment.helpers import place

DAY = 86400


def test_the_soak_world_meets_each_event_and_settles_with_the_checkout_closed(tmp_path, store_url):
    settings = fast_settings(seed=SOAK_WORLD_SEED)
    with running_sandbox(tmp_path / "world.db", settings) as sandbox:
        control = SandboxControl(sandbox.url)
        sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
        control.store_life_on()
        list_products(sandbox.world, store_url, 3)
        orders = place(sandbox, 10)
        audit = sandbox.audit()
        assert audit.get("risky_orders_placed") and audit.get("invalid_address_orders_placed")

        control.close_checkout()
        started = time.monotonic()
        control.advance_clock(45)
        assert time.monotonic() - started < 120, "weeks of the world took too long to pass"
        audit = sandbox.audit()
        assert len(audit["orders_placed"]) == len(orders), "an order was placed with the checkout closed"
        truth = control.truth()
        assert truth["customer_cancellations"] > 0 and truth["chargebacks"] > 0, truth
        assert truth["store_refunds"] > 0, truth
        assert control.call("GET", "/clock")["speed"] == 0
    assert STORE_LIFE["parcels"]["lost_rate"] > 0
