"""Alembic migrations of the store database, applied by the pipelines when they first open it (`get_engine`).

- `versions/`: one file per schema change, in order. 0001 is the baseline: the schema as the last release
  before Alembic created it.
- `env.py`: the Alembic environment. `upgrade_schema` hands it a connection; the `alembic` command line
  (alembic.ini at the repository root) opens `STORE_DATABASE_URL` itself.

To change the schema: edit the tables in `store/*_tables.py`, then, against a database at head,
`uv run alembic revision --autogenerate --rev-id 0003 -m "what changed"`; read the file it writes (batch
operations are rendered, as SQLite needs them), and run tests/store, which upgrade SQLite and PostgreSQL
from empty and compare the result with the tables.

A database made before Alembic (our tables, no `alembic_version`) first gets what that release's
run-time upgrade would have added (missing tables, nullable or defaulted columns, indexes), is stamped at
the baseline, then upgraded like any other.

Every process that opens the database runs `upgrade_schema`. Whoever finds it behind takes a lock for the
whole upgrade — on PostgreSQL a transaction-level advisory lock, on SQLite the database's write lock
(`BEGIN IMMEDIATE`) — and upgrades inside that one transaction (both have transactional DDL), so a second
process waits, then finds the database at head and changes nothing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import SchemaItem

# Alembic is imported where it is used: a process that finds the database at head (every run, every
# `dagster job execute`) never needs it, and importing it was ~0.3 CPU-s of each run's start-up.
if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).parent
BASELINE = "0001"
# Key of the PostgreSQL advisory lock that serialises upgrades: any constant every process agrees on.
ADVISORY_LOCK_KEY = 7_317_001


class SchemaBuilder(Protocol):
    """What the baseline migration calls: Alembic's `op`, or `_TableCollector` to build tables in memory."""

    def create_table(self, table_name: str, *columns: SchemaItem, **kw: Any) -> Any: ...

    def create_index(
        self, index_name: str, table_name: str, columns: Sequence[str], *, unique: bool = False, **kw: Any
    ) -> Any: ...


class _TableCollector:
    """A SchemaBuilder that builds SQLAlchemy tables and indexes instead of running DDL."""

    def __init__(self) -> None:
        self.metadata = sa.MetaData()

    def create_table(self, table_name: str, *columns: SchemaItem, **kw: Any) -> sa.Table:
        return sa.Table(table_name, self.metadata, *columns, **kw)

    def create_index(
        self, index_name: str, table_name: str, columns: Sequence[str], *, unique: bool = False, **kw: Any
    ) -> sa.Index:
        table = self.metadata.tables[table_name]
        return sa.Index(index_name, *(table.c[name] for name in columns), unique=unique, **kw)


def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|[\"']([^\"']+)[\"'])", re.M)


def head_from_files() -> str | None:
    """The head revision read from the version files' text, without Alembic: the one revision no file
    names as its down_revision. None when that is not one plain linear chain (then Alembic decides)."""
    revisions, downs = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1):
            downs.add(down.group(1))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 and downs <= revisions else None


def _stored_revision(engine: Engine) -> str | None:
    """`alembic_version` read with plain SQL; None when there is no such table or no single row."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def baseline_metadata() -> sa.MetaData:
    """The baseline's tables and indexes (revision 0001) as SQLAlchemy objects; nothing is executed."""
    collector = _TableCollector()
    _script().get_revision(BASELINE).module.create_baseline(collector)
    return collector.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: the pipelines need no alembic.ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection  # env.py migrates on it, inside our transaction
    return config


def current_revision(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine) -> None:
    """Bring the store database to the newest revision; a read and nothing more when it is there."""
    head = head_from_files()
    if head is not None and _stored_revision(engine) == head:
        return  # at head, known without Alembic
    from alembic import command

    head = _script().get_current_head()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return
    with _upgrade_transaction(engine) as conn:
        config = alembic_config(conn)
        if _made_before_alembic(conn):
            _complete_baseline(conn)
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")


@contextlib.contextmanager
def _upgrade_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole upgrade, begun holding the lock that keeps other processes out."""
    if engine.dialect.name == "sqlite":
        # The driver opens transactions only before DML, so DDL would commit statement by statement and
        # two processes could interleave: begin by hand, taking the write lock first.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.connection.driver_connection.in_transaction:  # SQLite may have rolled back already
                    conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        yield conn


def _made_before_alembic(conn: Connection) -> bool:
    tables = set(sa.inspect(conn).get_table_names())
    return "alembic_version" not in tables and bool(tables & set(baseline_metadata().tables))


def _complete_baseline(conn: Connection) -> None:
    """What the run-time upgrade of the releases before Alembic did at every start, against the baseline:
    create missing tables, add missing columns (nullable or defaulted) and missing indexes. A database
    that release had opened lacks nothing; an older one may."""
    baseline = baseline_metadata()
    baseline.create_all(conn, checkfirst=True)
    inspector = sa.inspect(conn)
    for table in baseline.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                _add_column(conn, table, column)
        indexed = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:
                index.create(conn)


def _add_column(conn: Connection, table: sa.Table, column: sa.Column) -> None:
    if not column.nullable and column.server_default is None:
        raise RuntimeError(
            f"store table {table.name} lacks column {column.name}, which has no default: migrate it by hand"
        )
    default = column.server_default.arg if isinstance(column.server_default, sa.DefaultClause) else None
    added = sa.Column(column.name, column.type, nullable=column.nullable, server_default=default)
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    Operations(MigrationContext.configure(conn)).add_column(table.name, added)
