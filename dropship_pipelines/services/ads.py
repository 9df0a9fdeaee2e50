"""The ads workflow's ledger protocol: what is claimed in the store database before each platform write,
what is asked of the platforms, and how a run that died half way is resolved.

- Creatives: one row per listed product, keyed by what it was made from (product facts, images, video
  settings); an unchanged product is never sent to the model or rendered again. A failure is recorded
  with its reason and retried next run, up to a limit.
- Launch, per product and platform: the ledger row is claimed (`pending`, attempts + 1) before anything
  is created. Campaign, ad set / ad group, video and ad are created in that order, each id written to the
  ledger as soon as the platform returns it, all paused until the ad exists, so a launch interrupted half
  way never spends. A resumed launch (a ledger row already there) first looks up, by its deterministic
  name (`find_*`), every object the ledger has no id for: a crash between the platform's create and our
  ledger write leaves no second campaign. Several products' launches run at once (`LAUNCHES_IN_FLIGHT`),
  each its own chain in this order: the claim protocol is per launch, so overlap changes only when.
- Launch claims: the first launch of a product on a platform INSERTs its ledger row (a second run's INSERT
  loses); a retry takes the row by compare-and-set on `attempts`, and never while another run's launch is
  in flight (a `pending` row without an error, younger than `LAUNCH_LEASE`). Whatever instance, process
  or button started the run, one run creates the campaign.
- Budget and status changes: claimed by compare-and-set on the campaign's ledger row (a pause takes an
  active campaign; a scale takes one whose last budget change is the one judged) together with the
  decision in `ad_actions` (`pending`), then resolved `applied` or `failed` (the ledger row restored).
  The platform writes are absolute (a status, a budget), so a change whose run died in between is
  resolved by making the write again at the next optimisation.
- Metrics: delete-then-insert per platform and day range, so re-pulls and backfills are idempotent.

A platform that refuses our credentials (`AdPlatformAuthError`) is stopped for the rest of the run.
"""

import fnmatch
import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.resources import host_map
from dropship_pipelines.resources.ad_platforms import AdPlatform, AdPlatformAuthError, AdText
from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource
from dropship_pipelines.rules.ad_copy import (
    AD_COPY_SYSTEM_PROMPT,
    CALLS_TO_ACTION,
    MAX_CAPTION,
    AdCopy,
    ad_copy_facts,
    ad_copy_prompt,
    content_hash,
    copy_problems,
)
from dropship_pipelines.rules.ad_metrics import CampaignDay
from dropship_pipelines.rules.ad_rules import AdPolicy, CampaignState, DayResult, Decision, decide
from dropship_pipelines.rules.creative_tests import CHALLENGER, plan_variants
from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.rules.shipping_claims import caption_with_claim
from dropship_pipelines.services import creative_tests
from dropship_pipelines.services.in_flight import each_in_flight
from dropship_pipelines.settings import sandbox_host_map
from dropship_pipelines.store import ad_margin_queries as margin_q
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store import creative_test_queries as ct_q

if TYPE_CHECKING:  # the renderer is imported where a video is made: see `make_creative`
    from dropship_pipelines.media.video_ad import VideoAdSpec

Row = dict[str, Any]
# Launches in flight at once across products and platforms: enough that each platform's pacer, not one
# launch's round trips and ledger writes, bounds the rate (each launch's own steps stay in order).
LAUNCHES_IN_FLIGHT = 6
_PID = re.compile(r"pid:([A-Za-z0-9-]+)")


# --- names: deterministic, so a resumed launch finds what an interrupted one created --------------------
def campaign_name(pid: str) -> str:
    """The product id is in every name: the resume looks objects up by it (and the sandbox reads it)."""
    return f"Sales pid:{pid}"


def adset_name(pid: str) -> str:
    return f"Broad US pid:{pid}"


def ad_name(pid: str) -> str:
    return f"Video ad pid:{pid}"


def pid_from_name(name: str) -> str | None:
    match = _PID.search(name or "")
    return match.group(1) if match else None


def platforms_by_name(*platforms: AdPlatform) -> dict[str, AdPlatform]:
    return {platform.platform: platform for platform in platforms}


