"""CJ Dropshipping API 2.0, as `api-contracts.md` §2 records it: HTTP 200 envelopes, 16xxxxx codes."""

import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import credentials
from dropship_sandbox.apis.pipeline import ApiError, ApiPolicy, Call
from dropship_sandbox.catalog import public_view, visible
from dropship_sandbox.world import World, revoked

router = APIRouter()

CJ_TIMEZONE = timezone(timedelta(hours=8))  # CJ's servers report UTC+8
TOKEN_LAST_CALL = "cj_token_last_call"  # wall-clock time of the last getAccessToken that got through
ACCESS_TOKEN_LIFETIME = timedelta(days=15)
REFRESH_TOKEN_LIFETIME = timedelta(days=180)
SUPPORTED_COUNTRIES = {
    "US": 1.0,
    "CA": 1.2,
    "GB": 1.1,
    "DE": 1.1,
    "FR": 1.1,
    "AU": 1.4,
    "NL": 1.1,
    "ES": 1.15,
    "IT": 1.15,
}


class CjError(ApiError):
    """An error the CJ API reports inside its envelope (HTTP 200, result=false)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return envelope(None, self.code, self.message)


def envelope(data: Any = None, code: int = 200, message: str = "Success") -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "result": code == 200,
            "message": message,
            "data": data,
            "requestId": str(uuid.uuid4()),
        }
    )


def _cj_time(moment: datetime) -> str:
    return moment.astimezone(CJ_TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S+08:00")


@dataclass(frozen=True, kw_only=True)
class CjCall(Call):
    needs_token: bool = True  # the two authentication endpoints are called without one


class CjApi(ApiPolicy[CjCall]):
    """Answers in HTTP 200 envelopes with 16xxxxx codes; a QPS bucket per endpoint, a daily quota."""

    api = "cj"

    def admit(self, world: World, request: Request, call: CjCall) -> None:
        # CJ counts a call against the endpoint's QPS before it looks at the token.
        self.throttle(world, request, call)
        self.authenticate(world, request, call)

    def authenticate(self, world: World, request: Request, call: CjCall) -> None:
        if not call.needs_token:
            return
        token = request.headers.get("CJ-Access-Token")
        if not token:
            raise CjError(1600002, "access token cannot be empty")
        record = world.state.get("cj_token", token)
        if (
            record is None
            or revoked(world, "cj", record)
            or datetime.fromisoformat(record["access_expires"]) <= world.now()
        ):
            raise CjError(1600001, "Invalid API key or access token")

    def throttle(self, world: World, request: Request, call: CjCall) -> None:
        settings = world.settings
        if not world.faults("cj").rate_limits:
            return
        path = request.url.path
        bucket = world.rate_buckets.get(f"cj:{path}", settings.cj_level_qps, settings.cj_level_qps)
        if not bucket.take(1):
            raise CjError(1600200, f"Too much request, QPS limit is {settings.cj_level_qps:g} per second")
        if settings.cj_daily_quota:
            day = world.now().strftime("%Y-%m-%d")
            used = world.state.audit_increment("cj_calls", f"{day}:{path}")
            if used > settings.cj_daily_quota:
                raise CjError(
                    1600201,
                    "Too Many Requests, Sorry, you have reached the daily request limit "
                    f"({settings.cj_daily_quota} times/day). Number of requests made: {used}. "
                    "Please try again tomorrow.",
                )

    def server_error(self, world: World, call: CjCall) -> JSONResponse:
        return envelope(None, 1600000, "System busy, please contact CJ IT")

    def rate_limited(self, world: World, call: CjCall) -> JSONResponse:
        return envelope(None, 1600200, "Too much request, please try again later")

    def lost_answer(self, world: World, call: CjCall) -> JSONResponse:
        return JSONResponse({"message": "Bad Gateway"}, status_code=502)

    def answer(self, data: Any, grant: None, call: CjCall) -> JSONResponse:
        return envelope(data)


CJ = CjApi()


def _issue_tokens(world: World, open_id: int) -> dict[str, Any]:
    now = world.now()
    access, refresh = secrets.token_hex(16), secrets.token_hex(16)
    record = {
        "openId": open_id,
        "accessToken": access,
        "refreshToken": refresh,
        "access_expires": (now + ACCESS_TOKEN_LIFETIME).isoformat(),
        "refresh_expires": (now + REFRESH_TOKEN_LIFETIME).isoformat(),
        "created": now.isoformat(),
        "issued_real": time.time(),
    }
    world.state.put("cj_token", access, record)
    world.state.put("cj_refresh", refresh, {"accessToken": access})
    world.state.set_meta("cj_latest_token", access)
    return {
        "openId": open_id,
        "accessToken": access,
        "accessTokenExpiryDate": _cj_time(now + ACCESS_TOKEN_LIFETIME),
        "refreshToken": refresh,
        "refreshTokenExpiryDate": _cj_time(now + REFRESH_TOKEN_LIFETIME),
        "createDate": _cj_time(now),
    }


@router.post("/authentication/getAccessToken")
async def get_access_token(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> dict[str, Any]:
        if "password" in body:
            raise CjError(1600005, "APIkey is wrong: email/password login is no longer supported")
        if body.get("apiKey") != credentials.CJ_API_KEY:
            raise CjError(1600005, "APIkey is wrong")
        interval = world.settings.cj_token_interval_s
        last = float(world.state.meta(TOKEN_LAST_CALL, "0") or 0)
        if interval and time.time() - last < interval:
            # CJ: "can only be called once every 5 minutes"; the world's `cj_token_interval_s` (0: off).
            raise CjError(1600200, f"Too much request, getAccessToken can be called once every {interval:g}s")
        world.state.set_meta(TOKEN_LAST_CALL, repr(time.time()))
        world.state.audit_increment("cj_token_requests", "getAccessToken")
        latest = world.state.meta("cj_latest_token")
        record = world.state.get("cj_token", latest) if latest else None
        # Repeat calls within 24 h return the same cached tokens (current CJ docs).
        if (
            record
            and not revoked(world, "cj", record)
            and (world.now() - datetime.fromisoformat(record["created"]) < timedelta(hours=24))
        ):
            created = datetime.fromisoformat(record["created"])
            return {
                "openId": record["openId"],
                "accessToken": record["accessToken"],
                "accessTokenExpiryDate": _cj_time(datetime.fromisoformat(record["access_expires"])),
                "refreshToken": record["refreshToken"],
                "refreshTokenExpiryDate": _cj_time(datetime.fromisoformat(record["refresh_expires"])),
                "createDate": _cj_time(created),
            }
        return _issue_tokens(world, 5550001)

    return await CJ.serve(request, CjCall(needs_token=False), handle)


@router.post("/authentication/refreshAccessToken")
async def refresh_access_token(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> dict[str, Any]:
        link = world.state.get("cj_refresh", str(body.get("refreshToken", "")))
        if link is None:
            raise CjError(1600003, "Refresh token is failure")
        world.state.delete("cj_token", link["accessToken"])
        world.state.delete("cj_refresh", str(body["refreshToken"]))
        tokens = _issue_tokens(world, 5550001)
        tokens.pop("openId")
        return tokens

    return await CJ.serve(request, CjCall(needs_token=False), handle)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {"__invalid__": True}
    return body if isinstance(body, dict) else {"__invalid__": True}


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise CjError(1600300, f"Param error: {name} must be a number") from exc
    if not lo <= value <= hi:
        raise CjError(1600300, f"Param error: {name} must be between {lo} and {hi}")
    return value


_LIST_FIELDS = (
    "pid",
    "productName",
    "productNameEn",
    "productSku",
    "productImage",
    "productWeight",
    "productType",
    "productUnit",
    "sellPrice",
    "categoryId",
    "categoryName",
    "listedNum",
    "saleStatus",
    "isFreeShipping",
    "createTime",
)


@router.get("/product/list")
async def product_list(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        page = _int_param(request, "pageNum", 1, 1, 100000)
        size = _int_param(request, "pageSize", 20, 1, 200)
        category = request.query_params.get("categoryId")
        name = (request.query_params.get("productNameEn") or "").lower()
        created_from = request.query_params.get("createTimeFrom")
        now = world.now()
        matches = []
        for product in world.state.all("cj_product"):
            if not visible(product, now):
                continue
            if category and product["categoryId"] != category:
                continue
            if name and name not in product["productNameEn"].lower():
                continue
            if created_from and product["createTime"] < created_from:
                continue
            matches.append(product)
        if request.query_params.get("orderBy") == "createAt":
            matches.sort(key=lambda p: p["createTime"], reverse=request.query_params.get("sort") != "asc")
        window = matches[(page - 1) * size : page * size]
        items = [{k: public_view(p)[k] for k in _LIST_FIELDS} | {"remark": ""} for p in window]
        return {"pageNum": page, "pageSize": size, "total": len(matches), "list": items}

    return await CJ.serve(request, CjCall(), handle)


def _find_product(world: World, request: Request) -> dict[str, Any]:
    params = request.query_params
    product = None
    if params.get("pid"):
        product = world.state.get("cj_product", params["pid"])
    elif params.get("productSku"):
        product = next(
            (p for p in world.state.all("cj_product") if p["productSku"] == params["productSku"]), None
        )
    elif params.get("variantSku"):
        product = next(
            (
                p
                for p in world.state.all("cj_product")
                if any(v["variantSku"] == params["variantSku"] for v in p["variants"])
            ),
            None,
        )
    else:
        raise CjError(16900403, "pid can not be empty")
    if product is None or datetime.fromisoformat(product["_sim"]["created"]) > world.now():
        raise CjError(1602001, "Product not found")
    if product.get("saleStatus") != 3:
        raise CjError(1602002, "Product has been removed from shelves")
    return product


@router.get("/product/query")
async def product_query(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        return public_view(_find_product(world, request))

    return await CJ.serve(request, CjCall(), handle)


@router.get("/product/variant/query")
async def variant_query(request: Request) -> JSONResponse:
    def handle(world: World) -> list[dict[str, Any]]:
        return _find_product(world, request)["variants"]

    return await CJ.serve(request, CjCall(), handle)


@router.get("/product/variant/queryByVid")
async def variant_by_vid(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        variant = world.state.get("cj_variant", request.query_params.get("vid", ""))
        if variant is None:
            raise CjError(1602000, "Variant not found")
        return variant

    return await CJ.serve(request, CjCall(), handle)


def shipping_options(product: dict[str, Any], country: str, grams: float) -> list[dict[str, Any]]:
    """The routes the supplier offers to `country` for this product, cheapest first."""
    factor = SUPPORTED_COUNTRIES[country]
    fast, slow = product["_sim"]["ship_days"]
    per_100g = math.ceil(grams / 100)
    options = [
        {
            "logisticName": "CJPacket Ordinary",
            "price": (2.4 + 0.55 * per_100g) * factor,
            "days": (fast, slow),
        },
        {"logisticName": "DHL Official", "price": (13.0 + 1.9 * per_100g) * factor, "days": (3, 7)},
    ]
    if country == "US":
        options.append(
            {
                "logisticName": "USPS+",
                "price": 3.9 + 0.8 * per_100g,
                "days": (max(3, fast - 2), max(6, slow - 4)),
            }
        )
    return sorted(
        (
            {
                "logisticAging": f"{o['days'][0]}-{o['days'][1]}",
                "logisticPrice": round(o["price"], 2),
                "logisticPriceCn": round(o["price"] * 7.1, 2),
                "logisticName": o["logisticName"],
            }
            for o in options
        ),
        key=lambda o: o["logisticPrice"],
    )


def _weight(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 500.0  # the supplier's own fallback for a product with no usable weight


@router.post("/logistic/freightCalculate")
async def freight_calculate(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> list[dict[str, Any]]:
        if body.get("__invalid__"):
            raise CjError(16900205, "invalid JSON")
        country = str(body.get("endCountryCode", ""))
        if country not in SUPPORTED_COUNTRIES:
            raise CjError(1605002, "country code not found")
        items = body.get("products") or []
        if not items:
            raise CjError(16900403, "products can not be empty")
        grams = 0.0
        product = None
        for item in items:
            variant = world.state.get("cj_variant", str(item.get("vid", "")))
            if variant is None:
                raise CjError(1602000, "Variant not found")
            product = world.state.get("cj_product", variant["pid"])
            grams += _weight(variant.get("variantWeight")) * int(item.get("quantity", 1))
        assert product is not None
        return shipping_options(product, country, grams)

    return await CJ.serve(request, CjCall(), handle)


@router.get("/product/stock/queryByVid")
async def stock_by_vid(request: Request) -> JSONResponse:
    def handle(world: World) -> list[dict[str, Any]]:
        variant = world.state.get("cj_variant", request.query_params.get("vid", ""))
        if variant is None:
            raise CjError(1602000, "Variant not found")
        stock = int(variant.get("inventoryNum") or 0)
        return [
            {
                "vid": variant["vid"],
                "areaId": "1",
                "areaEn": "China Warehouse",
                "countryCode": "CN",
                "storageNum": stock,
                "totalInventoryNum": stock,
                "cjInventoryNum": stock // 10,
                "factoryInventoryNum": stock - stock // 10,
            }
        ]

    return await CJ.serve(request, CjCall(), handle)


def _warehouse_split(stock: int) -> tuple[int, int]:
    """(CJ's own units, the factory's): a tenth of the stock sits in CJ's warehouse."""
    return stock // 10, stock - stock // 10


