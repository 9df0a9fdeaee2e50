"""TikTok API for Business v1.3 request bodies, checked as the live API checks them.

The enums are those of TikTok's own SDK specification (tiktok/tiktok-business-api-sdk, `yml_files/*` and
`python_sdk/docs/{CampaignCreateBody,AdgroupCreateBody,AdcreateCreatives}.md`, as `api-contracts.md` §4
records them): TikTok ships no installable package the sandbox could read them from. On top of the enums:
the fields each objective and optimisation goal require (a pixel for website conversions, an identity for
custom identities), budgets as JSON numbers (never strings), landing pages as absolute http(s) URLs, and a
schedule that starts now or later. A refused field is code 40002 in TikTok's HTTP 200 envelope.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

OBJECTIVE_TYPES = frozenset(
    {
        "REACH",
        "TRAFFIC",
        "VIDEO_VIEWS",
        "ENGAGEMENT",
        "LEAD_GENERATION",
        "APP_PROMOTION",
        "WEB_CONVERSIONS",
        "PRODUCT_SALES",
        "RF_REACH",
    }
)
BUDGET_MODES = frozenset(
    {"BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL", "BUDGET_MODE_INFINITE", "BUDGET_MODE_DYNAMIC_DAILY_BUDGET"}
)
OPERATION_STATUSES = frozenset({"ENABLE", "DISABLE"})
OPTIMIZATION_GOALS = frozenset(
    {
        "CLICK",
        "CONVERT",
        "INSTALL",
        "IN_APP_EVENT",
        "REACH",
        "SHOW",
        "VIDEO_VIEW",
        "ENGAGED_VIEW",
        "ENGAGED_VIEW_FIFTEEN",
        "LEAD_GENERATION",
        "TRAFFIC_LANDING_PAGE_VIEW",
        "VALUE",
        "FOLLOWERS",
        "PROFILE_VIEWS",
        "MT_LIVE_ROOM",
        "PRODUCT_CLICK_IN_LIVE",
    }
)
BILLING_EVENTS = frozenset({"CPC", "CPM", "CPV", "OCPM", "GD"})
BID_TYPES = frozenset({"BID_TYPE_NO_BID", "BID_TYPE_CUSTOM", "BID_TYPE_MAX_CONVERSION"})
PACINGS = frozenset({"PACING_MODE_SMOOTH", "PACING_MODE_FAST"})
SCHEDULE_TYPES = frozenset({"SCHEDULE_START_END", "SCHEDULE_FROM_NOW"})
PROMOTION_TYPES = frozenset(
    {"WEBSITE", "APP_ANDROID", "APP_IOS", "LEAD_GENERATION", "WEBSITE_OR_DISPLAY", "TIKTOK_SHOP"}
)
PLACEMENT_TYPES = frozenset({"PLACEMENT_TYPE_AUTOMATIC", "PLACEMENT_TYPE_NORMAL"})
AD_FORMATS = frozenset({"SINGLE_IMAGE", "SINGLE_VIDEO", "CAROUSEL_ADS", "CATALOG_CAROUSEL", "LIVE_CONTENT"})
IDENTITY_TYPES = frozenset({"CUSTOMIZED_USER", "AUTH_CODE", "TT_USER", "BC_AUTH_TT"})
CALL_TO_ACTIONS = frozenset(
    {
        "LEARN_MORE",
        "DOWNLOAD",
        "SHOP_NOW",
        "SIGN_UP",
        "CONTACT_US",
        "APPLY_NOW",
        "BOOK_NOW",
        "PLAY_GAME",
        "WATCH_NOW",
        "READ_MORE",
        "VIEW_NOW",
        "GET_QUOTE",
        "ORDER_NOW",
        "INSTALL_NOW",
        "GET_SHOWTIMES",
        "LISTEN_NOW",
        "INTERESTED",
        "SUBSCRIBE",
        "GET_TICKETS_NOW",
        "EXPERIENCE_NOW",
        "PRE_ORDER_NOW",
        "VISIT_STORE",
        "GET_NOW",
        "JOIN_THIS_HASHTAG",
        "SHOOT_WITH_THIS_EFFECT",
        "VIEW_VIDEO_WITH_THIS_EFFECT",
    }
)
# Optimisation goals (and purchase events) that count pixel events: the ad group must name its pixel.
PIXEL_GOALS = frozenset({"CONVERT", "VALUE"})
PIXEL_EVENTS = frozenset({"SHOPPING", "COMPLETE_PAYMENT", "ON_WEB_ORDER"})
# The goals each objective allows for a website promotion.
GOALS_BY_OBJECTIVE = {
    "WEB_CONVERSIONS": frozenset({"CONVERT", "VALUE", "CLICK", "TRAFFIC_LANDING_PAGE_VIEW"}),
    "TRAFFIC": frozenset({"CLICK", "TRAFFIC_LANDING_PAGE_VIEW"}),
    "REACH": frozenset({"REACH"}),
    "VIDEO_VIEWS": frozenset({"ENGAGED_VIEW", "ENGAGED_VIEW_FIFTEEN", "VIDEO_VIEW"}),
}
IDENTITY_TYPES_WITH_ID = IDENTITY_TYPES
ADGROUP_REQUIRED = (
    "advertiser_id",
    "campaign_id",
    "adgroup_name",
    "billing_event",
    "budget_mode",
    "optimization_goal",
    "pacing",
    "schedule_type",
    "schedule_start_time",
)
SCHEDULE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_AD_TEXT = 100


class InvalidField(Exception):
    """A field TikTok refuses (code 40002); the router renders it in TikTok's envelope."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _missing(name: str) -> InvalidField:
    return InvalidField(f"{name}: Missing data for required field.")


