"""CJ's Elasticsearch product search and its category tree (api-contracts.md §2.4): `GET /product/listV2`
and `GET /product/getCategory`, over the same world catalog `/product/list` reads.

listV2 names its fields differently from v1 (`id`/`nameEn`/`bigImage`/`sellPrice` as a string, not
`pid`/`productNameEn`/`productImage`/a number): the sandbox keeps that difference, since a client that reads
one shape from the other is exactly the bug CJ's own MCP had. listV2 refuses POST with 16900202 as the live
endpoint does (CJ's fallback only knows the v1 routers, so this module answers its own wrong method).
"""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import CJ, METHODS, CjCall, CjError, _int_param, envelope
from dropship_sandbox.catalog import image_url, visible
from dropship_sandbox.world import World

router = APIRouter()
STORE_LIST = [{"warehouseId": "1", "warehouseName": "China Warehouse", "countryCode": "CN"}]
ORDER_BY = {"0", "1", "2", "3", "4"}  # best match, listed count, price, create time, inventory
PRODUCT_FLAGS = {"0", "1", "2", "3"}  # trending, new, video, slow


def category_levels(name: str) -> tuple[str, str, str]:
    """The three levels of a catalog category ("A / B / C"); a two-level one repeats its second level
    as the third, since CJ's tree always ends in a leaf with a categoryId."""
    parts = [part.strip() for part in name.split("/") if part.strip()]
    while len(parts) < 3:
        parts.append(parts[-1])
    return parts[0], parts[1], " / ".join(parts[2:])


def _price_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise CjError(1600300, f"Param error: {name} must be a number") from exc
    if value < 0:
        raise CjError(1600300, f"Param error: {name} must not be negative")
    return value


def _price(product: dict[str, Any]) -> float | None:
    price = product.get("sellPrice")
    return float(price) if isinstance(price, int | float) else None


def _inventory(product: dict[str, Any]) -> int:
    return sum(int(v.get("inventoryNum") or 0) for v in product["variants"])


def _v2_item(product: dict[str, Any]) -> dict[str, Any]:
    first, second, third = category_levels(product["categoryName"])
    price = _price(product)
    shown = "" if price is None else f"{price:.2f}"
    created = datetime.fromisoformat(product["_sim"]["created"])
    inventory = _inventory(product)
    return {
        "id": product["pid"],
        "nameEn": product["productNameEn"],
        "sku": product["productSku"],
        "spu": product["productSku"],
        "bigImage": image_url(product["productImage"]),
        "sellPrice": shown,
        "nowPrice": shown,
        "discountPrice": shown,
        "discountPriceRate": "0",
        "listedNum": product["listedNum"],
        "categoryId": product["categoryId"],
        "threeCategoryName": third,
        "twoCategoryId": None,
        "twoCategoryName": second,
        "oneCategoryId": None,
        "oneCategoryName": first,
        "addMarkStatus": product.get("isFreeShipping", 0),
        "isVideo": 0,
        "videoList": [],
        "productType": product["productType"],
        "supplierName": "CJ",
        "createAt": int(created.timestamp() * 1000),
        "warehouseInventoryNum": inventory,
        "totalVerifiedInventory": inventory // 10,
        "totalUnVerifiedInventory": inventory - inventory // 10,
        "verifiedWarehouse": 1,
        "customization": 0,
        "hasCECertification": 0,
        "isCollect": 0,
        "myProduct": False,
        "currency": "USD",
        "description": None,
        "deliveryCycle": "1-3",
        "saleStatus": str(product["saleStatus"]),
        "authorityStatus": "1",
        "isPersonalized": 0,
    }


