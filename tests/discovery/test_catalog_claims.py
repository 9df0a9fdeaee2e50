"""Each store write of the catalog sync is claimed before it is made: a run that died after the store had
its write is resolved against the store (its prices and lineage recorded, not written again); one that died
before is failed and the listing decided afresh; two runs at once write a listing once."""

import logging
import os
import threading
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.rules.catalog import CatalogPolicy
from dropship_pipelines.services import catalog_sync
from dropship_pipelines.store import catalog_queries as q
from dropship_pipelines.store.catalog_tables import catalog_writes, price_lineage
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_testkit.sandbox_server import RunningSandbox
from tests.discovery.catalog_helpers import change, list_products, rows, run_catalog, store_product

LOG = logging.getLogger("test")
RULE = PricingPolicy().rule()  # the rule as the pipelines build it (its fingerprint included)


def _supplier() -> CJDropshippingResource:
    env = os.environ
    return CJDropshippingResource(
        base_url=env["CJ_BASE_URL"],
        api_key=env["CJ_API_KEY"],
        requests_per_second=50,
        token_cache_dir=env["DROPSHIP_TOKEN_CACHE_DIR"],
    )


def _shopify() -> ShopifyAdminResource:
    return ShopifyAdminResource(
        shop_url=os.environ["SHOPIFY_SHOP_URL"], access_token=os.environ["SHOPIFY_ACCESS_TOKEN"]
    )


def _plan_for_a_rise(sandbox: RunningSandbox, store_url: str) -> tuple[catalog_sync.Plan, str, object]:
    """A cost rise at the supplier, observed and decided, its write claimed: where a run would call the
    store. Returns the plan, its claim key and the variant."""
    list_products()
    listing = sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid)[0]
    variant = rows(store_url, listing_variants, listing_variants.c.pid == listing.pid)[0]
    change(
        sandbox, pid=listing.pid, vid=variant.vid, kind="cost", price=float(Decimal(variant.unit_cost) + 3)
    )
    supplier = _supplier()
    obs = catalog_sync.observe(supplier, listing.pid, [], "US")
    engine = get_engine(store_url)
    with engine.begin() as conn:
        q.ensure_publication(conn, listing.pid, listing.store_product_id)
        item = q.listed(conn, [listing.pid])[0]
    plan = catalog_sync.decide(item, obs, RULE, CatalogPolicy(), {})
    assert plan.priced
    with engine.begin() as conn:
        key = q.claim_write(
            conn, listing.pid, "listing", {**plan.detail(), "rule_version": RULE.fingerprint()}, "dead-run", 0
        )
    return plan, key, variant


def _age(store_url: str, key: str) -> None:
    with get_engine(store_url).begin() as conn:
        conn.execute(
            sa.update(catalog_writes)
            .where(catalog_writes.c.write_key == key)
            .values(created_at=q.now() - catalog_sync.LEASE - timedelta(minutes=1))
        )


def test_a_run_that_died_after_the_store_write_is_recorded_not_repeated(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    plan, key, variant = _plan_for_a_rise(sandbox, store_url)
    shopify = _shopify()
    catalog_sync._write(shopify, plan)  # the store has it; then the run died
    # A live claim (inside its lease) is left alone: the listing is busy.
    run_catalog("catalog_reconcile")
    assert rows(store_url, catalog_writes, catalog_writes.c.write_key == key)[0].state == "claimed"
    _age(store_url, key)
    run_catalog("catalog_reconcile")
    claims = rows(store_url, catalog_writes, catalog_writes.c.pid == plan.pid)
    assert [c.state for c in claims] == ["done"]  # resolved from the store, nothing written again
    lineage = rows(store_url, price_lineage, price_lineage.c.vid == variant.vid)
    assert [r.reason for r in lineage] == ["listed", "cost"] and lineage[-1].run_id == "dead-run"
    price = rows(store_url, listing_variants, listing_variants.c.vid == variant.vid)[0].price
    assert Decimal(price) == plan.priced[0]["price"]


def test_a_run_that_died_before_the_store_write_is_failed_and_redone(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    plan, key, variant = _plan_for_a_rise(sandbox, store_url)
    _age(store_url, key)
    result = run_catalog("catalog_reconcile")
    claims = {c.write_key: c.state for c in rows(store_url, catalog_writes, catalog_writes.c.pid == plan.pid)}
    assert claims[key] == "failed" and sorted(claims.values()) == ["done", "failed"]
    after = rows(store_url, listing_variants, listing_variants.c.vid == variant.vid)[0]
    assert Decimal(after.price) == plan.priced[0]["price"]
    listing = rows(store_url, listings, listings.c.pid == plan.pid)[0]
    gid = after.store_variant_id.rsplit("/", 1)[-1]
    store = store_product(sandbox, listing.store_product_id)
    assert Decimal(next(v for v in store["variants"] if str(v["id"]) == gid)["price"]) == Decimal(after.price)
    assert result.success


def test_two_runs_at_once_write_a_listing_once(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    listing = sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid)[0]
    for v in rows(store_url, listing_variants, listing_variants.c.pid == listing.pid):
        change(sandbox, pid=listing.pid, vid=v.vid, kind="cost", price=float(Decimal(v.unit_cost) + 2))
    supplier, shopify = _supplier(), _shopify()
    obs = catalog_sync.observe(supplier, listing.pid, [], "US")
    engine = get_engine(store_url)
    barrier = threading.Barrier(4)
    results = []

    def sync() -> None:
        barrier.wait()
        results.append(catalog_sync.sync_listing(engine, shopify, obs, RULE, CatalogPolicy(), None, LOG))

    threads = [threading.Thread(target=sync) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writes = rows(store_url, catalog_writes, catalog_writes.c.pid == listing.pid)
    assert len(writes) == 1 and writes[0].state == "done"
    assert sum(r.repriced > 0 for r in results) == 1
    lineage = rows(
        store_url, price_lineage, price_lineage.c.pid == listing.pid, price_lineage.c.reason == "cost"
    )
    assert len(lineage) == len(rows(store_url, listing_variants, listing_variants.c.pid == listing.pid))
