"""Guards of the ads workflow; the blocking ones stand between a bug and the ad budget."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.assets.ads.assets import ad_campaigns, ad_creatives, ad_metrics, ad_optimizations
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store import creative_test_queries as ct_q


def _over_cap(store_db: StoreDatabase, ad_policy: AdPolicyResource) -> dg.AssetCheckResult:
    """The figures compared are stated as money (the UI showed the bare float `cap` empty): the cap, the
    highest live budget, and the campaigns over the cap."""
    cap = ad_policy.policy().budget_cap
    with store_db.engine().connect() as conn:
        rows = q.campaigns_in_states(conn, ("active", "pending"))
    over = [r for r in rows if Decimal(r["daily_budget"]) > cap]
    highest = max((Decimal(r["daily_budget"]) for r in rows), default=None)
    return dg.AssetCheckResult(
        passed=not over,
        description=f"{len(over)} of {len(rows)} live campaigns above the ${cap:.2f} daily cap",
        metadata={
            "campaigns": len(rows),
            "over_cap": len(over),
            "cap": dg.MetadataValue.text(f"${cap:.2f} a day per campaign"),
            "highest_daily_budget": dg.MetadataValue.text(
                f"${highest:.2f}" if highest is not None else "(no live campaign)"
            ),
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
        rows = q.campaigns_in_states(conn, ("failed", "pending"))
    records = [{**r, "error": r["last_error"]} for r in rows]
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
    with store_db.engine().connect() as conn:
        records = q.impossible_metrics(conn)
        total = q.metrics_row_count(conn)
    return dg.AssetCheckResult(
        passed=not records,
        metadata={
            "rows": total,
            "impossible": len(records),
            "records": preview_table(records[:20], ("day", "platform", "campaign_id", "spend", "clicks")),
        },
    )


@dg.asset_check(
    asset=ad_optimizations,
    blocking=True,
    description="Every decided creative test's loser is paused and its winner runs; no ad set holds a "
    "third variant.",
)
def creative_test_losers_paused(store_db: StoreDatabase) -> dg.AssetCheckResult:
    with store_db.engine().connect() as conn:
        tests = ct_q.tests(conn)
        ads = ct_q.variant_ads(conn)
    wrong = []
    for (pid, platform), test in tests.items():
        variants = {v: row for (p, pl, v), row in ads.items() if (p, pl) == (pid, platform)}
        if len(variants) > 2:
            wrong.append({"pid": pid, "platform": platform, "problem": f"{len(variants)} variant ads"})
        if test["state"] != "decided":
            continue
        loser, winner = variants.get(test["loser"]) or {}, variants.get(test["winner"]) or {}
        if loser.get("state") != "paused" or winner.get("state") != "active":
            problem = (
                f"loser {test['loser']} {loser.get('state')}, winner {test['winner']} {winner.get('state')}"
            )
            wrong.append({"pid": pid, "platform": platform, "problem": problem})
    return dg.AssetCheckResult(
        passed=not wrong,
        metadata={
            "tests": len(tests),
            "decided": sum(1 for t in tests.values() if t["state"] == "decided"),
            "wrong": len(wrong),
            "records": preview_table(wrong[:20], ("pid", "platform", "problem")),
        },
    )