def _enum(body: Mapping[str, Any], name: str, values: frozenset[str], *, where: str = "") -> None:
    if name in body and body[name] not in values:
        raise InvalidField(f"{where}{name}: Must be one of {sorted(values)}.")


def required(body: Mapping[str, Any], *names: str, where: str = "") -> None:
    for name in names:
        if body.get(name) in (None, "", []):
            raise _missing(where + name)


def number(value: Any, name: str) -> float:
    """A budget or bid: a JSON number. TikTok refuses the string "20.0" where it expects 20.0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(f"{name}: Not a valid number.")
    if value < 0 or value != value or value in (float("inf"), float("-inf")):
        raise InvalidField(f"{name}: Not a valid number.")
    return float(value)


def url(value: Any, name: str) -> None:
    parts = urlsplit(str(value or ""))
    if parts.scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        raise InvalidField(f"{name}: Not a valid URL.")


def check_campaign(body: Mapping[str, Any]) -> None:
    required(body, "advertiser_id", "campaign_name", "objective_type")
    _enum(body, "objective_type", OBJECTIVE_TYPES)
    _enum(body, "budget_mode", BUDGET_MODES)
    _enum(body, "operation_status", OPERATION_STATUSES)
    if body.get("budget_mode") in ("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL"):
        required(body, "budget")
    if "budget" in body:
        number(body["budget"], "budget")
    if len(str(body["campaign_name"])) > 512:
        raise InvalidField("campaign_name: Length must be at most 512.")


def check_adgroup(body: Mapping[str, Any], objective: str, now: datetime) -> None:
    """`objective` is the campaign's objective type; `now` the platform's clock (UTC)."""
    required(body, *ADGROUP_REQUIRED)
    for name, values in (
        ("billing_event", BILLING_EVENTS),
        ("budget_mode", BUDGET_MODES),
        ("optimization_goal", OPTIMIZATION_GOALS),
        ("pacing", PACINGS),
        ("schedule_type", SCHEDULE_TYPES),
        ("bid_type", BID_TYPES),
        ("promotion_type", PROMOTION_TYPES),
        ("placement_type", PLACEMENT_TYPES),
        ("operation_status", OPERATION_STATUSES),
    ):
        _enum(body, name, values)
    if "budget" in body:
        number(body["budget"], "budget")
    goal = body["optimization_goal"]
    allowed = GOALS_BY_OBJECTIVE.get(objective)
    if allowed is not None and goal not in allowed:
        raise InvalidField(
            f"optimization_goal: {goal} is not supported for objective_type {objective}; "
            f"use one of {sorted(allowed)}."
        )
    if goal in PIXEL_GOALS or body.get("optimization_event") in PIXEL_EVENTS:
        required(body, "pixel_id")
        if goal in PIXEL_GOALS:
            required(body, "optimization_event")
    start = _schedule_time(body["schedule_start_time"], "schedule_start_time")
    if start < now:
        raise InvalidField(
            f"schedule_start_time: The start time {body['schedule_start_time']} is in the past; "
            "it must be the current time or later."
        )
    if body["schedule_type"] == "SCHEDULE_START_END":
        required(body, "schedule_end_time")
        if _schedule_time(body["schedule_end_time"], "schedule_end_time") <= start:
            raise InvalidField("schedule_end_time: The end time must be after the start time.")


def _schedule_time(value: Any, name: str) -> datetime:
    try:
        return datetime.strptime(str(value), SCHEDULE_TIME_FORMAT)
    except ValueError as exc:
        raise InvalidField(f"{name}: Not a valid datetime; format YYYY-MM-DD HH:MM:SS.") from exc


def check_creative(creative: Mapping[str, Any], position: int) -> None:
    where = f"creatives[{position}]."
    required(creative, "ad_name", "ad_format", "ad_text", "call_to_action", "landing_page_url", where=where)
    _enum(creative, "ad_format", AD_FORMATS, where=where)
    _enum(creative, "call_to_action", CALL_TO_ACTIONS, where=where)
    _enum(creative, "identity_type", IDENTITY_TYPES, where=where)
    _enum(creative, "operation_status", OPERATION_STATUSES, where=where)
    if creative["ad_format"] == "SINGLE_VIDEO":
        required(creative, "video_id", where=where)
    url(creative["landing_page_url"], where + "landing_page_url")
    if not 1 <= len(str(creative["ad_text"])) <= MAX_AD_TEXT:
        raise InvalidField(f"{where}ad_text: Length must be between 1 and {MAX_AD_TEXT}.")
    required(creative, "identity_type", where=where)
    if creative["identity_type"] in IDENTITY_TYPES_WITH_ID:
        required(creative, "identity_id", where=where)
