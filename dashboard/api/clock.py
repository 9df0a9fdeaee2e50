"""The store's day: "Today" on the dashboard is the store's date, not the server's.

The time zone is STORE_TIMEZONE when set; else the shop's own (Shopify's `shop.ianaTimezone`) once the
ledger records it, which it does not yet; else UTC, the zone the analytics' daily tables are keyed in.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "UTC"


def store_zone(configured: str | None) -> ZoneInfo:
    """The configured IANA zone; an unknown name is a configuration error, said at start-up."""
    name = (configured or "").strip() or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"STORE_TIMEZONE={name!r} is not an IANA time zone (e.g. America/New_York)") from exc


def store_today(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()
