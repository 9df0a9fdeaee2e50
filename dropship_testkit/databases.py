"""Store databases for tests: a SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432 per use."""

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_reachable() -> bool:
    try:
        psycopg2.connect(ADMIN_DSN, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


@contextlib.contextmanager
def fresh_postgres_url() -> Iterator[str]:
    """CREATE DATABASE dropship_test_<random>, yield its URL, dispose its engines and drop it."""
    if not _postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI and is not reachable")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 not reachable")
    name = f"dropship_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        dispose_engines(name)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def dispose_engines(fragment: str) -> None:
    from dropship_pipelines.store.database import _engines

    for url, engine in list(_engines.items()):
        if fragment in url:
            engine.dispose()
            del _engines[url]


@contextlib.contextmanager
def store_url_for(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgresql":
        with fresh_postgres_url() as url:
            yield url
    else:
        path = tmp_path / f"store-{uuid.uuid4().hex[:6]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            dispose_engines(str(path))
