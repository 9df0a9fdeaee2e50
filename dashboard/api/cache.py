"""Read pages answered from their serialized JSON while the tables they are read from are unchanged.

The database counts every write to each table a page reads (`dashboard_table_versions`, bumped by
triggers: migrations 0014 and 0016; `dashboard_actions`, the dashboard's own log, by its only writers,
`store.record_action` / `store.update_action`). A page's answer is kept with the sum of its tables'
counters; a request reads that sum (one small indexed read) and, while it is the same, answers with the
kept bytes: no page query, no validation, no serialization. The counters are read before the page, so a
write that lands between the two makes the next request read again (an answer may be kept under an
older sum, never under a newer one).

On PostgreSQL a table's counter is split in shards per writing backend (`<table>#<n>`, 0016), so two
writers of one table do not wait on one row; the reader sums them all.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from fastapi import Response
from pydantic import TypeAdapter
from sqlalchemy.engine import Connection

from dashboard.api.store import Store, in_thread
from dropship_pipelines.store.dashboard_tables import dashboard_table_versions

VERSIONS = dashboard_table_versions.c
SHARDS = 8  # PostgreSQL's counter shards per table (migration 0016: pg_backend_pid() % 8)
KEPT_ANSWERS = 512  # distinct pages kept; past that the cache starts over (a page is a few kB)

# The tables each page is read from. `daily` is analytics_daily_profit and analytics_daily_sales (0014).
ORDERS = ("store_orders", "supplier_orders", "fulfillments")


def version_names(tables: Sequence[str]) -> tuple[str, ...]:
    """Every counter row a table's writes may bump: SQLite's one, PostgreSQL's shards."""
    return tuple(name for table in tables for name in (table, *(f"{table}#{n}" for n in range(SHARDS))))


_sums: dict[tuple[str, ...], sa.Select] = {}


def versions_sum(conn: Connection, tables: tuple[str, ...]) -> int:
    """The sum of the counters of `tables`: every counter only grows, so the sum changes with any write."""
    query = _sums.get(tables)
    if query is None:
        query = sa.select(sa.func.coalesce(sa.func.sum(VERSIONS.version), 0)).where(
            VERSIONS.name.in_(version_names(tables))
        )
        _sums[tables] = query
    return int(conn.execute(query).scalar_one())


class Cached:
    """A page's answer kept per key: its body and the headers the route sets, with the version sum of the
    tables it was read from."""

    def __init__(self, response_model: Any, tables: tuple[str, ...]) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(response_model)
        self.tables = tables

    def serialize(self, value: Any) -> bytes:
        # What FastAPI does with a route's return value and its response_model: validate, then dump as
        # JSON by alias.
        return self.adapter.dump_json(self.adapter.validate_python(value), by_alias=True)

    def answer(
        self,
        store: Store,
        key: tuple[Any, ...],
        read: Callable[[Connection], tuple[Any, dict[str, str]]],
    ) -> tuple[bytes, dict[str, str]]:
        """The page's (body, headers): kept, or `read` on the same connection and kept."""

        def kept_or_read(conn: Connection) -> tuple[int, tuple[bytes, dict[str, str]], bool]:
            version = versions_sum(conn, self.tables)
            kept = store.cache.get(key)
            if kept is not None and kept[0] == version:
                return version, kept[1], True
            value, headers = read(conn)
            return version, (self.serialize(value), headers), False

        version, answer, was_kept = store.read(kept_or_read)
        if was_kept:
            return answer
        if len(store.cache) >= KEPT_ANSWERS:
            store.cache.clear()
        store.cache[key] = (version, answer)
        return answer

    async def respond(
        self,
        store: Store,
        key: tuple[Any, ...],
        read: Callable[[Connection], Any],
    ) -> Response:
        """The JSON response of a page whose read takes a connection and returns the route's value."""
        body, headers = await in_thread(self.answer, store, key, lambda conn: (read(conn), {}))
        return Response(body, media_type="application/json", headers=headers)
