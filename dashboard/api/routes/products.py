"""The Products page: the discovery workflow's candidates (scored, accepted or rejected) and listings."""

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter

from dashboard.api import models as m
from dashboard.api.deps import Limit, Offset, StoreDep, Text, page_of
from dashboard.api.store import Store, in_thread, page
from dropship_pipelines.store.discovery_tables import listings, product_candidates

router = APIRouter(prefix="/products", tags=["products"])


def _candidates(store: Store, status: str | None, limit: int, offset: int) -> dict[str, Any]:
    t = product_candidates
    query = sa.select(t) if not status else sa.select(t).where(t.c.status == status)
    order = [t.c.score.desc().nulls_last(), t.c.pid]
    with store.connect() as conn:
        return page_of(*page(conn, query, order, limit, offset), limit, offset)


@router.get("/candidates", response_model=m.Page[m.Candidate])
async def candidates(store: StoreDep, status: Text = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    return await in_thread(_candidates, store, status, limit, offset)


def _listings(store: Store, status: str | None, pid: str | None, limit: int, offset: int) -> dict[str, Any]:
    t = listings
    query = sa.select(t)
    if status:
        query = query.where(t.c.status == status)
    if pid:
        query = query.where(t.c.pid == pid)
    order = [t.c.updated_at.desc(), t.c.pid]
    with store.connect() as conn:
        return page_of(*page(conn, query, order, limit, offset), limit, offset)


@router.get("/listings", response_model=m.Page[m.Listing])
async def listing_rows(
    store: StoreDep, status: Text = None, pid: Text = None, limit: Limit = 50, offset: Offset = 0
) -> dict:
    """Listings, newest first; `pid` narrows them to one product (the target of a product link)."""
    return await in_thread(_listings, store, status, pid, limit, offset)
