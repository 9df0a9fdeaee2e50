"""Ads: a video ad and a campaign per platform for every new listing; daily metrics; budget optimisation."""

import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.cadence import AD_REPORT_DAYS
from dropship_pipelines.media.video_ad import VideoAdSpec, render_video_ad
from dropship_pipelines.resources.ad_platforms import AdPlatform, AdText
from dropship_pipelines.resources.ad_policy import AdPolicy
from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource
from dropship_pipelines.rules.ad_copy import (
    AD_COPY_SYSTEM_PROMPT,
    CALLS_TO_ACTION,
    AdCopy,
    ad_copy_facts,
    ad_copy_prompt,
    content_hash,
    copy_problems,
)
from dropship_pipelines.rules.ad_metrics import CampaignDay
from dropship_pipelines.rules.ad_rules import CampaignState, DayResult, decide
from dropship_pipelines.store import ads_queries as q

GROUP = "ads"
OWNERS = ["team:growth"]
STORE_LISTINGS = dg.AssetKey("store_listings")
PLATFORMS = ("meta", "tiktok")
TOKEN_CODES = {190, 2500, 40101, 40102, 40104, 40105}
_PID = re.compile(r"pid:([A-Za-z0-9-]+)")


def pid_from_name(name: str) -> str | None:
    match = _PID.search(name or "")
    return match.group(1) if match else None


def campaign_name(pid: str) -> str:
    """Deterministic, so a resumed launch finds what an interrupted one created (and the sandbox sees pid)."""
    return f"Sales pid:{pid}"


def adset_name(pid: str) -> str:
    return f"Broad US pid:{pid}"


def ad_name(pid: str) -> str:
    return f"Video ad pid:{pid}"


def _is_token_error(error: ApiError) -> bool:
    return isinstance(error, PermanentApiError) and error.code in TOKEN_CODES


class CreativeConfig(dg.Config):
    """Video settings (smaller and shorter renders are cheaper: tests use 360x640, 10 s)."""

    width: int = 720
    height: int = 1280
    duration_s: float = 12.0
    fps: int = 30
    max_per_run: int = 10  # rendering costs CPU: ~7 CPU-s per 12 s video at 720x1280
    max_attempts: int = 3  # after this many unusable answers a product waits for a human


class LaunchConfig(dg.Config):
    platforms: list[str] = list(PLATFORMS)
    max_launches_per_run: int = 50
    max_attempts: int = 5  # a launch failing this often waits for a human


class OptimizationConfig(dg.Config):
    dry_run: bool = False  # record what would be done, change nothing at the platforms


def host_allowed(url: str | httpx.URL, allowed_hosts: list[str]) -> bool:
    """http(s) to an allowed host or its subdomain (`cjdropshipping.com` admits `cf.cjdropshipping.com`)."""
    parsed = httpx.URL(str(url))
    host = (parsed.host or "").lower().rstrip(".")
    if parsed.scheme not in ("http", "https") or not host:
        return False
    return any(host == allowed or host.endswith("." + allowed) for allowed in allowed_hosts)


