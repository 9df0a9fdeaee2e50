"""The catalog sync's ledger on PostgreSQL: the webhook path (record, dedupe, apply) and the claims of two
runs at once, the same tests as on SQLite with the store database on a fresh PostgreSQL database."""

import pytest

from tests.discovery.test_catalog_claims import test_two_runs_at_once_write_a_listing_once  # noqa: F401
from tests.discovery.test_catalog_webhooks import (  # noqa: F401
    test_receiver_records_before_answering_fast_and_once,
)


@pytest.fixture
def store_url(postgres_url: str) -> str:
    return postgres_url
