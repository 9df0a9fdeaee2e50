"""The Products page: the discovery workflow's candidates (scored, accepted or rejected) and listings."""

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from dashboard.api import models as m
from dashboard.api.cache import Cached
from dashboard.api.deps import Limit, Offset, StoreDep, Text, page_of
from dashboard.api.store import page
from dropship_pipelines.store.discovery_tables import listings, product_candidates

router = APIRouter(prefix="/products", tags=["products"])


CANDIDATES = Cached(m.Page[m.Candidate], ("product_candidates",))
LISTINGS = Cached(m.Page[m.Listing], ("listings",))


def candidate_page(conn: Connection, status: str | None, limit: int, offset: int) -> dict[str, Any]:
    t = product_candidates
    query = sa.select(t) if not status else sa.select(t).where(t.c.status == status)
    order = [t.c.score.desc().nulls_last(), t.c.pid]
    return page_of(*page(conn, query, order, limit, offset), limit, offset)


@router.get("/candidates", response_model=m.Page[m.Candidate])
async def candidates(store: StoreDep, status: Text = None, limit: Limit = 50, offset: Offset = 0) -> Response:
    key = ("candidates", status, limit, offset)
    return await CANDIDATES.respond(store, key, lambda conn: candidate_page(conn, status, limit, offset))


def listing_page(
    conn: Connection, status: str | None, pid: str | None, limit: int, offset: int
) -> dict[str, Any]:
    t = listings
    query = sa.select(t)
    if status:
        query = query.where(t.c.status == status)
    if pid:
        query = query.where(t.c.pid == pid)
    order = [t.c.updated_at.desc(), t.c.pid]
    return page_of(*page(conn, query, order, limit, offset), limit, offset)


@router.get("/listings", response_model=m.Page[m.Listing])
async def listing_rows(
    store: StoreDep, status: Text = None, pid: Text = None, limit: Limit = 50, offset: Offset = 0
) -> Response:
    """Listings, newest first; `pid` narrows them to one product (the target of a product link)."""
    key = ("listings", status, pid, limit, offset)
    return await LISTINGS.respond(store, key, lambda conn: listing_page(conn, status, pid, limit, offset))
