"""Meta Marketing API (Graph), as `api-contracts.md` §3 records it.

Paths `/{version}/act_{id}/{campaigns|adsets|advideos|adcreatives|ads}`, `POST /{version}/{object_id}` for
status and budget, `GET /{version}/{object_id}/insights` with string metrics and cursor paging. Errors are
the Graph envelope `{"error": {message, type, code, error_subcode, is_transient, fbtrace_id}}` with HTTP 400;
throttles are codes 17 / 613 / 80004 (80000 for insights) with `X-Business-Use-Case-Usage`. The token is
read from `access_token` (query or form, as the SDK sends it) or an `Authorization: Bearer` header.
"""

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import ad_delivery, conversions, credentials
from dropship_sandbox.apis import ad_accounts
from dropship_sandbox.apis.pipeline import ApiError, ApiPolicy, Call, read_form
from dropship_sandbox.validation import conversions as event_checks
from dropship_sandbox.validation import meta as sdk
from dropship_sandbox.world import World

router = APIRouter()

PLATFORM = "meta"
# The sandbox's ads_management quota per ad account: calls per second, refilled continuously. Real BUC
# quotas are per hour and depend on the access tier; the sandbox scales them down so tests stay fast.
WRITE_CALLS_PER_SECOND = 10.0
READ_CALLS_PER_SECOND = 20.0
# Hourly quotas never refuse a short burst: a launch (campaign, ad set, three-chunk upload, creative, ad,
# two updates) is eleven writes in well under a second. The bucket holds three seconds of calls.
BURST_SECONDS = 3.0
sdk.load_definitions()
# New campaigns take only the outcome-based objectives; the SDK's enum still lists the legacy ones.
OBJECTIVES = {o for o in sdk.enum_values("campaigns", "objective") if o.startswith("OUTCOME_")}
STATUSES = sdk.enum_values("campaigns", "status")
# Uploads are taken in chunks of at most this many bytes (Meta's `end_offset` tells the client each one).
UPLOAD_CHUNK_BYTES = 1024 * 1024
MIN_DAILY_BUDGET = 100  # minor units: $1.00
MAX_INSIGHTS_LIMIT = 500
INSIGHT_FIELDS = (
    "account_id",
    "campaign_id",
    "campaign_name",
    "ad_id",
    "ad_name",
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "actions",
    "action_values",
    "purchase_roas",
)
DEFAULT_INSIGHT_FIELDS = ("spend", "impressions", "clicks")
_VERSION = re.compile(r"v\d{1,2}\.0")


class MetaError(ApiError):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        kind: str = "OAuthException",
        transient: bool = False,
        status: int = 400,
        user_title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.kind = code, message, subcode, kind
        self.transient, self.status, self.user_title, self.headers = transient, status, user_title, headers
        self.error_data: dict[str, Any] | None = None

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "is_transient": self.transient,
            "fbtrace_id": secrets.token_urlsafe(16),
        }
        if self.subcode is not None:
            body["error_subcode"] = self.subcode
        if self.user_title:
            body["error_user_title"] = self.user_title
            body["error_user_msg"] = self.message
        if self.error_data:
            body["error_data"] = self.error_data
        return JSONResponse({"error": body}, status_code=self.status, headers=self.headers)


def _invalid(message: str, subcode: int | None = None, user_title: str | None = None) -> MetaError:
    return MetaError(100, f"(#100) {message}", subcode=subcode, user_title=user_title)


