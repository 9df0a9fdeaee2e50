"""What every page's routes share: the dashboard's parts, who is asking, and the common query parameters."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Query, Request, status

from dashboard.api.actions import CampaignPauser, OrderCanceller, ReplySender
from dashboard.api.auth import CSRF_HEADER, Authenticator, Principal
from dashboard.api.runs import RunLauncher, RunMonitor
from dashboard.api.store import Store


@dataclass(frozen=True)
class Dashboard:
    """One dashboard app's parts, built once by `create_app` and kept in `app.state.dashboard`."""

    auth: Authenticator
    store: Store
    jobs: tuple[str, ...]
    launcher: RunLauncher
    # Follows launched runs and reads the instance's health; None when the launcher given cannot.
    monitor: RunMonitor | None
    # The workflows' own functions behind the actions (dashboard.api.actions); without one, the action is
    # only recorded in `dashboard_actions` and the response says so.
    send_reply: ReplySender | None
    pause_campaign: CampaignPauser | None
    cancel_order: OrderCanceller | None
    secure_cookies: bool
    # DROPSHIP_MEDIA_DIR: the rendered ad videos; the only directory a file is ever served from.
    media_dir: Path
    # STORE_TIMEZONE: the store's day ("Today"), dashboard.api.clock.
    store_timezone: ZoneInfo


# The dependencies are `async def` though they await nothing: FastAPI runs a plain `def` dependency in its
# thread pool, a hop per dependency per request, which under 8 concurrent clients cost more than the
# dependency itself. Each of these only reads memory (no I/O), so running on the event loop is safe.
async def dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


async def store(request: Request) -> Store:
    return request.app.state.dashboard.store


async def require_user(request: Request) -> Principal:
    principal = request.app.state.dashboard.auth.principal(request)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in, or send Authorization: Bearer <DASHBOARD_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


async def require_action(
    request: Request, principal: Annotated[Principal, Depends(require_user)]
) -> Principal:
    """An authenticated user, and for a cookie session a matching CSRF token."""
    if not principal.may_act(request.headers.get(CSRF_HEADER, "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing or wrong {CSRF_HEADER} header")
    return principal


DashboardDep = Annotated[Dashboard, Depends(dashboard)]
StoreDep = Annotated[Store, Depends(store)]
# Every action route declares this; reading is guarded once per router (build_api).
ACTION = [Depends(require_action)]

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]
Start = Annotated[date | None, Query(description="first day, inclusive (UTC)")]
End = Annotated[date | None, Query(description="last day, inclusive (UTC)")]
Text = Annotated[str | None, Query(max_length=64)]


def check_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start must not be after end")


def page_of(rows: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": rows, "total": total, "limit": limit, "offset": offset}
