"""CJ's wallet (api-contracts.md §2.9 "Paying"): the balance orders are paid from.

`GET /shopping/pay/getBalance` shows what is left of the world's `cj_balance`. Paying an order from it
(createOrderV2 with payType 2, or payBalance, in `cj_orders`) is refused with `1604000 Balance is
insufficient` when it cannot cover the order, nothing paid; an order CJ held (`interceptOrderReasons`,
the world's `cj_intercept_orders`) is never paid.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import CJ, CjCall, CjError
from dropship_sandbox.world import World

router = APIRouter()
SPENT = "cj_wallet_spent"  # USD paid from the wallet so far
# Why CJ held an order (the world's `cj_intercept_orders`), in the shape createOrderV2 reports it.
INTERCEPT_REASONS = [{"code": 1001, "message": "The order is intercepted: the shipping address needs review"}]


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
