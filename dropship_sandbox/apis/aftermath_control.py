"""Control endpoints for what happens after checkout (dropship_sandbox/order_aftermath.py): make an event
happen now (tests), and read the ground truth the soak audits."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dropship_sandbox import order_aftermath as aftermath
from dropship_sandbox.apis.cj_orders import find_order
from dropship_sandbox.apis.pipeline import world_of

router = APIRouter(prefix="/_sandbox/aftermath", tags=["sandbox control"])
STORE_EVENTS = {"cancel", "refund", "chargeback"}
SUPPLIER_EVENTS = {"supplier_cancel", "stockout"}


@router.get("/truth")
def truth(request: Request) -> dict[str, Any]:
    """Ground truth: events that happened, supplier orders paid after the store's cancellation."""
    world = world_of(request)
    with world.lock, world.state:
        return aftermath.ground_truth(world)


@router.post("/rates")
def rates(request: Request, body: dict[str, Any]) -> dict[str, float]:
    """`{"realistic": true}` or any of the rates by name (`customer_cancel_rate`, ...)."""
    wanted = dict(aftermath.REALISTIC_RATES) if body.pop("realistic", False) else {}
    unknown = set(body) - set(aftermath.REALISTIC_RATES)
    if unknown:
        raise HTTPException(422, f"unknown rates: {sorted(unknown)}")
    for name, value in body.items():
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise HTTPException(422, f"{name} must be a share between 0 and 1")
        wanted[name] = float(value)

    def change(settings: Any) -> None:
        for name, value in wanted.items():
            setattr(settings, name, value)

    world_of(request).update_settings(change)
    return {name: getattr(world_of(request).settings, name) for name in aftermath.REALISTIC_RATES}


# Last: the path parameter would take /rates too.
@router.post("/{event}")
def happen(event: str, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`cancel` / `refund` (`share` 0-1) / `chargeback` of `{"order": "gid://shopify/Order/N"}`;
    `supplier_cancel` / `stockout` of `{"orderNumber": "shopify-1001"}` (or a CJ orderId)."""
    world = world_of(request)
    world.advance()
    with world.lock, world.state:
        if event in STORE_EVENTS:
            number = str(body.get("order") or "").rsplit("/", 1)[-1]
            doc = world.state.get("shopify_order", number) if number else None
            if doc is None:
                raise HTTPException(404, f"no store order {body.get('order')!r}")
            if event == "cancel":
                done: Any = aftermath.customer_cancels(world, doc)
            elif event == "refund":
                share = body.get("share")
                done = aftermath.staff_refunds(world, doc, float(share) if share is not None else None)
            else:
                done = aftermath.charge_back(world, doc)
            return {"event": event, "happened": bool(done)}
        if event in SUPPLIER_EVENTS:
            order = find_order(world, str(body.get("orderNumber") or body.get("orderId") or ""))
            if order is None:
                raise HTTPException(404, f"no supplier order {body.get('orderNumber')!r}")
            happened = (
                aftermath.supplier_cancels if event == "supplier_cancel" else aftermath.stock_runs_out
            )(world, order)
            return {"event": event, "happened": happened}
    raise HTTPException(404, f"unknown event {event!r}: one of {sorted(STORE_EVENTS | SUPPLIER_EVENTS)}")
