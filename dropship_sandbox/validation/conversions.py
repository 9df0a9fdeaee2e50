"""Server-side purchase events, checked as Meta's Conversions API and TikTok's Events API 2.0 check them.

Meta (`POST /{version}/{pixel_id}/events`, form field `data`: a JSON array of events): the event fields are
those the facebook-business SDK's `serverside.Event` declares (`Event.param_types`), `action_source` one of
its `ActionSource` values, the `custom_data` fields its `CustomData` declares (other keys are custom
properties, which Meta accepts). `user_data` keys are the wire names `UserData.normalize()` sends (em, ph,
fn, ...); em and ph must already be SHA-256 hex digests (Meta hashes nothing for us). A `Purchase` needs
`custom_data.currency` and `value`; a website event needs its `event_source_url` and the browser's
`user_data.client_user_agent`; an event older than 7
days, or from the future, is refused.

TikTok (`POST /open_api/v1.3/event/track/`, JSON): `event_source` web | app | offline | crm with its
`event_source_id` (the pixel code for web), `data` a list of events with `event`, `event_time` (Unix
seconds), `event_id`, `user` (email / phone SHA-256 hex digests, external_id, ttclid, ttp, ip,
user_agent), `properties` (currency, value, content_type, contents, order_id) and `page` (url). A
`CompletePayment` needs its currency and value. A refused field is code 40002.
"""

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event

MAX_EVENTS = 1000  # per request, on both platforms
MAX_AGE = timedelta(days=7)  # both platforms refuse older events
MAX_AHEAD = timedelta(minutes=1)  # clock skew the platforms allow
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CURRENCY = re.compile(r"[A-Z]{3}")

META_EVENT_FIELDS = frozenset(Event.param_types)
META_ACTION_SOURCES = frozenset(source.value for source in ActionSource)
META_CUSTOM_FIELDS = frozenset(CustomData.param_types) - {"custom_properties"}
# The wire names `UserData.normalize()` sends (its param names are the long ones: emails, phones, ...).
META_USER_FIELDS = frozenset(
    {
        "em", "ph", "ge", "db", "ln", "fn", "ct", "st", "zp", "country", "external_id",
        "client_ip_address", "client_user_agent", "fbc", "fbp", "subscription_id", "fb_login_id",
        "lead_id", "f5first", "f5last", "fi", "dobd", "dobm", "doby", "madid", "anon_id", "ctwa_clid",
        "page_id",
    }
)  # fmt: skip
META_HASHED = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "db", "ge")
META_IDENTIFIERS = ("em", "ph", "external_id", "fbc", "fbp", "madid", "client_ip_address")

TIKTOK_SOURCES = frozenset({"web", "app", "offline", "crm"})
TIKTOK_EVENT_FIELDS = frozenset(
    {"event", "event_time", "event_id", "user", "properties", "page", "app", "ad"}
)
TIKTOK_USER_FIELDS = frozenset(
    {"email", "phone", "external_id", "ttclid", "ttp", "ip", "user_agent", "locale", "idfa", "idfv", "gaid"}
)
TIKTOK_HASHED = ("email", "phone")
TIKTOK_IDENTIFIERS = ("email", "phone", "external_id", "ttclid", "ttp", "ip")
TIKTOK_CONTENT_TYPES = frozenset({"product", "product_group"})


class EventRefused(Exception):
    """An event the platform refuses; `title` is Meta's error_user_title."""

    def __init__(self, message: str, title: str = "Invalid parameter") -> None:
        super().__init__(message)
        self.message, self.title = message, title


def _hashed_values(value: Any, where: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str) or not _SHA256.fullmatch(item):
            raise EventRefused(
                f"{where} must be a SHA-256 hash (64 lowercase hex characters) of the normalised value",
                "Unhashed user data",
            )
    return values


