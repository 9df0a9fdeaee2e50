"""Meta Marketing API (Graph): campaigns, ad sets, videos, creatives, ads, status/budget, insights.

Errors come as `{"error": {code, error_subcode, is_transient, ...}}` (mostly HTTP 400). Throttles (4, 17,
32, 613, 80000, 80004) are retried after `estimated_time_to_regain_access` from `X-Business-Use-Case-Usage`
(minutes) or with exponential backoff; codes 190 and 2500 (token invalid, expired or missing) fail fast
as `AdPlatformAuthError`, saying what to fix.
The token goes in an `Authorization` header, never in a URL, so it cannot end up in a log line.

Ad sets optimise for the store pixel's purchases (`promoted_object`: META_PIXEL_ID, PURCHASE). Video bytes
go to Meta's video host (`graph-video.facebook.com`, META_VIDEO_BASE_URL) in the resumable start / transfer
/ finish phases the SDK's `AdVideo.remote_create` uses, chunk by chunk at the offsets Meta names.
"""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
import httpx
from pydantic import PrivateAttr

from dropship_pipelines.resources import ad_shadow
from dropship_pipelines.resources.ad_platforms import (
    AdPlatformAuthError,
    AdText,
    MissingSettingError,
    PurchaseEvent,
    ThrottledApiError,
    call,
    create_once,
    server_time,
    sha256_hex,
)
from dropship_pipelines.resources.errors import PayloadError, PermanentApiError, TransientApiError
from dropship_pipelines.resources.http import PooledHttp
from dropship_pipelines.resources.pacing import Pacer, pacer
from dropship_pipelines.resources.write_gate import gate_read, gate_write
from dropship_pipelines.rules.ad_metrics import CampaignDay, campaign_day, number
from dropship_pipelines.rules.creative_tests import AdDay

API = "meta"
THROTTLE_CODES = {4, 17, 32, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80014}
AUTH_ERROR_CODES = {190, 2500}  # token invalid or expired; no token
TRANSIENT_CODES = {1, 2}
T = TypeVar("T")  # a parsed report row: a campaign day or an ad day

INSIGHT_FIELDS = "campaign_id,campaign_name,spend,impressions,clicks,actions,action_values"
AD_INSIGHT_FIELDS = "ad_id,ad_name,campaign_id,spend,impressions,clicks,actions,action_values"
# Meta lists one purchase under each of these; they are alternatives, never to be summed.
PURCHASE_ACTION_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
LIVE_GRAPH_HOST = "graph.facebook.com"
LIVE_VIDEO_HOST = "graph-video.facebook.com"


def video_base_url(base_url: str) -> str:
    """Meta takes video bytes on its video host; any other base URL (a sandbox) takes them itself."""
    parsed = httpx.URL(base_url)
    if parsed.host == LIVE_GRAPH_HOST:
        return str(parsed.copy_with(host=LIVE_VIDEO_HOST)).rstrip("/")
    return base_url.rstrip("/")


def _regain_seconds(headers: httpx.Headers) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in the BUC usage header, in seconds."""
    raw = headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = max(
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        )
    except (ValueError, TypeError, AttributeError):
        return None
    return minutes * 60 if minutes > 0 else None


def _used_share(headers: httpx.Headers) -> float | None:
    """The highest share of a quota used (0..1) in `X-Business-Use-Case-Usage` and `X-App-Usage` (each
    figure is a percentage: call count, CPU time, total time), None when neither header came."""
    figures: list[float] = []
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
            entries = [usage] if name == "X-App-Usage" else [e for es in usage.values() for e in es]
            figures += [
                float(entry.get(key) or 0)
                for entry in entries
                for key in ("call_count", "total_cputime", "total_time")
            ]
        except (ValueError, TypeError, AttributeError):
            continue
    return max(figures) / 100 if figures else None


def _pace_by_usage(paced: Pacer, response: httpx.Response) -> None:
    """Meta says how much of the account's quota is used on every answer: pace by it, and pause as long
    as a throttle's `estimated_time_to_regain_access` says."""
    used = _used_share(response.headers)
    regain = _regain_seconds(response.headers)
    if used is not None or regain:
        paced.usage(used if used is not None else 1.0, regain)
    if used is not None and used >= 1.0 and not regain:
        paced.throttled()
    else:
        paced.succeeded()