@router.get("/product/stock/getInventoryByPid")
async def stock_by_pid(request: Request) -> JSONResponse:
    """Stock of every variant of a product, per warehouse country (this endpoint answers CJ's other
    envelope: `success: true, code: 200`, no `result`)."""

    def handle(world: World) -> dict[str, Any]:
        pid = request.query_params.get("pid", "")
        if not pid:
            raise CjError(16900403, "pid can not be empty")
        product = world.state.get("cj_product", pid)
        if product is None or datetime.fromisoformat(product["_sim"]["created"]) > world.now():
            raise CjError(1602001, "Product not found")
        variants = []
        total = 0
        for variant in product["variants"]:
            stock = int(variant.get("inventoryNum") or 0)
            total += stock
            cj_units, factory = _warehouse_split(stock)
            variants.append(
                {
                    "vid": variant["vid"],
                    "inventory": [
                        {
                            "countryCode": "CN",
                            "totalInventory": stock,
                            "cjInventory": cj_units,
                            "factoryInventory": factory,
                            "verifiedWarehouse": 2,
                        }
                    ],
                }
            )
        cj_units, factory = _warehouse_split(total)
        return {
            "inventories": [
                {
                    "areaEn": "China Warehouse",
                    "areaId": 1,
                    "countryCode": "CN",
                    "totalInventoryNum": total,
                    "cjInventoryNum": cj_units,
                    "factoryInventoryNum": factory,
                    "countryNameEn": "China",
                }
            ],
            "variantInventories": variants,
        }

    return await _served_in_flavour(request, handle, keep_result=False)


