"""The Ads page: campaigns with their spend and return, daily metrics, the optimiser's and the operator's
actions (newest first), and pausing a campaign."""

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import FileResponse
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.actions import ActionUnavailable
from dashboard.api.cache import Cached
from dashboard.api.deps import (
    ACTION,
    DashboardDep,
    End,
    Limit,
    Offset,
    Start,
    StoreDep,
    Text,
    check_range,
    page_of,
)
from dashboard.api.media import OutsideMediaDir, confined_video, creative_video_url
from dashboard.api.store import (
    dashboard_actions,
    in_thread,
    page,
    record_action,
    update_action,
    utc,
)
from dropship_pipelines.services import ads
from dropship_pipelines.store import ads_queries, creative_test_queries
from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns, ad_creatives
from dropship_pipelines.store.analytics_tables import analytics_ad_performance
from dropship_pipelines.store.dashboard_tables import ad_metrics_day_totals
from dropship_pipelines.store.discovery_tables import listings

log = logging.getLogger("dashboard")
router = APIRouter(prefix="/ads", tags=["ads"])

PAUSE = "pause_campaign"  # the kind of an operator's pause in dashboard_actions
NO_CLIENT = "recorded only: the dashboard has no ad platform client, the campaign still runs"


def pause_target(platform: str, campaign_id: str) -> str:
    return f"{platform}:{campaign_id}"


def pause_requests(conn: Connection) -> set[str]:
    t = dashboard_actions.c
    query = sa.select(t.target).where(t.kind == PAUSE, t.status != "failed")
    return set(conn.execute(query).scalars())


