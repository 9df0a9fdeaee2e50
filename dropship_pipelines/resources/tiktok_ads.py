"""TikTok API for Business v1.3: campaigns, ad groups, video upload, ads, status/budget, reports.

Every answer is HTTP 200 with a `code`: 0 is success, 40100 is the rate limit (retried with backoff),
40101/40102/40104/40105 are credential problems (`AdPlatformAuthError`, naming TIKTOK_ACCESS_TOKEN), 5xxxx
are the platform's own errors (retried), anything else is a bad request. List parameters on GET are JSON
strings.

Ad groups optimise for the store pixel's purchases (TIKTOK_PIXEL_ID) from now on; ads run as the store's
identity (TIKTOK_IDENTITY_ID, of type TIKTOK_IDENTITY_TYPE).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
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
from dropship_pipelines.resources.pacing import pacer
from dropship_pipelines.resources.write_gate import gate_read, gate_write
from dropship_pipelines.rules.ad_metrics import CampaignDay, campaign_day
from dropship_pipelines.rules.creative_tests import AdDay

API = "tiktok"
RATE_LIMIT_CODES = {40100, 40016}
AUTH_ERROR_CODES = {40101, 40102, 40104, 40105}  # token missing, invalid, expired, revoked
T = TypeVar("T")  # a parsed report row: a campaign day or an ad day

REPORT_METRICS = [
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "complete_payment",
    "total_complete_payment_rate",
]
THROTTLE_PAUSE_S = 1.0  # a QPS limit clears within its second
MAX_REPORT_DAYS = 30  # daily breakdowns are limited to about a month per request
# Identity types whose ads need an `identity_id` (an account, a Business Center or a custom identity).
IDENTITY_TYPES_WITH_ID = {"CUSTOMIZED_USER", "AUTH_CODE", "TT_USER", "BC_AUTH_TT"}
SCHEDULE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # UTC, as the API takes it


def campaign_day_from_report(row: dict[str, Any]) -> CampaignDay:
    """A TikTok integrated-report row (AUCTION_CAMPAIGN, dimensions campaign_id + stat_time_day)."""
    dims, metrics = row["dimensions"], row["metrics"]
    return campaign_day(
        day=date.fromisoformat(str(dims["stat_time_day"])[:10]),
        platform=API,
        campaign_id=dims["campaign_id"],
        campaign_name=metrics.get("campaign_name"),
        spend=metrics.get("spend"),
        impressions=metrics.get("impressions"),
        clicks=metrics.get("clicks"),
        purchases=metrics.get("complete_payment"),
        revenue=metrics.get("total_complete_payment_rate"),
    )


AD_REPORT_METRICS = ["campaign_id", "ad_name", *REPORT_METRICS[1:]]


def ad_day_from_report(row: dict[str, Any]) -> AdDay:
    """A TikTok integrated-report row at AUCTION_AD (dimensions ad_id + stat_time_day)."""
    dims, metrics = row["dimensions"], row["metrics"]
    numbers = campaign_day(
        day=date.fromisoformat(str(dims["stat_time_day"])[:10]),
        platform=API,
        campaign_id=metrics["campaign_id"],
        campaign_name="",
        spend=metrics.get("spend"),
        impressions=metrics.get("impressions"),
        clicks=metrics.get("clicks"),
        purchases=metrics.get("complete_payment"),
        revenue=metrics.get("total_complete_payment_rate"),
    )
    return AdDay(ad_id=str(dims["ad_id"]), ad_name=str(metrics.get("ad_name") or ""), numbers=numbers)


class TikTokAdsResource(dg.ConfigurableResource):
    """TikTok API for Business (Marketing API) v1.3, one advertiser account (`Access-Token` header)."""

    base_url: str = "https://business-api.tiktok.com/open_api/v1.3"
    access_token: str
    advertiser_id: str
    display_name: str = "Dropship Store"
    pixel_id: str = ""  # the store's TikTok pixel: ad groups optimise for its purchases (TIKTOK_PIXEL_ID)
    # The same pixel's code (Events Manager, "C..."): the Events API names it so (TIKTOK_PIXEL_CODE).
    pixel_code: str = ""
    identity_id: str = ""  # the identity the ads run as (TIKTOK_IDENTITY_ID)
    identity_type: str = "CUSTOMIZED_USER"  # TIKTOK_IDENTITY_TYPE
    timeout_s: float = 60.0
    max_attempts: int = 8
    max_wait_s: float = 60.0
    requests_per_second: float = 10.0  # the app's QPS (Basic access): the ceiling, never paced above
    # Calls sent at once by an idle client, then one per interval: half of the second's worth the QPS
    # bucket holds, the other half left there for calls that arrive bunched.
    burst_requests: float = 5.0
    # Calls unanswered at once (launches run side by side): a stalled server then serves at most these
    # together, fewer than the half of its bucket the burst leaves there.
    max_in_flight: int = 4
    report_page_size: int = 1000
    _http: PooledHttp = PrivateAttr(default_factory=PooledHttp)
    _server_time: datetime | None = PrivateAttr(default=None)  # from the last answer's Date header

    @property
    def platform(self) -> str:
        return API

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.check_configuration()

    def check_configuration(self) -> None:
        """The settings without which the first ad group or ad would be refused live, checked at start."""
        if not self.pixel_id.strip().isdigit():
            raise MissingSettingError(
                "TIKTOK_PIXEL_ID is not set (or not a pixel id): ad groups optimise for its purchases; "
                "set it to the id of the store's pixel in TikTok Events Manager"
            )
        if self.identity_type in IDENTITY_TYPES_WITH_ID and not self.identity_id.strip():
            raise MissingSettingError(
                f"TIKTOK_IDENTITY_ID is not set: ads with identity type {self.identity_type} "
                "(TIKTOK_IDENTITY_TYPE) need the id of that identity"
            )

    # --- transport -------------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        advertiser: bool = True,  # the Events API's body names its pixel, not the advertiser
    ) -> Any:
        if method != "GET":  # every TikTok write is a POST: shadow mode records it here instead
            shadowed = gate_write(API, f"{method} {path}", {"body": body, "form": form, "files": files})
            if shadowed is not None:  # answered as TikTok would have, with synthetic ids (ad_shadow.py)
                return ad_shadow.tiktok_write(path, body, shadowed)
        elif gate_read(API, f"{method} {path}", {"params": params}):
            return ad_shadow.tiktok_read()
        paced = pacer(
            f"tiktok:{self.base_url}",
            self.requests_per_second,
            max_in_flight=self.max_in_flight,
            burst=self.burst_requests,
        )
        query = None
        if params is not None:
            query = {k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in params.items()}
            query["advertiser_id"] = self.advertiser_id
        try:
            with paced.sending():
                paced.wait()
                response = self._http.client(self.timeout_s).request(
                    method,
                    f"{self.base_url.rstrip('/')}/{path.lstrip('/')}",
                    params=query,
                    json=({"advertiser_id": self.advertiser_id} if advertiser else {}) | body
                    if body is not None
                    else None,
                    data={"advertiser_id": self.advertiser_id, **form} if form is not None else None,
                    files=files,
                    headers={"Access-Token": self.access_token},
                )
        except httpx.TimeoutException as exc:
            raise TransientApiError(API, f"{method} {path} timed out after {self.timeout_s}s") from exc
        self._server_time = server_time(response.headers.get_list("date")) or self._server_time
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientApiError(
                API, f"{method} {path}: HTTP {response.status_code}", code=response.status_code
            )
        try:
            envelope = response.json()
        except ValueError as exc:
            raise PayloadError(API, f"{method} {path}: HTTP {response.status_code}, not JSON") from exc
        code = envelope.get("code") if isinstance(envelope, dict) else None
        # TikTok reports no usage, only 40100 once over its QPS: slow down on it, else recover.
        if code in RATE_LIMIT_CODES:
            paced.throttled(THROTTLE_PAUSE_S)
        else:
            paced.succeeded()
        if code == 0:
            return envelope.get("data")
        message = str(envelope.get("message") if isinstance(envelope, dict) else envelope)[:300]
        where = f"{method} {path}: {message}"
        if code in RATE_LIMIT_CODES:
            raise ThrottledApiError(API, where, code=code)
        if code in AUTH_ERROR_CODES:
            raise AdPlatformAuthError(
                API,
                f"{where.rstrip('.')}. The access token is missing, invalid or revoked: re-authorise "
                "the app and put the new long-lived token in TIKTOK_ACCESS_TOKEN",
                code=code,
            )
        if isinstance(code, int) and code >= 50000:
            raise TransientApiError(API, where, code=code)
        raise PermanentApiError(API, where, code=code)

    def _call(self, fn: Any) -> Any:
        return call(fn, max_attempts=self.max_attempts, max_wait_s=self.max_wait_s)

    def _create(self, find: Any, create: Any) -> str:
        return create_once(find, create, max_attempts=self.max_attempts, max_wait_s=self.max_wait_s)

    def _find(
        self, path: str, filtering: dict[str, Any], id_field: str, name_field: str, name: str
    ) -> str | None:
        data = self._request("GET", path, params={"filtering": filtering, "page": 1, "page_size": 100})
        found = [row[id_field] for row in (data or {}).get("list", []) if row.get(name_field) == name]
        return str(found[0]) if found else None

    # --- launch ----------------------------------------------------------------------------------------
    def find_campaign(self, name: str) -> str | None:
        return self._call(
            lambda: self._find(
                "/campaign/get/", {"campaign_name": name}, "campaign_id", "campaign_name", name
            )
        )

    def create_campaign(self, name: str) -> str:
        """A web-conversions campaign, disabled until its ad exists; budgets live on its ad group."""
        body = {
            "campaign_name": name,
            "objective_type": "WEB_CONVERSIONS",
            "budget_mode": "BUDGET_MODE_INFINITE",
            "operation_status": "DISABLE",
        }
        return self._create(
            lambda: self._find(
                "/campaign/get/", {"campaign_name": name}, "campaign_id", "campaign_name", name
            ),
            lambda: str(self._request("POST", "/campaign/create/", body=body)["campaign_id"]),
        )

    def _find_adgroup(self, campaign_id: str, name: str) -> str | None:
        return self._find(
            "/adgroup/get/", {"campaign_ids": [campaign_id]}, "adgroup_id", "adgroup_name", name
        )

    def find_adset(self, campaign_id: str, name: str) -> str | None:
        return self._call(lambda: self._find_adgroup(campaign_id, name))

    def create_adset(self, campaign_id: str, name: str, daily_budget: Decimal) -> str:
        self.check_configuration()
        body = {
            "campaign_id": campaign_id,
            "adgroup_name": name,
            "promotion_type": "WEBSITE",
            "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
            "location_ids": ["6252001"],
            "optimization_goal": "CONVERT",
            "pixel_id": self.pixel_id,
            "optimization_event": "SHOPPING",
            "billing_event": "OCPM",
            "bid_type": "BID_TYPE_NO_BID",
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": float(daily_budget),  # major units, unlike Meta
            "pacing": "PACING_MODE_SMOOTH",
            "schedule_type": "SCHEDULE_FROM_NOW",
            "schedule_start_time": datetime.now(UTC).strftime(SCHEDULE_TIME_FORMAT),
            "operation_status": "ENABLE",
        }
        return self._create(
            lambda: self._find_adgroup(campaign_id, name),
            lambda: str(self._request("POST", "/adgroup/create/", body=body)["adgroup_id"]),
        )

    def upload_video(self, path: Path, name: str) -> str:
        blob = path.read_bytes()
        form = {
            "upload_type": "UPLOAD_BY_FILE",
            "video_signature": hashlib.md5(blob).hexdigest(),
            "file_name": f"{name}.mp4",
        }

        def upload() -> str:
            data = self._request(
                "POST",
                "/file/video/ad/upload/",
                form=form,
                files={"video_file": (path.name, blob, "video/mp4")},
            )
            item = data[0] if isinstance(data, list) else data
            return str(item["video_id"])

        return self._call(upload)

    def _find_ad(self, adset_id: str, name: str) -> str | None:
        return self._find("/ad/get/", {"adgroup_ids": [adset_id]}, "ad_id", "ad_name", name)

    def find_ad(self, adset_id: str, name: str) -> str | None:
        return self._call(lambda: self._find_ad(adset_id, name))

    def create_ad(self, adset_id: str, name: str, video_id: str, text: AdText) -> str:
        self.check_configuration()
        creative = {
            "ad_name": name,
            "ad_format": "SINGLE_VIDEO",
            "video_id": video_id,
            "ad_text": text.message[:100],
            "call_to_action": text.call_to_action,
            "landing_page_url": text.link,
            "identity_type": self.identity_type,
            "identity_id": self.identity_id,
            "display_name": self.display_name,
            "operation_status": "ENABLE",
        }
        return self._create(
            lambda: self._find_ad(adset_id, name),
            lambda: str(
                self._request("POST", "/ad/create/", body={"adgroup_id": adset_id, "creatives": [creative]})[
                    "ad_ids"
                ][0]
            ),
        )

    # --- changes ---------------------------------------------------------------------------------------
    def set_campaign_active(self, campaign_id: str, active: bool) -> None:
        body = {"campaign_ids": [campaign_id], "operation_status": "ENABLE" if active else "DISABLE"}
        self._call(lambda: self._request("POST", "/campaign/status/update/", body=body))

    def set_daily_budget(self, adset_id: str, daily_budget: Decimal) -> None:
        body = {"budget": [{"adgroup_id": adset_id, "budget": float(daily_budget)}]}
        self._call(lambda: self._request("POST", "/adgroup/budget/update/", body=body))

    def set_ad_active(self, ad_id: str, active: bool) -> None:
        """One ad on or off (a creative test's loser), its ad group and campaign untouched."""
        body = {"ad_ids": [ad_id], "operation_status": "ENABLE" if active else "DISABLE"}
        self._call(lambda: self._request("POST", "/ad/status/update/", body=body))

    # --- reporting -------------------------------------------------------------------------------------
    def campaign_days(self, since: date, until: date) -> list[CampaignDay]:
        """Every campaign's daily numbers in [since, until]: windows of at most 30 days, all pages."""
        return self._report_rows(
            since,
            until,
            "AUCTION_CAMPAIGN",
            "campaign_id",
            REPORT_METRICS,
            campaign_day_from_report,
            "report",
        )

    def ad_days(self, since: date, until: date) -> list[AdDay]:
        """Every ad's daily numbers in [since, until] (AUCTION_AD by ad_id): what creative tests judge."""
        return self._report_rows(
            since, until, "AUCTION_AD", "ad_id", AD_REPORT_METRICS, ad_day_from_report, "ad report"
        )

    def _report_rows(
        self,
        since: date,
        until: date,
        data_level: str,
        id_dimension: str,
        metrics: list[str],
        parse: Callable[[dict[str, Any]], T],
        what: str,
    ) -> list[T]:
        """One level's daily report rows in [since, until]: windows of at most 30 days, all pages."""
        rows: list[T] = []
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=MAX_REPORT_DAYS - 1))
            page, total_pages = 1, 1
            while page <= total_pages:
                params = {
                    "report_type": "BASIC",
                    "data_level": data_level,
                    "dimensions": [id_dimension, "stat_time_day"],
                    "metrics": metrics,
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                    "page": page,
                    "page_size": self.report_page_size,
                }
                data = self._call(lambda p=params: self._request("GET", "/report/integrated/get/", params=p))
                try:
                    rows += [parse(row) for row in data.get("list", [])]
                    total_pages = int(data["page_info"]["total_page"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise PayloadError(API, f"{what} not as documented: {exc}") from exc
                page += 1
            start = end + timedelta(days=1)
        return rows

    def reporting_day(self) -> date:
        """The advertiser's today: the platform's clock (its Date header) in the advertiser's time zone
        (`/advertiser/info/` `timezone`), the day its reports are filling now."""
        params = {"advertiser_ids": [self.advertiser_id], "fields": ["advertiser_id", "timezone"]}
        data = self._call(lambda: self._request("GET", "/advertiser/info/", params=params))
        try:
            zone = ZoneInfo(str(data["list"][0]["timezone"]))
        except (KeyError, IndexError, TypeError, ZoneInfoNotFoundError) as exc:
            raise PayloadError(API, f"advertiser without a known timezone: {exc}") from exc
        return (self._server_time or datetime.now(UTC)).astimezone(zone).date()

    # --- conversions -----------------------------------------------------------------------------------
    def send_purchase_events(self, events: list[PurchaseEvent]) -> int:
        """`CompletePayment` events to the pixel through the Events API 2.0 (`/event/track/`, event source
        `web`, the pixel code as its id). TikTok deduplicates on `event_id` (the order id)."""
        if not self.pixel_code.strip():
            raise MissingSettingError(
                "TIKTOK_PIXEL_CODE is not set: the Events API names the pixel by its code (Events Manager, "
                "the pixel's 'C...' code)"
            )
        body = {
            "event_source": "web",
            "event_source_id": self.pixel_code,
            "data": [tiktok_purchase_event(event) for event in events],
        }
        self._call(lambda: self._request("POST", "/event/track/", body=body, advertiser=False))
        return len(events)


def tiktok_purchase_event(event: PurchaseEvent) -> dict[str, Any]:
    """One `CompletePayment` in the Events API 2.0 shape: hashed user, currency and value, the page."""
    user: dict[str, Any] = {"external_id": sha256_hex(event.order_id)}
    if event.hashed_email:
        user["email"] = event.hashed_email
    if event.hashed_phone:
        user["phone"] = event.hashed_phone
    if event.user_agent:  # the shopper's browser, unhashed (TikTok matches on it)
        user["user_agent"] = event.user_agent
    if event.client_ip:
        user["ip"] = event.client_ip
    properties: dict[str, Any] = {
        "currency": event.currency.upper(),
        "value": float(event.value),
        "order_id": event.order_id,
        "content_type": "product",
    }
    if event.content_ids:
        properties["contents"] = [{"content_id": cid} for cid in event.content_ids]
    return {
        "event": "CompletePayment",
        "event_time": int(event.event_time.timestamp()),
        "event_id": event.order_id,
        "user": user,
        "properties": properties,
        "page": {"url": event.url},
    }