def _download(url: str, folder: Path, allowed_hosts: list[str]) -> Path:
    """A product image in a content-addressed cache (by URL): downloaded once, only from allowed hosts."""
    if not host_allowed(url, allowed_hosts):
        raise ValueError(f"image host not allowed: {httpx.URL(url).host or url[:80]} (see AD_IMAGE_HOSTS)")

    def refuse_other_hosts(request: httpx.Request) -> None:
        # Redirects are followed, so every hop is checked, not only the URL the supplier gave.
        if not host_allowed(request.url, allowed_hosts):
            raise ValueError(f"image redirect to a host not allowed: {request.url.host}")

    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(url.split("?")[0]).suffix or ".img"
    target = folder / (hashlib.sha256(url.encode()).hexdigest()[:32] + suffix)
    if not target.exists():
        with httpx.Client(
            timeout=30.0, follow_redirects=True, event_hooks={"request": [refuse_other_hosts]}
        ) as http:
            response = http.get(url)
        response.raise_for_status()
        partial = target.with_suffix(".part")
        partial.write_bytes(response.content)
        partial.replace(target)
    return target


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
    ad_policy: AdPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """A vertical video ad per listed product: LLM hooks, caption and call to action over its photos.

    Cached by content (product facts, images, video settings): an unchanged product is never sent to the
    model or rendered again. An unusable answer is recorded and retried next run, up to a limit."""
    engine = store_db.engine()
    media = Path(ad_policy.media_dir)
    video = {
        "width": config.width,
        "height": config.height,
        "duration_s": config.duration_s,
        "fps": config.fps,
    }
    with engine.connect() as conn:
        products = q.listed_products(conn)
        known = q.creatives(conn)
    todo, cached = [], 0
    for product in products:
        facts = ad_copy_facts(
            product["title"], product["price"], product["compare_at_price"], product["category"]
        )
        images = list(product["image_urls"] or ([product["image_url"]] if product["image_url"] else []))[:4]
        digest = content_hash(facts, {**video, "images": images})
        current = known.get(product["pid"])
        if current and current["content_hash"] == digest:
            done = current["status"] == "ok" and Path(current["video_path"] or "").exists()
            if done or current["attempts"] >= config.max_attempts:
                cached += 1
                continue
        todo.append((product, facts, images, digest, current))
    # Products that have no creative at all go first: they are waiting for their first ad.
    todo.sort(key=lambda item: item[4] is not None)
    made, failures, render_seconds = [], [], 0.0
    for product, facts, images, digest, current in todo[: config.max_per_run]:
        pid = product["pid"]
        attempts = (current["attempts"] + 1) if current and current["content_hash"] == digest else 1
        row: dict[str, Any] = {
            "pid": pid,
            "content_hash": digest,
            "attempts": attempts,
            "generated_at": q.now(),
        }
        try:
            if not images:
                raise ValueError("the listing has no product images")
            answer = llm.structured(
                system=AD_COPY_SYSTEM_PROMPT, user=ad_copy_prompt(facts), schema_name="ad_copy", output=AdCopy
            )
            copy = answer.value
            problems = copy_problems(copy, facts)
            if problems:
                raise LlmOutputError("; ".join(problems))
            paths = tuple(_download(url, media / "images", ad_policy.image_hosts) for url in images)
            hooks = tuple(h.strip() for h in copy.hooks if h.strip())
            spec = VideoAdSpec(
                image_paths=paths,
                headline=copy.headline.strip(),
                captions=hooks,
                price_text=f"${facts['price']}",
                compare_at_text=f"${facts['compare_at_price']}" if facts["compare_at_price"] else None,
                call_to_action=CALLS_TO_ACTION[copy.call_to_action],
                width=config.width,
                height=config.height,
                duration_s=config.duration_s,
                fps=config.fps,
            )
            rendered = render_video_ad(spec, media / "videos")
            render_seconds += rendered.render_seconds
            row.update(
                status="ok",
                headline=spec.headline,
                hooks=list(hooks),
                caption=copy.caption.strip(),
                call_to_action=copy.call_to_action,
                video_path=str(rendered.path),
                video_fingerprint=rendered.fingerprint,
                video_bytes=rendered.size_bytes,
                render_seconds=round(rendered.render_seconds, 2),
                model=answer.model,
                error=None,
            )
            made.append(
                {
                    "pid": pid,
                    "headline": spec.headline,
                    "cta": copy.call_to_action,
                    "video_kb": rendered.size_bytes // 1024,
                    "render_s": round(rendered.render_seconds, 1),
                }
            )
        except (LlmOutputError, ApiError, httpx.HTTPError, OSError, ValueError) as error:
            row.update(status="failed", error=str(error)[:2000])
            failures.append((pid, str(error)[:200]))
            context.log.warning("product %s: ad creative failed: %s", pid, error)
        with engine.begin() as conn:
            q.save_creative(conn, row)
    return dg.MaterializeResult(
        metadata={
            "listed_products": len(products),
            "cached": cached,
            "created": len(made),
            "failed": len(failures),
            "deferred": max(0, len(todo) - config.max_per_run),
            "render_seconds": round(render_seconds, 1),
            "failures": reasons_table(failures[:20], ("pid", "reason")),
            "new_creatives": preview_table(made[:10], ("pid", "headline", "cta", "video_kb", "render_s")),
        }
    )


