"""Run a workflow now (the "Run" button of each page): the jobs the dashboard may launch, a launch, and
the launched run's status (the page polls it and reloads its data when the run has finished)."""

from fastapi import APIRouter, HTTPException, status

from dashboard.api import models as m
from dashboard.api.deps import ACTION, DashboardDep
from dashboard.api.runs import FINISHED_STATUSES, RunLaunchError

router = APIRouter(prefix="/runs", tags=["actions"])


@router.get("/jobs", response_model=m.JobList)
async def jobs(dashboard: DashboardDep) -> dict:
    return {"jobs": list(dashboard.jobs)}


@router.post(
    "/{job_name}",
    response_model=m.RunLaunched,
    dependencies=ACTION,
    responses={404: {"description": "unknown job"}, 502: {"description": "Dagster refused or is down"}},
)
def launch_run(job_name: str, dashboard: DashboardDep) -> dict:
    if job_name not in dashboard.jobs:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown job; one of {', '.join(dashboard.jobs)}")
    try:
        run_id = dashboard.launcher.launch(job_name)
    except RunLaunchError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    return {"job_name": job_name, "run_id": run_id}


@router.get(
    "/{run_id}/status",
    response_model=m.RunStatus,
    responses={404: {"description": "unknown run"}, 502: {"description": "Dagster is down"}},
)
def run_status(run_id: str, dashboard: DashboardDep) -> dict:
    if dashboard.monitor is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this dashboard follows no Dagster instance")
    try:
        state = dashboard.monitor.run_status(run_id)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except RunLaunchError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    return {"run_id": run_id, "status": state, "finished": state in FINISHED_STATUSES}
