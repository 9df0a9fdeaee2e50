"""CJ orders (api-contracts.md §2.9-2.11): createOrderV2/V3, payBalance, getOrderDetail, order list,
deleteOrder, trackInfo.

The supplier's warehouse is the `SupplierSimulator`: a paid order (payType 2) becomes UNSHIPPED within
hours, SHIPPED with a tracking number after 1-3 handling days, DELIVERED after the route's transit days.
Every order created is counted at the source (`supplier_orders_created` per orderNumber).
"""

import json
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import (
    CJ,
    SUPPORTED_COUNTRIES,
    CjCall,
    CjError,
    _json_body,
    _weight,
    shipping_options,
)
from dropship_sandbox.apis.cj_wallet import intercept_reasons, spend
from dropship_sandbox.order_aftermath import on_supplier_paid
from dropship_sandbox.order_risk import audit_supplier_order
from dropship_sandbox.parcels import draw_fate, order_view, track
from dropship_sandbox.world import World

router = APIRouter()
OPEN_INDEX = "cj_orders:open"  # orderId -> ISO time of its next status change
REQUIRED = (
    "orderNumber",
    "shippingCountryCode",
    "shippingCountry",
    "shippingProvince",
    "shippingCity",
    "shippingCustomerName",
    "shippingAddress",
    "logisticName",
    "fromCountryCode",
)
TERMINAL = ("DELIVERED", "CANCELLED")


