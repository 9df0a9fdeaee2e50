"""Shared fixtures: a real sandbox server per test, the pipelines' environment pointed at it, PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from dropship_sandbox.world import WorldSettings
from dropship_testkit.databases import fresh_postgres_url
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox


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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    with fresh_postgres_url() as url:
        yield url
