"""Engines for the store database: a SQLite file by default, PostgreSQL by URL; upgraded on first use."""

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.store import (  # noqa: F401  (register every workflow's tables)
    ads_tables,
    analytics_tables,
    catalog_tables,
    dashboard_tables,
    discovery_tables,
    fulfillment_tables,
    order_action_tables,
    order_gate_tables,
    profit_tables,
    refund_tables,
    shadow_ledger,
    support_tables,
    tracking_tables,
    write_mode_tables,
)
from dropship_pipelines.store.migrations import upgrade_schema

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def normalise_url(url: str) -> str:
    """SQLAlchemy 2.1 maps `postgresql://` to psycopg 3; we ship psycopg2 (as dagster-postgres does)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Several runs write at once (schedules overlap): WAL lets readers go on, the busy timeout waits.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine(url: str) -> Engine:
    """One engine per URL per process; the first one upgrades the database (Alembic, store/migrations).

    In shadow mode (DROPSHIP_WRITE_MODE) the engine is the shadow ledger's, whatever path asks for it, so
    no claim shadow mode makes reaches the live store (store/shadow_ledger.py)."""
    return _open(shadow_ledger.for_mode(normalise_url(url), _open))


def live_engine(url: str) -> Engine:
    """The engine of the store at `url` itself, whatever the write mode (the shadow ledger's keeper)."""
    return _open(normalise_url(url))


def forget_engine(url: str) -> None:
    """Close and drop this process's engine of `url` (a database removed under it)."""
    with _lock:
        engine = _engines.pop(normalise_url(url), None)
    if engine is not None:
        engine.dispose()


def _open(url: str) -> Engine:
    url = normalise_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                engine = sa.create_engine(url, connect_args={"timeout": 30})
                sa.event.listen(engine, "connect", _on_sqlite_connect)
            else:
                engine = sa.create_engine(url, pool_pre_ping=True)
            upgrade_schema(engine)
            _engines[url] = engine
        return engine


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Iterable[str],
    update: Iterable[str] | None = None,
) -> None:
    """Insert rows, or update the given columns where the key exists (SQLite and PostgreSQL alike)."""
    if not rows:
        return
    keys = list(keys)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    columns = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    conn.execute(statement, list(rows))
