"""The test kit's own promises: a nearest-rank percentile; the seeder's two paths write the same rows."""

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings
from dropship_testkit.bench import percentile
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import money, seeding, table_rows, ts


def test_percentile_is_nearest_rank_so_always_a_measured_value() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 21)], 0.95) == 19.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 2.0], 0.0) == 1.0 and percentile([1.0, 2.0], 1.0) == 2.0
    assert math.isnan(percentile([], 0.5))


@pytest.mark.parametrize("backend", BACKENDS)
def test_typed_rows_and_bulk_rows_read_back_alike(backend: str, tmp_path: Path) -> None:
    listed_at = datetime(2026, 11, 20, 10, 30, 15, 250000, tzinfo=UTC)
    row = {
        "status": "listed",
        "title": "Lamp",
        "price": Decimal("19.99"),
        "unit_cost": Decimal("5.00"),
        "shipping_cost": Decimal("2.50"),
        "listed_at": listed_at,
    }
    with store_url_for(backend, tmp_path) as url:
        engine = get_engine(url)
        encoded = ("P2", "lamp-2", "listed", "Lamp", money(1999), money(500), money(250), ts(listed_at))
        with seeding(engine, durable=False) as seed:
            seed.rows(listings, [{"pid": "P1", "handle": "lamp-1", **row}])
            seed.bulk(
                listings,
                ("pid", "handle", "status", "title", "price", "unit_cost", "shipping_cost", "listed_at"),
                iter([encoded]),
            )
        assert seed.rows_written == 2
        read = {r["pid"]: r for r in table_rows(engine, listings)}
    typed, bulk = read["P1"], read["P2"]
    for column in ("status", "title", "price", "unit_cost", "shipping_cost"):
        assert typed[column] == bulk[column] == row[column]
    assert as_utc(typed["listed_at"]) == as_utc(bulk["listed_at"]) == listed_at


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC, PostgreSQL an aware time in the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