@router.get("/product/stock/queryBySku")
async def stock_by_sku(request: Request) -> JSONResponse:
    """Stock of a variant (its SKU) or of a whole product (its SPU), per warehouse."""

    def handle(world: World) -> list[dict[str, Any]]:
        sku = request.query_params.get("sku", "")
        if not sku:
            raise CjError(16900403, "sku can not be empty")
        stock = None
        for product in world.state.all("cj_product"):
            if product["productSku"] == sku:
                stock = sum(int(v.get("inventoryNum") or 0) for v in product["variants"])
                break
            match = next((v for v in product["variants"] if v["variantSku"] == sku), None)
            if match is not None:
                stock = int(match.get("inventoryNum") or 0)
                break
        if stock is None:
            raise CjError(1602000, "Variant not found")
        cj_units, factory = _warehouse_split(stock)
        return [
            {
                "areaEn": "China Warehouse",
                "areaId": 1,
                "countryCode": "CN",
                "totalInventoryNum": stock,
                "cjInventoryNum": cj_units,
                "factoryInventoryNum": factory,
                "countryNameEn": "China",
            }
        ]

    return await _served_in_flavour(request, handle, keep_result=True)


async def _served_in_flavour(request: Request, handle: Any, keep_result: bool) -> Any:
    try:
        response = await CJ.serve(request, CjCall(), handle)
    except CjError as error:  # its errors come in the same flavour
        response = error.response()
    return _success_flavour(response, keep_result)