def _cj_date(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None  # CJ: UTC, no zone


def _variant_for(world: World, item: dict[str, Any]) -> dict[str, Any]:
    vid, sku = item.get("vid"), item.get("sku")
    variant = world.state.get("cj_variant", str(vid)) if vid else None
    if variant is None and sku and not vid:
        product = next(
            (p for p in world.state.all("cj_product") if any(v["variantSku"] == sku for v in p["variants"])),
            None,
        )
        if product:
            variant = next(
                {"pid": product["pid"], **v} for v in product["variants"] if v["variantSku"] == sku
            )
    if variant is None:
        raise CjError(1602000, "Variant not found")
    if sku and vid and variant["variantSku"] != sku:
        raise CjError(1600300, "Param error: vid and sku do not match")
    return variant


def _open_index(world: World) -> dict[str, str]:
    return json.loads(world.state.meta(OPEN_INDEX, "{}") or "{}")


def _next_change(order: dict[str, Any]) -> str | None:
    sim = order["_sim"]
    for status, key in (("UNSHIPPED", "paid_at"), ("SHIPPED", "shipped_at"), ("DELIVERED", "delivered_at")):
        if (
            sim.get(key)
            and order["orderStatus"] not in TERMINAL
            and _rank(order["orderStatus"]) < _rank(status)
        ):
            return sim[key]
    return None


def _rank(status: str) -> int:
    return ("CREATED", "UNPAID", "UNSHIPPED", "SHIPPED", "DELIVERED").index(status) if status in (
        "CREATED", "UNPAID", "UNSHIPPED", "SHIPPED", "DELIVERED") else 9  # fmt: skip


def _schedule(world: World, order: dict[str, Any]) -> None:
    index = _open_index(world)
    change = _next_change(order)
    if change:
        index[order["orderId"]] = change
    else:
        index.pop(order["orderId"], None)
    world.state.set_meta(OPEN_INDEX, json.dumps(index))


@router.post("/shopping/order/createOrderV2")
async def create_order(request: Request) -> JSONResponse:
    return await _create(request, await _json_body(request))


async def _create(request: Request, body: dict[str, Any]) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        if body.get("__invalid__"):
            raise CjError(16900205, "invalid JSON")
        for name in REQUIRED:
            if not str(body.get(name) or "").strip():
                raise CjError(16900403, f"{name} can not be empty")
        number = str(body["orderNumber"])
        if len(number) > 50:
            raise CjError(1600300, "Param error: orderNumber is longer than 50")
        if len(str(body.get("shippingPhone") or "")) > 20:
            raise CjError(1600300, "Param error: shippingPhone is longer than 20")
        if world.state.get("cj_order_number", number) is not None:
            raise CjError(1603003, "Order exist, please do not duplicate create")
        country = str(body["shippingCountryCode"]).upper()
        if country not in SUPPORTED_COUNTRIES:
            raise CjError(1605002, "country code not found")
        items = body.get("products") or []
        if not items:
            raise CjError(16900403, "products can not be empty")
        lines, grams, product = [], 0.0, None
        for item in items:
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or quantity <= 0:
                raise CjError(16900403, "products.quantity can not be empty")
            variant = _variant_for(world, item)
            product = world.state.get("cj_product", variant["pid"])
            if product is None or product.get("saleStatus") != 3:
                raise CjError(1602003, "Variant has been removed from shelves")
            if int(variant.get("inventoryNum") or 0) < quantity:
                raise CjError(1603102, "Inventory deduction fail")
            grams += _weight(variant.get("variantWeight")) * quantity
            lines.append((variant, quantity, item.get("storeLineItemId")))
        assert product is not None
        options = {o["logisticName"]: o for o in shipping_options(product, country, grams)}
        option = options.get(str(body["logisticName"]))
        if option is None:
            raise CjError(1605001, "Logistic invalid, please reference freight calculate")
        now = world.now()
        order_id = f"SD{now:%y%m%d%H%M%S}{world.new_id('cj_order', 10000):06d}"
        product_amount = round(sum(float(v.get("variantSellPrice") or 0) * q for v, q, _ in lines), 2)
        postage = float(option["logisticPrice"])
        rng = world.rng("cj_order", number)
        # An intercepted order (the world's `cj_intercept_orders`) is created but held: never paid.
        intercepted = intercept_reasons(world)
        paid = body.get("payType", 3) == 2 and not intercepted
        order_amount = round(product_amount + postage, 2)
        if paid:
            spend(world, order_amount)  # 1604000 when the wallet cannot cover it: nothing is created
        paid_at = now + timedelta(hours=rng.uniform(0.2, 4)) if paid else None
        shipped_at = paid_at + timedelta(days=rng.uniform(1, 3)) if paid_at else None
        fast, slow = (int(x) for x in option["logisticAging"].split("-"))
        delivered_at = shipped_at + timedelta(days=rng.uniform(fast, slow)) if shipped_at else None
        product_list = [
            {
                "vid": v["vid"],
                "quantity": q,
                "sellPrice": v.get("variantSellPrice"),
                "podPropertiesInfo": None,
                "lineItemId": str(world.new_id("cj_line", 2505170958390976500)),
                "storeLineItemId": store_line,
            }
            for v, q, store_line in lines
        ]
        order = {
            "orderId": order_id,
            "orderNum": number,
            "platformOrderId": None,
            "cjOrderId": order_id,
            "shippingCountryCode": country,
            "shippingProvince": body["shippingProvince"],
            "shippingCity": body["shippingCity"],
            "shippingPhone": body.get("shippingPhone"),
            "shippingAddress": body["shippingAddress"],
            "shippingCustomerName": body["shippingCustomerName"],
            "remark": body.get("remark") or None,
            "orderWeight": round(grams),
            "orderStatus": "CREATED",
            "orderAmount": order_amount,
            "productAmount": product_amount,
            "postageAmount": postage,
            "logisticName": option["logisticName"],
            "trackNumber": None,
            "trackingUrl": None,
            "createDate": _cj_date(now),
            "paymentDate": None,
            "outWarehouseTime": None,
            "deliveryDate": None,
            "storeCreateDate": None,
            "isComplete": 1,
            "fromCountryCode": body["fromCountryCode"],
            "disputeId": None,
            "productList": product_list,
            "_sim": {
                "paid_at": paid_at.isoformat() if paid_at else None,
                "shipped_at": shipped_at.isoformat() if shipped_at else None,
                "delivered_at": delivered_at.isoformat() if delivered_at else None,
                "track_number": f"CJPKL{rng.randint(10**11, 10**12 - 1)}YQ",
                "last_mile": "USPS" if country == "US" else "Local post",
                "transit_days": [fast, slow],
            },
        }
        if intercepted:
            order["interceptOrderReasons"] = intercepted
        draw_fate(world, order)  # the parcel's stall, loss, new number, re-weighed postage
        world.state.put("cj_order", order_id, order)
        world.state.put("cj_order_number", number, {"orderId": order_id})
        world.state.audit_increment("supplier_orders_created", number)
        audit_supplier_order(world, [str(p["storeLineItemId"]) for p in product_list if p["storeLineItemId"]])
        _schedule(world, order)
        if paid:
            on_supplier_paid(world, order)  # when (ground truth), and a supplier cancellation or stock-out
        return {
            "orderNumber": number,
            "orderId": order_id,
            "shipmentOrderId": "",
            "iossAmount": 0,
            "iossTaxHandlingFee": 0,
            "postageAmount": postage,
            "productAmount": product_amount,
            "productOriginalAmount": product_amount,
            "productDiscountAmount": 0,
            "postageDiscountAmount": 0,
            "postageOriginalAmount": postage,
            "totalDiscountAmount": 0,
            "actualPayment": order["orderAmount"] if paid else 0,
            "orderOriginalAmount": order["orderAmount"],
            "cjPayUrl": "",
            "orderAmount": order["orderAmount"],
            "logisticsMiss": False,
            "productInfoList": [
                {
                    "storeLineItemId": p["storeLineItemId"],
                    "lineItemId": p["lineItemId"],
                    "variantId": p["vid"],
                    "isGroup": False,
                    "quantity": p["quantity"],
                    "subOrderProducts": [],
                }
                for p in product_list
            ],
            "orderStatus": order["orderStatus"],
            "interceptOrderReasons": intercepted,
        }

    return await CJ.serve(request, CjCall(is_write=True), handle)


@router.post("/shopping/order/createOrderV3")
async def create_order_v3(request: Request) -> JSONResponse:
    """createOrderV2 without payment: V3 takes no payType, the order waits for payBalance."""
    body = await _json_body(request)
    body.pop("payType", None)
    return await _create(request, body)


def public_order(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if not k.startswith("_")}


def find_order(world: World, key: str) -> dict[str, Any] | None:
    order = world.state.get("cj_order", key)
    if order is None:
        link = world.state.get("cj_order_number", key)
        order = world.state.get("cj_order", link["orderId"]) if link else None
    return order


@router.get("/shopping/order/getOrderDetail")
async def order_detail(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        key = request.query_params.get("orderId") or ""
        if not key:
            raise CjError(1600300, "orderId must be not empty")
        order = find_order(world, key)
        if order is None:
            raise CjError(1600300, "order not found")
        return order_view(world, order)

    return await CJ.serve(request, CjCall(), handle)


UNPAID = ("CREATED", "IN_CART", "UNPAID")
PAID_TRANSIT_DAYS = (7, 12)  # for an order created before its route's transit days were kept


@router.post("/shopping/pay/payBalance")
async def pay_balance(request: Request) -> JSONResponse:
    """Pays one created order from the wallet; it then moves as an order created with payType 2 does."""
    body = await _json_body(request)

    def handle(world: World) -> None:
        if body.get("__invalid__"):
            raise CjError(16900205, "invalid JSON")
        key = str(body.get("orderId") or "")
        if not key:
            raise CjError(16900403, "orderId can not be empty")
        order = find_order(world, key)
        if order is None:
            raise CjError(1603100, "Order not found, please check the CJ order id")
        if order["orderStatus"] not in UNPAID or order["_sim"].get("paid_at"):
            raise CjError(1603101, f"Order pay fail: the order is {order['orderStatus']}")
        if order.get("interceptOrderReasons"):
            raise CjError(1603101, "Order pay fail: the order is intercepted")
        spend(world, float(order["orderAmount"]))
        mark_paid(world, order)

    return await CJ.serve(request, CjCall(is_write=True), handle)


def mark_paid(world: World, order: dict[str, Any]) -> None:
    """What paying does to an order (payBalance, or the cart's payBalanceV2): the warehouse's timeline
    is drawn from now, the parcel's fate drawn, and the store told its supplier was paid."""
    rng = world.rng("cj_order_paid", order["orderNum"])
    fast, slow = order["_sim"].get("transit_days") or PAID_TRANSIT_DAYS
    paid_at = world.now() + timedelta(hours=rng.uniform(0.2, 4))
    shipped_at = paid_at + timedelta(days=rng.uniform(1, 3))
    order["_sim"]["paid_at"] = paid_at.isoformat()
    order["_sim"]["shipped_at"] = shipped_at.isoformat()
    order["_sim"]["delivered_at"] = (shipped_at + timedelta(days=rng.uniform(fast, slow))).isoformat()
    draw_fate(world, order)
    world.state.put("cj_order", order["orderId"], order)
    _schedule(world, order)
    on_supplier_paid(world, order)


@router.delete("/shopping/order/deleteOrder")
async def delete_order(request: Request) -> JSONResponse:
    """An order not yet paid is withdrawn (gone from detail and list); a paid one is refused, as CJ does
    after confirmation. Counted at the source (`supplier_orders_deleted` per orderNumber)."""

    def handle(world: World) -> str:
        key = request.query_params.get("orderId") or ""
        if not key:
            raise CjError(1600300, "orderId must be not empty")
        order = find_order(world, key)
        if order is None:
            raise CjError(1600300, "order not found")
        if order["orderStatus"] not in UNPAID:
            raise CjError(1603001, f"Order status {order['orderStatus']} does not allow deletion")
        world.state.delete("cj_order", order["orderId"])
        world.state.delete("cj_order_number", order["orderNum"])
        index = _open_index(world)
        if index.pop(order["orderId"], None) is not None:
            world.state.set_meta(OPEN_INDEX, json.dumps(index))
        world.state.audit_increment("supplier_orders_deleted", order["orderNum"])
        return str(order["orderId"])

    return await CJ.serve(request, CjCall(is_write=True), handle)


@router.get("/shopping/order/list")
async def order_list(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        params = request.query_params
        try:
            page, size = int(params.get("pageNum", 1)), int(params.get("pageSize", 10))
        except ValueError as exc:
            raise CjError(1600300, "Param error: pageNum/pageSize must be numbers") from exc
        if not (1 <= size <= 200 and page >= 1):
            raise CjError(1600300, "Param error: pageSize must be between 1 and 200")
        ids = params.getlist("orderIds")
        status = params.get("status")
        if ids:
            orders = [o for o in (find_order(world, i) for i in ids) if o]
        else:
            orders = world.state.all("cj_order")
            orders.reverse()  # newest first
        if status and status != "OTHER":
            orders = [o for o in orders if o["orderStatus"] == status]
        window = orders[(page - 1) * size : page * size]
        return {
            "pageNum": page,
            "pageSize": size,
            "total": len(orders),
            "list": [order_view(world, o) for o in window],
        }

    return await CJ.serve(request, CjCall(), handle)


@router.get("/logistic/trackInfo")
async def track_info(request: Request) -> JSONResponse:
    def handle(world: World) -> list[dict[str, Any]]:
        numbers = request.query_params.getlist("trackNumber")
        if not numbers:
            raise CjError(16900403, "trackNumber can not be empty")
        found = []
        for number in numbers:
            link = world.state.get("cj_track", number)
            order = world.state.get("cj_order", link["orderId"]) if link else None
            if order is None:
                continue
            found.append(track(world, order, number))
        return found

    return await CJ.serve(request, CjCall(), handle)


class SupplierSimulator:
    """The supplier's warehouse: moves each paid order along its drawn timeline as the clock passes."""

    name = "cj_orders"

    def advance(self, world: World, start: datetime, end: datetime) -> None:
        index = _open_index(world)
        due = [order_id for order_id, change in index.items() if datetime.fromisoformat(change) <= end]
        for order_id in due:
            order = world.state.get("cj_order", order_id)
            if order is None:
                index.pop(order_id, None)
                continue
            sim = order["_sim"]
            for status, key in (
                ("UNSHIPPED", "paid_at"),
                ("SHIPPED", "shipped_at"),
                ("DELIVERED", "delivered_at"),
            ):
                moment = datetime.fromisoformat(sim[key]) if sim.get(key) else None
                if moment is None or moment > end or _rank(order["orderStatus"]) >= _rank(status):
                    continue
                order["orderStatus"] = status
                if status == "UNSHIPPED":
                    order["paymentDate"] = _cj_date(moment)
                elif status == "SHIPPED":
                    order["outWarehouseTime"] = _cj_date(moment)
                    order["trackNumber"] = sim["track_number"]
                    order["trackingUrl"] = f"https://cjpacket.com/?trackingNumber={sim['track_number']}"
                    world.state.put("cj_track", sim["track_number"], {"orderId": order_id})
                else:
                    order["deliveryDate"] = _cj_date(moment)
            world.state.put("cj_order", order_id, order)
            change = _next_change(order)
            if change:
                index[order_id] = change
            else:
                index.pop(order_id, None)
        if due:
            world.state.set_meta(OPEN_INDEX, json.dumps(index))
