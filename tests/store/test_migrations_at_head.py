"""A process that finds the store database at head answers without Alembic (a run's start-up pays no
Alembic import); one behind head is still upgraded by Alembic."""

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.migrations import _script, alembic_config, head_from_files

OPEN_AND_REPORT = """
import sys
from dropship_pipelines.store.database import get_engine
get_engine(sys.argv[1])
print(any(name.split(".")[0] == "alembic" for name in sys.modules))
"""


def _opened_with_alembic(url: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, url], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_from_files() == _script().get_current_head()


def test_at_head_alembic_is_not_imported_and_behind_head_it_upgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    assert _opened_with_alembic(url)  # empty: Alembic creates the schema
    assert not _opened_with_alembic(url)  # at head: one read, no Alembic

    behind = f"sqlite:///{tmp_path}/behind.db"  # one revision behind, as after a release with a migration
    head = head_from_files()
    previous = _script().get_revision(head).down_revision
    engine = sa.create_engine(behind)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), str(previous))
    engine.dispose()
    assert _opened_with_alembic(behind)
    with get_engine(behind).connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
