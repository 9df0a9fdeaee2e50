"""The pipelines as tests and benchmarks run them: Definitions built from the environment, the ads workflow
with a test policy, the analytics recomputed over a range of days."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from dropship_pipelines.assets.ads.defs import ads_defs
from dropship_pipelines.assets.analytics import assets as analytics
from dropship_pipelines.assets.analytics import checks as analytics_checks
from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase

# Small, short videos: the ads tests and the launch benchmark are about the workflow, not the renderer.
SMALL_VIDEO = {"width": 360, "height": 640, "duration_s": 10.0, "fps": 10, "max_per_run": 10}


def build_defs(*workflow_defs: dg.Definitions) -> dg.Definitions:
    """Definitions with resources built from the current environment (after it points at a sandbox)."""
    return dg.Definitions.merge(*workflow_defs, dg.Definitions(resources=build_resources()))


def build_ads_defs(policy: dict[str, Any] | None = None, media_dir: Path | None = None) -> dg.Definitions:
    """Discovery and ads, the ad policy overridden by `policy`, product images allowed from the sandbox."""
    resources = build_resources()
    settings = {
        "store_url": "https://sandbox-store.myshopify.com",
        "image_hosts": resources["ad_policy"].image_hosts,  # the sandbox serves the product images
        **(policy or {}),
    }
    if media_dir is not None:
        settings["media_dir"] = str(media_dir)
    resources["ad_policy"] = AdPolicyResource(**settings)
    return dg.Definitions.merge(discovery_defs, ads_defs, dg.Definitions(resources=resources))


@dataclass
class AnalyticsRecompute:
    seconds: dict[str, float] = field(default_factory=dict)  # per step, in the order they ran
    failed_checks: list[str] = field(default_factory=list)


def recompute_analytics(
    url: str, first: date, last: date, instance: dg.DagsterInstance | None = None
) -> AnalyticsRecompute:
    """As production runs it: the daily assets over [first, last] as one run (`analytics_daily_job`'s
    single-run backfill), then the snapshots (`analytics_job`), each with its asset checks."""
    return _recompute(
        list(analytics.DAILY_ASSETS),
        [analytics.kpis, analytics.top_products, analytics.ad_performance],
        list(dg.load_asset_checks_from_modules([analytics_checks])),
        {"store_db": StoreDatabase(url=url), "pricing": PricingPolicy()},
        first,
        last,
        instance or dg.DagsterInstance.ephemeral(),
    )


def recompute_floor(
    first: date, last: date, instance: dg.DagsterInstance | None = None
) -> AnalyticsRecompute:
    """`recompute_analytics` with every asset and check a stand-in that does nothing but what Dagster
    records: the same keys, partitions, backfill policy and checks, and each partition's metadata of the
    same shape. What the recompute costs before it reads a row (one planned and one materialisation event
    per day per daily asset), run the same way on the same kind of instance."""
    real_daily = list(analytics.DAILY_ASSETS)
    real_snapshots = [analytics.kpis, analytics.top_products, analytics.ad_performance]
    real_checks = list(dg.load_asset_checks_from_modules([analytics_checks]))
    return _recompute(
        [_stand_in(asset) for asset in real_daily],
        [_stand_in(asset) for asset in real_snapshots],
        [_stand_in_check(spec) for checks in real_checks for spec in checks.check_specs],
        {},
        first,
        last,
        instance or dg.DagsterInstance.ephemeral(),
    )


def _stand_in(real: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=real.key,
        partitions_def=real.partitions_def,
        backfill_policy=real.backfill_policy,
        group_name="analytics",
    )
    def stand_in(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        if context.has_partition_key_range:
            for key in context.partition_keys:  # as `assets.record_partitions`: figures and the day's read
                figures = {"orders": 1, "revenue": 1.0, "ad_spend": 1.0, "profit": 1.0}
                read = {"computed_at": key, "days": {key: {"orders": 1, "sales_cents": 1}}}
                context.add_asset_metadata(
                    {**figures, "ledger_read": dg.MetadataValue.json(read)}, partition_key=key
                )
        return dg.MaterializeResult()

    return stand_in


def _stand_in_check(spec: dg.AssetCheckSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=spec.asset_key, name=spec.name, blocking=spec.blocking)
    def stand_in() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    return stand_in


def _recompute(
    daily: list[dg.AssetsDefinition],
    snapshots: list[dg.AssetsDefinition],
    checks: list[dg.AssetChecksDefinition],
    resources: dict[str, Any],
    first: date,
    last: date,
    instance: dg.DagsterInstance,
) -> AnalyticsRecompute:
    outcome = AnalyticsRecompute()
    started = time.perf_counter()
    daily_result = dg.materialize(
        [*daily, *checks],
        resources=resources,
        instance=instance,
        selection=dg.AssetSelection.assets(*daily),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    outcome.seconds["daily (sales + profit, all days)"] = time.perf_counter() - started
    started = time.perf_counter()
    snapshot_result = dg.materialize(
        [*daily, *snapshots, *checks],
        resources=resources,
        instance=instance,
        selection=dg.AssetSelection.assets(*snapshots),
    )
    outcome.seconds["snapshots (kpis, top products, ads)"] = time.perf_counter() - started
    outcome.failed_checks = [
        evaluation.check_name
        for result in (daily_result, snapshot_result)
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    return outcome


@contextmanager
def built_resources(*names: str) -> Iterator[Any]:
    """The named resources of `build_resources()`, initialised from the current environment, for calling
    clients and services outside a run (`built.shopify`, `built.supplier`, ...)."""
    resources = build_resources()
    with dg.build_resources({name: resources[name] for name in names}) as built:
        yield built


def subscribe_webhooks(store_url: str, base_url: str) -> list[Any]:
    """What the pipelines do at start: subscribe the receiver at `base_url` to every topic they consume
    (the sandbox, like Shopify and CJ, delivers only to subscribed URLs)."""
    from dropship_pipelines.services.webhook_subscriptions import ensure_webhooks
    from dropship_pipelines.store.database import get_engine

    with built_resources("shopify", "supplier") as built:
        return ensure_webhooks(get_engine(store_url), built.shopify, built.supplier, base_url=base_url)
