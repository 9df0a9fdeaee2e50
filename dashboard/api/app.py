"""The operator's dashboard API: read-only JSON per page, a few audited actions, and the web app at `/`.

Every data and action endpoint needs the DASHBOARD_TOKEN (bearer) or a login session (+ CSRF token on
actions). Nothing here returns a secret: tokens, API keys and database URLs never leave the process.
"""

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from dashboard.api import models as m
from dashboard.api import store as db
from dashboard.api.auth import SESSION_COOKIE, Authenticator, Principal, require_action, require_user
from dashboard.api.hooks import ActionConflict
from dashboard.api.runs import DEFAULT_JOBS, DagsterLauncher, RunLauncher, RunLaunchError
from dropship_pipelines.store.fulfillment_tables import store_orders

log = logging.getLogger("dashboard")

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
REFUNDS_NOTE = (
    "refunds are taken from store_orders.refunds"
    if "refunds" in store_orders.c
    else "refunds count as 0: the order ledger has no refunds column yet"
)
NO_SUPPORT = (
    "the customer-service tables (support_tickets, support_replies) are not in this store database yet"
)

# Sends an approved reply to the customer: (reply_key, text) -> a message from the helpdesk.
ReplySender = Callable[[str, str], str]
# Pauses a campaign on its platform: (platform, campaign_id) -> None; raises on failure.
CampaignPauser = Callable[[str, str], None]

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]
Start = Annotated[date | None, Query(description="first day, inclusive (UTC)")]
End = Annotated[date | None, Query(description="last day, inclusive (UTC)")]
Text = Annotated[str | None, Query(max_length=64)]
User = Annotated[Principal, Depends(require_user)]
Actor = Annotated[Principal, Depends(require_action)]


def _store(request: Request) -> db.Store:
    return request.app.state.store


def _check_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start must not be after end")


