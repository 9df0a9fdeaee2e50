"""What the ad platforms tell about the account itself, as the preflight reads it.

- Meta: `GET /{version}/act_<id>?fields=account_status,name,currency` (account_status 1 is ACTIVE) and
  `GET /{version}/<pixel id>?fields=id,name` (the pixel the ad sets optimise for).
- TikTok: `GET /advertiser/info/?advertiser_ids=[...]` (status STATUS_ENABLE), `GET /identity/get/`
  (`identity_list`) and `GET /pixel/list/` (`pixels`).

The world's `ad_pixels_removed` takes the pixels away: Meta answers the pixel read with its "does not
exist" error and TikTok lists none, as after a pixel was deleted in Events Manager.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import conversions, credentials
from dropship_sandbox.apis import tiktok
from dropship_sandbox.apis.pipeline import Call
from dropship_sandbox.apis.tiktok import TIKTOK, _advertiser, _json_query, _paged, _param_error
from dropship_sandbox.world import World

tiktok_router = APIRouter(prefix=tiktok.router.prefix)
META_ACCOUNT_FIELDS = {
    "id",
    "account_id",
    "name",
    "account_status",
    "currency",
    "disable_reason",
    "timezone_name",
}
META_PIXEL_FIELDS = {"id", "name", "code", "last_fired_time", "is_unavailable"}


def is_meta_account_or_pixel(object_id: str) -> bool:
    return object_id in (credentials.META_AD_ACCOUNT_ID, credentials.META_PIXEL_ID)


def meta_node(world: World, object_id: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The account or the pixel; None for a pixel that is not there (Meta's "does not exist")."""
    fields = [f for f in str(params.get("fields") or "id,name").split(",") if f]
    if object_id == credentials.META_AD_ACCOUNT_ID:
        doc = {
            "id": object_id,
            "account_id": object_id.removeprefix("act_"),
            "name": "Sandbox store ads",
            "account_status": 1,
            "currency": "USD",
            "disable_reason": 0,
            "timezone_name": conversions.ACCOUNT_TIMEZONES["meta"],  # the insights' days
        }
        allowed = META_ACCOUNT_FIELDS
    else:
        if world.settings.ad_pixels_removed:
            return None
        doc = {"id": object_id, "name": "Sandbox store pixel", "code": "", "is_unavailable": False}
        allowed = META_PIXEL_FIELDS
    return {f: doc.get(f) for f in fields if f in allowed} | {"id": object_id}


def _advertiser_info(world: World, params: dict[str, Any]) -> dict[str, Any]:
    wanted = _json_query(params, "advertiser_ids", None)
    if not wanted:
        raise _param_error("advertiser_ids: Missing data for required field.")
    rows = []
    for advertiser in wanted:
        if str(advertiser) != credentials.TIKTOK_ADVERTISER_ID:
            raise _param_error(f"advertiser_ids: No permission to operate advertiser {advertiser}.")
        rows.append(
            {
                "advertiser_id": str(advertiser),
                "name": "Sandbox store",
                "status": "STATUS_ENABLE",
                "currency": "USD",
                "timezone": conversions.ACCOUNT_TIMEZONES["tiktok"],  # the reports' days
                "role": "ROLE_ADVERTISER",
            }
        )
    return {"list": rows}


def _identities(world: World, params: dict[str, Any]) -> dict[str, Any]:
    _advertiser(params)
    kind = params.get("identity_type")
    identities = [
        {
            "identity_id": credentials.TIKTOK_IDENTITY_ID,
            "identity_type": "CUSTOMIZED_USER",
            "display_name": "Sandbox store",
            "can_push_video": True,
        }
    ]
    identities = [i for i in identities if not kind or i["identity_type"] == kind]
    page = _paged(identities, params, 100)
    return {"identity_list": page["list"], "page_info": page["page_info"]}


def _pixels(world: World, params: dict[str, Any]) -> dict[str, Any]:
    _advertiser(params)
    pixels = (
        []
        if world.settings.ad_pixels_removed
        else [
            {
                "pixel_id": credentials.TIKTOK_PIXEL_ID,
                "pixel_code": credentials.TIKTOK_PIXEL_CODE,
                "pixel_name": "Sandbox store pixel",
                "activity_status": "ACTIVE",
            }
        ]
    )
    wanted = params.get("pixel_id")
    pixels = [p for p in pixels if not wanted or p["pixel_id"] == str(wanted)]
    page = _paged(pixels, params, 20)
    return {"pixels": page["list"], "page_info": page["page_info"]}


async def _read(request: Request, handler: Any) -> JSONResponse:
    params = dict(request.query_params)
    return await TIKTOK.serve(request, Call(is_write=False), lambda world: handler(world, params))


@tiktok_router.get("/advertiser/info/")
async def advertiser_info(request: Request) -> JSONResponse:
    return await _read(request, _advertiser_info)


@tiktok_router.get("/identity/get/")
async def identity_get(request: Request) -> JSONResponse:
    return await _read(request, _identities)


@tiktok_router.get("/pixel/list/")
async def pixel_list(request: Request) -> JSONResponse:
    return await _read(request, _pixels)
