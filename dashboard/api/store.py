"""The store database as the dashboard sees it: the ledger's own tables, and the one table it writes.

Every page reads the pipelines' SQLAlchemy tables (`dropship_pipelines.store.*_tables`) directly. The
dashboard's own table is its action log, `dashboard_actions`: every operator action, and what came of it.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool

from dropship_pipelines.store.dashboard_tables import dashboard_table_versions
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_messages, support_replies, support_tickets

dashboard_metadata = sa.MetaData()

dashboard_actions = sa.Table(
    "dashboard_actions",
    dashboard_metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    # approve_reply | edit_reply | pause_campaign
    sa.Column("kind", sa.String(32), nullable=False, index=True),
    sa.Column("target", sa.String(200), nullable=False, index=True),  # reply key, "platform:campaign", job
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # done | recorded | failed
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

SUPPORT_TABLES = (support_tickets, support_replies, support_messages)
P = ParamSpec("P")
R = TypeVar("R")


_read_engines: dict[str, Engine] = {}
_read_engines_lock = threading.Lock()


def _read_engine(engine: Engine) -> Engine:
    """One pre-ping-less engine per database per process, as `get_engine` keeps one engine: a test
    process builds many apps, and each its own pool would hold connections open."""
    key = engine.url.render_as_string(hide_password=False)
    with _read_engines_lock:
        reads = _read_engines.get(key)
        if reads is None:
            reads = _read_engines[key] = sa.create_engine(engine.url)
        return reads


@dataclass(frozen=True)
class Store:
    engine: Engine
    # A store database made before the customer-service workflow existed may lack its tables: the
    # support pages then say so instead of failing.
    support_available: bool
    # Serialized answers of the read pages (dashboard/api/cache.py): key -> (the version sum of the tables
    # they were read from, the answer). A page checks the sum, one small read, before reusing.
    cache: dict[Any, tuple[int, Any]] = field(default_factory=dict)
    # PostgreSQL: the engine of the kept pages' reads, without the shared engine's pre-ping. A kept page
    # is answered after one small read; the ping doubled its round trips to the server (and its waits
    # for the server's process to be scheduled). A connection found dead is retried once (`read`).
    reads: Engine | None = None

    @classmethod
    def open(cls, url: str) -> "Store":
        engine = get_engine(url)
        dashboard_metadata.create_all(engine, checkfirst=True)
        inspector = sa.inspect(engine)
        reads = _read_engine(engine) if engine.dialect.name == "postgresql" else None
        return cls(engine, all(inspector.has_table(table.name) for table in SUPPORT_TABLES), reads=reads)

    def connect(self) -> Connection:
        return self.engine.connect()

    def read(self, work: Callable[[Connection], R]) -> R:
        """`work` on a connection of the read engine; once more on a fresh one if the server had closed
        the first (a restart: the disconnect invalidates every pooled connection, so one retry does)."""
        if self.reads is None:
            with self.engine.connect() as conn:
                return work(conn)
        try:
            with self.reads.connect() as conn:
                return work(conn)
        except sa.exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
        with self.reads.connect() as conn:
            return work(conn)


async def in_thread(work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a page's blocking database read in the thread pool, from an `async def` route.

    A read route is `async def` and hands its whole read to one thread: a plain `def` route makes
    FastAPI hop to the thread pool for the route and again to validate its response, and each hop waits
    for the GIL behind every other request in flight (8 clients on 2 cores: the hops, not the SQL, set
    the p95). Validation of a 25-row page then runs on the event loop, in pydantic's Rust core."""
    return await run_in_threadpool(work, *args, **kwargs)


def bind_time(conn: Connection, moment: datetime) -> datetime:
    """SQLite keeps naive UTC wall time and compares strings: bind the same form."""
    return moment.replace(tzinfo=None) if conn.dialect.name == "sqlite" else moment


def utc(moment: datetime) -> datetime:
    """A stamp read back as UTC: SQLite returns naive UTC wall time, PostgreSQL the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def page(
    conn: Connection,
    query: sa.Select,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
    count: sa.Select | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of `query` and its row count. `count` is a cheaper `SELECT count(*)` with the same
    result: the base table alone, when the query only adds outer joins to at most one row per key
    (counting the joined query makes the database perform every join for every row)."""
    if count is None:
        count = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = conn.execute(count).scalar_one()
    rows = conn.execute(query.order_by(*order_by).limit(limit).offset(offset)).mappings().all()
    return [dict(r) for r in rows], int(total)


COUNT_BOUND = 10_000  # a count stops here: "10,000+" is what a page needs, and reading 1M rows is not


def bounded_count(conn: Connection, query: sa.Select, bound: int = COUNT_BOUND) -> tuple[int, bool]:
    """(rows of `query`, exact?) reading at most `bound` + 1 of them: past the bound, (bound, False).
    `query` selects as little as it can (a key), so the database reads an index alone."""
    limited = query.order_by(None).limit(bound + 1).subquery()
    found = int(conn.execute(sa.select(sa.func.count()).select_from(limited)).scalar_one())
    return (found, True) if found <= bound else (bound, False)


def count_label(total: int, exact: bool) -> str:
    return f"{total:,}" if exact else f"{total:,}+"


# --- the dashboard's action log ------------------------------------------------------------------------
ACTIONS_VERSION = "dashboard_actions"  # its counter in dashboard_table_versions (the pages that show it)


def bump_version(conn: Connection, name: str) -> None:
    """Count a write the dashboard makes to its own log, in the writer's transaction: the table has no
    trigger (it is the dashboard's, made by `Store.open`), and these two functions are its only writers."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    versions = dashboard_table_versions
    statement = insert(versions).values(name=name, version=1)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[versions.c.name], set_={"version": versions.c.version + 1}
        )
    )


def record_action(conn: Connection, kind: str, target: str, detail: dict, status: str, message: str) -> int:
    result = conn.execute(
        dashboard_actions.insert().values(
            kind=kind,
            target=target,
            detail=detail,
            status=status,
            message=message,
            created_at=datetime.now(UTC),
        )
    )
    bump_version(conn, ACTIONS_VERSION)
    return int(result.inserted_primary_key[0])


def update_action(conn: Connection, action_id: int, status: str, message: str) -> None:
    conn.execute(
        dashboard_actions.update()
        .where(dashboard_actions.c.action_id == action_id)
        .values(status=status, message=message)
    )
    bump_version(conn, ACTIONS_VERSION)