def _success_flavour(response: Any, keep_result: bool = True) -> Any:
    """The stock endpoints' envelope: `success` (true on success) beside `code`, and `getInventoryByPid`
    without `result` (api-contracts.md §2.2)."""
    import json as _json

    if not isinstance(response, JSONResponse):
        return response
    try:
        body = _json.loads(bytes(response.body))
    except ValueError:
        return response
    if isinstance(body, dict) and "code" in body:
        body["success"] = body.get("code") == 200
        if not keep_result:
            body.pop("result", None)
        return JSONResponse(body, status_code=response.status_code)
    return response


@router.post("/authentication/logout")
async def logout(request: Request) -> JSONResponse:
    """Both of the caller's tokens stop working."""

    def handle(world: World) -> bool:
        token = request.headers.get("CJ-Access-Token", "")
        record = world.state.get("cj_token", token)
        world.state.delete("cj_token", token)
        if record:
            world.state.delete("cj_refresh", record["refreshToken"])
        if world.state.meta("cj_latest_token") == token:
            world.state.set_meta("cj_latest_token", "")
        return True

    return await CJ.serve(request, CjCall(is_write=True), handle)


@router.get("/setting/get")
async def setting_get(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        return {"setting": {"qpsLimit": world.settings.cj_level_qps, "quotaLimits": []}}

    return await CJ.serve(request, CjCall(), handle)


# Included after every CJ router: a path CJ does not have, or a known path with the wrong method, gets
# CJ's envelope (HTTP 200) as from the live API, never the web server's bare 404 / 405.
fallback = APIRouter()
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@fallback.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
async def unknown_interface(path: str, request: Request) -> JSONResponse:
    from dropship_sandbox.apis import cj_orders, cj_wallet, cj_webhooks  # they build on this module

    routers = (router, cj_orders.router, cj_wallet.router, cj_webhooks.router)
    if any(getattr(route, "path", None) == "/" + path for r in routers for route in r.routes):
        # The interface exists, under another method.
        return envelope(None, 16900202, f"Request method '{request.method}' not supported")
    return envelope(None, 1600101, "Interface not found")
