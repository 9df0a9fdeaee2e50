"""Shared fixtures: a real sandbox server per test, the pipelines' environment pointed at it, PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from dropship_sandbox.world import ApiFaults, WorldSettings
from tests.sandbox_server import RunningSandbox, running_sandbox

POSTGRES_ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


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


def postgres_available() -> bool:
    try:
        psycopg2.connect(POSTGRES_ADMIN_DSN, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards. In CI the server must be there: a skip hides a gap."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI and is not reachable")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 not reachable")
    name = f"dropship_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        from dropship_pipelines.store.database import _engines

        for url, engine in list(_engines.items()):
            if name in url:
                engine.dispose()
                del _engines[url]
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    with fresh_postgres_database() as url:
        yield url


__all__ = ["ApiFaults", "build_defs", "fast_settings"]
