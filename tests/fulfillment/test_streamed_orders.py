"""The store read and the supplier orders overlapped (`read_and_place_orders`, issue 16): pages handed to the
supplier stage as they are saved, over the sandbox's HTTP APIs with lost answers and errors on, two runs at
once; every sendable order reaches the supplier exactly once and the read still moves the cursor."""

import logging
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.services import fulfillment
from dropship_pipelines.store import fulfillment_queries as q
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import supplier_orders
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_world import sendable_numbers
from tests.fulfillment.helpers import created_at_supplier, place

log = logging.getLogger("tests.streamed_orders")
SETTINGS = fulfillment.RoutingSettings(
    max_shipping_days=30,
    value_of_a_day=Decimal("0.5"),
    quote_max_age=fulfillment.timedelta(hours=24),
    pay_from_balance=True,
)
FAULTS = {"error_rate": 0.05, "lost_response_rate": 0.15}


@pytest.fixture
def world(sandbox, store_url, pipeline_env, tmp_path: Path) -> dict[str, Any]:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 3)
    shopify = ShopifyAdminResource(
        shop_url=pipeline_env["SHOPIFY_SHOP_URL"], access_token=pipeline_env["SHOPIFY_ACCESS_TOKEN"]
    )
    cj = CJDropshippingResource(
        base_url=pipeline_env["CJ_BASE_URL"],
        api_key=pipeline_env["CJ_API_KEY"],
        requests_per_second=200,
        ip_requests_per_second=400,
        token_cache_dir=str(tmp_path / "cj-tokens"),
    )
    return {"engine": get_engine(store_url), "shopify": shopify, "cj": cj, "sandbox": sandbox}


def _streamed(w: dict[str, Any], page_size: int = 4) -> tuple[fulfillment.OrdersRead, Any]:
    return fulfillment.read_and_place_orders(
        w["shopify"],
        w["cj"],
        w["engine"],
        overlap=fulfillment.timedelta(minutes=2),
        page_size=page_size,
        settings=SETTINGS,
        max_orders=100,
        log=log,
    )


def test_pages_reach_the_supplier_while_the_read_goes_on_each_order_once(world) -> None:
    orders = place(world["sandbox"], 14)
    wanted = sendable_numbers(orders)
    handed: list[tuple[int, int]] = []  # (orders on the page, supplier orders made before it) per page
    original = fulfillment.read_store_orders

    def watched(*args: Any, **kwargs: Any) -> fulfillment.OrdersRead:
        on_saved = kwargs["on_saved"]

        def on_page(ids: list[str]) -> None:
            # The last page waits until an earlier page's order is at the supplier: a supplier stage that
            # started only after the read would never get there.
            if len(handed) == 3:
                deadline = time.monotonic() + 30
                while not created_at_supplier(world["sandbox"]) and time.monotonic() < deadline:
                    time.sleep(0.05)
            handed.append((len(ids), len(created_at_supplier(world["sandbox"]))))
            on_saved(ids)

        return original(*args, **{**kwargs, "on_saved": on_page})

    fulfillment.read_store_orders = watched  # type: ignore[assignment]  # only to watch the pages go by
    try:
        read, run = _streamed(world)
    finally:
        fulfillment.read_store_orders = original  # type: ignore[assignment]
    assert read.read == 14 and len(read.new) == 14
    assert [n for n, _ in handed] == [4, 4, 4, 2], "one hand-over per page"
    assert handed[-1][1] > 0, "supplier orders were made while the read was still going"
    at_supplier = created_at_supplier(world["sandbox"])
    assert set(at_supplier) == wanted and all(n == 1 for n in at_supplier.values())
    assert run.candidates == 14 and len(run.sent) == len(wanted)
    with world["engine"].connect() as conn:
        assert q.get_cursor(conn, fulfillment.ORDERS_CURSOR)
        assert all(o["problem"] for o in q.orders_to_send(conn, 100)), "only the held ones are left"


def test_two_streamed_runs_at_once_under_lost_answers_make_each_supplier_order_once(world) -> None:
    orders = place(world["sandbox"], 16)
    wanted = sendable_numbers(orders)
    world["sandbox"].control("POST", "/faults/cj", FAULTS)
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            _streamed(world, page_size=3)
        except BaseException as error:  # reported below: a thread's error would vanish otherwise
            errors.append(error)

    for _ in range(3):  # a transient failure leaves an order for the next pair of runs
        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        if set(created_at_supplier(world["sandbox"])) >= wanted:
            break
    at_supplier = created_at_supplier(world["sandbox"])
    assert set(at_supplier) == wanted, "every sendable order at the supplier, no other"
    assert all(count == 1 for count in at_supplier.values()), f"duplicates: {at_supplier}"
    with world["engine"].connect() as conn:
        created = conn.scalar(
            sa.select(sa.func.count())
            .select_from(supplier_orders)
            .where(supplier_orders.c.state == "created")
        )
    assert created == len(wanted)
