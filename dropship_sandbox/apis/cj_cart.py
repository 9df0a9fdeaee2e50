"""CJ's cart payment flow (api-contracts.md §2.9 "Paying", cart flow): several created orders paid at once.

`addCart` {"cjOrderIdList"} puts unpaid orders in the cart (an unknown, paid or held order comes back in
`interceptOrders`, not added); `addCartConfirm` (same body) turns them into one shipment (`shipmentsId`);
`saveGenerateParentOrder` {"shipmentOrderId"} makes its parent order (`payId`, `paymentInformation`);
`payBalanceV2` {"shipmentOrderId", "payId"} pays it from the wallet as payBalance pays one order: the whole
amount or nothing (1604000), then every order moves as a paid one does. A second pay of the same payId is
refused as payBalance refuses an order already paid (1603101): the docs do not say it is idempotent.

These four answer CJ's other envelope, `{"success": true, "code": 200, "message": "Congratulation! Well
done!", ...}` as the docs show for addCart, errors in the same flavour; `result` and `requestId` stay
beside `success`, so a client reading either flag (api-contracts.md §2.1) and the sandbox's
every-endpoint envelope check both hold.
"""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import CJ, CjCall, CjError, _json_body
from dropship_sandbox.apis.cj_catalog_v2 import refuse_other_methods
from dropship_sandbox.apis.cj_orders import UNPAID, find_order, mark_paid
from dropship_sandbox.apis.cj_wallet import spend
from dropship_sandbox.world import World

router = APIRouter()
CART = "cj_cart"  # meta: the orderIds in the account's cart, in the order added
CART_MESSAGE = "Congratulation! Well done!"


async def _served(request: Request, handle: Any) -> JSONResponse:
    try:
        response = await CJ.serve(request, CjCall(is_write=True), handle)
    except CjError as error:
        response = error.response()
    if response.status_code != 200:  # a lost answer: the gateway's 5xx, no envelope
        return response
    body = json.loads(bytes(response.body))
    body["success"] = body.get("code") == 200
    if body["success"]:
        body["message"] = CART_MESSAGE
    return JSONResponse(body, headers={"Date": response.headers.get("Date", "")})


def _order_ids(body: dict[str, Any]) -> list[str]:
    if body.get("__invalid__"):
        raise CjError(16900205, "invalid JSON")
    ids = body.get("cjOrderIdList")
    if ids is None or ids == []:
        raise CjError(16900403, "cjOrderIdList can not be empty")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise CjError(1600300, "Param error: cjOrderIdList must be a list of order ids")
    return list(dict.fromkeys(ids))


def _text(body: dict[str, Any], name: str) -> str:
    if body.get("__invalid__"):
        raise CjError(16900205, "invalid JSON")
    value = body.get(name)
    if value is None or value == "":
        raise CjError(16900403, f"{name} can not be empty")
    if not isinstance(value, str):
        raise CjError(1600300, f"Param error: {name} must be a string")
    return value


def _cart(world: World) -> list[str]:
    return json.loads(world.state.meta(CART, "[]") or "[]")


def _why_not(world: World, order: dict[str, Any] | None) -> str | None:
    if order is None:
        return "Order not found, please check the CJ order id"
    if order.get("interceptOrderReasons"):
        return "The order is intercepted"
    if order["orderStatus"] not in UNPAID or order["_sim"].get("paid_at"):
        return f"The order is {order['orderStatus']}, it cannot be paid"
    if order["_sim"].get("shipment"):
        return "The order is already in a shipment"
    return None


