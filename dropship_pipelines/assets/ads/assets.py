"""Ads: a video ad and a campaign per platform for every new listing; daily metrics; budget optimisation.

The steps each asset takes with the ledger and the platforms are in `dropship_pipelines.services.ads`;
when to pause or scale is in `dropship_pipelines.rules.ad_rules`. The services are imported by the assets
that use them: loading the code location (every `dagster job execute`, whatever its job) defines these
assets but need not import the services and what they bring (issue 16's run floor)."""

from datetime import date
from pathlib import Path

import dagster as dg

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.cadence import AD_REPORT_DAYS
from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource
from dropship_pipelines.rules.ad_metrics import totals

GROUP = "ads"
OWNERS = ["team:growth"]
STORE_LISTINGS = dg.AssetKey("store_listings")
PLATFORMS = ("meta", "tiktok")


class CreativeConfig(dg.Config):
    """Video settings (smaller and shorter renders are cheaper: tests use 360x640, 10 s)."""

    width: int = 720
    height: int = 1280
    duration_s: float = 12.0
    fps: int = 30
    max_per_run: int = 10  # rendering costs CPU: ~7 CPU-s per 12 s video at 720x1280
    max_attempts: int = 3  # after this many unusable answers a product waits for a human
    country: str = "US"  # the store's shipping terms there are the only shipping claim a caption makes


class LaunchConfig(dg.Config):
    platforms: list[str] = list(PLATFORMS)
    max_launches_per_run: int = 50
    max_attempts: int = 5  # a launch failing this often waits for a human


class OptimizationConfig(dg.Config):
    dry_run: bool = False  # record what would be done, change nothing at the platforms


