"""Schemathesis against the dashboard's OpenAPI spec: generated requests (authenticated) never get a 500."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from dashboard.api import create_app
from dropship_testkit.databases import store_url_for
from tests.dashboard.seed import TOKEN, seed_store


class UnreachableDagster:
    def launch(self, job_name: str) -> str:
        from dashboard.api.runs import RunLaunchError

        raise RunLaunchError("cannot reach the Dagster webserver")


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with store_url_for("sqlite", tmp) as url:
        seed_store(url)
        app = create_app(
            url,
            TOKEN,
            launcher=UnreachableDagster(),
            pause_campaign=lambda platform, campaign_id: None,
            send_reply=lambda key, text: "sent",
        )
        yield schemathesis.openapi.from_asgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500 or response.status_code == 502, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