def _event_time(value: Any, now: datetime, where: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventRefused(f"{where}: must be a Unix timestamp in seconds (an integer)")
    moment = datetime.fromtimestamp(value, now.tzinfo)
    if moment < now - MAX_AGE:
        raise EventRefused(
            f"{where}: The timestamp for this event is too far in the past. Events need to be sent from your "
            "server within 7 days of when they occurred.",
            "Event Timestamp Too Old",
        )
    if moment > now + MAX_AHEAD:
        raise EventRefused(
            f"{where}: The timestamp for this event is in the future.", "Event Timestamp In Future"
        )
    return moment


def _money(properties: Mapping[str, Any], where: str) -> None:
    currency, value = properties.get("currency"), properties.get("value")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise EventRefused(f"{where}.currency: a purchase needs an ISO 4217 currency code (e.g. USD)")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise EventRefused(f"{where}.value: a purchase needs its value, a number")


def check_meta_events(data: Any, now: datetime) -> list[dict[str, Any]]:
    """The events of one Conversions API request, or `EventRefused` naming the first bad field."""
    if not isinstance(data, list) or not data:
        raise EventRefused("The parameter data is required: a JSON array of events")
    if len(data) > MAX_EVENTS:
        raise EventRefused(f"data: at most {MAX_EVENTS} events per request")
    for n, event in enumerate(data):
        where = f"data[{n}]"
        if not isinstance(event, dict):
            raise EventRefused(f"{where} must be an event object")
        unknown = sorted(set(event) - META_EVENT_FIELDS)
        if unknown:
            raise EventRefused(f"{where}: unknown field {unknown[0]}")
        if not isinstance(event.get("event_name"), str) or not event["event_name"]:
            raise EventRefused(f"{where}.event_name is required")
        _event_time(event.get("event_time"), now, f"{where}.event_time")
        source = event.get("action_source")
        if source not in META_ACTION_SOURCES:
            raise EventRefused(f"{where}.action_source must be one of {sorted(META_ACTION_SOURCES)}")
        if source == ActionSource.WEBSITE.value:
            url = urlsplit(str(event.get("event_source_url") or ""))
            if url.scheme not in ("http", "https") or not url.netloc:
                raise EventRefused(
                    f"{where}.event_source_url is required for website events (an absolute URL)"
                )
        user = event.get("user_data")
        if not isinstance(user, dict) or not user:
            raise EventRefused(f"{where}.user_data is required", "Missing User Data")
        unknown = sorted(set(user) - META_USER_FIELDS)
        if unknown:
            raise EventRefused(f"{where}.user_data: unknown field {unknown[0]}")
        for name in META_HASHED:
            if name in user:
                _hashed_values(user[name], f"{where}.user_data.{name}")
        if source == ActionSource.WEBSITE.value and not user.get("client_user_agent"):
            # Meta requires the shopper's browser user agent on every website event (Conversions API
            # customer information parameters: client_user_agent "required for website events").
            raise EventRefused(
                f"{where}.user_data.client_user_agent is required for website events "
                "(action_source website): the user agent of the browser the event happened in",
                "Missing Client User Agent",
            )
        if not any(user.get(name) for name in META_IDENTIFIERS):
            raise EventRefused(
                f"{where}.user_data: no customer information parameter to match the event on",
                "Missing User Data",
            )
        custom = event.get("custom_data") or {}
        if not isinstance(custom, dict):
            raise EventRefused(f"{where}.custom_data must be an object")
        if event["event_name"] == "Purchase":
            _money(custom, f"{where}.custom_data")
        if "event_id" in event and not isinstance(event["event_id"], str):
            raise EventRefused(f"{where}.event_id must be a string")
    return data


def check_tiktok_events(body: Mapping[str, Any], pixel_code: str, now: datetime) -> list[dict[str, Any]]:
    """The events of one Events API 2.0 request, or `EventRefused` naming the first bad field."""
    source = body.get("event_source")
    if source not in TIKTOK_SOURCES:
        raise EventRefused(f"event_source: Must be one of {sorted(TIKTOK_SOURCES)}.")
    if not body.get("event_source_id"):
        raise EventRefused("event_source_id: Missing data for required field.")
    if source == "web" and str(body["event_source_id"]) != pixel_code:
        raise EventRefused(
            f"event_source_id: Pixel {body['event_source_id']} does not exist or is not yours."
        )
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise EventRefused("data: Missing data for required field.")
    if len(data) > MAX_EVENTS:
        raise EventRefused(f"data: Length must be between 1 and {MAX_EVENTS}.")
    for n, event in enumerate(data):
        where = f"data[{n}]"
        if not isinstance(event, dict):
            raise EventRefused(f"{where}: Not a valid event object.")
        unknown = sorted(set(event) - TIKTOK_EVENT_FIELDS)
        if unknown:
            raise EventRefused(f"{where}.{unknown[0]}: Unknown field.")
        if not isinstance(event.get("event"), str) or not event["event"]:
            raise EventRefused(f"{where}.event: Missing data for required field.")
        _event_time(event.get("event_time"), now, f"{where}.event_time")
        user = event.get("user")
        if not isinstance(user, dict) or not user:
            raise EventRefused(f"{where}.user: Missing data for required field.")
        unknown = sorted(set(user) - TIKTOK_USER_FIELDS)
        if unknown:
            raise EventRefused(f"{where}.user.{unknown[0]}: Unknown field.")
        for name in TIKTOK_HASHED:
            if name in user:
                _hashed_values(user[name], f"{where}.user.{name}")
        if not any(user.get(name) for name in TIKTOK_IDENTIFIERS):
            raise EventRefused(f"{where}.user: At least one user identifier is required.")
        properties = event.get("properties") or {}
        if not isinstance(properties, dict):
            raise EventRefused(f"{where}.properties: Not a valid object.")
        if properties.get("content_type") not in (None, *TIKTOK_CONTENT_TYPES):
            raise EventRefused(
                f"{where}.properties.content_type: Must be one of {sorted(TIKTOK_CONTENT_TYPES)}."
            )
        if event["event"] == "CompletePayment":
            _money(properties, f"{where}.properties")
        if "event_id" in event and not isinstance(event["event_id"], str):
            raise EventRefused(f"{where}.event_id: Not a valid string.")
    return data