def _usage_header(kind: str, used_pct: int, regain_minutes: float = 0) -> dict[str, str]:
    account = credentials.META_AD_ACCOUNT_ID.removeprefix("act_")
    usage = {
        account: [
            {
                "type": kind,
                "call_count": used_pct,
                "total_cputime": max(1, used_pct // 4),
                "total_time": max(1, used_pct // 4),
                # Minutes; when throttled, the world's `meta_regain_minutes` (0 unless a test asks).
                "estimated_time_to_regain_access": regain_minutes,
                "ads_api_access_tier": "standard_access",
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage, separators=(",", ":"))}


def _throttled(kind: str, insights: bool, code: int | None = None, regain_minutes: float = 0) -> MetaError:
    headers = _usage_header(kind, 100, regain_minutes)
    if insights or code == 80000:
        return MetaError(
            80000,
            "(#80000) There have been too many calls from this ad-account. Wait a bit and try again. "
            "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
            subcode=2446079,
            transient=True,
            headers=headers,
        )
    if code == 17:
        return MetaError(
            17, "(#17) User request limit reached", subcode=2446079, transient=True, headers=headers
        )
    if code == 613:
        return MetaError(
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
            subcode=1487742,
            transient=True,
            headers=headers,
        )
    return MetaError(
        80004,
        "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. "
        "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
        subcode=2446079,
        transient=True,
        headers=headers,
    )


def _usage_kind(insights: bool) -> str:
    return "ads_insights" if insights else "ads_management"


@dataclass(frozen=True, kw_only=True)
class GraphCall(Call):
    insights: bool  # `/insights` calls count against the ads_insights quota
    access_token: str | None  # as the SDK sends it: a query or form parameter


class MetaApi(ApiPolicy[GraphCall]):
    """The Graph error envelope (HTTP 400); per-account quotas reported in `X-Business-Use-Case-Usage`."""

    api = PLATFORM

    def authenticate(self, world: World, request: Request, call: GraphCall) -> None:
        token = call.access_token
        auth = request.headers.get("Authorization", "")
        if not token and auth.lower().startswith(("bearer ", "oauth ")):
            token = auth.split(" ", 1)[1].strip()
        if not token:
            raise MetaError(
                2500, "An active access token must be used to query information about the current user."
            )
        if token != credentials.META_ACCESS_TOKEN:
            raise MetaError(190, "Invalid OAuth access token - Cannot parse access token")
        if world.faults(PLATFORM).expire_tokens:
            expired = world.now() - timedelta(hours=1)
            raise MetaError(
                190,
                "Error validating access token: Session has expired on "
                + expired.strftime("%A, %d-%b-%y %H:%M:%S")
                + " UTC. The current time is "
                + world.now().strftime("%A, %d-%b-%y %H:%M:%S")
                + " UTC.",
                subcode=463,
            )

    def throttle(self, world: World, request: Request, call: GraphCall) -> dict[str, str]:
        """Enforce the per-account quota; return the usage header every answer carries."""
        kind = _usage_kind(call.insights)
        rate = WRITE_CALLS_PER_SECOND if call.is_write else READ_CALLS_PER_SECOND
        bucket = world.rate_buckets.get(
            f"meta:{kind}:{'w' if call.is_write else 'r'}", rate * BURST_SECONDS, rate
        )
        if world.faults(PLATFORM).rate_limits and not bucket.take(1):
            raise _throttled(kind, call.insights, regain_minutes=world.settings.meta_regain_minutes)
        used = int(100 * (1 - bucket.level() / bucket.capacity))
        return _usage_header(kind, used)

    def server_error(self, world: World, call: GraphCall) -> JSONResponse:
        return MetaError(
            2,
            "An unexpected error has occurred. Please retry your request later.",
            transient=True,
            status=500,
        ).response()

    def rate_limited(self, world: World, call: GraphCall) -> JSONResponse:
        code = (17, 613, 80004)[world.request_rng("meta-throttle").randrange(3)]
        regain = world.settings.meta_regain_minutes
        return _throttled(_usage_kind(call.insights), call.insights, code, regain).response()

    def lost_answer(self, world: World, call: GraphCall) -> JSONResponse:
        return MetaError(1, "An unknown error occurred", subcode=99, transient=True, status=500).response()

    def answer(self, data: dict[str, Any], grant: dict[str, str], call: GraphCall) -> JSONResponse:
        return JSONResponse(data, headers=grant)


META = MetaApi()


def _account(node: str) -> None:
    if node != credentials.META_AD_ACCOUNT_ID:
        raise _invalid(
            f"Unsupported post request. Object with ID '{node}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation.",
            subcode=33,
        )


def _json_param(params: dict[str, Any], name: str, default: Any = None) -> Any:
    value = params.get(name, default)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _invalid(f"Param {name} must be a JSON object or array") from exc
    return value


def _new_id(world: World) -> str:
    return str(world.new_id("meta_object", 120_210_000_000_000_000))


def _budget(params: dict[str, Any], name: str = "daily_budget") -> int | None:
    if params.get(name) in (None, ""):
        return None
    try:
        value = int(str(params[name]))
    except ValueError as exc:
        raise _invalid(f"Param {name} must be an integer (minor units of the account currency)") from exc
    if value < MIN_DAILY_BUDGET:
        raise _invalid(
            "The daily budget for this ad set is too low. Please enter a budget of at least $1.00.",
            subcode=1885272,
            user_title="Budget Is Too Low",
        )
    return value


def _status(params: dict[str, Any], default: str) -> str:
    status = str(params.get("status") or default)
    if status not in STATUSES:
        raise _invalid(f"Param status must be one of {{{', '.join(sorted(STATUSES))}}}")
    return status


def _get(world: World, kind: str, object_id: str) -> dict[str, Any]:
    doc = world.state.get(f"meta_{kind}", object_id)
    if doc is None:
        raise _invalid(f"Param {kind}_id is not a valid {kind} id", subcode=1487013)
    return doc


# --- creates ---------------------------------------------------------------------------------------------
def create_campaign(world: World, params: dict[str, Any]) -> dict[str, Any]:
    name = str(params.get("name") or "").strip()
    if not name:
        raise _invalid("The parameter name is required")
    objective = params.get("objective")
    if objective not in OBJECTIVES:
        raise _invalid(f"Param objective must be one of {{{', '.join(sorted(OBJECTIVES))}}}", subcode=2490408)
    if "special_ad_categories" not in params:
        raise _invalid("The parameter special_ad_categories is required")
    budget = _budget(params)
    sharing = params.get("is_adset_budget_sharing_enabled")
    if budget is None and str(sharing).lower() not in ("true", "false"):
        raise _invalid("Must specify True or False in is_adset_budget_sharing_enabled field", subcode=4834011)
    doc = {
        "id": _new_id(world),
        "name": name,
        "objective": objective,
        "status": _status(params, "PAUSED"),
        "daily_budget": budget,
        "budget": budget / 100 if budget else None,
        "created": world.now().isoformat(),
        "adset_ids": [],
    }
    doc["active"] = doc["status"] == "ACTIVE"
    ad_delivery.register_campaign(world, PLATFORM, doc)
    world.state.put("meta_campaign", doc["id"], doc)
    return {"id": doc["id"]}


def create_adset(world: World, params: dict[str, Any]) -> dict[str, Any]:
    campaign = _get(world, "campaign", str(params.get("campaign_id") or ""))
    for required in ("name", "billing_event", "optimization_goal", "targeting"):
        if not params.get(required):
            raise _invalid(f"The parameter {required} is required")
    _json_param(params, "targeting")
    budget = _budget(params)
    if campaign.get("daily_budget") and budget:
        raise _invalid(
            "You can't set a budget on an ad set when the campaign uses campaign budget.", subcode=1885621
        )
    if not campaign.get("daily_budget") and budget is None:
        raise _invalid("Ad sets of a campaign without a budget need daily_budget or lifetime_budget")
    promoted = _json_param(params, "promoted_object") or {}
    pixel = str(promoted.get("pixel_id") or "")
    if pixel and (pixel != credentials.META_PIXEL_ID or world.settings.ad_pixels_removed):
        raise _invalid(
            f"Param promoted_object[pixel_id] {promoted['pixel_id']!r} is not a pixel of this ad account",
            subcode=1885025,
        )
    doc = {
        "id": _new_id(world),
        "name": str(params["name"]),
        "campaign_id": campaign["id"],
        "status": _status(params, "ACTIVE"),
        "daily_budget": budget,
        "budget": budget / 100 if budget else None,
        "billing_event": params["billing_event"],
        "optimization_goal": params["optimization_goal"],
        "promoted_object": promoted or None,
        "created": world.now().isoformat(),
        "ad_ids": [],
    }
    doc["active"] = doc["status"] == "ACTIVE"
    world.state.put("meta_adset", doc["id"], doc)
    campaign["adset_ids"].append(doc["id"])
    world.state.put("meta_campaign", campaign["id"], campaign)
    return {"id": doc["id"]}


def create_video(world: World, params: dict[str, Any], source: bytes | None) -> dict[str, Any]:
    phase = params.get("upload_phase")
    if phase:
        return _upload_phase(world, str(phase), params, source)
    if source is None and not params.get("file_url"):
        raise _invalid("Video upload needs a source file or file_url", subcode=1363030)
    doc = _video_doc(world, params, len(source or b""))
    doc["md5"] = hashlib.md5(source or str(params.get("file_url")).encode()).hexdigest()
    world.state.put("meta_video", doc["id"], doc)
    return {"id": doc["id"]}


def _video_doc(world: World, params: dict[str, Any], size: int, video_id: str = "") -> dict[str, Any]:
    return {
        "id": video_id or _new_id(world),
        "title": params.get("title") or params.get("name") or "",
        "size": size,
        "status": {"video_status": "ready", "processing_progress": 100},
        "created": world.now().isoformat(),
    }


def _offsets(session: dict[str, Any]) -> dict[str, str]:
    start = session["received"]
    end = min(session["file_size"], start + UPLOAD_CHUNK_BYTES)
    return {"start_offset": str(start), "end_offset": str(end)}


def _upload_phase(world: World, phase: str, params: dict[str, Any], chunk: bytes | None) -> dict[str, Any]:
    """The resumable upload the SDK's `AdVideo.remote_create` makes: start, transfer (chunk by chunk at the
    offsets the previous answer named), finish. The video exists once the last byte is in."""
    if phase == "start":
        size = int(str(params.get("file_size") or 0))
        if size <= 0:
            raise _invalid("Param file_size must be a positive integer", subcode=1363019)
        session = {"id": _new_id(world), "video_id": _new_id(world), "file_size": size, "received": 0}
        session["md5"] = hashlib.md5().hexdigest()
        world.state.put("meta_upload", session["id"], session)
        return {"upload_session_id": session["id"], "video_id": session["video_id"], **_offsets(session)}
    session = world.state.get("meta_upload", str(params.get("upload_session_id") or ""))
    if session is None:
        raise _invalid("Param upload_session_id is not a valid upload session", subcode=1363021)
    if phase == "transfer":
        if chunk is None:
            raise _invalid("Param video_file_chunk is required for the transfer phase", subcode=1363030)
        offset = int(str(params.get("start_offset") or 0))
        expected = _offsets(session)
        if offset < session["received"] and offset + len(chunk) <= session["received"]:
            return expected  # a repeated chunk (its answer was lost): already in
        if offset != session["received"] or len(chunk) > UPLOAD_CHUNK_BYTES:
            error = MetaError(6001, "(#6001) There was a problem uploading your video file.", subcode=1363037)
            error.error_data = expected
            raise error
        session["received"] += len(chunk)
        world.state.put("meta_upload", session["id"], session)
        return _offsets(session)
    if phase == "finish":
        if session["received"] != session["file_size"]:
            raise _invalid(
                f"Upload incomplete: {session['received']} of {session['file_size']} bytes", subcode=1363040
            )
        doc = _video_doc(world, params, session["file_size"], session["video_id"])
        world.state.put("meta_video", doc["id"], doc)
        return {"success": True}
    raise _invalid(f"Param upload_phase must be one of {{start, transfer, finish, cancel}}; got {phase!r}")


def create_creative(world: World, params: dict[str, Any]) -> dict[str, Any]:
    spec = _json_param(params, "object_story_spec") or {}
    video = (spec.get("video_data") or {}) if isinstance(spec, dict) else {}
    if not video.get("video_id") or world.state.get("meta_video", str(video["video_id"])) is None:
        raise _invalid("object_story_spec.video_data.video_id must name an uploaded video", subcode=1443048)
    if not spec.get("page_id"):
        raise _invalid("object_story_spec.page_id is required")
    message = str(video.get("message") or "")
    doc = {
        "id": _new_id(world),
        "name": str(params.get("name") or ""),
        "object_story_spec": spec,
        # How well the creative pulls: the hook text and a clear call to action help a little.
        "quality": round(
            0.85 + min(len(message), 120) / 120 * 0.2 + (0.1 if video.get("call_to_action") else 0), 3
        ),
    }
    world.state.put("meta_creative", doc["id"], doc)
    return {"id": doc["id"]}


def create_ad(world: World, params: dict[str, Any]) -> dict[str, Any]:
    adset = _get(world, "adset", str(params.get("adset_id") or ""))
    creative_ref = _json_param(params, "creative") or {}
    creative = world.state.get("meta_creative", str(creative_ref.get("creative_id") or ""))
    if creative is None:
        raise _invalid("Param creative must reference an existing creative_id", subcode=1487390)
    if not params.get("name"):
        raise _invalid("The parameter name is required")
    doc = {
        "id": _new_id(world),
        "name": str(params["name"]),
        "adset_id": adset["id"],
        "campaign_id": adset["campaign_id"],
        "creative_id": creative["id"],
        "status": _status(params, "ACTIVE"),
        "quality": creative["quality"],
        "created": world.now().isoformat(),
    }
    doc["active"] = doc["status"] == "ACTIVE"
    world.state.put("meta_ad", doc["id"], doc)
    adset["ad_ids"].append(doc["id"])
    world.state.put("meta_adset", adset["id"], adset)
    return {"id": doc["id"]}


# --- reads, updates ----------------------------------------------------------------------------------------
def _find(world: World, object_id: str) -> tuple[str, dict[str, Any]]:
    for kind in ("campaign", "adset", "ad", "video", "creative"):
        doc = world.state.get(f"meta_{kind}", object_id)
        if doc is not None:
            return kind, doc
    raise MetaError(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
        subcode=33,
        kind="GraphMethodException",
    )


def _updatable(world: World, object_id: str) -> bool:
    return any(world.state.get(f"meta_{kind}", object_id) for kind in ("campaign", "adset", "ad"))


def update_object(world: World, object_id: str, params: dict[str, Any]) -> dict[str, Any]:
    kind, doc = _find(world, object_id)
    if kind not in ("campaign", "adset", "ad"):
        raise _invalid(f"Objects of type {kind} cannot be updated here")
    if "status" in params:
        doc["status"] = _status(params, doc["status"])
        doc["active"] = doc["status"] == "ACTIVE"
    if "daily_budget" in params:
        if kind == "ad" or (kind == "adset" and doc.get("daily_budget") is None):
            raise _invalid(f"daily_budget cannot be set on this {kind}", subcode=1885621)
        doc["daily_budget"] = _budget(params)
        doc["budget"] = doc["daily_budget"] / 100
    if "name" in params:
        doc["name"] = str(params["name"])
    world.state.put(f"meta_{kind}", object_id, doc)
    return {"success": True}


def _view(kind: str, doc: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": doc["id"]}
    for name in fields:
        if name == "effective_status":
            shown[name] = doc.get("status")
        elif name == "daily_budget" and doc.get("daily_budget") is not None:
            shown[name] = str(doc["daily_budget"])
        elif name == "created_time":
            shown[name] = doc["created"].replace("+00:00", "+0000")
        elif name in doc and not name.startswith("_"):
            shown[name] = doc[name]
    return shown


def _page(items: list[dict[str, Any]], params: dict[str, Any], request: Request, limit_default: int = 25):
    limit = int(params.get("limit") or limit_default)
    if limit > MAX_INSIGHTS_LIMIT:
        raise MetaError(1, "Please reduce the amount of data you're asking for, then retry your request")
    after = params.get("after")
    offset = int(base64.b64decode(after).decode()) if after else 0
    chunk = items[offset : offset + limit]
    cursors = {
        "before": base64.b64encode(str(offset).encode()).decode(),
        "after": base64.b64encode(str(offset + len(chunk)).encode()).decode(),
    }
    paging: dict[str, Any] = {"cursors": cursors}
    if offset + limit < len(items):
        query = {k: v for k, v in request.query_params.items() if k not in ("after", "access_token")}
        query["after"] = cursors["after"]
        paging["next"] = f"{str(request.url).split('?')[0]}?{urlencode(query)}"
    return {"data": chunk, "paging": paging}


def _filters(params: dict[str, Any]) -> list[dict[str, Any]]:
    filtering = _json_param(params, "filtering", []) or []
    if not isinstance(filtering, list):
        raise _invalid("Param filtering must be an array of {field, operator, value}")
    return filtering


def _matches(doc: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    for f in filters:
        field = f.get("field")
        value = doc.get("status") if field in ("effective_status", "status") else doc.get(field)
        wanted = f.get("value")
        operator = f.get("operator", "EQUAL")
        if operator == "EQUAL" and value != wanted:
            return False
        if operator == "IN" and value not in (wanted or []):
            return False
        if operator == "CONTAIN" and str(wanted) not in str(value):
            return False
    return True


def list_edge(world: World, node: str, edge: str, params: dict[str, Any], request: Request) -> dict[str, Any]:
    fields = [f for f in str(params.get("fields") or "id,name").split(",") if f]
    if node.startswith("act_"):
        _account(node)
        kinds = {
            "campaigns": "campaign",
            "adsets": "adset",
            "ads": "ad",
            "advideos": "video",
            "adcreatives": "creative",
        }
        if edge not in kinds:
            raise _invalid(f"Unknown edge {edge} on AdAccount")
        docs = world.state.all(f"meta_{kinds[edge]}")
        kind = kinds[edge]
    else:
        parent_kind, parent = _find(world, node)
        if (parent_kind, edge) == ("campaign", "adsets"):
            kind, docs = "adset", [world.state.get("meta_adset", i) for i in parent["adset_ids"]]
        elif (parent_kind, edge) == ("adset", "ads"):
            kind, docs = "ad", [world.state.get("meta_ad", i) for i in parent["ad_ids"]]
        elif (parent_kind, edge) == ("campaign", "ads"):
            kind = "ad"
            docs = [
                world.state.get("meta_ad", ad_id)
                for adset_id in parent["adset_ids"]
                for ad_id in (world.state.get("meta_adset", adset_id) or {}).get("ad_ids", [])
            ]
        else:
            raise _invalid(f"Unknown edge {edge} on {parent_kind}")
    filters = _filters(params)
    items = [_view(kind, d, fields) for d in docs if d and _matches(d, filters)]
    return _page(items, params, request)


def read_object(world: World, object_id: str, params: dict[str, Any]) -> dict[str, Any]:
    if ad_accounts.is_meta_account_or_pixel(object_id):
        node = ad_accounts.meta_node(world, object_id, params)
        if node is not None:
            return node
    kind, doc = _find(world, object_id)
    fields = [f for f in str(params.get("fields") or "id,name").split(",") if f]
    if kind == "video" and "status" in fields:
        return {"id": doc["id"], "status": doc["status"]}
    return _view(kind, doc, fields)


def _date_range(params: dict[str, Any], today: date) -> tuple[date, date]:
    time_range = _json_param(params, "time_range")
    if time_range:
        try:
            since = date.fromisoformat(time_range["since"])
            until = date.fromisoformat(time_range["until"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _invalid("Param time_range must be {'since': 'YYYY-MM-DD', 'until': 'YYYY-MM-DD'}") from exc
        if until < since:
            raise _invalid("Param time_range: since must not be after until")
        return since, until
    preset = params.get("date_preset") or "last_30d"
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if preset == "maximum":
        return today - timedelta(days=37 * 31), today
    if preset.startswith("last_") and preset.endswith("d") and preset[5:-1].isdigit():
        days = int(preset[5:-1])
        return today - timedelta(days=days), today - timedelta(days=1)
    raise _invalid(f"Param date_preset {preset!r} is not supported")


def _money(value: float) -> str:
    return f"{value:.2f}"


def _insight_row(
    totals: dict[str, float],
    fields: list[str],
    campaign: dict[str, Any] | None,
    since: str,
    until: str,
    ad: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spend = round(totals["spend"], 2)
    impressions, clicks = int(totals["impressions"]), int(totals["clicks"])
    purchases, revenue = int(totals["purchases"]), round(totals["revenue"], 2)
    row: dict[str, Any] = {}
    for name in fields:
        if name == "account_id":
            row[name] = credentials.META_AD_ACCOUNT_ID.removeprefix("act_")
        elif name == "campaign_id" and campaign:
            row[name] = campaign["id"]
        elif name == "campaign_name" and campaign:
            row[name] = campaign["name"]
        elif name in ("ad_id", "ad_name") and ad:
            row[name] = ad["id"] if name == "ad_id" else ad["name"]
        elif name == "spend":
            row[name] = _money(spend)
        elif name == "impressions":
            row[name] = str(impressions)
        elif name == "clicks":
            row[name] = str(clicks)
        elif name == "ctr" and impressions:
            row[name] = f"{100 * clicks / impressions:.6f}"
        elif name == "cpm" and impressions:
            row[name] = f"{1000 * spend / impressions:.6f}"
        elif name == "cpc" and clicks:
            row[name] = f"{spend / clicks:.6f}"
        elif name == "actions":
            actions = [{"action_type": "link_click", "value": str(clicks)}] if clicks else []
            if purchases:
                actions += [
                    {"action_type": t, "value": str(purchases)}
                    for t in ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase")
                ]
            if actions:
                row[name] = actions
        elif name == "action_values" and purchases:
            row[name] = [
                {"action_type": t, "value": _money(revenue)}
                for t in ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase")
            ]
        elif name == "purchase_roas" and purchases and spend:
            row[name] = [{"action_type": "omni_purchase", "value": f"{revenue / spend:.6f}"}]
    row["date_start"], row["date_stop"] = since, until
    return row


def insights(world: World, node: str, params: dict[str, Any], request: Request) -> dict[str, Any]:
    if node.startswith("act_"):
        _account(node)
        campaigns = world.state.all("meta_campaign")
        level = params.get("level") or "account"
    else:
        kind, doc = _find(world, node)
        if kind != "campaign":
            raise _invalid("The sandbox reports insights for ad accounts and campaigns")
        campaigns = [doc]
        level = params.get("level") or "campaign"
    if level not in ("ad", "campaign", "account"):
        raise _invalid(f"Param level must be one of {{ad, adset, campaign, account}}; sandbox: {level!r}")
    fields = [f for f in str(params.get("fields") or ",".join(DEFAULT_INSIGHT_FIELDS)).split(",") if f]
    unknown = [f for f in fields if f not in INSIGHT_FIELDS]
    if unknown:
        raise _invalid(f"{unknown[0]} is not valid for fields param")
    since, until = _date_range(params, conversions.local_day(PLATFORM, world.now()))  # the account's today
    daily = str(params.get("time_increment") or "all_days") == "1"
    buckets: dict[tuple[str, str], dict[str, float]] = {}
    names: dict[str, dict[str, Any]] = {}
    if level == "ad":
        return _page(_ad_rows(world, campaigns, fields, since, until, daily), params, request)
    for campaign in campaigns:
        names[campaign["id"]] = campaign
        for day, totals in ad_delivery.campaign_days(world, PLATFORM, campaign["id"]).items():
            if not since.isoformat() <= day <= until.isoformat() or totals["impressions"] < 1:
                continue
            key = (day if daily else since.isoformat(), campaign["id"] if level == "campaign" else "")
            bucket = buckets.setdefault(key, ad_delivery._empty_day())
            for metric, value in totals.items():
                bucket[metric] += value
    rows = []
    for (day, campaign_id), totals in sorted(buckets.items()):
        stop = day if daily else until.isoformat()
        rows.append(_insight_row(totals, fields, names.get(campaign_id), day, stop))
    return _page(rows, params, request)


def _ad_rows(
    world: World, campaigns: list[dict[str, Any]], fields: list[str], since: date, until: date, daily: bool
) -> list[dict[str, Any]]:
    """Insights at level=ad: one row per ad (and day, with time_increment=1) that had impressions."""
    rows = []
    for campaign in campaigns:
        for ad_id, days in ad_delivery.ad_days(world, PLATFORM, campaign["id"]).items():
            ad = world.state.get("meta_ad", ad_id) or {"id": ad_id, "name": ""}
            picked = {
                d: t
                for d, t in days.items()
                if since.isoformat() <= d <= until.isoformat() and t["impressions"] >= 1
            }
            if not daily and picked:
                total = ad_delivery._empty_day()
                for t in picked.values():
                    for metric, value in t.items():
                        total[metric] += value
                picked = {since.isoformat(): total}
            for day, totals in picked.items():
                stop = day if daily else until.isoformat()
                rows.append(_insight_row(totals, fields, campaign, day, stop, ad))
    rows.sort(key=lambda r: (r["date_start"], r.get("campaign_id", ""), r.get("ad_id", "")))
    return rows


# --- the pixel's server events -------------------------------------------------------------------------
def purchase_events(world: World, pixel_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """`POST /{pixel_id}/events` (Conversions API): validated, deduplicated, attributed (conversions.py)."""
    if pixel_id != credentials.META_PIXEL_ID:
        raise _invalid(
            f"Unsupported post request. Object with ID '{pixel_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation.",
            subcode=33,
        )
    try:
        events = event_checks.check_meta_events(_json_param(params, "data"), world.now())
    except event_checks.EventRefused as refused:
        raise MetaError(100, f"(#100) {refused.message}", subcode=2804008, user_title=refused.title) from None
    received = conversions.receive(world, PLATFORM, events, "event_name")
    return {"events_received": received, "messages": [], "fbtrace_id": secrets.token_urlsafe(16)}


# --- HTTP -------------------------------------------------------------------------------------------------
async def _params(request: Request) -> tuple[dict[str, Any], bytes | None]:
    params: dict[str, Any] = dict(request.query_params)
    source = None
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                body = {}
            params.update(body if isinstance(body, dict) else {})
        else:
            fields, source = await read_form(request)
            params.update(fields)
    return params, source


async def _serve(request: Request, node: str, edge: str | None) -> JSONResponse:
    params, source = await _params(request)
    call = GraphCall(
        is_write=request.method == "POST",
        insights=edge == "insights",
        access_token=params.pop("access_token", None),
    )
    return await META.serve(request, call, lambda world: _route(world, request, node, edge, params, source))


def _route(
    world: World, request: Request, node: str, edge: str | None, params: dict[str, Any], source: bytes | None
) -> dict[str, Any]:
    try:
        return _checked_route(world, request, node, edge, params, source)
    except sdk.InvalidParameter as refused:
        subcode, title = refused.subcode, refused.user_title
        raise MetaError(100, refused.message, subcode=subcode, user_title=title) from None


def _checked_route(
    world: World, request: Request, node: str, edge: str | None, params: dict[str, Any], source: bytes | None
) -> dict[str, Any]:
    post = request.method == "POST"
    if edge == "events":
        return purchase_events(world, node, params) if post else {"data": []}
    if post and edge is None:
        if _updatable(world, node):
            sdk.check_params(f"update:{_find(world, node)[0]}", params)
    elif edge == "insights":
        sdk.check_params("insights", params)
    elif post and edge in ("campaigns", "adsets", "ads", "adcreatives", "advideos"):
        sdk.check_params(edge, params)
    if edge is None:
        return update_object(world, node, params) if post else read_object(world, node, params)
    if edge == "insights":
        if post:
            raise _invalid("The sandbox answers insights synchronously; use GET")
        return insights(world, node, params, request)
    if not post:
        return list_edge(world, node, edge, params, request)
    _account(node)
    creators = {
        "campaigns": create_campaign,
        "adsets": create_adset,
        "adcreatives": create_creative,
        "ads": create_ad,
    }
    if edge == "advideos":
        return create_video(world, params, source)
    if edge not in creators:
        raise _invalid(f"Unsupported post request to edge {edge}")
    return creators[edge](world, params)


@router.api_route("/{version}/{node}/{edge}", methods=["GET", "POST"])
async def graph_edge(version: str, node: str, edge: str, request: Request) -> JSONResponse:
    if not _VERSION.fullmatch(version):
        raise MetaError(2635, f"(#2635) Unknown API version {version!r}")
    return await _serve(request, node, edge)


@router.api_route("/{version}/{node}", methods=["GET", "POST"])
async def graph_node(version: str, node: str, request: Request) -> JSONResponse:
    if not _VERSION.fullmatch(version):
        raise MetaError(2635, f"(#2635) Unknown API version {version!r}")
    return await _serve(request, node, None)
