"""What the ad launch and optimisation need from any ad platform, and the helpers both clients share."""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol, TypeVar

from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError
from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.rules.ad_metrics import CampaignDay
from dropship_pipelines.rules.creative_tests import AdDay

T = TypeVar("T")


class ThrottledApiError(TransientApiError):
    """The platform refused the call before doing anything (rate limit): retrying it is always safe."""


class MissingSettingError(ValueError):
    """A setting the platform requires (a pixel, an identity) is missing; the message names the variable."""


class AdPlatformAuthError(PermanentApiError):
    """The platform refused our credentials: every further call to it fails until a human renews them.

    Each client raises it for its own auth error codes, so callers stop that platform without knowing
    any platform's codes."""


@dataclass(frozen=True)
class AdText:
    """What the ad says and where it leads."""

    headline: str
    message: str
    call_to_action: str  # SHOP_NOW | ORDER_NOW | LEARN_MORE (valid on both platforms)
    link: str
    thumbnail_url: str | None = None


@dataclass(frozen=True)
class PurchaseEvent:
    """One ad-attributed store order, as both platforms' server-side event APIs take it.

    `order_id` is the event id: the platforms deduplicate on it (with the pixel's browser event too).
    The customer's email and phone travel only as SHA-256 digests of their normalised form."""

    order_id: str
    event_time: datetime
    value: Decimal
    currency: str
    url: str  # the page of the purchase (the product's store page)
    email: str | None = None
    phone: str | None = None
    content_ids: tuple[str, ...] = ()
    # The shopper's browser (Shopify's client_details of the order), sent as the platforms match them:
    # Meta requires the user agent on every website event.
    user_agent: str | None = None
    client_ip: str | None = None

    @property
    def hashed_email(self) -> str | None:
        return sha256_hex(self.email.strip().lower()) if self.email and self.email.strip() else None

    @property
    def hashed_phone(self) -> str | None:
        """Digits only, with the country code (E.164 without the '+'), as both platforms normalise it."""
        digits = re.sub(r"\D", "", self.phone or "")
        return sha256_hex(digits) if digits else None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def server_time(date_headers: list[str]) -> datetime | None:
    """The platform's clock from its `Date` response header (the last one: a proxy may prepend its own)."""
    for raw in reversed(date_headers):
        try:
            return parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            continue
    return None


class AdPlatform(Protocol):
    """One ad platform, in the terms of our workflow (campaign -> ad set/ad group -> ad).

    `create_*` create at most once within a call (an ambiguous failure is looked up before it is retried);
    `find_*` look an object up by its deterministic name, which is how a launch resumed after a crash
    learns what the crashed one created."""

    @property
    def platform(self) -> str: ...

    def find_campaign(self, name: str) -> str | None: ...
    def create_campaign(self, name: str) -> str: ...
    def find_adset(self, campaign_id: str, name: str) -> str | None: ...
    def create_adset(self, campaign_id: str, name: str, daily_budget: Decimal) -> str: ...
    def upload_video(self, path: Path, name: str) -> str: ...
    def find_ad(self, adset_id: str, name: str) -> str | None: ...
    def create_ad(self, adset_id: str, name: str, video_id: str, text: AdText) -> str: ...
    def set_campaign_active(self, campaign_id: str, active: bool) -> None: ...
    def set_daily_budget(self, adset_id: str, daily_budget: Decimal) -> None: ...
    def set_ad_active(self, ad_id: str, active: bool) -> None: ...  # one ad: a creative test's loser
    def ad_days(self, since: date, until: date) -> list[AdDay]: ...  # per-ad numbers (creative tests)
    def campaign_days(self, since: date, until: date) -> list[CampaignDay]: ...
    def reporting_day(self) -> date: ...  # the account's today: its time zone, the platform's clock
    def send_purchase_events(self, events: list[PurchaseEvent]) -> int: ...


def create_once(
    find: Callable[[], str | None], create: Callable[[], str], *, max_attempts: int, max_wait_s: float
) -> str:
    """Create an object at most once, though calls may fail half way.

    A throttled call did nothing and is simply retried. Any other failure (5xx, timeout, lost answer) may
    have created the object, so the next attempt looks it up by its deterministic name before creating."""
    state = {"look": False}

    def attempt() -> str:
        if state["look"]:
            found = find()
            if found:
                return found
        try:
            return create()
        except ThrottledApiError:
            raise
        except Exception:
            state["look"] = True
            raise

    return call_with_retries(attempt, max_attempts=max_attempts, max_wait_s=max_wait_s)


def call(fn: Callable[[], T], *, max_attempts: int, max_wait_s: float) -> T:
    return call_with_retries(fn, max_attempts=max_attempts, max_wait_s=max_wait_s)
