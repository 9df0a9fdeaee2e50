"""Guards of the ads workflow; the blocking ones stand between a bug and the ad budget."""

from decimal import Decimal

import dagster as dg
import sqlalchemy as sa

from dropship_pipelines.assets.ads.assets import ad_campaigns, ad_creatives, ad_metrics, ad_optimizations
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store.ads_tables import ad_campaigns as campaigns_t
from dropship_pipelines.store.ads_tables import ad_metrics_daily


def _over_cap(store_db: StoreDatabase, ad_policy: AdPolicyResource) -> dg.AssetCheckResult:
    cap = ad_policy.policy().budget_cap
    with store_db.engine().connect() as conn:
        rows = conn.execute(
            sa.select(campaigns_t).where(campaigns_t.c.state.in_(("active", "pending")))
        ).all()
    over = [
        {"pid": r.pid, "platform": r.platform, "campaign_id": r.campaign_id, "daily_budget": r.daily_budget}
        for r in rows
        if Decimal(r.daily_budget) > cap
    ]
    return dg.AssetCheckResult(
        passed=not over,
        metadata={
            "campaigns": len(rows),
            "over_cap": len(over),
            "cap": float(cap),
            "records": preview_table(over[:20], ("pid", "platform", "campaign_id", "daily_budget")),
        },
    )


@dg.asset_check(
    asset=ad_campaigns, blocking=True, description="No campaign's daily budget is above the owner's cap."
)
def launch_budgets_within_cap(store_db: StoreDatabase, ad_policy: AdPolicyResource) -> dg.AssetCheckResult:
    return _over_cap(store_db, ad_policy)


@dg.asset_check(
    asset=ad_optimizations,
    blocking=True,
    description="After scaling, no campaign's daily budget is above the owner's cap.",
)
def optimized_budgets_within_cap(store_db: StoreDatabase, ad_policy: AdPolicyResource) -> dg.AssetCheckResult:
    return _over_cap(store_db, ad_policy)


@dg.asset_check(asset=ad_campaigns, description="Launches that failed, with the reason (retried next run).")
def launch_failures(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        rows = conn.execute(
            sa.select(campaigns_t).where(campaigns_t.c.state.in_(("failed", "pending")))
        ).all()
    records = [
        {
            "pid": r.pid,
            "platform": r.platform,
            "state": r.state,
            "attempts": r.attempts,
            "error": r.last_error,
        }
        for r in rows
    ]
    return dg.AssetCheckResult(
        passed=not records,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unfinished": len(records),
            "records": preview_table(records[:20], ("pid", "platform", "state", "attempts", "error")),
        },
    )


@dg.asset_check(asset=ad_creatives, description="Every listed product has a usable video ad.")
def creative_for_every_listing(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        products = q.listed_products(conn)
        made = q.creatives(conn)
    missing = [
        {"pid": p["pid"], "title": p["title"], "error": (made.get(p["pid"]) or {}).get("error")}
        for p in products
        if (made.get(p["pid"]) or {}).get("status") != "ok"
    ]
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "listed": len(products),
            "without_creative": len(missing),
            "records": preview_table(missing[:20], ("pid", "title", "error")),
        },
    )


@dg.asset_check(
    asset=ad_metrics, description="Metrics are possible: no negative money, no more clicks than impressions."
)
def ad_metrics_consistent(store_db: StoreDatabase) -> dg.AssetCheckResult:
    t = ad_metrics_daily
    with store_db.engine().connect() as conn:
        bad = conn.execute(
            sa.select(t.c.day, t.c.platform, t.c.campaign_id, t.c.spend, t.c.impressions, t.c.clicks).where(
                sa.or_(t.c.spend < 0, t.c.revenue < 0, t.c.purchases < 0, t.c.clicks > t.c.impressions)
            )
        ).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0
    records = [dict(r._mapping) for r in bad]
    return dg.AssetCheckResult(
        passed=not records,
        metadata={
            "rows": total,
            "impossible": len(records),
            "records": preview_table(records[:20], ("day", "platform", "campaign_id", "spend", "clicks")),
        },
    )
