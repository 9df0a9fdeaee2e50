"""TikTok API for Business (Marketing API) v1.3, as `api-contracts.md` §4 records it.

Every answer is HTTP 200 with `{"code", "message", "request_id", "data"}`: 0 OK, 40002 parameter error,
40001 no permission, 40105 bad or revoked `Access-Token`, 40100 rate limit, 50000 system error. GET list
parameters are JSON-encoded strings; reports come as `data.list[].{dimensions, metrics}` + `page_info`,
with `"-"` for metrics that have no value.
"""

import hashlib
import json
import math
import struct
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import ad_delivery, conversions, credentials
from dropship_sandbox.apis.pipeline import ApiError, ApiPolicy, Call, read_form
from dropship_sandbox.validation import conversions as event_checks
from dropship_sandbox.validation import tiktok as rules
from dropship_sandbox.world import World

router = APIRouter(prefix="/open_api/v1.3")

PLATFORM = "tiktok"
REQUESTS_PER_SECOND = 10.0  # "Basic" access: about 10 QPS per app and token
BUDGET_MODES = rules.BUDGET_MODES
# A start time a little behind the platform's clock is still "now" (the request took a moment to arrive).
SCHEDULE_GRACE = timedelta(minutes=10)
MIN_ADGROUP_DAILY_BUDGET = 5.0
REPORT_METRICS = {
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "conversion",
    "complete_payment",
    "total_complete_payment_rate",
    "complete_payment_roas",
    "campaign_name",
}
AD_REPORT_METRICS = {"campaign_id", "ad_name"}  # attributes an AUCTION_AD report also gives
MAX_REPORT_DAYS = 30
THROTTLED_MESSAGE = (
    "Due to too many requests, requests from App [7000000000000000000] are temporarily restricted."
)


class TikTokError(ApiError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def response(self) -> JSONResponse:
        return envelope(None, self.code, self.message)


def _param_error(message: str) -> TikTokError:
    return TikTokError(40002, message)


def envelope(data: Any = None, code: int = 0, message: str = "OK") -> JSONResponse:
    request_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:18].upper()
    return JSONResponse({"code": code, "message": message, "request_id": request_id, "data": data or {}})


class TikTokApi(ApiPolicy[Call]):
    """HTTP 200 envelopes with numeric codes; one QPS bucket per app and token."""

    api = PLATFORM

    def authenticate(self, world: World, request: Request, call: Call) -> None:
        token = request.headers.get("Access-Token")
        if not token:
            raise TikTokError(40105, "Access token is null, please check your request.")
        if token != credentials.TIKTOK_ACCESS_TOKEN or world.faults(PLATFORM).expire_tokens:
            raise TikTokError(40105, "The access token is invalid or has been revoked. Please re-authorize.")

    def throttle(self, world: World, request: Request, call: Call) -> None:
        bucket = world.rate_buckets.get("tiktok:token", REQUESTS_PER_SECOND, REQUESTS_PER_SECOND)
        if world.faults(PLATFORM).rate_limits and not bucket.take(1):
            raise TikTokError(40100, THROTTLED_MESSAGE)

    def server_error(self, world: World, call: Call) -> JSONResponse:
        return envelope(None, 50000, "System error, please try again later.")

    def rate_limited(self, world: World, call: Call) -> JSONResponse:
        return envelope(None, 40100, THROTTLED_MESSAGE)

    def lost_answer(self, world: World, call: Call) -> JSONResponse:
        return JSONResponse({"code": 50002, "message": "Gateway timeout."}, status_code=504)

    def answer(self, data: Any, grant: None, call: Call) -> JSONResponse:
        return envelope(data)


TIKTOK = TikTokApi()


def _advertiser(params: dict[str, Any]) -> None:
    advertiser = str(params.get("advertiser_id") or "")
    if not advertiser:
        raise _param_error("advertiser_id: Missing data for required field.")
    if advertiser != credentials.TIKTOK_ADVERTISER_ID:
        raise TikTokError(40001, f"No permission to operate advertiser {advertiser}.")


