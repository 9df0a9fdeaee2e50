"""The operator's dashboard API: read-only JSON per page, a few audited actions, and the web app at `/`.

Every data and action endpoint needs the DASHBOARD_TOKEN (bearer) or a login session (+ CSRF token on
actions). Nothing here returns a secret: tokens, API keys and database URLs never leave the process.
Each page's routes are a module of dashboard/api/routes/; this module assembles them.
"""

import gc
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.api.actions import CampaignPauser, OrderCanceller, ReplySender
from dashboard.api.auth import Authenticator
from dashboard.api.clock import store_zone
from dashboard.api.deps import Dashboard, require_user
from dashboard.api.routes import (
    ads,
    health,
    holds,
    metrics,
    orders,
    preflight,
    products,
    refunds,
    runs,
    session,
    shadow_writes,
    support,
    tracking,
)
from dashboard.api.runs import DEFAULT_JOBS, DagsterLauncher, RunLauncher, RunMonitor
from dashboard.api.store import Store

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
PAGES = (
    metrics,
    products,
    orders,
    holds,
    refunds,
    tracking,
    ads,
    support,
    runs,
    health,
    preflight,
    shadow_writes,
)


def build_api() -> APIRouter:
    """Every page's router under /api: the session routes open, the others behind the login (and each
    action route also behind the CSRF check, `deps.ACTION`)."""
    api = APIRouter(prefix="/api")
    api.include_router(session.router)
    for page in PAGES:
        api.include_router(page.router, dependencies=[Depends(require_user)])
    return api


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
API_HEADERS = ((b"cache-control", b"no-store"),)


class SecurityHeaders:
    """Adds the security headers (and no-store on /api/) to every response a route did not set them on.

    A plain ASGI middleware, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs each
    request through a task group and a memory stream, about a millisecond per request under load."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = SECURITY_HEADERS + (API_HEADERS if scope["path"].startswith("/api/") else ())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _serve_web(app: FastAPI, dist: Path) -> None:
    if not (dist / "index.html").is_file():

        @app.get("/", include_in_schema=False)
        def web_missing() -> JSONResponse:
            return JSONResponse(
                {"detail": "the web app is not built: cd dashboard/web && npm ci && npm run build"}
            )

        return
    app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(dist / "index.html")


def freeze_startup_heap() -> None:
    """Leave what start-up made out of the cyclic collector's full passes, once the app is built.

    A serving process holds some 300k long-lived objects (the workflows' modules bring Dagster in), and a
    full collection walks every one: 100-450 ms on a 2-core box, during which no request is answered, and
    Python starts one whenever enough new objects have survived, so it lands inside some page's p95. After
    `gc.freeze()` the full passes walk only what was made since. Called by the serving entry points
    (`python -m dashboard`, the benchmark's server), not by `create_app`: a test process builds many apps
    and would keep every cycle of garbage it had at each freeze."""
    gc.collect()
    gc.freeze()


def create_app(
    store_url: str,
    token: str,
    *,
    dagster_host: str = "127.0.0.1",
    dagster_port: int = 3000,
    jobs: tuple[str, ...] = DEFAULT_JOBS,
    launcher: RunLauncher | None = None,
    monitor: RunMonitor | None = None,
    send_reply: ReplySender | None = None,
    pause_campaign: CampaignPauser | None = None,
    cancel_order: OrderCanceller | None = None,
    web_dist: Path = WEB_DIST,
    secure_cookies: bool = False,
    media_dir: Path = Path(".data/media"),
    store_timezone: str | None = None,
) -> FastAPI:
    """The dashboard for the store database at `store_url`, guarded by `token` (DASHBOARD_TOKEN).

    `send_reply` / `pause_campaign` / `cancel_order` are the workflows' functions
    (`dashboard.api.actions.reply_sender` / `campaign_pauser` / `order_canceller`); without them the
    actions are recorded in `dashboard_actions` and the response says so. `monitor` follows launched runs
    and reads the instance's health (by default the Dagster launcher itself; a test's launcher comes with
    its own or none)."""
    app = FastAPI(
        title="Dropship store dashboard",
        version="1.0.0",
        description="Read-only store numbers per page, and audited operator actions.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    launcher = launcher or DagsterLauncher(dagster_host, dagster_port)
    if monitor is None and isinstance(launcher, DagsterLauncher):
        monitor = launcher  # the same webserver follows the runs it launched
    app.state.dashboard = Dashboard(
        auth=Authenticator(token),
        store=Store.open(store_url),
        jobs=tuple(jobs),
        launcher=launcher,
        monitor=monitor,
        send_reply=send_reply,
        pause_campaign=pause_campaign,
        cancel_order=cancel_order,
        secure_cookies=secure_cookies,
        media_dir=media_dir,
        store_timezone=store_zone(store_timezone),
    )
    app.add_middleware(SecurityHeaders)
    app.include_router(build_api())
    _serve_web(app, web_dist)
    return app
