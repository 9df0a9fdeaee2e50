"""A store database made by an older release gains the new columns and indexes on first use, data kept."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from dropship_pipelines.store.database import create_schema
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_testkit.databases import BACKENDS, dispose_engines, store_url_for


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_database_is_upgraded_in_place(backend: str, tmp_path: Path) -> None:
    with store_url_for(backend, tmp_path) as url:
        engine = sa.create_engine(url)
        try:
            create_schema(engine)
            with engine.begin() as conn:
                # What an older release had: no `source` column, no (state, placed_at) index.
                conn.execute(sa.text("DROP INDEX ix_store_orders_state_placed_at"))
                conn.execute(sa.text("ALTER TABLE store_orders DROP COLUMN source"))
                conn.execute(
                    sa.text(
                        "INSERT INTO store_orders (order_id, name, placed_at, store_updated_at,"
                        " financial_status, fulfillment_status, currency, total_price, state) VALUES"
                        " ('O1', '#1', '2026-11-01', '2026-11-01', 'PAID', 'UNFULFILLED', 'USD', 10, 'new')"
                    )
                )

            create_schema(engine)

            inspector = sa.inspect(engine)
            assert "source" in {c["name"] for c in inspector.get_columns("store_orders")}
            assert "ix_store_orders_state_placed_at" in {
                i["name"] for i in inspector.get_indexes("store_orders")
            }
            with engine.connect() as conn:
                row = conn.execute(sa.select(store_orders.c.order_id, store_orders.c.source)).one()
            assert tuple(row) == ("O1", "organic")  # kept, and the new column took its default
        finally:
            engine.dispose()
            dispose_engines(url)
