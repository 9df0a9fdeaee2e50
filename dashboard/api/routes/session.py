"""Logging in and out: the only routes that need no login."""

from fastapi import APIRouter, HTTPException, Request, Response, status

from dashboard.api import models as m
from dashboard.api.auth import SESSION_COOKIE
from dashboard.api.deps import DashboardDep

router = APIRouter(tags=["session"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness for launchers and probes; says nothing about the store."""
    return {"status": "ok"}


@router.post("/login", response_model=m.SessionInfo)
def login(body: m.LoginRequest, dashboard: DashboardDep, response: Response) -> dict:
    if not dashboard.auth.token_matches(body.token):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong token")
    session_id, csrf = dashboard.auth.open_session()
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=dashboard.secure_cookies,
        path="/",
        max_age=dashboard.auth.session_seconds,
    )
    return {"authenticated": True, "csrf_token": csrf}


@router.post("/logout", response_model=m.SessionInfo)
def logout(request: Request, dashboard: DashboardDep, response: Response) -> dict:
    dashboard.auth.close_session(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"authenticated": False, "csrf_token": None}


@router.get("/session", response_model=m.SessionInfo)
def session(request: Request, dashboard: DashboardDep) -> dict:
    principal = dashboard.auth.principal(request)
    return {"authenticated": principal is not None, "csrf_token": principal.csrf_token if principal else None}
