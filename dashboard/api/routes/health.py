"""The header's system-health indicator: the Dagster instance's failing checks and failed or queued runs,
and the API faults the ledger recorded lately (dashboard.api.health)."""

from fastapi import APIRouter

from dashboard.api import models as m
from dashboard.api.deps import DashboardDep
from dashboard.api.health import WINDOW, system_health

router = APIRouter(prefix="/system-health", tags=["health"])


@router.get("", response_model=m.SystemHealth)
def system_health_report(dashboard: DashboardDep) -> dict:
    instance = dashboard.monitor.health(WINDOW) if dashboard.monitor else None
    with dashboard.store.connect() as conn:
        return system_health(conn, instance)