# --- creatives -----------------------------------------------------------------------------------------
def host_matches(host: str, pattern: str) -> bool:
    """A host against one allow-list entry, label by label: `*.cjdropshipping.com` admits
    `cf.cjdropshipping.com` (a `*` never spans a dot); a plain name also admits its subdomains."""
    labels, wanted = host.split("."), pattern.lower().rstrip(".").split(".")
    if not any(ch in pattern for ch in "*?["):
        return labels[-len(wanted) :] == wanted
    if len(labels) != len(wanted):
        return False
    return all(fnmatch.fnmatchcase(label, want) for label, want in zip(labels, wanted, strict=True))


def host_allowed(url: str | httpx.URL, allowed_hosts: list[str]) -> bool:
    """http(s) to a host the allow-list admits (`host_matches`)."""
    parsed = httpx.URL(str(url))
    host = (parsed.host or "").lower().rstrip(".")
    if parsed.scheme not in ("http", "https") or not host:
        return False
    return any(host_matches(host, allowed) for allowed in allowed_hosts)


def download_image(url: str, folder: Path, allowed_hosts: list[str]) -> Path:
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
            timeout=30.0,
            follow_redirects=True,
            event_hooks={"request": [refuse_other_hosts]},
            transport=host_map.transport(sandbox_host_map()),  # sandbox mode: its stand-in image hosts
        ) as http:
            response = http.get(url)
        response.raise_for_status()
        partial = target.with_suffix(".part")
        partial.write_bytes(response.content)
        partial.replace(target)
    return target


@dataclass(frozen=True)
class VideoSettings:
    """Part of what a creative is made from: changing any of these makes every creative anew."""

    width: int
    height: int
    duration_s: float
    fps: int


@dataclass(frozen=True)
class CreativeWork:
    """A listed product whose creative is missing, stale or failed (and not yet given up on)."""

    product: Row
    facts: dict[str, Any]
    images: list[str]
    digest: str
    current: Row | None

    @property
    def attempts(self) -> int:
        """This attempt's number: failures count up only while the product stays the same."""
        if self.current is None or self.current["content_hash"] != self.digest:
            return 1
        return self.current["attempts"] + 1


@dataclass
class CreativesReport:
    listed_products: int = 0
    cached: int = 0
    waiting: int = 0  # beyond this run's limit
    made: list[Row] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    render_seconds: float = 0.0


def creative_work(
    products: list[Row],
    known: Mapping[str, Row],
    video: VideoSettings,
    max_attempts: int,
    free_over: Decimal | None = None,
) -> tuple[list[CreativeWork], int]:
    """(work, cached): products without a creative first, as they wait for their first ad. `free_over`
    (the store's free_shipping_over) is a fact of each: its caption's shipping claim is rendered from it."""
    work, cached = [], 0
    for product in products:
        facts = ad_copy_facts(
            product["title"],
            product["price"],
            product["compare_at_price"],
            product["category"],
            free_shipping_over=free_over,
        )
        images = list(product["image_urls"] or ([product["image_url"]] if product["image_url"] else []))[:4]
        digest = content_hash(facts, {**asdict(video), "images": images})
        current = known.get(product["pid"])
        if current and current["content_hash"] == digest:
            done = current["status"] == "ok" and Path(current["video_path"] or "").exists()
            if done or current["attempts"] >= max_attempts:
                cached += 1
                continue
        work.append(CreativeWork(product, facts, images, digest, current))
    work.sort(key=lambda item: item.current is not None)
    return work, cached


def _free_over(facts: dict[str, Any]) -> Decimal | None:
    value = facts.get("free_shipping_over")
    return None if value is None else Decimal(value)


