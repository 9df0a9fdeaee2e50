"""Shadow mode's own ledger: the services' claims keyed by mode, at the grain of the whole store.

Every workflow claims its writes in the store before making them (a listing's row, a supplier order's, a
campaign's ids, a budget change compare-and-set on the campaign's row) and reads those claims to decide
what is left to do. In shadow mode the writes are recorded, not made, yet their claims must be kept for
the chain to go on (the ad set is created under the campaign the ledger holds, the next run does not
launch it again). Kept in the live store, they would tell live that the work is done: the campaign
launched, the budget scaled, the reply sent. A mode column on each claim would not do either: an update
of a live object (a budget, a price, a ticket's status) changes the claim's row itself.

So in shadow mode `get_engine` opens the shadow ledger instead: a copy of the live store made when shadow
mode first opens it (what live has done so far, so shadow continues from there), and written only by
shadow mode from then on. Switching back to live opens the live store, which holds no claim shadow mode
made: live makes every write shadow mode only recorded. To shadow again from live's present state,
remove the shadow ledger (`reset_shadow_ledger`); it is made again from the live store at the next open.

Where: `STORE_SHADOW_DATABASE_URL`, else beside the live store (SQLite `store.db` -> `store.shadow.db`,
PostgreSQL database `store` -> `store_shadow` on the same server).
"""

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

SHADOW_SUFFIX = "shadow"
ORIGIN_TABLE = "shadow_ledger_origin"  # PostgreSQL: written last, so a half-made copy is made again
_seeded: set[str] = set()  # shadow ledger URLs this process knows are complete
_lock = threading.Lock()


def shadow_url(live_url: str) -> str:
    """Where the shadow ledger of `live_url` lives."""
    configured = (os.environ.get("STORE_SHADOW_DATABASE_URL") or "").strip()
    if configured:
        return configured
    url = make_url(live_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "store.db")
        suffix = path.suffix or ".db"
        return f"sqlite:///{path.with_name(f'{path.stem}.{SHADOW_SUFFIX}{suffix}')}"
    return url.set(database=f"{url.database}_{SHADOW_SUFFIX}").render_as_string(hide_password=False)


def is_shadow_url(url: str) -> bool:
    configured = (os.environ.get("STORE_SHADOW_DATABASE_URL") or "").strip()
    database = make_url(url).database or ""
    return (
        url == configured
        or Path(database).stem.endswith(f".{SHADOW_SUFFIX}")
        or (database.endswith(f"_{SHADOW_SUFFIX}"))
    )


def _in_memory(url: str) -> bool:
    """A throwaway SQLite store in memory: nothing live to keep apart, and no file to copy."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def for_mode(url: str, open_engine: Callable[[str], Engine]) -> str:
    """The URL `get_engine` opens: `url` live, its shadow ledger (made on first use) in shadow mode."""
    from dropship_pipelines.resources.write_gate import write_mode

    if write_mode() == "live" or is_shadow_url(url) or _in_memory(url):
        return url
    shadow = shadow_url(url)
    with _lock:
        if shadow not in _seeded:
            _make(url, shadow, open_engine)
            _seeded.add(shadow)
    return shadow


def _make(live: str, shadow: str, open_engine: Callable[[str], Engine]) -> None:
    if make_url(shadow).get_backend_name() == "sqlite":
        _make_sqlite(live, shadow, open_engine)
    else:
        _make_postgres(live, shadow, open_engine)


@contextmanager
def _file_lock(path: Path) -> Any:
    """One process copies; the others wait and find the copy made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _make_sqlite(live: str, shadow: str, open_engine: Callable[[str], Engine]) -> None:
    target = Path(make_url(shadow).database or "")
    with _file_lock(target.with_name(target.name + ".lock")):
        if target.exists():
            return
        engine = open_engine(live)  # upgraded to the newest migration before it is copied
        tmp = target.with_name(target.name + ".tmp")
        tmp.unlink(missing_ok=True)
        source = engine.raw_connection()
        try:
            destination = sqlite3.connect(tmp)
            try:
                source.driver_connection.backup(destination)  # a consistent copy, WAL included
            finally:
                destination.close()
        finally:
            source.close()
        tmp.replace(target)  # atomic: a shadow ledger exists only complete


@contextmanager
def _database_lock(live: Engine, name: str) -> Any:
    """A session advisory lock on the live server, per shadow database: its making and its removal, by any
    process, go one at a time. Yields the connection holding it."""
    key = {"n": f"shadow_ledger:{name}"}
    with live.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:n))"), key)
        try:
            yield conn
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:n))"), key)
            conn.commit()


