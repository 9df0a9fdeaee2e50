"""Shared steps of the catalog sync tests: list a few products, run the catalog job's assets, talk to the
sandbox's CJ (its webhook settings) and read the ledger."""

from typing import Any

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.store.database import get_engine
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
