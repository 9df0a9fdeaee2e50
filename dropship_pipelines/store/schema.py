"""The store database: one SQLAlchemy `MetaData` for every workflow's tables.

It is the ledger that makes side effects idempotent: unique keys say that a supplier product is listed
once, an order is sent to the supplier once, a customer message is answered once, a product gets one
campaign per platform. Each workflow's tables live in their own module and register on `metadata`
(`store/database.py` imports them all). The database itself is made and changed by the Alembic migrations
in `store/migrations/`; tests/store checks that they produce exactly these tables.
"""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

metadata = sa.MetaData()


class stamp_now(FunctionElement):
    """The database's current time, to the millisecond on SQLite too (its CURRENT_TIMESTAMP keeps whole
    seconds, too coarse to tell whether a change came before or after an analytics run)."""

    type = sa.DateTime(timezone=True)
    inherit_cache = True


@compiles(stamp_now)
def _stamp_now_default(element: stamp_now, compiler: SQLCompiler, **kw: object) -> str:
    return "now()"


@compiles(stamp_now, "sqlite")
def _stamp_now_sqlite(element: stamp_now, compiler: SQLCompiler, **kw: object) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"


MONEY = sa.Numeric(14, 2)


def created_column() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=stamp_now())


def updated_column() -> sa.Column:
    return sa.Column(
        "updated_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=stamp_now(),
        onupdate=stamp_now(),
    )


sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    updated_column(),
)
