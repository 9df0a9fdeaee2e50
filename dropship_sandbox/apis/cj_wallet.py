"""CJ's wallet (api-contracts.md §2.9 "Paying"): the balance orders are paid from, and paying one order.

`GET /shopping/pay/getBalance` shows what is left of the world's `cj_balance`; `POST /shopping/pay/payBalance`
pays a created order from it and sets it moving as an order created with payType 2 does. An order the
wallet cannot cover is refused with `1604000 Balance is insufficient`, nothing paid; an order CJ held
(`interceptOrderReasons`, the world's `cj_intercept_orders`) cannot be paid.
"""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import CJ, CjCall, CjError, _json_body
from dropship_sandbox.apis.cj_orders import UNPAID, _schedule, find_order
from dropship_sandbox.world import World

router = APIRouter()
SPENT = "cj_wallet_spent"  # USD paid from the wallet so far
# Why CJ held an order (the world's `cj_intercept_orders`), in the shape createOrderV2 reports it.
INTERCEPT_REASONS = [{"code": 1001, "message": "The order is intercepted: the shipping address needs review"}]
DEFAULT_TRANSIT_DAYS = (7, 12)


def balance(world: World) -> float:
    """What is left in the wallet: the world's `cj_balance` less every order paid from it."""
    return round(world.settings.cj_balance - float(world.state.meta(SPENT, "0") or 0), 2)


def spend(world: World, amount: float) -> None:
    """Pay `amount` from the wallet, or refuse as CJ does when it cannot cover it."""
    if amount > balance(world):
        raise CjError(1604000, "Balance is insufficient")
    world.state.set_meta(SPENT, repr(float(world.state.meta(SPENT, "0") or 0) + amount))


def intercept_reasons(world: World) -> list[dict[str, Any]]:
    return [dict(reason) for reason in INTERCEPT_REASONS] if world.settings.cj_intercept_orders else []


@router.get("/shopping/pay/getBalance")
async def get_balance(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        return {"amount": balance(world), "noWithdrawalAmount": 0.0, "freezeAmount": 0.0}

    return await CJ.serve(request, CjCall(), handle)


@router.post("/shopping/pay/payBalance")
async def pay_balance(request: Request) -> JSONResponse:
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
        rng = world.rng("cj_order_paid", order["orderNum"])
        fast, slow = order["_sim"].get("transit_days") or DEFAULT_TRANSIT_DAYS
        paid_at = world.now() + timedelta(hours=rng.uniform(0.2, 4))
        shipped_at = paid_at + timedelta(days=rng.uniform(1, 3))
        order["_sim"]["paid_at"] = paid_at.isoformat()
        order["_sim"]["shipped_at"] = shipped_at.isoformat()
        order["_sim"]["delivered_at"] = (shipped_at + timedelta(days=rng.uniform(fast, slow))).isoformat()
        world.state.put("cj_order", order["orderId"], order)
        _schedule(world, order)

    return await CJ.serve(request, CjCall(is_write=True), handle)
