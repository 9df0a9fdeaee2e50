"""The read pages answered from their kept JSON (dashboard/api/cache.py) are read again after any write to
a table they are made of, whoever writes it: the database counts every insert, update and delete of
those tables (migration 0016's triggers), and the dashboard counts its own action log."""

import importlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dashboard.api.cache import versions_sum
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.schema import metadata
from tests.dashboard.seed import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}
VERSIONED = importlib.import_module(
    "dropship_pipelines.store.migrations.versions.0016_dashboard_speed_2"
).VERSIONED


class NoLauncher:
    def launch(self, job_name: str) -> str:
        return "run-1"


@pytest.fixture
def client(seeded_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(seeded_url, TOKEN, launcher=NoLauncher())) as test_client:
        yield test_client


def made_up_row(table: sa.Table) -> dict[str, Any]:
    """A value of its type for every column that needs one."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.nullable or column.server_default is not None or column.autoincrement is True:
            continue
        kind = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        values[column.name] = {
            str: "x",
            int: 1,
            float: 1.0,
            Decimal: Decimal("1.00"),
            bool: False,
            datetime: datetime(2026, 11, 1, tzinfo=UTC),
            date: date(2026, 11, 1),
            dict: {},
        }[kind]
    return values


@pytest.mark.parametrize("name", VERSIONED)
def test_every_write_to_a_versioned_table_moves_its_counter(seeded_url: str, name: str) -> None:
    """An update, a delete and an insert each move the table's counter (rolled back: the store is
    shared by the module)."""
    table = metadata.tables[name]
    key = next(iter(table.primary_key.columns))
    with get_engine(seeded_url).connect() as conn, conn.begin() as transaction:
        rows = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
        seen = [versions_sum(conn, (name,))]
        if not rows:  # none in the seed: one made up, so that the update and the delete have a row
            conn.execute(sa.insert(table), [made_up_row(table)])
            seen.append(versions_sum(conn, (name,)))
            rows = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
        conn.execute(sa.update(table).values({key.name: key}))
        seen.append(versions_sum(conn, (name,)))
        conn.execute(sa.delete(table))
        seen.append(versions_sum(conn, (name,)))
        conn.execute(sa.insert(table), rows)
        seen.append(versions_sum(conn, (name,)))
        transaction.rollback()
    assert seen == sorted(set(seen)), f"{name}: {seen}"


def test_a_kept_page_is_read_again_after_a_write_to_the_tables_it_shows(
    client: TestClient, seeded_url: str
) -> None:
    engine = get_engine(seeded_url)
    orders = client.get("/api/orders?limit=50", headers=BEARER).json()["items"]
    assert client.get("/api/orders?limit=50", headers=BEARER).json()["items"] == orders  # kept
    order = orders[0]
    with engine.begin() as conn:  # the order itself, then its supplier order
        conn.execute(
            sa.text("UPDATE store_orders SET customer_name = 'Renamed' WHERE order_id = :id"),
            {"id": order["order_id"]},
        )
    again = {o["order_id"]: o for o in client.get("/api/orders?limit=50", headers=BEARER).json()["items"]}
    assert again[order["order_id"]]["customer_name"] == "Renamed"
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE supplier_orders SET supplier_status = 'CHECKED' WHERE order_id = :id"),
            {"id": order["order_id"]},
        )
        had_supplier_order = conn.execute(
            sa.text("SELECT count(*) FROM supplier_orders WHERE order_id = :id"), {"id": order["order_id"]}
        ).scalar_one()
    again = {o["order_id"]: o for o in client.get("/api/orders?limit=50", headers=BEARER).json()["items"]}
    if had_supplier_order:
        assert again[order["order_id"]]["supplier_status"] == "CHECKED"
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE store_orders SET customer_name = :name WHERE order_id = :id"),
            {"id": order["order_id"], "name": order["customer_name"]},
        )

    # The dashboard's own log: an operator's pause shows on the campaigns page at once.
    def paused() -> set[str]:
        items = client.get("/api/ads/campaigns", headers=BEARER).json()["items"]
        return {c["campaign_id"] for c in items if c["pause_requested"]}

    before = paused()
    campaign = client.get("/api/ads/campaigns", headers=BEARER).json()["items"][0]
    target = f"/api/ads/campaigns/{campaign['platform']}/{campaign['campaign_id']}/pause"
    try:
        assert client.post(target, json={"reason": "cache test"}, headers=BEARER).status_code == 200
        assert paused() == before | {campaign["campaign_id"]}
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM dashboard_actions WHERE kind = 'pause_campaign' AND target = :target"),
                {"target": f"{campaign['platform']}:{campaign['campaign_id']}"},
            )


def test_a_page_answers_after_the_database_closed_its_connections(
    client: TestClient, seeded_url: str
) -> None:
    """PostgreSQL: the pages' reads skip the pre-ping, so a connection the server closed (a restart) is
    found dead by the read itself, which is retried once on a fresh one."""
    engine = get_engine(seeded_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's reads use the shared engine")
    assert client.get("/api/orders?limit=5", headers=BEARER).status_code == 200
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    for path in ("/api/orders?limit=5", "/api/products/candidates"):
        assert client.get(path, headers=BEARER).status_code == 200, path
