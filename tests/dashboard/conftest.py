from collections.abc import Iterator

import pytest

from dropship_testkit.databases import BACKENDS, store_url_for
from tests.dashboard.seed import seed_store


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One seeded store per backend per test module (seeding runs the analytics through Dagster)."""
    with store_url_for(request.param, tmp_path_factory.mktemp("store")) as url:
        seed_store(url)
        yield url