def _required(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if body.get(name) in (None, "", []):
            raise _param_error(f"{name}: Missing data for required field.")


def _new_id(world: World) -> str:
    return str(world.new_id("tiktok_object", 1_800_000_000_000_000_000))


def _float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise _param_error(f"{name}: Not a valid number.") from exc
    if not math.isfinite(number) or number < 0:
        raise _param_error(f"{name}: Not a valid number.")
    return number


def _get(world: World, kind: str, object_id: Any) -> dict[str, Any]:
    doc = world.state.get(f"tiktok_{kind}", str(object_id or ""))
    if doc is None:
        raise _param_error(f"{kind}_id: {kind} {object_id} does not exist.")
    return doc


# --- creates ---------------------------------------------------------------------------------------------
def create_campaign(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    rules.check_campaign(body)
    name = str(body["campaign_name"])
    campaigns = world.state.all("tiktok_campaign")
    if any(c["name"] == name and c["operation_status"] != "DELETE" for c in campaigns):
        raise _param_error(f"campaign_name: Campaign name '{name}' already exists. Please use another name.")
    mode = body.get("budget_mode", "BUDGET_MODE_INFINITE")
    budget = _float(body["budget"], "budget") if mode in ("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL") else None
    if mode in ("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL") and not budget:
        raise _param_error("budget: Budget is required when budget_mode is not BUDGET_MODE_INFINITE.")
    status = body.get("operation_status", "ENABLE")
    doc = {
        "id": _new_id(world),
        "name": str(body["campaign_name"]),
        "objective_type": body["objective_type"],
        "budget_mode": mode,
        "budget": budget,
        "operation_status": status,
        "active": status == "ENABLE",
        "created": world.now().isoformat(),
        "adset_ids": [],
    }
    ad_delivery.register_campaign(world, PLATFORM, doc)
    world.state.put("tiktok_campaign", doc["id"], doc)
    return {
        "campaign_id": doc["id"],
        "campaign_name": doc["name"],
        "budget_mode": mode,
        "operation_status": status,
    }


def create_adgroup(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    rules.required(body, *rules.ADGROUP_REQUIRED)
    campaign = _get(world, "campaign", body["campaign_id"])
    # The platform's "now": the world's clock, or the wall clock when the world runs ahead of it.
    now = min(world.now(), datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None) - SCHEDULE_GRACE
    rules.check_adgroup(body, campaign["objective_type"], now)
    pixel = str(body.get("pixel_id") or "")
    if pixel and (pixel != credentials.TIKTOK_PIXEL_ID or world.settings.ad_pixels_removed):
        raise _param_error(f"pixel_id: Pixel {body['pixel_id']} does not exist or is not yours.")
    mode = body["budget_mode"]
    budget = None
    if campaign.get("budget") is None:
        budget = _float(body.get("budget"), "budget")
        if budget < MIN_ADGROUP_DAILY_BUDGET:
            raise _param_error(
                f"budget: The daily budget must be at least {MIN_ADGROUP_DAILY_BUDGET:.2f} USD."
            )
    status = body.get("operation_status", "ENABLE")
    doc = {
        "id": _new_id(world),
        "name": str(body["adgroup_name"]),
        "campaign_id": campaign["id"],
        "budget_mode": mode,
        "budget": budget,
        "operation_status": status,
        "active": status == "ENABLE",
        "created": world.now().isoformat(),
        "ad_ids": [],
    }
    world.state.put("tiktok_adset", doc["id"], doc)
    campaign["adset_ids"].append(doc["id"])
    world.state.put("tiktok_campaign", campaign["id"], campaign)
    return {"adgroup_id": doc["id"], "campaign_id": campaign["id"], "adgroup_name": doc["name"]}


def _mp4_facts(blob: bytes) -> tuple[int, int, float]:
    """(width, height, duration) from the MP4 `tkhd` and `mvhd` boxes; zeros when they are not there."""
    width = height = 0
    duration = 0.0
    at = blob.find(b"mvhd")
    if at > 0:
        version = blob[at + 4]
        if version == 1:
            timescale, length = struct.unpack(">IQ", blob[at + 24 : at + 36])
        else:
            timescale, length = struct.unpack(">II", blob[at + 16 : at + 24])
        duration = length / timescale if timescale else 0.0
    at = blob.find(b"tkhd")
    while at > 0:
        size = struct.unpack(">I", blob[at - 4 : at])[0]
        w, h = struct.unpack(">II", blob[at - 4 + size - 8 : at - 4 + size])
        if w and h:
            width, height = w >> 16, h >> 16
            break
        at = blob.find(b"tkhd", at + 4)
    return width, height, round(duration, 3)


def upload_video(world: World, form: dict[str, Any], blob: bytes | None) -> list[dict[str, Any]]:
    _advertiser(form)
    upload_type = form.get("upload_type", "UPLOAD_BY_FILE")
    if upload_type != "UPLOAD_BY_FILE":
        raise _param_error("upload_type: the sandbox accepts UPLOAD_BY_FILE only.")
    if not blob:
        raise _param_error("video_file: Missing data for required field.")
    signature = hashlib.md5(blob).hexdigest()
    if str(form.get("video_signature") or "").lower() != signature:
        raise _param_error("video_signature: The signature does not match the uploaded file.")
    existing = world.state.get("tiktok_video_by_signature", signature)
    if existing:  # the same file uploaded again is the same material (unconfirmed for the live API)
        return [world.state.get("tiktok_video", existing["video_id"])]
    width, height, duration = _mp4_facts(blob)
    if not duration:
        raise _param_error("video_file: The file is not a valid video.")
    video_id = f"v10033g5{uuid.uuid4().hex[:24]}"
    doc = {
        "video_id": video_id,
        "width": width,
        "height": height,
        "format": "mp4",
        "duration": duration,
        "size": len(blob),
        "file_name": form.get("file_name") or f"{signature}.mp4",
        "signature": signature,
        "video_cover_url": f"https://p16-sign-va.tiktokcdn.com/sandbox/{video_id}~tplv-noop.image",
        "preview_url": f"https://v16m.tiktokcdn.com/sandbox/{video_id}.mp4",
    }
    world.state.put("tiktok_video", video_id, doc)
    world.state.put("tiktok_video_by_signature", signature, {"video_id": video_id})
    return [doc]


def create_ad(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    _required(body, "adgroup_id", "creatives")
    adgroup = _get(world, "adset", body["adgroup_id"])
    ad_ids = []
    for position, creative in enumerate(body["creatives"]):
        rules.check_creative(creative, position)
        if creative.get("identity_id") and str(creative["identity_id"]) != credentials.TIKTOK_IDENTITY_ID:
            raise _param_error(
                f"creatives[{position}].identity_id: Identity {creative['identity_id']} does not exist."
            )
        if world.state.get("tiktok_video", creative["video_id"]) is None:
            raise _param_error(
                f"creatives[{position}].video_id: video {creative['video_id']} does not exist."
            )
        if not 1 <= len(creative["ad_text"]) <= 100:
            raise _param_error(f"creatives[{position}].ad_text: Length must be between 1 and 100.")
        status = creative.get("operation_status", "ENABLE")
        doc = {
            "id": _new_id(world),
            "name": creative["ad_name"],
            "adset_id": adgroup["id"],
            "campaign_id": adgroup["campaign_id"],
            "video_id": creative["video_id"],
            "ad_text": creative["ad_text"],
            "operation_status": status,
            "active": status == "ENABLE",
            "quality": round(0.9 + min(len(creative["ad_text"]), 100) / 100 * 0.2, 3),
            "created": world.now().isoformat(),
        }
        world.state.put("tiktok_ad", doc["id"], doc)
        adgroup["ad_ids"].append(doc["id"])
        ad_ids.append(doc["id"])
    world.state.put("tiktok_adset", adgroup["id"], adgroup)
    return {"ad_ids": ad_ids}


# --- updates -----------------------------------------------------------------------------------------------
def _set_status(world: World, kind: str, ids: list[Any], status: Any) -> dict[str, Any]:
    if status not in ("ENABLE", "DISABLE", "DELETE"):
        raise _param_error("operation_status: Must be one of ['DELETE', 'DISABLE', 'ENABLE'].")
    docs = [_get(world, kind, i) for i in ids or []]
    if not docs:
        raise _param_error(f"{kind}_ids: Missing data for required field.")
    for doc in docs:
        doc["operation_status"] = status
        doc["active"] = status == "ENABLE"
        world.state.put(f"tiktok_{kind}", doc["id"], doc)
    return [doc["id"] for doc in docs]


def update_campaign_status(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    ids = _set_status(world, "campaign", body.get("campaign_ids"), body.get("operation_status"))
    return {"campaign_ids": ids, "status": body["operation_status"]}


def update_adgroup_status(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    ids = _set_status(world, "adset", body.get("adgroup_ids"), body.get("operation_status"))
    return {"adgroup_ids": ids, "status": body["operation_status"]}


def update_campaign(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    campaign = _get(world, "campaign", body.get("campaign_id"))
    if "budget" in body:
        if campaign.get("budget") is None:
            raise _param_error(
                "budget: The campaign has no budget (BUDGET_MODE_INFINITE); set ad group budgets."
            )
        campaign["budget"] = rules.number(body["budget"], "budget")
    if body.get("campaign_name"):
        campaign["name"] = str(body["campaign_name"])
    world.state.put("tiktok_campaign", campaign["id"], campaign)
    return {"campaign_id": campaign["id"], "budget": campaign.get("budget")}


def update_adgroup_budget(world: World, body: dict[str, Any]) -> dict[str, Any]:
    _advertiser(body)
    changes = body.get("budget") or []
    if not isinstance(changes, list) or not changes:
        raise _param_error("budget: Missing data for required field.")
    for change in changes:
        adgroup = _get(world, "adset", change.get("adgroup_id"))
        budget = rules.number(change.get("budget"), "budget")
        if budget < MIN_ADGROUP_DAILY_BUDGET:
            raise _param_error(
                f"budget: The daily budget must be at least {MIN_ADGROUP_DAILY_BUDGET:.2f} USD."
            )
        adgroup["budget"] = budget
        world.state.put("tiktok_adset", adgroup["id"], adgroup)
    return {}


# --- reads ------------------------------------------------------------------------------------------------
def _json_query(params: dict[str, Any], name: str, default: Any) -> Any:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise _param_error(f"{name}: Not a valid JSON string.") from exc


def _paged(items: list[dict[str, Any]], params: dict[str, Any], max_size: int) -> dict[str, Any]:
    try:
        page = int(params.get("page") or 1)
        size = int(params.get("page_size") or 10)
    except ValueError as exc:
        raise _param_error("page/page_size: Not a valid integer.") from exc
    if page < 1 or not 1 <= size <= max_size:
        raise _param_error(f"page_size: Must be between 1 and {max_size}.")
    total_page = max(1, math.ceil(len(items) / size))
    return {
        "list": items[(page - 1) * size : page * size],
        "page_info": {"page": page, "page_size": size, "total_number": len(items), "total_page": total_page},
    }


def _object_view(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    id_field = {"campaign": "campaign_id", "adset": "adgroup_id", "ad": "ad_id"}[kind]
    name_field = {"campaign": "campaign_name", "adset": "adgroup_name", "ad": "ad_name"}[kind]
    view = {
        id_field: doc["id"],
        name_field: doc["name"],
        "operation_status": doc["operation_status"],
        "advertiser_id": credentials.TIKTOK_ADVERTISER_ID,
        "create_time": doc["created"][:19].replace("T", " "),
    }
    if kind != "campaign":
        view["campaign_id"] = doc["campaign_id"]
    if kind == "ad":
        view["adgroup_id"] = doc["adset_id"]
    if doc.get("budget") is not None:
        view["budget"] = doc["budget"]
    return view


def list_objects(world: World, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    _advertiser(params)
    filtering = _json_query(params, "filtering", {})
    if not isinstance(filtering, dict):
        raise _param_error("filtering: Not a valid JSON object.")
    docs = world.state.all(f"tiktok_{kind}")
    wanted = {
        "campaign_ids": lambda d, v: d["campaign_id" if kind != "campaign" else "id"] in v,
        "adgroup_ids": lambda d, v: d["adset_id" if kind == "ad" else "id"] in v,
        "ad_ids": lambda d, v: d["id"] in v,
        "campaign_name": lambda d, v: kind == "campaign" and d["name"] == v,
        "adgroup_name": lambda d, v: kind == "adset" and d["name"] == v,
        "ad_name": lambda d, v: kind == "ad" and d["name"] == v,
    }
    for field, value in filtering.items():
        if field not in wanted:
            raise _param_error(f"filtering.{field}: Unknown field.")
        docs = [d for d in docs if wanted[field](d, value)]
    return _paged([_object_view(kind, d) for d in docs], params, 1000)


def _metric(name: str, totals: dict[str, float], campaign: dict[str, Any]) -> Any:
    spend, impressions = round(totals["spend"], 2), int(totals["impressions"])
    clicks, purchases, revenue = int(totals["clicks"]), int(totals["purchases"]), round(totals["revenue"], 2)
    values: dict[str, Any] = {
        "spend": f"{spend:.2f}",
        "impressions": str(impressions),
        "clicks": str(clicks),
        "ctr": f"{100 * clicks / impressions:.2f}" if impressions else "-",
        "cpc": f"{spend / clicks:.2f}" if clicks else "-",
        "cpm": f"{1000 * spend / impressions:.2f}" if impressions else "-",
        "conversion": str(purchases),
        "complete_payment": str(purchases),
        "total_complete_payment_rate": f"{revenue:.2f}" if purchases else "-",
        "complete_payment_roas": f"{revenue / spend:.2f}" if purchases and spend else "-",
        "campaign_name": campaign["name"],
    }
    return values[name]


def report(world: World, params: dict[str, Any]) -> dict[str, Any]:
    _advertiser(params)
    if params.get("report_type") != "BASIC":
        raise _param_error("report_type: the sandbox serves BASIC reports.")
    level = params.get("data_level", "AUCTION_CAMPAIGN")
    if level not in ("AUCTION_CAMPAIGN", "AUCTION_AD"):
        raise _param_error("data_level: the sandbox serves AUCTION_CAMPAIGN and AUCTION_AD reports.")
    dimensions = _json_query(params, "dimensions", None)
    metrics = _json_query(params, "metrics", ["spend", "impressions"])
    by = "ad_id" if level == "AUCTION_AD" else "campaign_id"
    if dimensions not in ([by, "stat_time_day"], ["stat_time_day", by], [by]):
        raise _param_error(f"dimensions: the sandbox serves {by} (+ stat_time_day) at {level}.")
    unknown = [
        m for m in metrics if m not in REPORT_METRICS | (AD_REPORT_METRICS if by == "ad_id" else set())
    ]
    if unknown:
        raise _param_error(f"metrics: Invalid metric {unknown[0]}.")
    try:
        start, end = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
    except (KeyError, ValueError) as exc:
        raise _param_error("start_date/end_date: Must be YYYY-MM-DD.") from exc
    daily = "stat_time_day" in dimensions
    if end < start or (daily and (end - start).days + 1 > MAX_REPORT_DAYS):
        raise _param_error(f"end_date: With stat_time_day the range may span at most {MAX_REPORT_DAYS} days.")
    filtering = _json_query(params, "filtering", [])
    wanted_ids = None
    for f in filtering or []:
        if f.get("field_name") == "campaign_ids":
            wanted_ids = set(
                json.loads(f["filter_value"]) if isinstance(f["filter_value"], str) else f["filter_value"]
            )
    rows = []
    if by == "ad_id":
        rows = _ad_report_rows(world, metrics, start, end, daily, wanted_ids)
        rows.sort(key=lambda r: (r["dimensions"].get("stat_time_day", ""), r["dimensions"]["ad_id"]))
        return _paged(rows, params, 1000)
    for campaign in world.state.all("tiktok_campaign"):
        if wanted_ids is not None and campaign["id"] not in wanted_ids:
            continue
        days = ad_delivery.campaign_days(world, PLATFORM, campaign["id"])
        picked = {
            d: t
            for d, t in days.items()
            if start.isoformat() <= d <= end.isoformat() and t["impressions"] >= 1
        }
        if not daily and picked:
            total = ad_delivery._empty_day()
            for t in picked.values():
                for k, v in t.items():
                    total[k] += v
            picked = {start.isoformat(): total}
        for day, totals in sorted(picked.items()):
            dims = {"campaign_id": campaign["id"]}
            if daily:
                dims["stat_time_day"] = f"{day} 00:00:00"
            rows.append({"dimensions": dims, "metrics": {m: _metric(m, totals, campaign) for m in metrics}})
    rows.sort(key=lambda r: (r["dimensions"].get("stat_time_day", ""), r["dimensions"]["campaign_id"]))
    return _paged(rows, params, 1000)


def _ad_report_rows(
    world: World, metrics: list[str], start: date, end: date, daily: bool, wanted: set[str] | None
) -> list[dict[str, Any]]:
    """AUCTION_AD rows: one per ad (and day) that had impressions; campaign_id and ad_name as metrics."""
    rows = []
    for campaign in world.state.all("tiktok_campaign"):
        if wanted is not None and campaign["id"] not in wanted:
            continue
        for ad_id, days in ad_delivery.ad_days(world, PLATFORM, campaign["id"]).items():
            ad = world.state.get("tiktok_ad", ad_id) or {"name": ""}
            picked = {
                d: t
                for d, t in days.items()
                if start.isoformat() <= d <= end.isoformat() and t["impressions"] >= 1
            }
            if not daily and picked:
                total = ad_delivery._empty_day()
                for t in picked.values():
                    for k, v in t.items():
                        total[k] += v
                picked = {start.isoformat(): total}
            for day, totals in sorted(picked.items()):
                dims = {"ad_id": ad_id}
                if daily:
                    dims["stat_time_day"] = f"{day} 00:00:00"
                values = {
                    m: (
                        campaign["id"] if m == "campaign_id" else ad["name"] if m == "ad_name"
                        else _metric(m, totals, campaign)
                    )
                    for m in metrics
                }  # fmt: skip
                rows.append({"dimensions": dims, "metrics": values})
    return rows


def update_ad_status(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /ad/status/update/`: ENABLE | DISABLE | DELETE ads by `ad_ids`."""
    _advertiser(body)
    ids = _set_status(world, "ad", body.get("ad_ids"), body.get("operation_status"))
    return {"ad_ids": ids, "status": body["operation_status"]}


# --- the pixel's server events -------------------------------------------------------------------------
def track_events(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /event/track/` (Events API 2.0): validated, deduplicated, attributed (conversions.py)."""
    try:
        events = event_checks.check_tiktok_events(body, credentials.TIKTOK_PIXEL_CODE, world.now())
    except event_checks.EventRefused as refused:
        raise _param_error(refused.message) from None
    conversions.receive(world, PLATFORM, events, "event")
    return {}


# --- HTTP -------------------------------------------------------------------------------------------------
async def _params(request: Request, multipart: bool) -> tuple[dict[str, Any], bytes | None]:
    """GET: the query string; POST: the JSON object, or the form fields and the file of an upload."""
    if request.method == "GET":
        return dict(request.query_params), None
    if multipart:
        return await read_form(request)
    try:
        body = await request.json()
    except ValueError as exc:
        raise TikTokError(40002, "Request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise TikTokError(40002, "Request body must be a JSON object.")
    return body, None


async def _run(request: Request, handler: Any, *, is_write: bool, multipart: bool = False) -> JSONResponse:
    params, blob = await _params(request, multipart)

    def handle(world: World) -> Any:
        try:
            return handler(world, params, blob) if multipart else handler(world, params)
        except rules.InvalidField as refused:
            raise _param_error(refused.message) from None

    return await TIKTOK.serve(request, Call(is_write=is_write), handle)


@router.post("/event/track/")
async def event_track(request: Request) -> JSONResponse:
    return await _run(request, track_events, is_write=True)


@router.post("/campaign/create/")
async def campaign_create(request: Request) -> JSONResponse:
    return await _run(request, create_campaign, is_write=True)


@router.get("/campaign/get/")
async def campaign_get(request: Request) -> JSONResponse:
    return await _run(request, lambda w, p: list_objects(w, "campaign", p), is_write=False)


@router.post("/campaign/status/update/")
async def campaign_status_update(request: Request) -> JSONResponse:
    return await _run(request, update_campaign_status, is_write=True)


@router.post("/campaign/update/")
async def campaign_update(request: Request) -> JSONResponse:
    return await _run(request, update_campaign, is_write=True)


@router.post("/adgroup/create/")
async def adgroup_create(request: Request) -> JSONResponse:
    return await _run(request, create_adgroup, is_write=True)


@router.get("/adgroup/get/")
async def adgroup_get(request: Request) -> JSONResponse:
    return await _run(request, lambda w, p: list_objects(w, "adset", p), is_write=False)


@router.post("/adgroup/status/update/")
async def adgroup_status_update(request: Request) -> JSONResponse:
    return await _run(request, update_adgroup_status, is_write=True)


@router.post("/ad/status/update/")
async def ad_status_update(request: Request) -> JSONResponse:
    return await _run(request, update_ad_status, is_write=True)


@router.post("/adgroup/budget/update/")
async def adgroup_budget_update(request: Request) -> JSONResponse:
    return await _run(request, update_adgroup_budget, is_write=True)


@router.post("/file/video/ad/upload/")
async def video_upload(request: Request) -> JSONResponse:
    return await _run(request, upload_video, is_write=True, multipart=True)


@router.post("/ad/create/")
async def ad_create(request: Request) -> JSONResponse:
    return await _run(request, create_ad, is_write=True)


@router.get("/ad/get/")
async def ad_get(request: Request) -> JSONResponse:
    return await _run(request, lambda w, p: list_objects(w, "ad", p), is_write=False)


@router.get("/report/integrated/get/")
async def report_get(request: Request) -> JSONResponse:
    return await _run(request, report, is_write=False)
