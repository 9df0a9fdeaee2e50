"""The store database as a Dagster resource."""

import dagster as dg
from sqlalchemy.engine import Engine

from dropship_pipelines.resources.write_gate import note_run
from dropship_pipelines.store.database import get_engine


class StoreDatabase(dg.ConfigurableResource):
    """SQL database holding the catalog, the ledgers of every side effect and the analytics tables.

    `url` is a SQLAlchemy URL: `sqlite:///.data/store.db` (default) or `postgresql+psycopg2://...`.
    The first `engine()` of a process upgrades the database to the newest migration.
    """

    url: str = "sqlite:///.data/store.db"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every workflow's run sets this resource up: shadow mode's records name the run (write_gate).
        note_run(context.run.run_id if context.run else None)

    def engine(self) -> Engine:
        return get_engine(self.url)
