"""What the ad platforms know of purchases: the browser pixel's share, the server events, and attribution.

A purchase an ad brought (`ad_delivery`) is a store order. The platform's pixel sees it in the shopper's
browser only with `WorldSettings.pixel_match_rate` (ad blockers, in-app browsers and iOS lose the rest);
what the pixel sees is reported at once on the click's day. Every other purchase is known to the platform
only once the store's server reports it (Meta's Conversions API, TikTok's Events API) with the order id
as `event_id`: the platform then attributes it to the campaign whose click led to the order and restates
that day's purchases and revenue, up to 28 days back (its attribution window). An event repeated within
48 hours (same platform, event name and event id) is deduplicated, as the platforms do, and counted in
the audit's `conversion_events_duplicate`; `conversion_events` counts each first receipt.

Each ad account reports in its own time zone (`ACCOUNT_TIMEZONES`): its days start at its midnight.
Reported conversions drive delivery: a campaign with more reported purchases in the week before a day is
shown to likelier buyers that day (`delivery_boost`), as the platforms' optimisation learns from them.
"""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dropship_sandbox.world import World

ACCOUNT_TIMEZONES = {"meta": "America/Los_Angeles", "tiktok": "America/New_York"}
ORDER_KIND = "ad_click_order"  # order GID -> the click that led to it
EVENT_KIND = "conversion_event"  # "{platform}:{event name}:{event id}" -> first receipt
DEDUP_WINDOW = timedelta(hours=48)
ATTRIBUTION_DAYS = 28
LEARNED_CONVERSIONS = 50  # reported purchases in a week at which delivery stops improving
MAX_BOOST = 0.5


def zone(platform: str) -> ZoneInfo:
    return ZoneInfo(ACCOUNT_TIMEZONES[platform])


def local_day(platform: str, moment: datetime) -> date:
    """The ad account's reporting day of a moment."""
    return moment.astimezone(zone(platform)).date()


def day_bounds(platform: str, day: date) -> tuple[datetime, datetime]:
    """[start, end) of a reporting day of the account, as aware datetimes (23 or 25 hours on DST days)."""
    tz = zone(platform)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=tz)


def order_gid(order: dict[str, Any]) -> str:
    return f"gid://shopify/Order/{order['id']}"


def record_ad_order(
    world: World,
    platform: str,
    campaign_id: str,
    day: date,
    order_id: str,
    value: float,
    seen: bool,
    ad_id: str | None = None,
) -> None:
    """The click behind an ad order (its campaign and ad), for the attribution of its server event."""
    world.state.put(
        ORDER_KIND,
        order_id,
        {
            "platform": platform,
            "campaign_id": campaign_id,
            "ad_id": ad_id,
            "day": day.isoformat(),
            "value": value,
            "reported_by": "pixel" if seen else None,
        },
    )


def _restate(
    world: World, platform: str, campaign_id: str, day: str, value: float, ad_id: str | None = None
) -> None:
    key = f"{platform}:{campaign_id}"
    stats = world.state.get("ad_stats", key) or {"platform": platform, "campaign_id": campaign_id, "days": {}}
    rows = [stats["days"]]
    if ad_id:  # the ad's own numbers are restated with its campaign's
        rows.append(stats.setdefault("ads", {}).setdefault(ad_id, {}))
    for days in rows:
        row = days.setdefault(
            day, {"spend": 0.0, "impressions": 0.0, "clicks": 0.0, "purchases": 0, "revenue": 0.0}
        )
        row["purchases"] += 1
        row["revenue"] += value
    world.state.put("ad_stats", key, stats)


def receive(world: World, platform: str, events: list[dict[str, Any]], name_field: str) -> int:
    """Take validated server events: deduplicate, attribute, restate. Returns the events received."""
    now = world.now()
    for event in events:
        event_name, event_id = str(event[name_field]), event.get("event_id")
        if event_id:
            key = f"{platform}:{event_name}:{event_id}"
            first = world.state.get(EVENT_KIND, key)
            if first and now - datetime.fromisoformat(first["received_at"]) < DEDUP_WINDOW:
                world.state.audit_increment("conversion_events_duplicate", f"{platform}:{event_id}")
                continue
            user = event.get("user_data") or event.get("user") or {}  # Meta's | TikTok's
            world.state.put(
                EVENT_KIND,
                key,
                {
                    "received_at": now.isoformat(),
                    "event": event_name,
                    "action_source": event.get("action_source"),
                    "user_agent": user.get("client_user_agent") or user.get("user_agent"),
                },
            )
            world.state.audit_increment("conversion_events", f"{platform}:{event_id}")
        click = world.state.get(ORDER_KIND, str(event_id)) if event_id else None
        if not click or click["platform"] != platform or click["reported_by"]:
            continue  # not this platform's click, or its pixel already counted it (deduplicated)
        if (local_day(platform, now) - date.fromisoformat(click["day"])).days > ATTRIBUTION_DAYS:
            continue
        click["reported_by"] = "server"
        world.state.put(ORDER_KIND, str(event_id), click)
        _restate(
            world, platform, click["campaign_id"], click["day"], float(click["value"]), click.get("ad_id")
        )
    return len(events)


def delivery_boost(stats: dict[str, Any], day: date) -> float:
    """How much likelier the campaign's audience buys on `day`, from the purchases reported for the week
    before it (1.0 without any, 1 + MAX_BOOST from LEARNED_CONVERSIONS on)."""
    reported = sum(
        row.get("purchases", 0)
        for key, row in stats.get("days", {}).items()
        if day - timedelta(days=7) <= date.fromisoformat(key) < day
    )
    return 1.0 + MAX_BOOST * min(1.0, reported / LEARNED_CONVERSIONS)