@router.get("/product/listV2")
async def product_list_v2(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        params = request.query_params
        page = _int_param(request, "page", 1, 1, 1000)
        size = _int_param(request, "size", 10, 1, 100)
        order_by = params.get("orderBy", "0")
        if order_by not in ORDER_BY:
            raise CjError(1600300, "Param error: orderBy must be one of 0, 1, 2, 3, 4")
        sort = params.get("sort", "desc")
        if sort not in ("desc", "asc"):
            raise CjError(1600300, "Param error: sort must be desc or asc")
        flag = params.get("productFlag")
        if flag is not None and flag not in PRODUCT_FLAGS:
            raise CjError(1600300, "Param error: productFlag must be one of 0, 1, 2, 3")
        low, high = _price_param(request, "startSellPrice"), _price_param(request, "endSellPrice")
        if low is not None and high is not None and low > high:
            raise CjError(1600300, "Param error: startSellPrice must not exceed endSellPrice")
        keyword = (params.get("keyWord") or "").strip()
        words = keyword.lower().split()
        category = params.get("categoryId")
        now = world.now()
        matches = []
        for product in world.state.all("cj_product"):
            if not visible(product, now):
                continue
            if category and product["categoryId"] != category:
                continue
            name = product["productNameEn"].lower()
            if words and not all(word in name for word in words):
                continue
            price = _price(product)
            if (low is not None or high is not None) and price is None:
                continue
            if low is not None and price is not None and price < low:
                continue
            if high is not None and price is not None and price > high:
                continue
            matches.append(product)
        reverse = sort != "asc"
        if order_by == "1":
            matches.sort(key=lambda p: p["listedNum"], reverse=reverse)
        elif order_by == "2":
            matches.sort(key=lambda p: _price(p) or 0.0, reverse=reverse)
        elif order_by == "3":
            matches.sort(key=lambda p: p["_sim"]["created"], reverse=reverse)
        elif order_by == "4":
            matches.sort(key=_inventory, reverse=reverse)
        window = matches[(page - 1) * size : page * size]
        total = len(matches)
        categories = sorted({p["categoryId"]: p["categoryName"] for p in matches}.items())
        return {
            "pageSize": size,
            "pageNumber": page,
            "totalRecords": total,
            "totalPages": (total + size - 1) // size,
            "content": [
                {
                    "productList": [_v2_item(p) for p in window],
                    "relatedCategoryList": [],
                    "categoryList": [
                        {"categoryId": cid, "categoryName": category_levels(name)[2]}
                        for cid, name in categories
                    ],
                    "storeList": [dict(store) for store in STORE_LIST],
                    "keyWord": keyword,
                    "keyWordOld": keyword,
                    "searchHit": f"{min(total, 1)}::{total}",
                }
            ],
        }

    return await CJ.serve(request, CjCall(), handle)


@router.get("/product/getCategory")
async def get_category(request: Request) -> JSONResponse:
    def handle(world: World) -> list[dict[str, Any]]:
        # Every category a product of the catalog is filed under, whether or not it is on the shelves now.
        leaves = {p["categoryId"]: p["categoryName"] for p in world.state.all("cj_product")}
        tree: dict[str, dict[str, list[dict[str, str]]]] = {}
        for category_id, name in sorted(leaves.items(), key=lambda item: item[1]):
            first, second, third = category_levels(name)
            tree.setdefault(first, {}).setdefault(second, []).append(
                {"categoryId": category_id, "categoryName": third}
            )
        return [
            {
                "categoryFirstName": first,
                "categoryFirstList": [
                    {"categorySecondName": second, "categorySecondList": leaves_}
                    for second, leaves_ in seconds.items()
                ],
            }
            for first, seconds in tree.items()
        ]

    return await CJ.serve(request, CjCall(), handle)


async def wrong_method(request: Request) -> JSONResponse:
    return envelope(None, 16900202, f"Request method '{request.method}' not supported")


def refuse_other_methods(target: APIRouter, paths: tuple[str, ...], allowed: str) -> None:
    """CJ's fallback knows only its own routers' paths, so a module's paths answer a wrong method here."""
    others = [method for method in METHODS if method != allowed]
    for path in paths:
        target.add_api_route(path, wrong_method, methods=others, include_in_schema=False)


refuse_other_methods(router, ("/product/listV2", "/product/getCategory"), "GET")
