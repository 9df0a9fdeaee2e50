"""Shopify's limit of 1,000 new variants a day once a store holds 50,000, on both sides: the sandbox refuses
with the store's userError, and the listing step never asks past it; the published state other workflows
read; sales of sold-out variants never happen."""

from datetime import UTC, datetime

import sqlalchemy as sa

from dropship_pipelines.store import catalog_queries
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_testkit.sandbox_server import RunningSandbox
from tests.discovery.catalog_helpers import (
    LIST_FEW,
    asset_metadata,
    change,
    list_products,
    rows,
    run_catalog,
    store_product,
)


def _created_today(sandbox: RunningSandbox, count: int) -> None:
    with sandbox.world.lock, sandbox.world.state:
        day = sandbox.world.now().strftime("%Y-%m-%d")
        for _ in range(count):
            sandbox.world.state.audit_increment("variants_created", day)


def test_sandbox_refuses_variants_past_the_daily_cap_and_the_listing_waits(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    sandbox.control("POST", "/supplier/store_size", {"extra_variants": 50_000})
    _created_today(sandbox, 1_000)  # the store's allowance is used up (by another app, say)
    result = list_products()
    failures = asset_metadata(result, "store_listings")["failures"].value
    assert failures.records, "the store should have refused the new variants"
    assert all("Daily variant creation limit" in r.data["reason"] for r in failures.records)
    # not failed for good: they are tried again (tomorrow)
    assert all(r.status == "pending" for r in rows(store_url, listings))
    assert "listings_created" not in sandbox.audit()


def test_listing_step_stops_at_the_daily_allowance(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    sandbox.control("POST", "/supplier/store_size", {"extra_variants": 50_000})
    # 997 variants of this store were listed today already: 3 more fit
    engine = get_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(listings).values(
                pid="EARLIER", handle="cj-earlier", status="listed", title="Earlier", price=9.99,
                unit_cost=1, shipping_cost=1, listed_at=datetime.now(UTC),
            )
        )  # fmt: skip
        conn.execute(
            sa.insert(listing_variants),
            [
                {"vid": f"E{i}", "pid": "EARLIER", "sku": f"E{i}", "option_value": str(i), "price": 9.99,
                 "unit_cost": 1}
                for i in range(997)
            ],
        )  # fmt: skip
    list_products(LIST_FEW)
    created = sum(sandbox.audit().get("variants_created", {}).values())
    assert created <= 3
    waiting = [r for r in rows(store_url, listings) if r.status != "listed"]
    assert not any(r.last_error for r in waiting)  # held back before asking, never refused


def test_unpublished_listings_are_readable_by_other_workflows(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    listed = sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid)
    gone = listed[0]
    change(sandbox, pid=gone.pid, kind="remove")
    run_catalog("catalog_reconcile")
    with get_engine(store_url).connect() as conn:
        assert catalog_queries.unpublished_product_ids(conn) == {gone.store_product_id}
        assert catalog_queries.unpublished_pids(conn) == {gone.pid}
        status = catalog_queries.listing_status(conn)
    assert status[gone.pid].published is False and status[gone.pid].reason
    assert all(status[r.pid].published for r in listed[1:])
    change(sandbox, pid=gone.pid, kind="return")
    run_catalog("catalog_reconcile")
    with get_engine(store_url).connect() as conn:
        assert catalog_queries.unpublished_product_ids(conn) == set()


def test_no_sale_of_a_sold_out_variant(pipeline_env: dict, sandbox: RunningSandbox, store_url: str) -> None:
    from dropship_sandbox.shop_orders import place_order

    list_products()
    listed = rows(store_url, listings, listings.c.status == "listed")
    by_pid = {r.pid: rows(store_url, listing_variants, listing_variants.c.pid == r.pid) for r in listed}
    listing = max(listed, key=lambda r: (len(by_pid[r.pid]), r.pid))
    variants = by_pid[listing.pid]
    assert len(variants) >= 2, "the test world lists a product with several variants"
    for v in variants[1:]:
        change(sandbox, pid=listing.pid, vid=v.vid, kind="low_stock")
    run_catalog("catalog_reconcile")
    world = sandbox.world
    for v in variants[1:]:
        change(sandbox, pid=listing.pid, vid=v.vid, kind="stockout")
    placed = 0
    for n in range(60):
        order = place_order(world, listing.pid, world.now(), "organic", world.rng("test-order", n))
        placed += order is not None
    sold_skus = set()
    with world.lock, world.state:
        for order in world.state.all("shopify_order"):
            sold_skus |= {line["sku"] for line in order["lineItems"]}
    assert placed == 60
    assert not sold_skus & {v.sku for v in variants[1:]}
    assert sandbox.audit().get("oos_sales", {}) == {}
    assert store_product(sandbox, listing.store_product_id)["status"] == "ACTIVE"