def _make_postgres(live: str, shadow: str, open_engine: Callable[[str], Engine]) -> None:
    live_engine = open_engine(live)
    name = make_url(shadow).database
    with _database_lock(live_engine, name or "") as conn:
        query = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
        exists = conn.execute(query, {"n": name}).first()
        if exists:
            copy = open_engine(shadow)
            with copy.connect() as c:
                if sa.inspect(c).has_table(ORIGIN_TABLE):
                    return
        else:
            _create_database(live_engine, name or "")
            copy = open_engine(shadow)  # migrated to the same revision as the live store
        _copy_rows(live_engine, copy)


def _copy_rows(live: Engine, copy: Engine) -> None:
    from dropship_pipelines.store.schema import metadata

    with live.connect() as source, copy.begin() as target:
        for table in reversed(metadata.sorted_tables):
            target.execute(table.delete())
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in source.execute(sa.select(table))]
            if rows:
                target.execute(table.insert(), rows)
            for column in table.primary_key.columns:  # serial keys go on after the copied rows
                sequence = target.execute(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                ).scalar()
                if sequence:
                    highest = target.execute(sa.select(sa.func.max(column))).scalar() or 0
                    target.execute(sa.text("SELECT setval(:s, :v, false)"), {"s": sequence, "v": highest + 1})
        origin = sa.Table(
            ORIGIN_TABLE,
            sa.MetaData(),
            sa.Column("copied_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        )
        origin.create(target)
        target.execute(origin.insert())


def _create_database(live: Engine, name: str) -> None:
    _database_ddl(live, "CREATE DATABASE {}", name)


def _database_ddl(live: Engine, statement: str, name: str) -> None:
    """CREATE / DROP DATABASE, outside a transaction (PostgreSQL runs neither inside one), the name composed
    as an identifier by psycopg2 (it cannot be a bound parameter)."""
    from psycopg2 import sql

    admin = live.raw_connection()
    try:
        admin.driver_connection.autocommit = True
        with admin.driver_connection.cursor() as cursor:
            cursor.execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        admin.driver_connection.autocommit = False
        admin.close()


def reset_shadow_ledger(live_url: str) -> None:
    """Remove the shadow ledger of `live_url`: the next shadow run copies the live store again. A SQLite
    ledger's file goes; a PostgreSQL ledger's database is dropped, its open sessions ended (a shadow run
    still writing to it fails, and its retry opens the new copy)."""
    from dropship_pipelines.store import database

    shadow = shadow_url(live_url)
    with _lock:
        _seeded.discard(shadow)
    database.forget_engine(shadow)
    if make_url(shadow).get_backend_name() != "sqlite":
        name = make_url(shadow).database or ""
        live = database.live_engine(live_url)
        with _database_lock(live, name):
            _database_ddl(live, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
        return
    target = Path(make_url(shadow).database or "")
    for path in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        path.unlink(missing_ok=True)


def existing_shadow_ledger(live: Engine) -> Engine | None:
    """The shadow ledger beside `live`'s store if one was made, whatever this process's mode (the
    dashboard shows shadow mode's records after the switch to live too); None when there is none or
    `live` is the shadow ledger itself."""
    from dropship_pipelines.store import database

    url = live.url.render_as_string(hide_password=False)
    if is_shadow_url(url):
        return None
    shadow = shadow_url(url)
    if make_url(shadow).get_backend_name() == "sqlite":
        if not Path(make_url(shadow).database or "").exists():
            return None
    else:
        with live.connect() as conn:
            query = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
            if not conn.execute(query, {"n": make_url(shadow).database}).first():
                return None
    return database._open(shadow)  # as it is: no copy made, whatever the mode


def main(argv: list[str] | None = None) -> int:
    """`python -m dropship_pipelines.store.shadow_ledger reset`: remove the shadow ledger of the store at
    STORE_DATABASE_URL (or `--url`), so the next shadow run copies live's present state."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dropship_pipelines.store.shadow_ledger")
    parser.add_argument("command", choices=("reset",))
    parser.add_argument("--url", default=os.environ.get("STORE_DATABASE_URL"), help="the live store's URL")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no store: set STORE_DATABASE_URL or pass --url")
    reset_shadow_ledger(args.url)
    print(f"removed the shadow ledger of {make_url(args.url).render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