def make_creative(
    work: CreativeWork, llm: LlmResource, video: VideoSettings, media: Path, image_hosts: list[str]
) -> Row:
    """Ask the model for the copy, check it, render the video: the creative's row (ok, with its video)."""
    if not work.images:
        raise ValueError("the listing has no product images")
    answer = llm.structured(
        system=AD_COPY_SYSTEM_PROMPT, user=ad_copy_prompt(work.facts), schema_name="ad_copy", output=AdCopy
    )
    copy = answer.value
    problems = copy_problems(copy, work.facts)
    if problems:
        raise LlmOutputError("; ".join(problems))
    # Imported here, not at module level: the renderer brings PIL, numpy and ffmpeg's locator, and loading
    # the code location (every `dagster job execute`, whatever its job) imports this module.
    from dropship_pipelines.media.video_ad import VideoAdSpec, render_video_ad

    paths = tuple(download_image(url, media / "images", image_hosts) for url in work.images)
    hooks = tuple(h.strip() for h in copy.hooks if h.strip())
    compare_at = work.facts["compare_at_price"]
    spec = VideoAdSpec(
        image_paths=paths,
        headline=copy.headline.strip(),
        captions=hooks,
        price_text=f"${work.facts['price']}",
        compare_at_text=f"${compare_at}" if compare_at else None,
        call_to_action=CALLS_TO_ACTION[copy.call_to_action],
        width=video.width,
        height=video.height,
        duration_s=video.duration_s,
        fps=video.fps,
    )
    rendered = render_video_ad(spec, media / "videos")
    challenger = render_challenger(spec, hooks, media)
    return {
        "challenger": challenger,
        "status": "ok",
        "headline": spec.headline,
        "hooks": list(hooks),
        "caption": caption_with_claim(copy.caption, _free_over(work.facts), MAX_CAPTION),
        "call_to_action": copy.call_to_action,
        "video_path": str(rendered.path),
        "video_fingerprint": rendered.fingerprint,
        "video_bytes": rendered.size_bytes,
        "render_seconds": round(rendered.render_seconds, 2),
        "model": answer.model,
        "error": None,
    }


def render_challenger(control: "VideoAdSpec", hooks: tuple[str, ...], media: Path) -> Row:
    """The creative test's challenger (price-first, `rules.creative_tests.plan_variants`) of a control
    just rendered: its row for `ad_creative_variants` (failed, with the reason, if it cannot be made; the
    control still runs alone then)."""
    from dropship_pipelines.media.video_ad import render_video_ad  # see `make_creative`

    row: Row = {"variant": CHALLENGER, "opening": "price", "generated_at": q.now()}
    try:
        _, plan = plan_variants(control.headline, hooks, len(control.image_paths))
        spec = replace(
            control,
            image_paths=plan.images(control.image_paths),
            headline=plan.headline,
            captions=plan.captions,
            opening=plan.opening,
        )
        rendered = render_video_ad(spec, media / "videos")
    except (OSError, ValueError) as error:
        return {**row, "status": "failed", "error": str(error)[:2000]}
    return {
        **row,
        "status": "ok",
        "opening": plan.opening,
        "headline": plan.headline,
        "hooks": list(plan.captions),
        "video_path": str(rendered.path),
        "video_fingerprint": rendered.fingerprint,
        "video_bytes": rendered.size_bytes,
        "render_seconds": round(rendered.render_seconds, 2),
        "error": None,
    }


def make_creatives(
    engine: Engine,
    llm: LlmResource,
    video: VideoSettings,
    media: Path,
    image_hosts: list[str],
    *,
    max_per_run: int,
    max_attempts: int,
    log: logging.Logger,
    free_over: Decimal | None = None,
) -> CreativesReport:
    """A creative for each listed product that needs one, each recorded (ok or failed) as it is done."""
    with engine.connect() as conn:
        products = q.listed_products(conn)
        known = q.creatives(conn)
    work, cached = creative_work(products, known, video, max_attempts, free_over)
    report = CreativesReport(
        listed_products=len(products), cached=cached, waiting=max(0, len(work) - max_per_run)
    )
    for item in work[:max_per_run]:
        pid = item.product["pid"]
        row: Row = {
            "pid": pid,
            "content_hash": item.digest,
            "attempts": item.attempts,
            "generated_at": q.now(),
        }
        challenger: Row | None = None
        try:
            row.update(make_creative(item, llm, video, media, image_hosts))
            challenger = row.pop("challenger", None)
        except (LlmOutputError, ApiError, httpx.HTTPError, OSError, ValueError) as error:
            row.update(status="failed", error=str(error)[:2000])
            report.failures.append((pid, str(error)[:200]))
            log.warning("product %s: ad creative failed: %s", pid, error)
        else:
            report.render_seconds += row["render_seconds"]
            report.made.append(
                {
                    "pid": pid,
                    "headline": row["headline"],
                    "cta": row["call_to_action"],
                    "video_kb": row["video_bytes"] // 1024,
                    "render_s": round(row["render_seconds"], 1),
                }
            )
        with engine.begin() as conn:
            q.save_creative(conn, row)
            if challenger is not None:  # made from the same copy: keyed by the control's content hash
                ct_q.save_variant_creative(conn, {**challenger, "pid": pid, "content_hash": item.digest})
        if challenger is not None:
            report.render_seconds += challenger.get("render_seconds") or 0.0
    return report