def _page(rows: list, total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


def build_api(app: FastAPI) -> APIRouter:
    api = APIRouter(prefix="/api")

    @api.get("/health", tags=["session"])
    def health() -> dict[str, str]:
        """Liveness for launchers and probes; says nothing about the store."""
        return {"status": "ok"}

    # --- session ------------------------------------------------------------------------------------
    @api.post("/login", response_model=m.SessionInfo, tags=["session"])
    def login(body: m.LoginRequest, request: Request, response: Response) -> dict:
        auth: Authenticator = request.app.state.auth
        if not auth.token_matches(body.token):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong token")
        session_id, csrf = auth.open_session()
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            httponly=True,
            samesite="strict",
            secure=request.app.state.secure_cookies,
            path="/",
            max_age=12 * 3600,
        )
        return {"authenticated": True, "csrf_token": csrf}

    @api.post("/logout", response_model=m.SessionInfo, tags=["session"])
    def logout(request: Request, response: Response) -> dict:
        request.app.state.auth.close_session(request.cookies.get(SESSION_COOKIE))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return {"authenticated": False, "csrf_token": None}

    @api.get("/session", response_model=m.SessionInfo, tags=["session"])
    def session(request: Request) -> dict:
        principal = request.app.state.auth.principal(request)
        return {
            "authenticated": principal is not None,
            "csrf_token": principal.csrf_token if principal else None,
        }

    # --- metrics ------------------------------------------------------------------------------------
    @api.get("/metrics/kpis", response_model=m.KpiReport, tags=["metrics"])
    def kpis(_: User, request: Request) -> dict:
        with _store(request).connect() as conn:
            return {"periods": db.kpis(conn), "refunds_note": REFUNDS_NOTE}

    @api.get("/metrics/daily", response_model=list[m.DailyPoint], tags=["metrics"])
    def daily(_: User, request: Request, start: Start = None, end: End = None) -> list:
        _check_range(start, end)
        with _store(request).connect() as conn:
            return db.daily(conn, start, end)

    @api.get("/metrics/top-products", response_model=m.Page[m.TopProduct], tags=["metrics"])
    def top_products(_: User, request: Request, limit: Limit = 20, offset: Offset = 0) -> dict:
        with _store(request).connect() as conn:
            return _page(*db.top_products(conn, limit, offset), limit, offset)

    @api.get("/metrics/ad-performance", response_model=m.Page[m.AdPerformance], tags=["metrics"])
    def ad_performance(
        _: User, request: Request, platform: Text = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict:
        with _store(request).connect() as conn:
            return _page(*db.ad_performance(conn, platform, limit, offset), limit, offset)

    # --- products -----------------------------------------------------------------------------------
    @api.get("/products/candidates", response_model=m.Page[m.Candidate], tags=["products"])
    def candidates(
        _: User, request: Request, status: Text = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict:
        with _store(request).connect() as conn:
            return _page(*db.candidates(conn, status, limit, offset), limit, offset)

    @api.get("/products/listings", response_model=m.Page[m.Listing], tags=["products"])
    def listing_rows(
        _: User, request: Request, status: Text = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict:
        with _store(request).connect() as conn:
            return _page(*db.listing_rows(conn, status, limit, offset), limit, offset)

    # --- orders -------------------------------------------------------------------------------------
    @api.get("/orders", response_model=m.Page[m.Order], tags=["orders"])
    def orders(
        _: User,
        request: Request,
        state: Text = None,
        needs_attention: bool | None = None,
        start: Start = None,
        end: End = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict:
        _check_range(start, end)
        with _store(request).connect() as conn:
            return _page(*db.orders(conn, state, needs_attention, start, end, limit, offset), limit, offset)

    # --- ads ----------------------------------------------------------------------------------------
    @api.get("/ads/campaigns", response_model=m.Page[m.Campaign], tags=["ads"])
    def campaigns(
        _: User,
        request: Request,
        platform: Text = None,
        state: Text = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict:
        with _store(request).connect() as conn:
            return _page(*db.campaigns(conn, platform, state, limit, offset), limit, offset)

    @api.get("/ads/daily", tags=["ads"], response_model=list[dict[str, Any]])
    def ad_daily(
        _: User, request: Request, start: Start = None, end: End = None, platform: Text = None
    ) -> list:
        _check_range(start, end)
        with _store(request).connect() as conn:
            return [
                {k: (str(v) if k in ("spend", "revenue") else v) for k, v in row.items()}
                for row in db.ad_daily(conn, start, end, platform)
            ]

    @api.get("/ads/actions", response_model=m.Page[m.AdAction], tags=["ads"])
    def ad_actions(_: User, request: Request, limit: Limit = 50, offset: Offset = 0) -> dict:
        store = _store(request)
        with store.connect() as conn:
            return _page(*db.ad_actions(store, conn, limit, offset), limit, offset)

    @api.post(
        "/ads/campaigns/{platform}/{campaign_id}/pause",
        response_model=m.ActionResult,
        tags=["actions"],
        responses={404: {"description": "no such campaign"}},
    )
    def pause_campaign(
        platform: str, campaign_id: str, body: m.PauseRequest, _: Actor, request: Request
    ) -> dict:
        store = _store(request)
        with store.engine.begin() as conn:
            found = db.campaign(conn, platform, campaign_id)
            if found is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such campaign")
            target = f"{platform}:{campaign_id}"
            pauser: CampaignPauser | None = request.app.state.pause_campaign
            note = "recorded only: the dashboard has no ad platform client, the campaign still runs"
            action_id = db.record_action(
                conn, "pause_campaign", target, {"reason": body.reason}, "recorded", note
            )
        if pauser is None:
            return {"action_id": action_id, "status": "recorded", "message": note}
        try:
            pauser(platform, campaign_id)
        except Exception as exc:  # the platform's error is the operator's information
            log.warning("pausing %s failed: %s", target, exc)
            with store.engine.begin() as conn:
                db.update_action(conn, action_id, "failed", f"the platform refused: {type(exc).__name__}")
            return {"action_id": action_id, "status": "failed", "message": f"the platform refused: {exc}"}
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(db.ad_campaigns)
                .where(db.ad_campaigns.c.platform == platform, db.ad_campaigns.c.campaign_id == campaign_id)
                .values(state="paused")
            )
            db.update_action(conn, action_id, "done", "paused on the platform")
        return {"action_id": action_id, "status": "done", "message": "paused on the platform"}

    # --- support ------------------------------------------------------------------------------------
    @api.get("/support/status", response_model=m.SupportStatus, tags=["support"])
    def support_status(_: User, request: Request) -> dict:
        available = db.support_available(_store(request))
        return {"available": available, "note": "" if available else NO_SUPPORT}

    @api.get("/support/tickets", response_model=m.Page[m.Ticket], tags=["support"])
    def tickets(
        _: User, request: Request, status: Text = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict:
        store = _store(request)
        if not db.support_available(store):
            return _page([], 0, limit, offset)
        with store.connect() as conn:
            return _page(*db.tickets(store, conn, status, limit, offset), limit, offset)

    @api.get("/support/replies", response_model=m.Page[m.Reply], tags=["support"])
    def replies(_: User, request: Request, state: Text = None, limit: Limit = 50, offset: Offset = 0) -> dict:
        store = _store(request)
        if not db.support_available(store):
            return _page([], 0, limit, offset)
        with store.connect() as conn:
            return _page(*db.replies(store, conn, state, limit, offset), limit, offset)

    @api.get("/support/escalations", response_model=m.Page[m.Reply], tags=["support"])
    def escalations(_: User, request: Request, limit: Limit = 50, offset: Offset = 0) -> dict:
        return replies(_, request, "escalated", limit, offset)

    def _escalation(store: db.Store, reply_key: str) -> dict:
        if not db.support_available(store):
            raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUPPORT)
        with store.connect() as conn:
            rows, _ = db.replies(store, conn, None, 1, 0, reply_key=reply_key)
        if not rows:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such reply")
        if rows[0]["state"] not in ("escalated", "approved"):  # approved: a crashed send, retried
            raise HTTPException(status.HTTP_409_CONFLICT, f"the reply is {rows[0]['state']}, not escalated")
        return rows[0]

    @api.post(
        "/support/escalations/{reply_key}/edit",
        response_model=m.ActionResult,
        tags=["actions"],
        responses={404: {"description": "no such reply"}, 409: {"description": "not escalated"}},
    )
    def edit_reply(reply_key: str, body: m.ReplyDecision, _: Actor, request: Request) -> dict:
        """Save an edited reply without sending it."""
        store = _store(request)
        _escalation(store, reply_key)
        if not (body.text or "").strip():
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "an edit needs a text")
        with store.engine.begin() as conn:
            action_id = db.record_action(
                conn, "edit_reply", reply_key, {"text": body.text}, "recorded", "draft saved"
            )
        return {"action_id": action_id, "status": "recorded", "message": "draft saved"}

    @api.post(
        "/support/escalations/{reply_key}/approve",
        response_model=m.ActionResult,
        tags=["actions"],
        responses={404: {"description": "no such reply"}, 409: {"description": "not escalated"}},
    )
    def approve_reply(reply_key: str, body: m.ReplyDecision, _: Actor, request: Request) -> dict:
        """Approve the reply (the AI draft, or the text given) and send it to the customer."""
        store = _store(request)
        found = _escalation(store, reply_key)
        text = (
            (body.text or "").strip()
            or (found["decision_text"] or "").strip()
            or (found["reply_text"] or "").strip()
        )
        if not text:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no draft to approve: send a text")
        if found["decision"] == "approve" and found["decision_status"] in ("done", "recorded"):
            raise HTTPException(status.HTTP_409_CONFLICT, "already approved")
        sender: ReplySender | None = request.app.state.send_reply
        note = "approval recorded; the support workflow has no send function for approved replies yet"
        with store.engine.begin() as conn:
            action_id = db.record_action(conn, "approve_reply", reply_key, {"text": text}, "recorded", note)
        if sender is None:
            return {"action_id": action_id, "status": "recorded", "message": note}
        try:
            sent = sender(reply_key, text)
        except ActionConflict as exc:
            with store.engine.begin() as conn:
                db.update_action(conn, action_id, "failed", str(exc)[:500])
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        except Exception as exc:
            log.warning("sending approved reply %s failed: %s", reply_key, exc)
            with store.engine.begin() as conn:
                db.update_action(conn, action_id, "failed", f"sending failed: {type(exc).__name__}")
            return {"action_id": action_id, "status": "failed", "message": f"sending failed: {exc}"}
        with store.engine.begin() as conn:
            db.update_action(conn, action_id, "done", f"sent ({sent})")
        return {"action_id": action_id, "status": "done", "message": f"sent ({sent})"}

    # --- runs ---------------------------------------------------------------------------------------
    @api.get("/runs/jobs", response_model=m.JobList, tags=["actions"])
    def jobs(_: User, request: Request) -> dict:
        return {"jobs": list(request.app.state.jobs)}

    @api.post(
        "/runs/{job_name}",
        response_model=m.RunLaunched,
        tags=["actions"],
        responses={404: {"description": "unknown job"}, 502: {"description": "Dagster refused or is down"}},
    )
    def launch_run(job_name: str, _: Actor, request: Request) -> dict:
        if job_name not in request.app.state.jobs:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"unknown job; one of {', '.join(request.app.state.jobs)}"
            )
        launcher: RunLauncher = request.app.state.launcher
        try:
            run_id = launcher.launch(job_name)
        except RunLaunchError as exc:
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
        return {"job_name": job_name, "run_id": run_id}

    return api


def _security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


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


def create_app(
    store_url: str,
    token: str,
    *,
    dagster_host: str = "127.0.0.1",
    dagster_port: int = 3000,
    jobs: tuple[str, ...] = DEFAULT_JOBS,
    launcher: RunLauncher | None = None,
    send_reply: ReplySender | None = None,
    pause_campaign: CampaignPauser | None = None,
    web_dist: Path = WEB_DIST,
    secure_cookies: bool = False,
) -> FastAPI:
    """The dashboard for the store database at `store_url`, guarded by `token` (DASHBOARD_TOKEN).

    `send_reply` / `pause_campaign` are the support and ads workflows' functions; without them the
    actions are recorded in `dashboard_actions` and the response says so."""
    app = FastAPI(
        title="Dropship store dashboard",
        version="1.0.0",
        description="Read-only store numbers per page, and audited operator actions.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.auth = Authenticator(token)
    app.state.store = db.Store.open(store_url)
    app.state.jobs = tuple(jobs)
    app.state.launcher = launcher or DagsterLauncher(dagster_host, dagster_port)
    app.state.send_reply = send_reply
    app.state.pause_campaign = pause_campaign
    app.state.secure_cookies = secure_cookies
    _security_headers(app)
    app.include_router(build_api(app))
    _serve_web(app, web_dist)
    return app
