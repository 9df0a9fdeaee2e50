"""deploy/dagster.yaml loads into a real instance on a fresh PostgreSQL database, with its stated limits."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import pytest
import yaml

from dropship_testkit.databases import fresh_postgres_url

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
POOLS_IN_CODE = {"cj", "shopify", "llm", "ads", "helpdesk"}

pytestmark = pytest.mark.postgres


@pytest.fixture
def production_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    with fresh_postgres_url() as url:
        parts = urlparse(url)
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")  # the file as shipped, unmodified
        for name, value in {
            "DAGSTER_HOME": str(home),
            "DAGSTER_COMPUTE_LOG_DIR": str(home / "logs"),
            "DAGSTER_PG_HOST": parts.hostname or "",
            "DAGSTER_PG_PORT": str(parts.port),
            "DAGSTER_PG_USERNAME": parts.username or "",
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": parts.path.lstrip("/"),
        }.items():
            monkeypatch.setenv(name, value)
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            yield instance
        finally:
            instance.dispose()


def test_instance_uses_postgres_and_the_queue_with_the_files_limits(
    production_instance: dg.DagsterInstance,
) -> None:
    settings = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    instance = production_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

    config = instance.get_concurrency_config()
    runs = settings["concurrency"]["runs"]
    assert config.run_queue_config is not None
    assert config.run_queue_config.max_concurrent_runs == runs["max_concurrent_runs"] == 10
    assert config.run_queue_config.tag_concurrency_limits == [
        {"key": "dropship/workflow", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    assert config.pool_config.default_pool_limit == 1
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
    assert instance.get_settings("retention")["sensor"]["purge_after_days"]["skipped"] == 7
    assert not instance.telemetry_enabled


def test_instance_stores_runs_in_postgres(production_instance: dg.DagsterInstance) -> None:
    @dg.asset
    def probe() -> int:
        return 1

    result = dg.materialize([probe], instance=production_instance)
    assert result.success
    assert production_instance.get_run_by_id(result.run_id) is not None


def test_every_pool_in_the_code_is_named_in_the_deploy_docs() -> None:
    from dropship_pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    pools = set().union(*(graph.get(key).pools or set() for key in graph.get_all_asset_keys()))
    assert pools == POOLS_IN_CODE
    readme = (DEPLOY / "README.md").read_text()
    assert all(f"`{pool}`" in readme for pool in POOLS_IN_CODE)