# --- launch --------------------------------------------------------------------------------------------
def _found_or_created(find: Callable[[], str | None], create: Callable[[], str], resumed: bool) -> str:
    """After a crash the platform may hold an object the ledger has no id for: look it up first."""
    return (find() if resumed else None) or create()


def launch(
    platform: AdPlatform,
    engine: Engine,
    product: Row,
    creative: Row,
    ledger_row: Row | None,
    budget: Decimal,
    store_url: str,
    challenger: Row | None = None,
) -> Row | None:
    """Campaign -> ad set / ad group -> video -> ad (-> the creative test's challenger ad beside it) ->
    switch on, one ledger update after each step.

    None: another run (of any instance) holds this launch's claim, and nothing was asked of the platform."""
    pid, name = product["pid"], platform.platform
    resumed = ledger_row is not None
    row = dict(ledger_row or {})
    with engine.begin() as conn:
        claimed = q.claim_launch(
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
            ledger_row,
        )
    if not claimed:
        return None
    budget = Decimal(str(row.get("daily_budget") or budget))

    def save(**values: Any) -> None:
        row.update(values)
        with engine.begin() as conn:
            q.update_launch(conn, pid, name, **values)

    if not row.get("campaign_id"):
        save(
            campaign_id=_found_or_created(
                lambda: platform.find_campaign(campaign_name(pid)),
                lambda: platform.create_campaign(campaign_name(pid)),
                resumed,
            )
        )
    if not row.get("adset_id"):
        save(
            adset_id=_found_or_created(
                lambda: platform.find_adset(row["campaign_id"], adset_name(pid)),
                lambda: platform.create_adset(row["campaign_id"], adset_name(pid), budget),
                resumed,
            )
        )
    if not row.get("video_id"):
        # An uploaded video alone never spends: uploading it again after a crash is harmless.
        fingerprint = creative["video_fingerprint"]
        save(video_id=platform.upload_video(Path(creative["video_path"]), f"{pid}-{fingerprint[:12]}"))
    if not row.get("ad_id"):
        text = AdText(
            headline=creative["headline"],
            message=creative["caption"],
            call_to_action=creative["call_to_action"],
            link=f"{store_url.rstrip('/')}/products/{product['handle']}",
            thumbnail_url=product["image_url"],
        )
        save(
            ad_id=_found_or_created(
                lambda: platform.find_ad(row["adset_id"], ad_name(pid)),
                lambda: platform.create_ad(row["adset_id"], ad_name(pid), row["video_id"], text),
                resumed,
            )
        )
    # Both variants start together (services/creative_tests.py claims the challenger's ad).
    creative_tests.add_challenger(platform, engine, product, row, creative, challenger, store_url)
    platform.set_campaign_active(row["campaign_id"], True)
    save(state="active", launched_at=q.now(), last_error=None)
    return row


@dataclass
class LaunchReport:
    launched: list[Row] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)  # platform -> why (its credentials)
    waiting: int = 0  # beyond this run's limit
    claimed_elsewhere: int = 0  # launches another run held the claim of
    challengers_added: int = 0  # creative tests' challenger ads added to live campaigns
    ledger_states: dict[str, int] = field(default_factory=dict)


def launch_work(
    conn: Connection, platform_names: Iterable[str], max_attempts: int
) -> list[tuple[Row, Row, str, Row | None]]:
    """(product, creative, platform, ledger row) for every listed product with a video ad that is not
    live on a platform yet, and has not failed there `max_attempts` times."""
    products = q.listed_products(conn)
    creatives = q.creatives(conn)
    ledger = q.ledger(conn)
    work = []
    for product in products:
        creative = creatives.get(product["pid"])
        if not creative or creative["status"] != "ok" or not creative["video_path"]:
            continue
        for platform in platform_names:
            row = ledger.get((product["pid"], platform))
            if row and (row["state"] in ("active", "paused") or row["attempts"] >= max_attempts):
                continue
            work.append((product, creative, platform, row))
    return work