def _purchases(items: list[dict[str, Any]] | None) -> Decimal:
    """The purchase count (or value) from an `actions` (or `action_values`) list."""
    by_type = {item.get("action_type"): item.get("value") for item in items or []}
    for kind in PURCHASE_ACTION_TYPES:
        if kind in by_type:
            return number(by_type[kind])
    return Decimal(0)


def campaign_day_from_insight(row: dict[str, Any]) -> CampaignDay:
    """A Meta insights row (level=campaign, time_increment=1)."""
    return campaign_day(
        day=date.fromisoformat(row["date_start"]),
        platform=API,
        campaign_id=row["campaign_id"],
        campaign_name=row.get("campaign_name"),
        spend=row.get("spend"),
        impressions=row.get("impressions"),
        clicks=row.get("clicks"),
        purchases=_purchases(row.get("actions")),
        revenue=_purchases(row.get("action_values")),
    )


def ad_day_from_insight(row: dict[str, Any]) -> AdDay:
    """A Meta insights row at level=ad (time_increment=1)."""
    numbers = campaign_day_from_insight(row)
    return AdDay(ad_id=str(row["ad_id"]), ad_name=str(row.get("ad_name") or ""), numbers=numbers)


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, (parsed.host or "").lower(), parsed.port


class MetaAdsResource(dg.ConfigurableResource):
    """Meta Marketing API (Graph API), one ad account."""

    base_url: str = "https://graph.facebook.com"
    api_version: str = "v26.0"
    access_token: str
    ad_account_id: str  # act_<digits>
    page_id: str = ""  # the Facebook page the ads run as
    pixel_id: str = ""  # the store's Meta pixel: ad sets optimise for its PURCHASE events (META_PIXEL_ID)
    video_base_url: str = ""  # where video bytes go; empty: derived from base_url (META_VIDEO_BASE_URL)
    timeout_s: float = 60.0
    max_attempts: int = 8
    max_wait_s: float = 120.0
    requests_per_second: float = 10.0  # the account's write rate: the ceiling; usage headers slow it
    # Calls sent at once by an idle client, then one per interval: 2 of the ~3 s of writes Meta's bucket
    # holds, so the third left there absorbs calls that arrive bunched and its usage header (100 % minus
    # the bucket's level) stays under the 75 % from which the pacer slows down.
    burst_requests: float = 20.0
    # Calls unanswered at once (launches run side by side): a stalled server then serves at most these
    # together, fewer than the third of its bucket the burst leaves there.
    max_in_flight: int = 4
    insights_page_size: int = 500
    _http: PooledHttp = PrivateAttr(default_factory=PooledHttp)
    _server_time: datetime | None = PrivateAttr(default=None)  # from the last answer's Date header

    @property
    def platform(self) -> str:
        return API

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.check_configuration()

    def check_configuration(self) -> None:
        """The settings without which the first ad set would be refused live, checked when a run starts."""
        if not self.pixel_id.strip().isdigit():
            raise MissingSettingError(
                "META_PIXEL_ID is not set (or not a pixel id): ad sets optimise for the pixel's PURCHASE "
                "events; set it to the id of the store's pixel in Meta's Events Manager"
            )

    @property
    def _video_url(self) -> str:
        return (self.video_base_url or video_base_url(self.base_url)).rstrip("/")

    @property
    def _account(self) -> str:
        return self.ad_account_id if self.ad_account_id.startswith("act_") else f"act_{self.ad_account_id}"

    # --- transport -------------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        if method != "GET":  # every Graph API write is a POST: shadow mode records it here instead
            shadowed = gate_write(API, f"{method} {path}", {"params": params, "data": data, "files": files})
            if shadowed is not None:  # answered as Meta would have, with synthetic ids (ad_shadow.py)
                return ad_shadow.meta_write(path, data, shadowed)
        elif gate_read(API, f"{method} {path}", {"path": path, "params": params, "url": url}):
            return ad_shadow.meta_read()
        paced = pacer(
            f"meta:{self.base_url}",
            self.requests_per_second,
            max_in_flight=self.max_in_flight,
            burst=self.burst_requests,
        )
        target = url or f"{self.base_url.rstrip('/')}/{self.api_version}/{path.lstrip('/')}"
        if url and _origin(url) not in (_origin(self.base_url), _origin(self._video_url)):
            # A `paging.next` URL comes from the response body and gets our bearer token: follow it only
            # to the configured API host.
            raise PayloadError(API, f"{method} {path}: next page on another host ({httpx.URL(url).host})")
        form = {k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in (data or {}).items()}
        try:
            with paced.sending():
                paced.wait()
                response = self._http.client(self.timeout_s).request(
                    method,
                    target,
                    params=params,
                    data=form or None,
                    files=files,
                    headers={"Authorization": f"Bearer {self.access_token}"},
                )
        except httpx.TimeoutException as exc:
            raise TransientApiError(API, f"{method} {path} timed out after {self.timeout_s}s") from exc
        _pace_by_usage(paced, response)
        self._server_time = server_time(response.headers.get_list("date")) or self._server_time
        try:
            body = response.json()
        except ValueError as exc:
            if response.status_code >= 500:
                raise TransientApiError(API, f"{method} {path}: HTTP {response.status_code}") from exc
            raise PayloadError(API, f"{method} {path}: HTTP {response.status_code}, not JSON") from exc
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            self._raise(method, path, response, body["error"])
        if response.status_code >= 400 or not isinstance(body, dict):
            raise PayloadError(API, f"{method} {path}: HTTP {response.status_code} without an error body")
        return body

    @staticmethod
    def _raise(method: str, path: str, response: httpx.Response, error: dict[str, Any]) -> None:
        code = error.get("code")
        subcode = error.get("error_subcode")
        message = str(error.get("error_user_msg") or error.get("message") or "")[:300]
        where = f"{method} {path}: {message} (code {code}" + (f"/{subcode})" if subcode else ")")
        if code in THROTTLE_CODES:
            raise ThrottledApiError(API, where, code=code, retry_after=_regain_seconds(response.headers))
        if code in AUTH_ERROR_CODES:
            raise AdPlatformAuthError(
                API,
                f"{where.rstrip('.')}. The access token is invalid or expired: put a valid "
                "system-user token in META_ACCESS_TOKEN (system-user tokens do not expire)",
                code=code,
            )
        if error.get("is_transient") or code in TRANSIENT_CODES or response.status_code >= 500:
            raise TransientApiError(API, where, code=code)
        raise PermanentApiError(API, where, code=code)

    def _call(self, fn: Any) -> Any:
        return call(fn, max_attempts=self.max_attempts, max_wait_s=self.max_wait_s)

    def _create(self, find: Any, create: Any) -> str:
        return create_once(find, create, max_attempts=self.max_attempts, max_wait_s=self.max_wait_s)

    def _find_named(self, path: str, name: str) -> str | None:
        params = {
            "fields": "id,name,status",
            "filtering": json.dumps([{"field": "name", "operator": "EQUAL", "value": name}]),
            "limit": 50,
        }
        body = self._request("GET", path, params=params)
        found = [row["id"] for row in body.get("data", []) if row.get("name") == name]
        return found[0] if found else None

    # --- launch ----------------------------------------------------------------------------------------
    def find_campaign(self, name: str) -> str | None:
        return self._call(lambda: self._find_named(f"{self._account}/campaigns", name))

    def create_campaign(self, name: str) -> str:
        """A sales campaign, PAUSED until its ad exists; budgets live on its ad set."""
        data = {
            "name": name,
            "objective": "OUTCOME_SALES",
            "status": "PAUSED",
            "special_ad_categories": [],
            "buying_type": "AUCTION",
            "is_adset_budget_sharing_enabled": "false",
        }
        return self._create(
            lambda: self._find_named(f"{self._account}/campaigns", name),
            lambda: str(self._request("POST", f"{self._account}/campaigns", data=data)["id"]),
        )

    def find_adset(self, campaign_id: str, name: str) -> str | None:
        return self._call(lambda: self._find_named(f"{campaign_id}/adsets", name))

    def create_adset(self, campaign_id: str, name: str, daily_budget: Decimal) -> str:
        self.check_configuration()
        data = {
            "name": name,
            "campaign_id": campaign_id,
            "daily_budget": int((daily_budget * 100).to_integral_value()),  # minor units
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "OFFSITE_CONVERSIONS",
            # A conversion goal names the pixel and the event it optimises for.
            "promoted_object": {"pixel_id": self.pixel_id, "custom_event_type": "PURCHASE"},
            "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
            "targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 18, "age_max": 65},
            "status": "ACTIVE",
        }
        return self._create(
            lambda: self._find_named(f"{campaign_id}/adsets", name),
            lambda: str(self._request("POST", f"{self._account}/adsets", data=data)["id"]),
        )

    def upload_video(self, path: Path, name: str) -> str:
        """A resumable upload to the video host: `start` opens a session for the file's size, each
        `transfer` sends the bytes between the offsets Meta named last, `finish` publishes the video."""
        advideos = f"{self._video_url}/{self.api_version}/{self._account}/advideos"
        size = path.stat().st_size
        video = self._video_host_call(advideos, {"upload_phase": "start", "file_size": size})
        session, video_id = str(video["upload_session_id"]), str(video["video_id"])
        start, end = int(video["start_offset"]), int(video["end_offset"])
        with path.open("rb") as fh:
            while start < end:
                fh.seek(start)
                chunk = fh.read(end - start)
                phase = {"upload_phase": "transfer", "upload_session_id": session, "start_offset": start}
                files = {"video_file_chunk": (path.name, chunk, "application/octet-stream")}
                offsets = self._video_host_call(advideos, phase, files)
                start, end = int(offsets["start_offset"]), int(offsets["end_offset"])
        finish = {"upload_phase": "finish", "upload_session_id": session, "title": name}
        self._video_host_call(advideos, finish)
        return video_id

    def _video_host_call(
        self, url: str, data: dict[str, Any], files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        # Each phase is retried on its own: a transfer repeated at an offset already received is answered
        # with the next offsets, its bytes never appended twice.
        return self._call(lambda: self._request("POST", "advideos", data=data, files=files, url=url))

    def find_ad(self, adset_id: str, name: str) -> str | None:
        return self._call(lambda: self._find_named(f"{adset_id}/ads", name))

    def create_ad(self, adset_id: str, name: str, video_id: str, text: AdText) -> str:
        video_data: dict[str, Any] = {
            "video_id": video_id,
            "title": text.headline,
            "message": text.message,
            "call_to_action": {"type": text.call_to_action, "value": {"link": text.link}},
        }
        if text.thumbnail_url:
            video_data["image_url"] = text.thumbnail_url
        creative = {"name": name, "object_story_spec": {"page_id": self.page_id, "video_data": video_data}}

        def create() -> str:
            # A creative alone never spends: creating a second one on a retry is harmless.
            creative_id = self._request("POST", f"{self._account}/adcreatives", data=creative)["id"]
            ad = {
                "name": name,
                "adset_id": adset_id,
                "creative": {"creative_id": creative_id},
                "status": "ACTIVE",
            }
            return str(self._request("POST", f"{self._account}/ads", data=ad)["id"])

        return self._create(lambda: self._find_named(f"{adset_id}/ads", name), create)

    # --- changes ---------------------------------------------------------------------------------------
    def set_campaign_active(self, campaign_id: str, active: bool) -> None:
        status = "ACTIVE" if active else "PAUSED"
        self._call(lambda: self._request("POST", campaign_id, data={"status": status}))

    def set_daily_budget(self, adset_id: str, daily_budget: Decimal) -> None:
        minor = int((daily_budget * 100).to_integral_value())
        self._call(lambda: self._request("POST", adset_id, data={"daily_budget": minor}))

    def set_ad_active(self, ad_id: str, active: bool) -> None:
        """One ad on or off (a creative test's loser), its ad set and campaign untouched."""
        status = "ACTIVE" if active else "PAUSED"
        self._call(lambda: self._request("POST", ad_id, data={"status": status}))

    # --- reporting -------------------------------------------------------------------------------------
    def campaign_days(self, since: date, until: date) -> list[CampaignDay]:
        """Every campaign's daily numbers in [since, until], all pages."""
        return self._insight_rows(since, until, "campaign", INSIGHT_FIELDS, campaign_day_from_insight)

    def ad_days(self, since: date, until: date) -> list[AdDay]:
        """Every ad's daily numbers in [since, until] (insights level=ad): what creative tests judge."""
        return self._insight_rows(since, until, "ad", AD_INSIGHT_FIELDS, ad_day_from_insight)

    def _insight_rows(
        self, since: date, until: date, level: str, fields: str, parse: Callable[[dict[str, Any]], T]
    ) -> list[T]:
        """One level's daily insights in [since, until], following `paging.next` to the last page."""
        params: dict[str, Any] | None = {
            "level": level,
            "time_increment": 1,
            "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
            "fields": fields,
            "limit": self.insights_page_size,
        }
        rows: list[T] = []
        next_url: str | None = None
        while True:
            page = self._call(
                lambda p=params, u=next_url: self._request(
                    "GET", f"{self._account}/insights", params=p, url=u
                )
            )
            try:
                rows += [parse(row) for row in page.get("data", [])]
            except (KeyError, ValueError) as exc:
                raise PayloadError(API, f"{level} insights row not as documented: {exc}") from exc
            next_url = (page.get("paging") or {}).get("next")
            if not next_url:
                return rows
            params = None  # `next` carries every parameter

    def reporting_day(self) -> date:
        """The ad account's today: the platform's clock (its Date header) in the account's time zone
        (`timezone_name`), the day its insights are filling now."""
        body = self._call(lambda: self._request("GET", self._account, params={"fields": "timezone_name"}))
        try:
            zone = ZoneInfo(str(body["timezone_name"]))
        except (KeyError, ZoneInfoNotFoundError) as exc:
            raise PayloadError(API, f"ad account without a known timezone_name: {exc}") from exc
        return (self._server_time or datetime.now(UTC)).astimezone(zone).date()

    # --- conversions -----------------------------------------------------------------------------------
    def send_purchase_events(self, events: list[PurchaseEvent]) -> int:
        """Purchase events to the pixel through the Conversions API, as the SDK's `EventRequest` sends
        them (`data`: events normalised as `serverside.Event.normalize()` makes them). Meta deduplicates on
        `event_id` (the order id), so a repeated send after a lost answer is counted once."""
        self.check_configuration()
        data = [meta_purchase_event(event) for event in events]
        body = self._call(lambda: self._request("POST", f"{self.pixel_id}/events", data={"data": data}))
        return int(body.get("events_received") or 0)


def meta_purchase_event(event: PurchaseEvent) -> dict[str, Any]:
    """One `Purchase` in the Conversions API's shape: hashed user data, currency and value."""
    user: dict[str, Any] = {"external_id": [sha256_hex(event.order_id)]}
    if event.hashed_email:
        user["em"] = [event.hashed_email]
    if event.hashed_phone:
        user["ph"] = [event.hashed_phone]
    # A website event needs the shopper's browser (user agent; the IP too where known), unhashed, as
    # Meta matches them itself; an order without one (staff-made, imported) is not a website event.
    if event.user_agent:
        user["client_user_agent"] = event.user_agent
    if event.client_ip:
        user["client_ip_address"] = event.client_ip
    custom: dict[str, Any] = {
        "currency": event.currency.upper(),
        "value": float(event.value),
        "order_id": event.order_id,
    }
    if event.content_ids:
        custom["content_ids"], custom["content_type"] = list(event.content_ids), "product"
    return {
        "event_name": "Purchase",
        "event_time": int(event.event_time.timestamp()),
        "event_id": event.order_id,
        "event_source_url": event.url,
        "action_source": "website" if event.user_agent else "other",
        "user_data": user,
        "custom_data": custom,
    }