def launch(
    platform: AdPlatform,
    conn_factory: Any,
    product: dict[str, Any],
    creative: dict[str, Any],
    ledger_row: dict[str, Any] | None,
    budget: Decimal,
    store_url: str,
) -> dict[str, Any]:
    """Campaign -> ad set / ad group -> video -> ad -> switch on, one ledger update after each step.

    Everything is created paused until the ad exists, so a launch interrupted half way never spends.
    A resumed launch (ledger row already there) looks each object up by its deterministic name first."""
    pid, name = product["pid"], platform.platform
    resumed = ledger_row is not None
    row = dict(ledger_row or {})
    with conn_factory() as conn:
        q.begin_launch(
            conn,
            {
                "pid": pid,
                "platform": name,
                "state": "pending",
                "daily_budget": row.get("daily_budget") or budget,
                "campaign_name": campaign_name(pid),
                "creative_fingerprint": creative["video_fingerprint"],
                "last_error": None,
            },
        )
    budget = Decimal(str(row.get("daily_budget") or budget))

    def save(**values: Any) -> None:
        row.update(values)
        with conn_factory() as conn:
            q.update_launch(conn, pid, name, **values)

    if not row.get("campaign_id"):
        save(campaign_id=platform.create_campaign(campaign_name(pid), look_first=resumed))
    if not row.get("adset_id"):
        save(adset_id=platform.create_adset(row["campaign_id"], adset_name(pid), budget, look_first=resumed))
    if not row.get("video_id"):
        save(
            video_id=platform.upload_video(
                Path(creative["video_path"]), f"{pid}-{creative['video_fingerprint'][:12]}"
            )
        )
    if not row.get("ad_id"):
        text = AdText(
            headline=creative["headline"],
            message=creative["caption"],
            call_to_action=creative["call_to_action"],
            link=f"{store_url.rstrip('/')}/products/{product['handle']}",
            thumbnail_url=product["image_url"],
        )
        save(
            ad_id=platform.create_ad(row["adset_id"], ad_name(pid), row["video_id"], text, look_first=resumed)
        )
    platform.set_campaign_active(row["campaign_id"], True)
    save(state="active", launched_at=q.now(), last_error=None)
    return row


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
    ad_policy: AdPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """A live campaign on Meta and on TikTok for every listed product that has a video ad.

    Idempotent: the ledger row is written before each create, and a resumed launch looks its campaign,
    ad set and ad up by their deterministic names at the platform before creating them, so a product
    never gets a second campaign. Expired credentials stop that platform (and fail the run by name)."""
    engine = store_db.engine()
    platforms: dict[str, AdPlatform] = {"meta": meta_ads, "tiktok": tiktok_ads}
    unknown = set(config.platforms) - set(platforms)
    if unknown:
        raise dg.Failure(f"unknown ad platforms in config: {sorted(unknown)}; use {sorted(platforms)}")
    with engine.connect() as conn:
        products = q.listed_products(conn)
        creatives = q.creatives(conn)
        ledger = q.ledger(conn)
    work = []
    for product in products:
        creative = creatives.get(product["pid"])
        if not creative or creative["status"] != "ok" or not creative["video_path"]:
            continue
        for platform in config.platforms:
            row = ledger.get((product["pid"], platform))
            if row and (row["state"] in ("active", "paused") or row["attempts"] >= config.max_attempts):
                continue
            work.append((product, creative, platform, row))
    launched, failures, broken = [], [], {}
    for product, creative, platform, row in work[: config.max_launches_per_run]:
        if platform in broken:
            continue
        try:
            result = launch(
                platforms[platform],
                engine.begin,
                product,
                creative,
                row,
                ad_policy.launch_budget(platform),
                ad_policy.store_url,
            )
        except ApiError as error:
            state = "failed" if isinstance(error, PermanentApiError) else "pending"
            with engine.begin() as conn:
                q.update_launch(conn, product["pid"], platform, state=state, last_error=str(error)[:2000])
            failures.append((f"{platform}:{product['pid']}", str(error)[:200]))
            context.log.warning("product %s on %s: launch failed: %s", product["pid"], platform, error)
            if _is_token_error(error):
                broken[platform] = str(error)
            continue
        launched.append(
            {
                "pid": product["pid"],
                "platform": platform,
                "campaign_id": result["campaign_id"],
                "daily_budget": str(result.get("daily_budget") or ""),
            }
        )
        context.log.info(
            "product %s: live on %s as campaign %s", product["pid"], platform, result["campaign_id"]
        )
    with engine.connect() as conn:
        states: dict[str, int] = {}
        for row in q.ledger(conn).values():
            states[row["state"]] = states.get(row["state"], 0) + 1
    if broken:
        # The run fails loudly (credentials need a human), after the other platform's launches are done.
        raise dg.Failure(
            description="; ".join(broken.values()),
            metadata={
                "launched": len(launched),
                "failed": len(failures),
                "platforms_stopped": sorted(broken),
            },
        )
    return dg.MaterializeResult(
        metadata={
            "launched": len(launched),
            "failed": len(failures),
            "waiting": max(0, len(work) - config.max_launches_per_run),
            "ledger_states": reasons_table(sorted(states.items()), ("state", "campaigns")),
            "failures": reasons_table(failures[:20], ("platform:pid", "reason")),
            "new_campaigns": preview_table(launched[:10], ("pid", "platform", "campaign_id", "daily_budget")),
        }
    )