@dg.asset(
    group_name=GROUP,
    kinds={"python", "openai", "video"},
    owners=OWNERS,
    pool="llm",
    deps=[STORE_LISTINGS],
)
def ad_creatives(
    context: dg.AssetExecutionContext,
    config: CreativeConfig,
    llm: LlmResource,
    ad_policy: AdPolicyResource,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """A vertical video ad per listed product: LLM hooks, caption and call to action over its photos.

    Cached by content (product facts, images, video settings): an unchanged product is never sent to the
    model or rendered again. An unusable answer is recorded and retried next run, up to a limit."""
    from dropship_pipelines.services import ads, discovery  # here: see the module docstring

    report = ads.make_creatives(
        store_db.engine(),
        llm,
        ads.VideoSettings(config.width, config.height, config.duration_s, config.fps),
        Path(ad_policy.media_dir),
        ad_policy.image_hosts,
        max_per_run=config.max_per_run,
        max_attempts=config.max_attempts,
        log=context.log,
        free_over=discovery.store_free_shipping_over(shopify, config.country),
    )
    return dg.MaterializeResult(
        metadata={
            "listed_products": report.listed_products,
            "cached": report.cached,
            "created": len(report.made),
            "failed": len(report.failures),
            "deferred": report.waiting,
            "render_seconds": round(report.render_seconds, 1),
            "failures": reasons_table(report.failures[:20], ("pid", "reason")),
            "new_creatives": preview_table(
                report.made[:10], ("pid", "headline", "cta", "video_kb", "render_s")
            ),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "meta", "tiktok"},
    owners=OWNERS,
    pool="ads",
    deps=[ad_creatives],
)
def ad_campaigns(
    context: dg.AssetExecutionContext,
    config: LaunchConfig,
    meta_ads: MetaAdsResource,
    tiktok_ads: TikTokAdsResource,
    ad_policy: AdPolicyResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """A live campaign on Meta and on TikTok for every listed product that has a video ad.

    Idempotent: the ledger row is written before each create, and a resumed launch looks its campaign,
    ad set and ad up by their deterministic names at the platform before creating them, so a product
    never gets a second campaign. Expired credentials stop that platform (and fail the run by name)."""
    from dropship_pipelines.services import ads  # here: see the module docstring

    platforms = ads.platforms_by_name(meta_ads, tiktok_ads)
    unknown = set(config.platforms) - set(platforms)
    if unknown:
        raise dg.Failure(f"unknown ad platforms in config: {sorted(unknown)}; use {sorted(platforms)}")
    report = ads.launch_campaigns(
        store_db.engine(),
        {name: platforms[name] for name in config.platforms},
        ad_policy.policy(),
        ad_policy.store_url,
        max_launches=config.max_launches_per_run,
        max_attempts=config.max_attempts,
        log=context.log,
    )
    if report.stopped:
        # The run fails loudly (credentials need a human), after the other platform's launches are done.
        raise dg.Failure(
            description="; ".join(report.stopped.values()),
            metadata={
                "launched": len(report.launched),
                "failed": len(report.failures),
                "platforms_stopped": sorted(report.stopped),
            },
        )
    return dg.MaterializeResult(
        metadata={
            "launched": len(report.launched),
            "failed": len(report.failures),
            "waiting": report.waiting,
            "challengers_added": report.challengers_added,
            "ledger_states": reasons_table(sorted(report.ledger_states.items()), ("state", "campaigns")),
            "failures": reasons_table(report.failures[:20], ("platform:pid", "reason")),
            "new_campaigns": preview_table(
                report.launched[:10], ("pid", "platform", "campaign_id", "daily_budget")
            ),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "meta", "tiktok"},
    owners=OWNERS,
    pool="ads",
    deps=[ad_campaigns],
)
def ad_purchase_events(
    context: dg.AssetExecutionContext,
    meta_ads: MetaAdsResource,
    tiktok_ads: TikTokAdsResource,
    ad_policy: AdPolicyResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """One purchase event per ad-attributed order to Meta's Conversions API and TikTok's Events API
    (event id = the order id, email and phone as SHA-256 digests), each claimed in the ledger before it is
    sent, so the platforms learn which clicks bought and optimise delivery on it."""
    from dropship_pipelines.services import ad_conversions, ads  # here: see the module docstring

    platforms = ads.platforms_by_name(meta_ads, tiktok_ads)
    report = ad_conversions.report_purchases(
        store_db.engine(),
        platforms,
        ad_policy.store_url,
        reporting_day=ads.reporting_day(platforms.values()),
        run_id=context.run.run_id,
        log=context.log,
    )
    return dg.MaterializeResult(
        metadata={
            "sent_meta": report.sent.get("meta", 0),
            "sent_tiktok": report.sent.get("tiktok", 0),
            "claimed_elsewhere": report.claimed_elsewhere,
            "failed": len(report.failures),
            "failures": reasons_table(report.failures[:20], ("platform:order", "reason")),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "meta", "tiktok"},
    owners=OWNERS,
    pool="ads",
    partitions_def=AD_REPORT_DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[ad_campaigns],
)
def ad_metrics(
    context: dg.AssetExecutionContext,
    meta_ads: MetaAdsResource,
    tiktok_ads: TikTokAdsResource,
    ad_policy: AdPolicyResource,
    pricing: PricingPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """What each campaign spent and earned per day on each platform, in one shape (spend, impressions,
    clicks, CTR, CPC, purchases, revenue, ROAS). One partition per reporting day of the ad accounts (their
    time zone, their clock: the sandbox's world may be ahead of this machine); a backfill pulls its whole
    range at once, and the latest partition also takes the days the accounts report after it. Platforms
    restate conversions for 28 days, so the hourly schedule re-pulls the accounts' last 28 days.

    `below_kill_threshold` counts the live campaigns the ad rule would pause on the metrics now stored
    (the weak-ads sensor starts the optimisation on it)."""
    from dropship_pipelines.services import ads, creative_tests  # here: see the module docstring

    window = context.partition_key_range
    first, last = date.fromisoformat(window.start), date.fromisoformat(window.end)
    engine = store_db.engine()
    platforms = [meta_ads, tiktok_ads]
    # The latest partition is open-ended: it also takes the days the ad accounts report after it (their
    # clock, as the sandbox's world, may be ahead of this machine's date).
    if window.end == AD_REPORT_DAYS.get_last_partition_key():
        last = max(last, ads.reporting_day(platforms))
    pulled, errors = ads.pull_campaign_days(platforms, first, last)
    written = ads.save_campaign_days(engine, pulled, first, last)
    # Each ad's own numbers too: the creative tests judge the two variants of a product on them.
    ad_pulled, ad_errors = creative_tests.pull_ad_days(platforms, first, last)
    ad_rows = creative_tests.save_ad_days(engine, ad_pulled, first, last)
    errors |= {f"{name} (per ad)": error for name, error in ad_errors.items()}
    if errors:
        raise dg.Failure(
            description="ad metrics incomplete: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            metadata={"rows_written": written, "platforms_failed": sorted(errors)},
        )
    with engine.connect() as conn:
        to_pause = ads.judge_campaigns(conn, ad_policy.policy(), pricing.rule()).count("pause")
    days = [d for rows in pulled.values() for d in rows]
    pulled_totals = totals(days)
    top = sorted(days, key=lambda d: -d.spend)[:10]
    return dg.MaterializeResult(
        metadata={
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "rows": written,
            "campaigns": pulled_totals.campaigns,
            "spend": float(pulled_totals.spend),
            "revenue": float(pulled_totals.revenue),
            "roas": pulled_totals.roas,
            "below_kill_threshold": to_pause,
            "ad_rows": ad_rows,
            "preview": preview_table(
                [{**d.row(None), "platform": d.platform} for d in top],
                ("day", "platform", "campaign_id", "spend", "clicks", "purchases", "revenue", "roas"),
            ),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "meta", "tiktok"},
    owners=OWNERS,
    pool="ads",
    deps=[ad_metrics, ad_purchase_events],  # judged after the purchases are reported (and restated)
)
def ad_optimizations(
    context: dg.AssetExecutionContext,
    config: OptimizationConfig,
    meta_ads: MetaAdsResource,
    tiktok_ads: TikTokAdsResource,
    ad_policy: AdPolicyResource,
    pricing: PricingPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Budget moves on each product's margin: pause campaigns under their product's breakeven ROAS, scale
    the ones well above it (at most 20 % a step), pause the ads of unpublished products and resume them on
    re-publish, and revive a campaign whose kill the restated metrics prove wrong.

    Every decision that changes something is recorded in `ad_actions` with its reason and numbers,
    before it is applied (dry run: only proposed). Campaigns still learning (counted in conversions since
    their last significant edit) are left alone."""
    from dropship_pipelines.services import ads, creative_tests  # here: see the module docstring

    report = ads.optimise_campaigns(
        store_db.engine(),
        ads.platforms_by_name(meta_ads, tiktok_ads),
        ad_policy.policy(),
        dry_run=config.dry_run,
        run_id=context.run.run_id,
        log=context.log,
        rule=pricing.rule(),
    )
    # Creative tests: each product's losing variant is paused once the difference is significant.
    tests = creative_tests.decide_tests(
        store_db.engine(),
        ads.platforms_by_name(meta_ads, tiktok_ads),
        ad_policy.policy(),
        as_of=report.as_of,
        dry_run=config.dry_run,
        run_id=context.run.run_id,
        log=context.log,
    )
    if report.as_of is None:
        return dg.MaterializeResult(metadata={"evaluated": 0, "note": "no ad metrics yet"})
    return dg.MaterializeResult(
        metadata={
            "creative_tests_running": tests.running,
            "creative_tests_decided": len(tests.decided),
            "creative_tests_failed": len(tests.failures),
            "creative_test_decisions": preview_table(
                tests.decided[:20], ("test", "winner", "loser", "p_value")
            ),
            "as_of": report.as_of.isoformat(),
            "evaluated": report.evaluated,
            "paused": report.counts["pause"],
            "scaled": report.counts["scale"],
            "resumed": report.counts["resume"],
            "held": report.counts["hold"],
            "failed": report.counts["failed"],
            "dry_run": config.dry_run,
            "actions": preview_table(
                report.actions[:20],
                ("platform", "campaign_id", "action", "status", "roas", "spend", "new_budget", "reason"),
            ),
        }
    )
