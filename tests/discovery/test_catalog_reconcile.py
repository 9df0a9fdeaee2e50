"""The hourly reconcile end to end over the sandbox: a supplier price rise re-prices the listing in one
run with its lineage; the daily move limit holds; a stock-out unpublishes and a restock re-publishes; a
rule change re-prices existing listings."""

from decimal import Decimal

import pytest

from dropship_pipelines.rules.catalog import break_even
from dropship_pipelines.rules.pricing import PriceRule, unit_profit
from dropship_pipelines.store.catalog_tables import listing_publication, price_lineage
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_testkit.sandbox_server import RunningSandbox
from tests.discovery.catalog_helpers import (
    change,
    list_products,
    listing_moved_by_rise,
    metadata,
    rows,
    run_catalog,
    store_product,
)


def _one_listing(store_url: str) -> tuple[object, list]:
    listing = sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid)[0]
    variants = rows(store_url, listing_variants, listing_variants.c.pid == listing.pid)
    return listing, variants


def test_price_rise_reprices_within_one_reconcile_with_lineage(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    first = run_catalog("catalog_reconcile")
    # Nothing changed at the supplier since the listing: nothing is written.
    assert metadata(first, "catalog_reconcile")["failed"] == 0
    assert metadata(first, "catalog_reconcile")["repriced_variants"] == 0
    listing, variant = listing_moved_by_rise(store_url, Decimal("1.08"))
    old_cost = Decimal(variant.unit_cost)
    change(sandbox, pid=listing.pid, vid=variant.vid, kind="cost", price=float(old_cost * Decimal("1.08")))
    result = run_catalog("catalog_reconcile")
    assert metadata(result, "catalog_reconcile")["repriced_variants"] >= 1
    checked = {c.check_name for c in result.get_asset_check_evaluations()}
    assert checked == {"prices_have_lineage", "nothing_unshippable_on_sale"}
    after = rows(store_url, listing_variants, listing_variants.c.vid == variant.vid)[0]
    assert Decimal(after.price) > Decimal(variant.price)
    store = store_product(sandbox, listing.store_product_id)
    on_store = next(
        v for v in store["variants"] if f"gid://shopify/ProductVariant/{v['id']}" == after.store_variant_id
    )
    assert Decimal(on_store["price"]) == Decimal(after.price)
    lineage = rows(store_url, price_lineage, price_lineage.c.vid == variant.vid)
    assert [r.reason for r in lineage] == ["listed", "cost"]
    last = lineage[-1]
    assert Decimal(last.supplier_cost) == (old_cost * Decimal("1.08")).quantize(Decimal("0.01"))
    assert last.run_id == result.run_id and last.rule_version and Decimal(last.shipping_cost) > 0
    assert Decimal(last.previous_price) == Decimal(variant.price)
    # Nothing changed since: the next run writes nothing.
    again = run_catalog("catalog_reconcile")
    assert metadata(again, "catalog_reconcile")["repriced_variants"] == 0


def test_daily_move_limit_holds_a_big_rise_back(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    # The rule asks for more than a day's 5 %, and from $20 those 5 % reach the next .99 ending.
    listing, variant = listing_moved_by_rise(
        store_url, Decimal("1.3"), min_price=Decimal("20"), beyond=Decimal("0.05")
    )
    new_cost = Decimal(variant.unit_cost) * Decimal("1.3")
    change(sandbox, pid=listing.pid, vid=variant.vid, kind="cost", price=float(new_cost))
    run_catalog("catalog_reconcile", {"max_daily_move": 0.05})
    after = rows(store_url, listing_variants, listing_variants.c.vid == variant.vid)[0]
    lineage = rows(store_url, price_lineage, price_lineage.c.vid == variant.vid)[-1]
    price, was = Decimal(after.price), Decimal(variant.price)
    assert Decimal(lineage.rule_price) > price > was  # the rule asked for more than a day's move
    cost, shipping = Decimal(lineage.supplier_cost), Decimal(lineage.shipping_cost)
    floor = break_even(cost, shipping, PriceRule())
    # at most 5 % up, unless that would sell at a loss: then break-even (on the .99 ending) and no more
    assert price <= was * Decimal("1.05") or (price >= floor and price - floor < 1)
    assert unit_profit(price, cost, shipping, PriceRule()) >= 0
    # The next day the rest of the move follows (the day began at the limited price).


def test_stock_out_unpublishes_and_restock_republishes(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    listing, variants = _one_listing(store_url)
    for v in variants:
        change(sandbox, pid=listing.pid, vid=v.vid, kind="stockout")
    result = run_catalog("catalog_reconcile")
    assert metadata(result, "catalog_reconcile")["unpublished"] == 1
    store = store_product(sandbox, listing.store_product_id)
    assert store["status"] == "DRAFT"
    assert all(v["inventoryPolicy"] == "DENY" and v["tracked"] for v in store["variants"])
    publication = rows(store_url, listing_publication, listing_publication.c.pid == listing.pid)[0]
    assert publication.published is False and publication.reason == "every variant sold out"
    change(sandbox, pid=listing.pid, vid=variants[0].vid, kind="restock", stock=500)
    back = run_catalog("catalog_reconcile")
    assert metadata(back, "catalog_reconcile")["republished"] == 1
    store = store_product(sandbox, listing.store_product_id)
    assert store["status"] == "ACTIVE"
    on_sale = [v for v in store["variants"] if v["inventoryPolicy"] == "CONTINUE"]
    assert len(on_sale) == 1


def test_removed_product_is_unpublished(pipeline_env: dict, sandbox: RunningSandbox, store_url: str) -> None:
    list_products()
    listing, _ = _one_listing(store_url)
    change(sandbox, pid=listing.pid, kind="remove")
    run_catalog("catalog_reconcile")
    assert store_product(sandbox, listing.store_product_id)["status"] == "DRAFT"
    publication = rows(store_url, listing_publication, listing_publication.c.pid == listing.pid)[0]
    assert publication.reason == "the supplier no longer sells it"


@pytest.mark.parametrize("markup", [0.8])
def test_rule_change_reprices_existing_listings(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, markup: float
) -> None:
    list_products()
    before = {r.vid: Decimal(r.price) for r in rows(store_url, listing_variants)}
    result = run_catalog(
        "catalog_reconcile", {"max_daily_move": 1.0}, resources={"pricing": {"config": {"markup": markup}}}
    )
    after = {r.vid: Decimal(r.price) for r in rows(store_url, listing_variants)}
    assert metadata(result, "catalog_reconcile")["repriced_variants"] >= len(before) // 2
    assert all(after[vid] >= before[vid] for vid in before)
    reasons = {r.reason for r in rows(store_url, price_lineage, price_lineage.c.reason != "listed")}
    assert reasons == {"rule"}
