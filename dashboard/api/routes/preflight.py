"""The preflight button: the readiness checks (dropship_pipelines' preflight, read-only) run now against
whatever this process's environment points at, answered as the table with the fix for each failure."""

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel

from dashboard.api.deps import ACTION

router = APIRouter(prefix="/preflight", tags=["actions"])


class ReadinessRow(BaseModel):
    area: str
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str


class Readiness(BaseModel):
    ready: bool
    failed: int
    rows: list[ReadinessRow]


@router.post("", response_model=Readiness, dependencies=ACTION)
def run_preflight() -> dict:
    # A plain def: FastAPI runs it in a worker thread, the checks' HTTP calls never stall the event loop.
    from dropship_pipelines.assets.readiness.assets import run_checks  # imports the clients: on first use

    rows = [asdict(r) for r in run_checks()]
    failed = sum(r["status"] == "fail" for r in rows)
    return {"ready": failed == 0, "failed": failed, "rows": rows}