def launch_campaigns(
    engine: Engine,
    platforms: Mapping[str, AdPlatform],
    policy: AdPolicy,
    store_url: str,
    *,
    max_launches: int,
    max_attempts: int,
    log: logging.Logger,
) -> LaunchReport:
    """Launch what `launch_work` finds on `platforms`, up to `max_launches`; one failure stops only its
    launch, refused credentials stop their platform."""
    with engine.connect() as conn:
        work = launch_work(conn, platforms, max_attempts)
        challengers = ct_q.variant_creatives(conn)
    report = LaunchReport(waiting=max(0, len(work) - max_launches))
    lock = threading.Lock()  # the report, written by every launch in flight

    def launch_one(item: tuple[Row, Row, str, Row | None]) -> None:
        product, creative, name, row = item
        with lock:
            if name in report.stopped:
                return
        pid = product["pid"]
        try:
            result = launch(
                platforms[name],
                engine,
                product,
                creative,
                row,
                policy.launch_budget(name),
                store_url,
                challengers.get((pid, CHALLENGER)),
            )
        except ApiError as error:
            state = "failed" if isinstance(error, PermanentApiError) else "pending"
            with engine.begin() as conn:
                q.update_launch(conn, pid, name, state=state, last_error=str(error)[:2000])
            with lock:
                report.failures.append((f"{name}:{pid}", str(error)[:200]))
                if isinstance(error, AdPlatformAuthError):
                    report.stopped[name] = str(error)
            log.warning("product %s on %s: launch failed: %s", pid, name, error)
            return
        if result is None:
            with lock:
                report.claimed_elsewhere += 1
            log.info("product %s on %s: another run is launching it", pid, name)
            return
        with lock:
            report.launched.append(
                {
                    "pid": pid,
                    "platform": name,
                    "campaign_id": result["campaign_id"],
                    "daily_budget": str(result.get("daily_budget") or ""),
                }
            )
        log.info("product %s: live on %s as campaign %s", pid, name, result["campaign_id"])

    # Several products' launches at once, each its own chain (claim, then every step in order): one
    # launch's round trips and ledger writes no longer idle the platform's pacer, which alone bounds the
    # rate. Refused credentials stop only the launches not yet started on that platform.
    each_in_flight(launch_one, work[:max_launches], at_once=LAUNCHES_IN_FLIGHT)
    live = {name: p for name, p in platforms.items() if name not in report.stopped}
    report.challengers_added = creative_tests.launch_challengers(
        engine, live, store_url, max_attempts=max_attempts, log=log
    )
    with engine.connect() as conn:
        report.ledger_states = dict(Counter(row["state"] for row in q.ledger(conn).values()))
    return report


# --- metrics -------------------------------------------------------------------------------------------
def pull_campaign_days(
    platforms: Iterable[AdPlatform], first: date, last: date
) -> tuple[dict[str, list[CampaignDay]], dict[str, str]]:
    """Each platform's campaign-days in [first, last]; a platform that fails is reported, not fatal."""
    pulled, errors = {}, {}
    for platform in platforms:
        try:
            pulled[platform.platform] = platform.campaign_days(first, last)
        except ApiError as error:
            errors[platform.platform] = str(error)
    return pulled, errors


def reporting_day(platforms: Iterable[AdPlatform]) -> date:
    """The latest of the ad accounts' todays (each in its time zone, by the platform's clock): the last
    day there is data for. A platform that cannot say is left out; none: this machine's UTC date."""
    days = []
    for platform in platforms:
        try:
            days.append(platform.reporting_day())
        except ApiError as error:
            logging.getLogger(__name__).warning("%s: reporting day unknown: %s", platform.platform, error)
    return max(days, default=datetime.now(UTC).date())


def save_campaign_days(
    engine: Engine, pulled: Mapping[str, list[CampaignDay]], first: date, last: date
) -> int:
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


