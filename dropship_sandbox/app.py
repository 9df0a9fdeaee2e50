"""One loopback server for every simulated API, each under its own path prefix.

| prefix      | API                                   | live base URL                                       |
|-------------|---------------------------------------|-----------------------------------------------------|
| /cj         | CJ Dropshipping API 2.0               | https://developers.cjdropshipping.com/api2.0/v1     |
| /shopify    | Shopify Admin GraphQL                 | https://{shop}.myshopify.com                        |
| /openai     | OpenAI-compatible chat completions    | https://api.openai.com/v1                           |
| /meta       | Meta Marketing API (Graph)            | https://graph.facebook.com                          |
| /tiktok     | TikTok API for Business v1.3          | https://business-api.tiktok.com                     |
| /helpdesk   | Helpdesk REST API shaped like Gorgias | https://{domain}.gorgias.com                        |
| /_sandbox   | the sandbox's control API             | (none)                                              |

Every API router runs its requests through the one pipeline in `apis/pipeline.py` (faults, clock, lock,
auth, throttle, handler, lost answers), with a small policy object per API for what differs.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from dropship_sandbox import parcels, supplier_changes, webhooks
from dropship_sandbox.ad_delivery import AdDelivery
from dropship_sandbox.apis import (
    ad_accounts,
    aftermath_control,
    cj,
    cj_cart,
    cj_catalog_v2,
    cj_disputes,
    cj_orders,
    cj_wallet,
    cj_webhooks,
    control,
    helpdesk,
    meta,
    openai,
    orders_control,
    tiktok,
)
from dropship_sandbox.apis.pipeline import ApiError, answer_api_error
from dropship_sandbox.apis.shopify import orders as shopify_orders  # noqa: F401  (registers resolvers)
from dropship_sandbox.apis.shopify import router as shopify
from dropship_sandbox.catalog import ensure_catalog
from dropship_sandbox.order_aftermath import AftermathSimulator
from dropship_sandbox.shop_orders import OrderSimulator
from dropship_sandbox.support_messages import SupportMessages
from dropship_sandbox.world import World, WorldSettings

CJ_PREFIX = "/cj/api2.0/v1"
SHOPIFY_PREFIX = "/shopify"
OPENAI_PREFIX = "/openai"
META_PREFIX = "/meta"
TIKTOK_PREFIX = "/tiktok"
HELPDESK_PREFIX = "/helpdesk"


@asynccontextmanager
async def _webhook_dispatcher(app: FastAPI) -> AsyncIterator[None]:
    """Webhooks are delivered from a thread that lives exactly as long as the server."""
    dispatcher = webhooks.start_dispatcher(app.state.world)
    app.state.webhook_dispatcher = dispatcher
    try:
        yield
    finally:
        dispatcher.stop()


def create_app(world: World) -> FastAPI:
    ensure_catalog(world)
    app = FastAPI(
        title="dropship sandbox",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        lifespan=_webhook_dispatcher,
    )
    app.state.world = world
    app.add_exception_handler(ApiError, answer_api_error)
    app.include_router(control.router)
    app.include_router(control.assets)
    app.include_router(cj.router, prefix=CJ_PREFIX)
    app.include_router(cj_orders.router, prefix=CJ_PREFIX)
    app.include_router(cj_disputes.router, prefix=CJ_PREFIX)
    app.include_router(aftermath_control.router)
    app.include_router(cj_wallet.router, prefix=CJ_PREFIX)
    app.include_router(cj_webhooks.router, prefix=CJ_PREFIX)
    app.include_router(cj_catalog_v2.router, prefix=CJ_PREFIX)
    app.include_router(cj_cart.router, prefix=CJ_PREFIX)
    app.include_router(orders_control.router)
    app.include_router(parcels.control)
    app.include_router(webhooks.router)
    app.include_router(supplier_changes.router)
    app.include_router(shopify.router, prefix=SHOPIFY_PREFIX)
    app.include_router(openai.router, prefix=OPENAI_PREFIX)
    app.include_router(meta.router, prefix=META_PREFIX)
    app.include_router(tiktok.router, prefix=TIKTOK_PREFIX)
    app.include_router(ad_accounts.tiktok_router, prefix=TIKTOK_PREFIX)
    if not any(sim.name == AdDelivery.name for sim in world.simulators):
        world.simulators.append(AdDelivery())
    app.include_router(helpdesk.router, prefix=HELPDESK_PREFIX)
    app.include_router(helpdesk.control)
    app.include_router(cj.fallback, prefix=CJ_PREFIX)  # last: CJ's envelope for any path CJ lacks
    for simulator in (OrderSimulator(), cj_orders.SupplierSimulator()):
        if not any(sim.name == simulator.name for sim in world.simulators):
            world.simulators.append(simulator)
    # After the orders: customers write about orders placed earlier in the same stretch of time.
    if not any(sim.name == SupportMessages.name for sim in world.simulators):
        world.simulators.append(SupportMessages())
    if not any(sim.name == AftermathSimulator.name for sim in world.simulators):
        world.simulators.append(AftermathSimulator())  # cancellations, refunds, chargebacks, CJ failures
    supplier_changes.install(world)  # first: orders in a stretch of time see the supplier's stock
    return app


def open_world(state_path: Path, seed: int | None = None, speed: float | None = None) -> World:
    """Open (or create) the world in `state_path`; a seed or speed given here overrides the stored one."""
    fresh = not state_path.exists()
    settings = WorldSettings(seed=seed if seed is not None else 42) if fresh else None
    world = World(state_path, settings)
    if speed is not None:
        world.set_clock(speed=speed)
    return world
