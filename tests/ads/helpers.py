"""Helpers for the ads tests: list a few products through discovery, then run the ads jobs in-process."""

from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.ads_defs import ads_defs
from dropship_pipelines.assets.discovery_defs import discovery_defs
from dropship_pipelines.resources.ad_policy import AdPolicy
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.store.database import get_engine

# Small, short videos: the tests are about the workflow, not the renderer.
SMALL_VIDEO = {"width": 360, "height": 640, "duration_s": 10.0, "fps": 10, "max_per_run": 10}


def build(policy: dict[str, Any] | None = None, media_dir: Path | None = None) -> dg.Definitions:
    resources = build_resources()
    settings = {
        "store_url": "https://sandbox-store.myshopify.com",
        "image_hosts": resources["ad_policy"].image_hosts,  # the sandbox serves the product images
        **(policy or {}),
    }
    if media_dir is not None:
        settings["media_dir"] = str(media_dir)
    resources["ad_policy"] = AdPolicy(**settings)
    return dg.Definitions.merge(discovery_defs, ads_defs, dg.Definitions(resources=resources))


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
    with get_engine(store_url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]
