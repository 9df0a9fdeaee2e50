"""Control endpoints for the store's customers: place orders on demand, set the organic order rate."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dropship_sandbox.apis.pipeline import world_of
from dropship_sandbox.shop_orders import listed_products, place_order, set_organic_multiplier

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
    """`{"organic_multiplier": 0}` stops organic orders (tests), 1 is the natural rate."""
    world = world_of(request)
    set_organic_multiplier(world, float(body.get("organic_multiplier", 1)))
    return {"organic_multiplier": float(body.get("organic_multiplier", 1))}
