"""The store database's Alembic migrations on SQLite and PostgreSQL: from empty to head, the tables they make
equal to the SQLAlchemy tables; a database made before Alembic upgraded in place with its rows; a second
upgrade changes nothing; processes starting together upgrade once."""

import multiprocessing
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

import dropship_pipelines.alerts.incidents  # noqa: F401  (its table is in the store database too)
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders
from dropship_pipelines.store.migrations import (
    MIGRATIONS_DIR,
    baseline_metadata,
    current_revision,
    upgrade_schema,
)
from dropship_pipelines.store.schema import metadata
from dropship_testkit.databases import BACKENDS, dispose_engines, store_url_for

HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def differences(engine: Engine) -> list:
    # SQLite hands back a '' default as "''", which Alembic reports as changed: defaults compared on PG only.
    opts = {"compare_type": True, "compare_server_default": engine.dialect.name == "postgresql"}
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def schema_of(engine: Engine) -> dict[str, tuple]:
    """Every table's columns and indexes as plain text, to compare two moments of one database."""
    inspector = sa.inspect(engine)
    return {
        name: (
            [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in inspector.get_columns(name)],
            sorted(_index_text(i) for i in inspector.get_indexes(name)),
        )
        for name in inspector.get_table_names()
    }


def _index_text(index: dict) -> str:
    options = {key: str(value) for key, value in index.get("dialect_options", {}).items()}  # partial: WHERE
    return f"{index['name']} {index['column_names']} unique={bool(index['unique'])} {options}"


def insert_old_orders(engine: Engine) -> None:
    """One order and its supplier order, as the last release before Alembic wrote them."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO store_orders (order_id, name, placed_at, store_updated_at, financial_status,"
                " fulfillment_status, currency, total_price, state) VALUES ('O1', '#1', '2026-11-01',"
                " '2026-11-01', 'PAID', 'UNFULFILLED', 'USD', 10, 'sent')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO supplier_orders (order_number, order_id, cj_order_id, state)"
                " VALUES ('N1', 'O1', 'CJ-1', 'created')"
            )
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_empty_makes_exactly_the_tables(backend: str, tmp_path: Path) -> None:
    with store_url_for(backend, tmp_path) as url:
        engine = get_engine(url)
        assert revision(engine) == HEAD
        assert differences(engine) == []
        inspector = sa.inspect(engine)
        uniques = [c["column_names"] for c in inspector.get_unique_constraints("supplier_orders")]
        assert ["supplier_order_id"] in uniques
        # SQLite rebuilt supplier_orders for the rename: its partial index keeps its WHERE.
        indexes = {i["name"]: i for i in inspector.get_indexes("supplier_orders")}
        assert indexes["ix_supplier_orders_trouble"]["dialect_options"][f"{backend}_where"] is not None


@pytest.mark.parametrize("backend", BACKENDS)
def test_database_made_before_alembic_is_upgraded_in_place(backend: str, tmp_path: Path) -> None:
    with store_url_for(backend, tmp_path) as url:
        old = sa.create_engine(url)
        baseline_metadata().create_all(old)
        insert_old_orders(old)
        old.dispose()

        engine = get_engine(url)

        assert revision(engine) == HEAD
        assert differences(engine) == []
        with engine.connect() as conn:
            row = conn.execute(sa.select(supplier_orders.c.order_id, supplier_orders.c.supplier_order_id))
        assert [tuple(r) for r in row] == [("O1", "CJ-1")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_older_database_gains_what_the_runtime_upgrade_added(backend: str, tmp_path: Path) -> None:
    with store_url_for(backend, tmp_path) as url:
        old = sa.create_engine(url)
        baseline_metadata().create_all(old)
        with old.begin() as conn:
            # What a release older than the baseline had: no `source` column, no (state, placed_at) index.
            conn.execute(sa.text("DROP INDEX ix_store_orders_state_placed_at"))
            conn.execute(sa.text("ALTER TABLE store_orders DROP COLUMN source"))
        insert_old_orders(old)
        old.dispose()

        engine = get_engine(url)

        assert differences(engine) == []
        with engine.connect() as conn:
            row = conn.execute(sa.select(store_orders.c.order_id, store_orders.c.source)).one()
        assert tuple(row) == ("O1", "organic")  # kept, and the new column took its default


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_upgrade_changes_nothing(backend: str, tmp_path: Path) -> None:
    with store_url_for(backend, tmp_path) as url:
        engine = get_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(store_orders).values(
                    order_id="O1",
                    name="#1",
                    placed_at=NOW,
                    store_updated_at=NOW,
                    financial_status="PAID",
                    fulfillment_status="UNFULFILLED",
                    total_price=5,
                    state="new",
                )
            )
        before = schema_of(engine)

        upgrade_schema(engine)
        dispose_engines(url)
        again = get_engine(url)

        assert revision(again) == HEAD
        assert schema_of(again) == before
        with again.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(store_orders)).scalar_one() == 1


def _open_store(url: str, start: Barrier) -> None:
    start.wait(timeout=60)
    get_engine(url)


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_starting_together_upgrade_once(backend: str, tmp_path: Path) -> None:
    """Each process upgrades at start, as the daemon's run workers do: one upgrades, the others wait on its
    lock and find the database at head."""
    workers = 4
    spawn = multiprocessing.get_context("spawn")
    with store_url_for(backend, tmp_path) as url:
        start = spawn.Barrier(workers)
        processes = [spawn.Process(target=_open_store, args=(url, start)) for _ in range(workers)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        assert [p.exitcode for p in processes] == [0] * workers

        engine = get_engine(url)
        assert revision(engine) == HEAD
        assert differences(engine) == []
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
