"""The Alembic environment of the store database.

The pipelines run it through `upgrade_schema` (migrations/__init__.py), which passes a connection already
inside the upgrade's transaction and lock. The `alembic` command line (alembic.ini at the repository root)
runs it on `STORE_DATABASE_URL`: to write a revision (`alembic revision --autogenerate`) or to look
(`alembic current`, `alembic history`); the pipelines upgrade the database themselves at start.
"""

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from dropship_pipelines.alerts import incidents  # noqa: F401  (its table is in the store database too)
from dropship_pipelines.settings import store_database_url
from dropship_pipelines.store.database import normalise_url
from dropship_pipelines.store.schema import metadata

OPTIONS = {"target_metadata": metadata, "render_as_batch": True, "compare_type": True}


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    # Batch operations rebuild SQLite tables from their live definition, and 0002 reads the live constraints.
    raise SystemExit("alembic --sql is not supported here: the migrations read the live database")
if (given := context.config.attributes.get("connection")) is not None:
    run_on(given)
else:
    engine = sa.create_engine(normalise_url(store_database_url()))
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()
