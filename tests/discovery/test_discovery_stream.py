"""The discovery job streams: a product is written up and listed while later products are still being looked
up at the supplier, each listed once, and what a run lists does not depend on which answer came first."""

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings, product_details
from dropship_testkit.sandbox_server import RunningSandbox
from tests.discovery.catalog_helpers import asset_metadata, list_products

LOOKUPS, LISTINGS = 12, 5
STREAM = {
    "ops": {
        "product_candidates": {"config": {"detail_lookups_per_run": LOOKUPS}},
        "store_listings": {"config": {"max_listings_per_run": LISTINGS}},
    }
}


def test_listings_go_out_while_later_products_are_looked_up(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CJ_REQUESTS_PER_SECOND", "4")  # CJ's real pace: the lookups take seconds
    result = list_products(STREAM)
    with get_engine(store_url).connect() as conn:
        first_listed = conn.scalar(sa.select(sa.func.min(listings.c.listed_at)))
        last_looked_up = conn.scalar(sa.select(sa.func.max(product_details.c.fetched_at)))
        listed = conn.scalar(
            sa.select(sa.func.count()).select_from(listings).where(listings.c.status == "listed")
        )
    assert first_listed is not None and first_listed < last_looked_up
    assert listed == LISTINGS == asset_metadata(result, "store_listings")["listed"].value
    assert all(n == 1 for n in sandbox.audit()["listings_created"].values())
    assert asset_metadata(result, "product_candidates")["detail_lookups"].value == LOOKUPS
    assert all(check.passed for check in result.get_asset_check_evaluations())


def test_the_job_still_takes_each_assets_config_and_a_selection_runs_alone(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    from dropship_pipelines.assets.discovery.defs import discovery_defs
    from dropship_testkit.pipelines import build_defs

    list_products(STREAM)
    job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
    only_listings = job.get_subset(asset_selection={dg.AssetKey("store_listings")})
    result = only_listings.execute_in_process(
        run_config={"ops": {"store_listings": {"config": {"max_listings_per_run": 2}}}},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert {e.asset_key for e in result.get_asset_materialization_events()} == {dg.AssetKey("store_listings")}
    assert asset_metadata(result, "store_listings")["listed"].value <= 2
