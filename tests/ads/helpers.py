"""Helpers for the ads tests: list a few products through discovery, then run the ads jobs in-process
(the Definitions come from `dropship_testkit.pipelines.build_ads_defs`)."""

from typing import Any

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_testkit.ledger_seed import table_rows
from dropship_testkit.pipelines import SMALL_VIDEO


def list_products(defs: dg.Definitions, count: int) -> dg.ExecuteInProcessResult:
    config = {
        "ops": {
            "product_candidates": {"config": {"detail_lookups_per_run": count + 4}},
            "store_listings": {"config": {"max_listings_per_run": count}},
        }
    }
    result = defs.resolve_job_def("product_discovery_job").execute_in_process(
        run_config=config, instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    return result


def launch(defs: dg.Definitions, **launch_config: Any) -> dg.ExecuteInProcessResult:
    config = {
        "ops": {
            "ad_creatives": {"config": SMALL_VIDEO},
            "ad_campaigns": {"config": launch_config},
        }
    }
    return defs.resolve_job_def("ad_launch_job").execute_in_process(
        run_config=config, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def metrics(defs: dg.Definitions, first: str, last: str) -> dg.ExecuteInProcessResult:
    """A backfill of [first, last] as one run (the asset's single-run backfill policy)."""
    return defs.resolve_job_def("ad_metrics_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )


def optimise(defs: dg.Definitions, dry_run: bool = False) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("ad_optimization_job").execute_in_process(
        run_config={"ops": {"ad_optimizations": {"config": {"dry_run": dry_run}}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def rows(store_url: str, table: sa.Table) -> list[dict[str, Any]]:
    return table_rows(get_engine(store_url), table)