# --- optimisation --------------------------------------------------------------------------------------
def unpublished_products(conn: Connection, pids: Iterable[str]) -> set[str]:
    """The products of `pids` that are not on sale at the store: their ads must not spend.

    The catalog sync says which listings it took off sale (`store.catalog_queries.unpublished_pids`); a
    product whose listing is gone or no longer `listed` is not on sale either."""
    pids = sorted(set(pids))
    try:
        from dropship_pipelines.store import catalog_queries  # the catalog sync's own query
    except ImportError:
        catalog_queries = None
    finder = getattr(catalog_queries, "unpublished_pids", None)
    off_sale = set(finder(conn)) if finder is not None else set()
    states = margin_q.listing_states(conn, pids)
    return {pid for pid in pids if pid in off_sale or states.get(pid) != "listed"}


@dataclass(frozen=True)
class Judgement:
    """The ad rule's decision for every launched campaign, on the metrics up to `as_of`."""

    as_of: date | None  # the latest reporting day with metrics; None before any
    decisions: list[tuple[Row, Decision]]

    def count(self, action: str) -> int:
        return sum(1 for _, decision in self.decisions if decision.action == action)


def judge_campaigns(conn: Connection, policy: AdPolicy, rule: PriceRule | None = None) -> Judgement:
    """What the ad rule decides now for each active or paused campaign of the ledger (nothing changes).

    The metrics read reach back over the restatement period, so a kill is re-judged on the restated
    numbers of its window; each product is judged on its own margin (`ad_margin_queries`)."""
    as_of = q.latest_metrics_day(conn)
    if as_of is None:
        return Judgement(None, [])
    launched = [r for r in q.ledger(conn).values() if r["campaign_id"] and r["state"] in ("active", "paused")]
    pids = [r["pid"] for r in launched]
    margins = margin_q.product_margins(conn, rule or PriceRule(), pids)
    unpublished = unpublished_products(conn, pids)
    metrics = q.metrics_since(conn, as_of - timedelta(days=policy.restatement_days + policy.window_days))
    started = q.first_delivery_days(conn)
    days: dict[tuple[str, str], list[DayResult]] = {}
    for m in metrics:
        days.setdefault((m["platform"], m["campaign_id"]), []).append(
            DayResult(m["day"], Decimal(m["spend"]), Decimal(m["revenue"]), m["purchases"])
        )
    decisions = []
    for row in launched:
        key = (row["platform"], row["campaign_id"])
        state = CampaignState(
            platform=row["platform"],
            campaign_id=row["campaign_id"],
            pid=row["pid"],
            active=row["state"] == "active",
            daily_budget=Decimal(row["daily_budget"]),
            margin=margins.get(row["pid"]),
            published=row["pid"] not in unpublished,
            budget_changed_day=row["budget_changed_day"],
            first_delivery=started.get(key),  # the learning clock starts there, even before the window
            learning_since=row.get("learning_since"),
            paused_by=row.get("paused_by"),
            killed_as_of=row.get("killed_as_of"),
        )
        decisions.append((row, decide(state, days.get(key, []), as_of, policy)))
    return Judgement(as_of, decisions)


@dataclass
class OptimisationReport:
    as_of: date | None = None
    evaluated: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # pause | scale | resume | hold | failed
    actions: list[Row] = field(default_factory=list)


def _platform_write(platform: AdPlatform, action: str, campaign_id: str, adset_id: str, budget: Any) -> None:
    """The platform's side of a decision: absolute writes (a status, a budget), safe to repeat."""
    if action in ("pause", "resume"):
        platform.set_campaign_active(campaign_id, action == "resume")
    else:
        platform.set_daily_budget(adset_id, Decimal(str(budget)))


def apply_decision(
    platform: AdPlatform, engine: Engine, row: Row, decision: Decision, as_of: date, record: Row
) -> bool:
    """Claim the change in the ledger (`ad_campaigns` compare-and-set, `ad_actions` pending) in one
    transaction, make it at the platform, resolve the claim. False: another run made this change first.

    `record` is updated in place with the claim's final status; platform errors propagate after the
    claim is released and the action resolved `failed`."""
    with engine.begin() as conn:
        claimed = q.claim_change(
            conn, row, decision.action, as_of, decision.new_budget, paused_by=decision.paused_by
        )
        if not claimed:
            record["status"] = "claimed_elsewhere"
            return False
        action_id = q.record_action(conn, record)
    try:
        _platform_write(platform, decision.action, row["campaign_id"], row["adset_id"], decision.new_budget)
    except ApiError as error:
        record["status"] = "failed"
        with engine.begin() as conn:
            q.release_change(conn, row, decision.action)
            q.finish_action(conn, action_id, "failed", str(error)[:2000])
        raise
    record["status"] = "applied"
    with engine.begin() as conn:
        q.finish_action(conn, action_id, "applied")
    return True


