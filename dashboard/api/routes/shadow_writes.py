"""Shadow mode's ledger: the writes the workflows would have made (DROPSHIP_WRITE_MODE=shadow), newest
first, so an operator can watch a day of decisions before switching to live. They are read from the
shadow ledger (store/shadow_ledger.py) whatever this dashboard's own mode, so they stay visible after the
switch; a store without one shows its own table."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dashboard.api.deps import DashboardDep, Limit
from dropship_pipelines.resources.write_gate import write_mode
from dropship_pipelines.store.shadow_ledger import existing_shadow_ledger
from dropship_pipelines.store.write_mode_queries import shadow_write_counts, shadow_write_rows

router = APIRouter(prefix="/shadow-writes", tags=["shadow mode"])


class ShadowWrite(BaseModel):
    seq: int
    service: str
    operation: str
    summary: Any  # the payload, secrets and personal data cut
    run_id: str | None
    created_at: datetime


class OperationCount(BaseModel):
    service: str
    operation: str
    count: int


class ShadowWrites(BaseModel):
    mode: str  # this dashboard's DROPSHIP_WRITE_MODE (the workflows' is theirs)
    items: list[ShadowWrite]
    counts: list[OperationCount]
    next_before: int | None


@router.get("", response_model=ShadowWrites)
def shadow_writes(
    dashboard: DashboardDep,
    limit: Limit = 100,
    service: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> dict:
    ledger = existing_shadow_ledger(dashboard.store.engine) or dashboard.store.engine
    with ledger.connect() as conn:
        rows = shadow_write_rows(conn, limit=limit, service=service, before_seq=before)
        counts = shadow_write_counts(conn)
    try:
        mode = write_mode()
    except ValueError:
        mode = "invalid"
    return {
        "mode": mode,
        "items": rows,
        "counts": [
            {"service": s, "operation": o, "count": n}
            for (s, o), n in sorted(counts.items(), key=lambda kv: -kv[1])
        ],
        "next_before": rows[-1]["seq"] if len(rows) == limit else None,
    }
