"""The sandbox's own control API, under a reserved prefix no real API uses: clock, faults, audit counts."""

import time
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dropship_sandbox.apis.pipeline import world_of
from dropship_sandbox.catalog import generate_product
from dropship_sandbox.images import product_image_png
from dropship_sandbox.world import API_NAMES, ApiFaults, LlmBehaviour, WorldSettings

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])
assets = APIRouter(prefix="/assets", tags=["sandbox assets"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    world = world_of(request)
    return {"ok": True, "sim_now": world.now().isoformat(), "seed": world.settings.seed}


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    world = world_of(request)
    return {"sim_now": world.now().isoformat(), "speed": world.settings.speed}


@router.post("/clock")
def set_clock(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"sim_now": ISO}` jumps forward, `{"advance_seconds": N}` moves on, `{"speed": X}` sets the pace."""
    world = world_of(request)
    target = datetime.fromisoformat(body["sim_now"]) if body.get("sim_now") else None
    if body.get("advance_seconds"):
        target = world.now() + timedelta(seconds=float(body["advance_seconds"]))
    world.set_clock(target, body.get("speed"))
    world.advance()
    return get_clock(request)


@router.get("/faults")
def get_faults(request: Request) -> dict[str, Any]:
    return {name: asdict(f) for name, f in world_of(request).settings.faults.items()}


@router.post("/faults/{api}")
def set_faults(api: str, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """Partial update of one API's faults; `{"reset": true}` turns every fault off."""
    if api not in API_NAMES:
        raise HTTPException(404, f"unknown api {api!r}; one of {', '.join(API_NAMES)}")
    allowed = {f.name for f in fields(ApiFaults)}
    unknown = set(body) - allowed - {"reset"}
    if unknown:
        raise HTTPException(422, f"unknown fault settings: {sorted(unknown)}")

    def change(settings: WorldSettings) -> None:
        current = ApiFaults() if body.get("reset") else settings.faults[api]
        settings.faults[api] = ApiFaults(
            **{**asdict(current), **{k: v for k, v in body.items() if k != "reset"}}
        )

    world = world_of(request)
    world.update_settings(change)
    if body.get("expire_tokens"):
        with world.lock, world.state:
            world.state.set_meta(f"tokens_revoked_at:{api}", repr(time.time()))
    return asdict(world.settings.faults[api])


@router.post("/llm")
def set_llm(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    def change(settings: WorldSettings) -> None:
        settings.llm = LlmBehaviour(**{**asdict(settings.llm), **body})

    world_of(request).update_settings(change)
    return asdict(world_of(request).settings.llm)


@router.post("/settings")
def set_settings(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """Plain settings: rate-limit levels, webhook target, ... (not faults or the LLM)."""
    plain = {f.name for f in fields(WorldSettings)} - {"faults", "llm", "seed", "catalog_size"}
    unknown = set(body) - plain
    if unknown:
        raise HTTPException(422, f"unknown settings: {sorted(unknown)}")

    def change(settings: WorldSettings) -> None:
        for key, value in body.items():
            setattr(settings, key, value)

    world_of(request).update_settings(change)
    settings = asdict(world_of(request).settings)
    return {k: settings[k] for k in plain}


@router.get("/audit")
def audit(request: Request) -> dict[str, dict[str, int]]:
    """Every side effect the world received, counted at the source (duplicates show as counts > 1)."""
    world = world_of(request)
    with world.lock, world.state:
        return {kind: world.state.audit_counts(kind) for kind in world.state.audit_kinds()}


@assets.get("/products/{pid}/{number}.png")
def product_image(pid: str, number: int, request: Request) -> Response:
    world = world_of(request)
    product = world.state.get("cj_product", pid)
    if product is None or not 0 <= number < 3:
        raise HTTPException(404, "no such image")
    label = generate_product(world, product["_sim"]["index"])["productNameEn"]
    return Response(
        product_image_png(pid, number, label),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
