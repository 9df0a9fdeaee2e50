"""Shared steps of the catalog sync tests: list a few products, run the catalog job's assets, talk to the
sandbox's CJ (its webhook settings) and read the ledger."""

from decimal import Decimal
from typing import Any

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.rules.pricing import PriceRule, retail_price
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_testkit.catalog_sync import change, cj_token, receiver, subscribe  # noqa: F401
from dropship_testkit.pipelines import build_defs
from dropship_testkit.sandbox_server import RunningSandbox

LIST_FEW = {
    "ops": {
        "product_candidates": {"config": {"detail_lookups_per_run": 10}},
        "store_listings": {"config": {"max_listings_per_run": 4}},
    }
}
FAST_MARKETS = {"markets": ["US"]}  # one freight call per product: the tests are not about the markets


def list_products(config: dict | None = None) -> dg.ExecuteInProcessResult:
    job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
    result = job.execute_in_process(
        run_config=config or LIST_FEW, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success
    return result


def asset_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """What a run's materialization of `asset` says (the discovery job makes several in one step)."""
    return next(
        dict(e.materialization.metadata)
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(asset)
    )


def listing_moved_by_rise(
    store_url: str, rise: Decimal, min_price: Decimal = Decimal(0), beyond: Decimal = Decimal(0)
) -> tuple[Any, Any]:
    """A listing and its variant (priced at least `min_price`) whose rule price a cost rise of `rise`
    moves by more than the share `beyond` (on the .99 ending a small rise of a cheap product can leave
    its price where it was), the first by pid."""
    for listing in sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid):
        for variant in rows(store_url, listing_variants, listing_variants.c.pid == listing.pid):
            cost, shipping = Decimal(variant.unit_cost), Decimal(listing.shipping_cost)
            risen = (cost * rise).quantize(Decimal("0.01"))
            was = retail_price(cost, shipping, PriceRule())
            moved = retail_price(risen, shipping, PriceRule()) > was * (1 + beyond)
            if moved and Decimal(variant.price) >= min_price:
                return listing, variant
    raise AssertionError(f"no listed variant whose price a cost rise of {rise} moves")


def run_catalog(
    asset: str, config: dict[str, Any] | None = None, resources: dict[str, Any] | None = None
) -> dg.ExecuteInProcessResult:
    """One asset of `catalog_sync_job`, in process, as the sensor or the schedule would run it."""
    job = build_defs(discovery_defs).resolve_job_def("catalog_sync_job")
    run_config: dict[str, Any] = {"ops": {asset: {"config": {**FAST_MARKETS, **(config or {})}}}}
    if resources:
        run_config["resources"] = resources
    result = job.execute_in_process(
        run_config=run_config,
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(asset)],
        raise_on_error=False,
    )
    assert result.success
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    assert not failed, f"checks failed: {failed}"
    return result


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    return {k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()}


def rows(store_url: str, table: sa.Table, *where: Any) -> list[sa.Row]:
    with get_engine(store_url).connect() as conn:
        return list(conn.execute(sa.select(table).where(*where)))


def store_product(sandbox: RunningSandbox, product_id: str) -> dict[str, Any]:
    number = product_id.rsplit("/", 1)[-1]
    with sandbox.world.lock, sandbox.world.state:
        return sandbox.world.state.get("shopify_product", number)