PAUSED_BY_OPERATOR = "operator"


def pause_campaign(platform: AdPlatform, campaign_id: str) -> None:
    """Pause a campaign at its platform: the one write every pause makes (the optimiser's `pause`
    decisions through `_platform_write`, the dashboard's button through this). Absolute, so repeatable."""
    _platform_write(platform, "pause", campaign_id, "", None)


def record_operator_pause(conn: Connection, pid: str, platform: str) -> None:
    """The ledger after an operator's pause: paused, and by the operator, so the rule never resumes it
    (neither on re-publish nor on restated numbers)."""
    q.update_launch(conn, pid, platform, state="paused", paused_by=PAUSED_BY_OPERATOR, killed_as_of=None)


def resolve_pending_changes(engine: Engine, platforms: Mapping[str, AdPlatform], log: logging.Logger) -> int:
    """Changes whose run died between the claim and the platform's answer: the ledger already says the new
    state, and the platform writes are absolute (a status, a budget), so making the write again resolves
    them whether or not the first one arrived."""
    with engine.connect() as conn:
        left_over = q.pending_changes(conn)
    resolved = 0
    for action in left_over:
        platform = platforms.get(action["platform"])
        if platform is None:
            continue
        try:
            _platform_write(
                platform, action["action"], action["campaign_id"], action["adset_id"], action["new_budget"]
            )
        except ApiError as error:
            log.warning(
                "campaign %s: left-over %s not resolved: %s", action["campaign_id"], action["action"], error
            )
            continue
        with engine.begin() as conn:
            q.finish_action(conn, action["id"], "applied")
        resolved += 1
    return resolved


def optimise_campaigns(
    engine: Engine,
    platforms: Mapping[str, AdPlatform],
    policy: AdPolicy,
    *,
    dry_run: bool,
    run_id: str,
    log: logging.Logger,
    rule: PriceRule | None = None,
) -> OptimisationReport:
    """Every decision that changes something is recorded with its reason and numbers, then applied (a dry
    run records it as proposed and changes nothing)."""
    if not dry_run:
        resolve_pending_changes(engine, platforms, log)
    with engine.connect() as conn:
        judgement = judge_campaigns(conn, policy, rule)
    report = OptimisationReport(as_of=judgement.as_of, evaluated=len(judgement.decisions))
    for row, decision in judgement.decisions:
        report.counts[decision.action] += 1
        if not decision.changes_something:
            continue
        assert judgement.as_of is not None
        record = {
            "decided_at": q.now(),
            "platform": row["platform"],
            "campaign_id": row["campaign_id"],
            "pid": row["pid"],
            "action": decision.action,
            "status": "proposed" if dry_run else "pending",
            "reason": decision.reason,
            "window_days": policy.window_days,
            "spend": decision.spend,
            "revenue": decision.revenue,
            "purchases": decision.purchases,
            "roas": round(decision.roas, 4) if decision.roas is not None else None,
            "old_budget": decision.old_budget,
            "new_budget": decision.new_budget,
            "run_id": run_id,
            "as_of": judgement.as_of,
            "breakeven_roas": decision.breakeven_roas,
            "inputs": decision.inputs,
        }
        report.actions.append(record)
        if dry_run:
            with engine.begin() as conn:
                q.record_action(conn, record)
            continue
        try:
            applied = apply_decision(
                platforms[row["platform"]], engine, row, decision, judgement.as_of, record
            )
        except ApiError as error:
            report.counts["failed"] += 1
            log.warning("campaign %s: %s failed: %s", row["campaign_id"], decision.action, error)
            continue
        if not applied:
            report.actions.remove(record)
            report.counts[decision.action] -= 1
            log.info("campaign %s: another run made its %s first", row["campaign_id"], decision.action)
            continue
        log.info("campaign %s: %s (%s)", row["campaign_id"], decision.action, decision.reason)
    return report
