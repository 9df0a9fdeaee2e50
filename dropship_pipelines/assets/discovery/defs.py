"""The discovery workflow: its assets, checks, job and hourly schedule, and the catalog sync (its own job:
the hourly reconcile, and the supplier's webhook messages as they come)."""

import dagster as dg

from dropship_pipelines.assets.discovery import assets, catalog, checks
from dropship_pipelines.assets.wiring import WORKFLOW_TAG
from dropship_pipelines.cadence import DISCOVERY_CRON
from dropship_pipelines.sensors.catalog import CATALOG_SYNC_JOB, supplier_messages

CATALOG_ASSETS = dg.AssetSelection.assets(catalog.supplier_change_events, catalog.catalog_reconcile)

STREAMED = ("product_candidates", "product_copy", "store_listings")


@dg.config_mapping(
    config_schema={
        section: dg.Field(dg.Permissive(), is_required=False)
        for section in ("ops", "resources", "execution", "loggers")
    }
)
def per_asset_config(outer: dict) -> dict:
    """The job's config, per asset as it always was (`ops: {store_listings: {config: ...}}`): the three
    assets streamed in one step take theirs under its name. Everything else passes as it is."""
    outer = dict(outer)
    ops = dict(outer.pop("ops", None) or {})
    streamed = {name: ops.pop(name)["config"] for name in STREAMED if (ops.get(name) or {}).get("config")}
    if streamed:
        step = dict(ops.get(assets.discover_and_list.op.name) or {})
        step["config"] = {**(step.get("config") or {}), **streamed}
        ops[assets.discover_and_list.op.name] = step
    return {**outer, "ops": ops}


product_discovery_job = dg.define_asset_job(
    "product_discovery_job",
    selection=dg.AssetSelection.groups(assets.GROUP) - CATALOG_ASSETS,
    config=per_asset_config,
    executor_def=dg.in_process_executor,  # a run's floor is process start-up; steps are sequential anyway
    tags={WORKFLOW_TAG: "discovery"},
    description="Pull the supplier catalog, pick and price candidates, write copy, list on the store.",
)

# Its own job and run queue: a price rise must not wait behind an hour's discovery (LLM copy, listings).
catalog_sync_job = dg.define_asset_job(
    CATALOG_SYNC_JOB,
    selection=CATALOG_ASSETS,
    executor_def=dg.in_process_executor,
    tags={WORKFLOW_TAG: "catalog"},
    description="Keep every listing true to the supplier: cost, stock, shipping, still sold.",
)

hourly_discovery = dg.ScheduleDefinition(
    name="hourly_product_discovery",
    job=product_discovery_job,
    cron_schedule=DISCOVERY_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, on the hour.",
)

hourly_catalog_sync = dg.ScheduleDefinition(
    name="hourly_catalog_sync",
    job=catalog_sync_job,
    cron_schedule=DISCOVERY_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, on the hour: reconcile every listed product with the supplier.",
)

discovery_defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets, catalog]),
    asset_checks=dg.load_asset_checks_from_modules([checks, catalog]),
    jobs=[product_discovery_job, catalog_sync_job],
    schedules=[hourly_discovery, hourly_catalog_sync],
    sensors=[supplier_messages],
)