def campaign_rows(
    conn: Connection, platform: str | None, state: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    c, perf = ad_campaigns.c, analytics_ad_performance.c
    query = sa.select(
        c.platform,
        c.pid,
        c.campaign_id,
        listings.c.title,
        c.state,
        c.daily_budget,
        c.last_error,
        c.launched_at,
        sa.func.coalesce(perf.spend, 0).label("spend"),
        sa.func.coalesce(perf.revenue, 0).label("revenue"),
        sa.func.coalesce(perf.clicks, 0).label("clicks"),
        sa.func.coalesce(perf.purchases, 0).label("purchases"),
        perf.roas,
        ad_creatives.c.video_path,
    ).select_from(
        ad_campaigns.outerjoin(
            analytics_ad_performance, sa.and_(perf.platform == c.platform, perf.campaign_id == c.campaign_id)
        )
        .outerjoin(listings, listings.c.pid == c.pid)
        .outerjoin(ad_creatives, sa.and_(ad_creatives.c.pid == c.pid, ad_creatives.c.status == "ok"))
    )
    if platform:
        query = query.where(c.platform == platform)
    if state:
        query = query.where(c.state == state)
    rows, total = page(conn, query, [sa.desc("spend"), c.platform, c.pid], limit, offset)
    paused = pause_requests(conn)
    tests = creative_test_queries.creative_test_summaries(conn, [(r["platform"], r["pid"]) for r in rows])
    for row in rows:
        row["pause_requested"] = pause_target(row["platform"], row["campaign_id"]) in paused
        row["video_url"] = creative_video_url(row["pid"]) if row.pop("video_path") else None
        row["creative_test"] = tests.get((row["platform"], row["pid"]))
    return rows, total


def campaign(conn: Connection, platform: str, campaign_id: str) -> dict[str, Any] | None:
    query = sa.select(ad_campaigns).where(
        ad_campaigns.c.platform == platform, ad_campaigns.c.campaign_id == campaign_id
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


DAILY_WINDOW_DAYS = 30  # the window /ads/daily answers for when not given one


def daily_window(conn: Connection, start: date | None, end: date | None) -> tuple[date | None, date | None]:
    """The days /ads/daily covers: the ones asked for; without `start`, the 30 days up to `end`, or up to
    the newest day with metrics (a lookup of the key's first column), so an open query reads a month of
    rows, not the whole history. `start` alone runs to the newest day."""
    if start and end:
        return start, end
    newest = end or ads_queries.latest_metrics_day(conn)
    if newest is None:
        return start, end  # no metrics at all: nothing to bound
    return start or newest - timedelta(days=DAILY_WINDOW_DAYS - 1), newest


def daily_rows(
    conn: Connection, start: date | None, end: date | None, platform: str | None
) -> list[dict[str, Any]]:
    """Spend and return per day and platform: the totals the database keeps per day and platform
    (`ad_metrics_day_totals`, kept by triggers on ad_metrics_daily), one row each, in key order."""
    d = ad_metrics_day_totals.c
    query = sa.select(d.day, d.platform, d.spend, d.clicks, d.purchases, d.revenue)
    if start:
        query = query.where(d.day >= start)
    if end:
        query = query.where(d.day <= end)
    if platform:
        query = query.where(d.platform == platform)
    return [dict(r) for r in conn.execute(query.order_by(d.day, d.platform)).mappings()]


def action_rows(conn: Connection, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The optimiser's decisions (`ad_actions`, at `decided_at`) and the operator's pauses, one timeline.

    The two logs are merged and paged in SQL on their (source, id, time) alone; then the page's rows are
    read from each table."""
    a, d = ad_actions.c, dashboard_actions.c
    timeline = sa.union_all(
        sa.select(sa.literal("ads").label("source"), a.id.label("id"), a.decided_at.label("at")),
        sa.select(sa.literal("dashboard"), d.action_id, d.created_at).where(d.kind == PAUSE),
    ).subquery()
    total = conn.execute(sa.select(sa.func.count()).select_from(timeline)).scalar_one()
    entries = conn.execute(
        sa.select(timeline.c.source, timeline.c.id)
        .order_by(timeline.c.at.desc(), timeline.c.source, timeline.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = {source: [i for s, i in entries if s == source] for source in ("ads", "dashboard")}
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for row in conn.execute(sa.select(ad_actions).where(a.id.in_(ids["ads"]))).mappings():
        found["ads", row["id"]] = {
            "source": "ads",
            "at": utc(row["decided_at"]),
            "platform": row["platform"],
            "campaign_id": row["campaign_id"],
            "pid": row["pid"],
            "action": row["action"],
            "reason": row["reason"],
            "detail": {k: _jsonable(v) for k, v in row.items()},
        }
    for row in conn.execute(sa.select(dashboard_actions).where(d.action_id.in_(ids["dashboard"]))).mappings():
        platform, _, campaign_id = row["target"].partition(":")
        found["dashboard", row["action_id"]] = {
            "source": "dashboard",
            "at": utc(row["created_at"]),
            "platform": platform,
            "campaign_id": campaign_id,
            "action": "pause",
            "reason": (row["detail"] or {}).get("reason"),
            "detail": {"status": row["status"], "message": row["message"]},
        }
    shown = [found[entry.source, entry.id] for entry in entries]
    products = campaign_products(conn, {row["campaign_id"] for row in shown})
    for row in shown:
        pid = row.pop("pid", None) or products.get(row["campaign_id"], (None, None))[0]
        row["pid"], row["title"] = pid, products.get(row["campaign_id"], (pid, None))[1]
    return shown, int(total)


def campaign_products(conn: Connection, campaign_ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """campaign id -> (its product's pid, the listing's title): the operator knows products, not ids."""
    c = ad_campaigns.c
    query = (
        sa.select(c.campaign_id, c.pid, listings.c.title)
        .select_from(ad_campaigns.outerjoin(listings, listings.c.pid == c.pid))
        .where(c.campaign_id.in_(sorted(campaign_ids)))
    )
    return {campaign_id: (pid, title) for campaign_id, pid, title in conn.execute(query)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | datetime | date):
        return str(value)
    return value


# The tables each page is read from (dashboard/api/cache.py); `dashboard_actions` holds the pauses.
CAMPAIGNS = Cached(
    m.Page[m.Campaign],
    (
        "ad_campaigns",
        "analytics_ad_performance",
        "listings",
        "ad_creatives",
        "dashboard_actions",
        "creative_tests",
        "ad_variant_ads",
    ),
)
# The window's newest day is the newest day of ad_metrics_daily, which is the newest day of its totals:
# the triggers keep a day's totals exactly while the day has metrics.
AD_DAILY = Cached(list[dict[str, Any]], ("ad_metrics_day_totals",))
ACTIONS = Cached(m.Page[m.AdAction], ("ad_actions", "dashboard_actions", "ad_campaigns", "listings"))


@router.get("/campaigns", response_model=m.Page[m.Campaign])
async def campaigns(
    store: StoreDep, platform: Text = None, state: Text = None, limit: Limit = 50, offset: Offset = 0
) -> Response:
    key = ("campaigns", platform, state, limit, offset)
    return await CAMPAIGNS.respond(
        store, key, lambda conn: page_of(*campaign_rows(conn, platform, state, limit, offset), limit, offset)
    )


def ad_daily_answer(
    conn: Connection, start: date | None, end: date | None, platform: str | None
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The rows of /ads/daily and the headers naming the days they are for."""
    first, last = daily_window(conn, start, end)
    check_range(first, last)
    rows = daily_rows(conn, first, last, platform)
    headers = {
        "X-Window-Start": first.isoformat() if first else "",
        "X-Window-End": last.isoformat() if last else "",
    }
    shown = [{k: (str(v) if k in ("spend", "revenue") else v) for k, v in row.items()} for row in rows]
    return shown, headers


@router.get("/daily", response_model=list[dict[str, Any]])
async def ad_daily(store: StoreDep, start: Start = None, end: End = None, platform: Text = None) -> Response:
    """Daily spend and return per platform over [start, end]; by default the last 30 days with metrics.
    The days answered for are in the `X-Window-Start` / `X-Window-End` headers."""
    check_range(start, end)
    key = ("ads-daily", start, end, platform)
    body, headers = await in_thread(
        AD_DAILY.answer, store, key, lambda conn: ad_daily_answer(conn, start, end, platform)
    )
    return Response(body, media_type="application/json", headers=headers)


@router.get("/actions", response_model=m.Page[m.AdAction])
async def actions(store: StoreDep, limit: Limit = 50, offset: Offset = 0) -> Response:
    key = ("ad-actions", limit, offset)
    return await ACTIONS.respond(
        store, key, lambda conn: page_of(*action_rows(conn, limit, offset), limit, offset)
    )


@router.get(
    "/creatives/{pid}/video",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 404: {"description": "no rendered video"}},
)
def creative_video(pid: str, dashboard: DashboardDep) -> FileResponse:
    """The product's current ad video (the creative its campaigns were launched with)."""
    t = ad_creatives.c
    with dashboard.store.connect() as conn:
        stored = conn.execute(sa.select(t.video_path).where(t.pid == pid, t.status == "ok")).scalar()
    try:
        path, media_type = confined_video(dashboard.media_dir, stored or "")
    except OutsideMediaDir:
        if stored:
            log.warning("video of %s refused: %s is not a video inside the media directory", pid, stored)
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no rendered video for this product") from None
    return FileResponse(path, media_type=media_type)


@router.post(
    "/campaigns/{platform}/{campaign_id}/pause",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={404: {"description": "no such campaign"}},
)
def pause_campaign(platform: str, campaign_id: str, body: m.PauseRequest, dashboard: DashboardDep) -> dict:
    """Pause the campaign on its platform, as the optimiser does, and mark it paused in the ledger."""
    store, target = dashboard.store, pause_target(platform, campaign_id)
    with store.engine.begin() as conn:
        found = campaign(conn, platform, campaign_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such campaign")
        action_id = record_action(conn, PAUSE, target, {"reason": body.reason}, "recorded", NO_CLIENT)
    if dashboard.pause_campaign is None:
        return {"action_id": action_id, "status": "recorded", "message": NO_CLIENT}
    try:
        dashboard.pause_campaign(platform, campaign_id)
    except ActionUnavailable as exc:
        note = f"recorded only: {exc}, the campaign still runs"
        with store.engine.begin() as conn:
            update_action(conn, action_id, "recorded", note)
        return {"action_id": action_id, "status": "recorded", "message": note}
    except Exception as exc:  # the platform's error is the operator's information
        log.warning("pausing %s failed: %s", target, exc)
        with store.engine.begin() as conn:
            update_action(conn, action_id, "failed", f"the platform refused: {type(exc).__name__}")
        return {"action_id": action_id, "status": "failed", "message": f"the platform refused: {exc}"}
    with store.engine.begin() as conn:
        ads.record_operator_pause(conn, found["pid"], platform)  # the rule leaves it paused
        update_action(conn, action_id, "done", "paused on the platform")
    return {"action_id": action_id, "status": "done", "message": "paused on the platform"}
