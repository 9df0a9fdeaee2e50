"""Control endpoints for the store's customers: place orders on demand, set the organic order rate."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dropship_sandbox.apis.pipeline import world_of
from dropship_sandbox.shop_orders import (
    CHECKOUT_CLOSED,
    listed_products,
    place_order,
    set_organic_multiplier,
)

router = APIRouter(prefix="/_sandbox/orders", tags=["sandbox control"])


@router.post("")
def place(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"pid": CJ pid (default: every listed product in turn), "count": N, "source": "organic"}`."""
    world = world_of(request)
    world.advance()
    with world.lock, world.state:
        pids = [body["pid"]] if body.get("pid") else sorted(listed_products(world))
        if not pids:
            raise HTTPException(409, "no listed product to order")
        placed = []
        for n in range(int(body.get("count", 1))):
            pid = pids[n % len(pids)]
            serial = world.new_id("control_order", 0)
            doc = place_order(
                world, pid, world.now(), body.get("source", "organic"), world.rng("control", serial)
            )
            if doc is None:
                raise HTTPException(404, f"product {pid} is not listed")
            placed.append(
                {
                    "id": f"gid://shopify/Order/{doc['id']}",
                    "name": doc["name"],
                    "defect": doc["_sim"]["defect"],
                }
            )
    return {"orders": placed}


@router.post("/settings")
def settings(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"organic_multiplier": 0}` stops organic orders (tests), 1 is the natural rate;
    `{"checkout_closed": true}` stops every new order, ad-driven ones too, while the clock moves on (the
    soak's settle phase lets weeks pass: refunds, chargebacks and lost parcels happen, no new order)."""
    world = world_of(request)
    answer: dict[str, Any] = {}
    if "organic_multiplier" in body or "checkout_closed" not in body:
        set_organic_multiplier(world, float(body.get("organic_multiplier", 1)))
        answer["organic_multiplier"] = float(body.get("organic_multiplier", 1))
    if "checkout_closed" in body:
        world.advance()  # what was due before the checkout closed still happens
        with world.lock, world.state:
            world.state.set_meta(CHECKOUT_CLOSED, "1" if body["checkout_closed"] else "0")
        answer["checkout_closed"] = bool(body["checkout_closed"])
    return answer