@router.post("/shopping/order/addCart")
async def add_cart(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> dict[str, Any]:
        cart = _cart(world)
        added, intercepted = [], []
        for key in _order_ids(body):
            order = find_order(world, key)
            reason = _why_not(world, order)
            if reason is not None:
                intercepted.append({"cjOrderId": key, "message": reason})
                continue
            assert order is not None
            if order["orderId"] not in cart:
                cart.append(order["orderId"])
            added.append(order["orderId"])
        world.state.set_meta(CART, json.dumps(cart))
        return {"successCount": len(added), "addSuccessOrders": added, "interceptOrders": intercepted}

    return await _served(request, handle)


@router.post("/shopping/order/addCartConfirm")
async def add_cart_confirm(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> dict[str, Any]:
        cart = _cart(world)
        orders = []
        for key in _order_ids(body):
            order = find_order(world, key)
            if order is None or order["orderId"] not in cart:
                raise CjError(1603001, f"Order confirm fail: {key} is not in the cart")
            reason = _why_not(world, order)
            if reason is not None:
                raise CjError(1603001, f"Order confirm fail: {reason}")
            orders.append(order)
        shipment_id = f"SP{world.now():%y%m%d%H%M%S}{world.new_id('cj_shipment', 10000):06d}"
        for order in orders:
            order["_sim"]["shipment"] = shipment_id
            world.state.put("cj_order", order["orderId"], order)
            cart.remove(order["orderId"])
        world.state.set_meta(CART, json.dumps(cart))
        amount = round(sum(float(o["orderAmount"]) for o in orders), 2)
        world.state.put(
            "cj_shipment",
            shipment_id,
            {"orderIds": [o["orderId"] for o in orders], "amount": amount, "payId": None, "paid": False},
        )
        return {"shipmentsId": shipment_id}

    return await _served(request, handle)


def _shipment(world: World, shipment_id: str) -> dict[str, Any]:
    shipment = world.state.get("cj_shipment", shipment_id)
    if shipment is None:
        raise CjError(1603100, "Order not found, please check the shipmentOrderId")
    return shipment


@router.post("/shopping/order/saveGenerateParentOrder")
async def save_generate_parent_order(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> dict[str, Any]:
        shipment_id = _text(body, "shipmentOrderId")
        shipment = _shipment(world, shipment_id)
        if shipment["payId"] is None:  # asked again, the same parent order
            shipment["payId"] = f"{world.new_id('cj_pay', 1600000000000000000)}"
            world.state.put("cj_shipment", shipment_id, shipment)
        return {
            "shipmentOrderId": shipment_id,
            "payId": shipment["payId"],
            "paymentInformation": {
                "payId": shipment["payId"],
                "amount": shipment["amount"],
                "currency": "USD",
                "orderCount": len(shipment["orderIds"]),
                "cjOrderIdList": list(shipment["orderIds"]),
                "paid": shipment["paid"],
            },
        }

    return await _served(request, handle)


@router.post("/shopping/pay/payBalanceV2")
async def pay_balance_v2(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> None:
        shipment_id = _text(body, "shipmentOrderId")
        pay_id = _text(body, "payId")
        shipment = _shipment(world, shipment_id)
        if shipment["payId"] is None or shipment["payId"] != pay_id:
            raise CjError(1600300, "Param error: payId does not belong to this shipmentOrderId")
        orders = [world.state.get("cj_order", order_id) for order_id in shipment["orderIds"]]
        if shipment["paid"]:
            status = next((o["orderStatus"] for o in orders if o), "deleted")
            raise CjError(1603101, f"Order pay fail: the order is {status}")
        for order in orders:
            if order is None:
                raise CjError(1603100, "Order not found, please check the CJ order id")
            if order["orderStatus"] not in UNPAID or order["_sim"].get("paid_at"):
                raise CjError(1603101, f"Order pay fail: the order is {order['orderStatus']}")
        spend(world, float(shipment["amount"]))  # 1604000 when it cannot cover all: nothing is paid
        for order in orders:
            assert order is not None
            mark_paid(world, order)
        shipment["paid"] = True
        world.state.put("cj_shipment", shipment_id, shipment)

    return await _served(request, handle)


refuse_other_methods(
    router,
    (
        "/shopping/order/addCart",
        "/shopping/order/addCartConfirm",
        "/shopping/order/saveGenerateParentOrder",
        "/shopping/pay/payBalanceV2",
    ),
    "POST",
)
