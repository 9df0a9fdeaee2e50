from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dropship_pipelines.store import ads_queries
from dropship_pipelines.store.database import get_engine
from dropship_testkit.databases import BACKENDS, store_url_for
from tests.dashboard.seed import seed_store

# A decision of the ads optimiser, as the ad_optimization asset records it (one row of `ad_actions`).
OPTIMISER_PAUSE: dict[str, Any] = {
    "decided_at": datetime(2026, 11, 22, 8, 15, tzinfo=UTC),
    "platform": "meta",
    "campaign_id": "c1",
    "pid": "P1",
    "action": "pause",
    "status": "applied",
    "reason": "ROAS 0.62 < 1.00 over 3 days after the learning period",
    "window_days": 3,
    "spend": Decimal("22.25"),
    "revenue": Decimal("13.80"),
    "purchases": 1,
    "roas": 0.62,
    "old_budget": Decimal("20.00"),
    "new_budget": None,
    "run_id": "run-optimiser-1",
}


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One seeded store per backend per test module (seeding runs the analytics through Dagster)."""
    with store_url_for(request.param, tmp_path_factory.mktemp("store")) as url:
        seed_store(url)
        yield url


@pytest.fixture(scope="session")
def record_optimiser_action() -> Callable[..., int]:
    """`record(store_url, **changes)`: one optimiser decision (OPTIMISER_PAUSE with `changes`), written
    with the ads workflow's own ledger function; returns its id."""

    def record(store_url: str, **changes: Any) -> int:
        with get_engine(store_url).begin() as conn:
            return ads_queries.record_action(conn, {**OPTIMISER_PAUSE, **changes})

    return record