def pull_campaign_days(
    platforms: list[AdPlatform], first: date, last: date
) -> tuple[dict[str, list[CampaignDay]], dict[str, str]]:
    """Each platform's campaign-days in [first, last]; a platform that fails is reported, not fatal."""
    pulled, errors = {}, {}
    for platform in platforms:
        try:
            pulled[platform.platform] = platform.campaign_days(first, last)
        except ApiError as error:
            errors[platform.platform] = str(error)
    return pulled, errors


def save_campaign_days(engine: Any, pulled: dict[str, list[CampaignDay]], first: date, last: date) -> int:
    """Normalised rows, delete-then-insert per platform and day range; returns rows written."""
    written = 0
    with engine.begin() as conn:
        pids = q.campaign_pids(conn)
        for platform, days in pulled.items():
            rows = [
                d.row(pids.get((platform, d.campaign_id)) or pid_from_name(d.campaign_name))
                for d in days
                if first <= d.day <= last
            ]
            q.replace_metrics(conn, platform, first, last, rows)
            written += len(rows)
    return written


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
    ad_policy: AdPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """What each campaign spent and earned per day on each platform, in one shape (spend, impressions,
    clicks, CTR, CPC, purchases, revenue, ROAS). One partition per reporting day; a backfill pulls its
    whole range at once. Platforms revise conversions for days afterwards, so recent days are re-pulled."""
    window = context.partition_key_range
    first, last = date.fromisoformat(window.start), date.fromisoformat(window.end)
    pulled, errors = pull_campaign_days([meta_ads, tiktok_ads], first, last)
    written = save_campaign_days(store_db.engine(), pulled, first, last)
    days = [d for rows in pulled.values() for d in rows]
    spend = sum((d.spend for d in days), Decimal(0))
    revenue = sum((d.revenue for d in days), Decimal(0))
    rule = ad_policy.rule()
    day_floor = rule.min_spend / rule.window_days  # a day's share of the spend needed to judge
    weak = sorted(
        {
            (d.platform, d.campaign_id)
            for d in days
            if d.spend >= day_floor and (d.roas or 0.0) < rule.kill_roas
        }
    )
    if errors:
        raise dg.Failure(
            description="ad metrics incomplete: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            metadata={"rows_written": written, "platforms_failed": sorted(errors)},
        )
    top = sorted(days, key=lambda d: -d.spend)[:10]
    return dg.MaterializeResult(
        metadata={
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "rows": written,
            "campaigns": len({(d.platform, d.campaign_id) for d in days}),
            "spend": float(spend),
            "revenue": float(revenue),
            "roas": round(float(revenue / spend), 3) if spend else 0.0,
            "below_kill_threshold": len(weak),
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
    deps=[ad_metrics],
)
def ad_optimizations(
    context: dg.AssetExecutionContext,
    config: OptimizationConfig,
    meta_ads: MetaAdsResource,
    tiktok_ads: TikTokAdsResource,
    ad_policy: AdPolicy,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Budget moves on measured return: pause campaigns that burn money, scale the ones that pay back.

    Every decision that changes something is recorded in `ad_actions` with its reason and numbers,
    before it is applied (dry run: only proposed). Young campaigns are left to learn."""
    engine = store_db.engine()
    rule = ad_policy.rule()
    platforms: dict[str, AdPlatform] = {"meta": meta_ads, "tiktok": tiktok_ads}
    with engine.connect() as conn:
        as_of = q.latest_metrics_day(conn)
        if as_of is None:
            return dg.MaterializeResult(metadata={"evaluated": 0, "note": "no ad metrics yet"})
        ledger = [r for r in q.ledger(conn).values() if r["campaign_id"] and r["state"] == "active"]
        metrics = q.metrics_since(conn, as_of - timedelta(days=rule.window_days + 1))
        started = q.first_delivery_days(conn)
    by_campaign: dict[tuple[str, str], list[DayResult]] = {}
    for m in metrics:
        by_campaign.setdefault((m["platform"], m["campaign_id"]), []).append(
            DayResult(m["day"], Decimal(m["spend"]), Decimal(m["revenue"]), m["purchases"])
        )
    counts = {"pause": 0, "scale": 0, "hold": 0, "failed": 0}
    actions: list[dict[str, Any]] = []
    for row in ledger:
        key = (row["platform"], row["campaign_id"])
        state = CampaignState(
            platform=row["platform"],
            campaign_id=row["campaign_id"],
            pid=row["pid"],
            active=True,
            daily_budget=Decimal(row["daily_budget"]),
            budget_changed_day=row["budget_changed_day"],
            first_delivery=started.get(key),  # the learning clock starts there, even before the window
        )
        decision = decide(state, by_campaign.get(key, []), as_of, rule)
        counts[decision.action] += 1
        if not decision.changes_something:
            continue
        record = {
            "decided_at": q.now(),
            "platform": row["platform"],
            "campaign_id": row["campaign_id"],
            "pid": row["pid"],
            "action": decision.action,
            "status": "proposed" if config.dry_run else "pending",
            "reason": decision.reason,
            "window_days": rule.window_days,
            "spend": decision.spend,
            "revenue": decision.revenue,
            "purchases": decision.purchases,
            "roas": round(decision.roas, 4) if decision.roas is not None else None,
            "old_budget": decision.old_budget,
            "new_budget": decision.new_budget,
            "run_id": context.run.run_id,
        }
        with engine.begin() as conn:
            action_id = q.record_action(conn, record)
        actions.append(record)
        if config.dry_run:
            continue
        platform = platforms[row["platform"]]
        try:
            if decision.action == "pause":
                platform.set_campaign_active(row["campaign_id"], False)
                changes: dict[str, Any] = {"state": "paused"}
            else:
                assert decision.new_budget is not None
                platform.set_daily_budget(row["adset_id"], decision.new_budget)
                changes = {"daily_budget": decision.new_budget, "budget_changed_day": as_of}
        except ApiError as error:
            counts["failed"] += 1
            record["status"] = "failed"
            with engine.begin() as conn:
                q.finish_action(conn, action_id, "failed", str(error)[:2000])
            context.log.warning("campaign %s: %s failed: %s", row["campaign_id"], decision.action, error)
            continue
        record["status"] = "applied"
        with engine.begin() as conn:
            q.update_launch(conn, row["pid"], row["platform"], **changes)
            q.finish_action(conn, action_id, "applied")
        context.log.info("campaign %s: %s (%s)", row["campaign_id"], decision.action, decision.reason)
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "evaluated": len(ledger),
            "paused": counts["pause"],
            "scaled": counts["scale"],
            "held": counts["hold"],
            "failed": counts["failed"],
            "dry_run": config.dry_run,
            "actions": preview_table(
                actions[:20],
                ("platform", "campaign_id", "action", "status", "roas", "spend", "new_budget", "reason"),
            ),
        }
    )
