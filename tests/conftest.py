"""Shared fixtures: a real sandbox server per test, the pipelines' environment pointed at it, PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dropship_sandbox.world import ApiFaults, WorldSettings
from tests.analytics.databases import fresh_postgres_url
from tests.sandbox_server import RunningSandbox, running_sandbox


def fast_settings(**overrides: object) -> WorldSettings:
    """The real limits, loosened where a test is not about them (CJ QPS 4 -> 200)."""
    settings = WorldSettings(cj_level_qps=200.0, **overrides)  # type: ignore[arg-type]
    return settings


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path / "world.db", fast_settings()) as running:
        yield running


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture
def pipeline_env(
    sandbox: RunningSandbox, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    env = sandbox.env(store_url, tmp_path / "tokens")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def build_defs(*workflow_defs: dg.Definitions) -> dg.Definitions:
    """Definitions with resources built from the current environment (after `pipeline_env`)."""
    from dropship_pipelines.resources.catalog import build_resources

    return dg.Definitions.merge(*workflow_defs, dg.Definitions(resources=build_resources()))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    with fresh_postgres_url() as url:
        yield url


fresh_postgres_database = fresh_postgres_url  # the name some tests import

__all__ = ["ApiFaults", "build_defs", "fast_settings"]
