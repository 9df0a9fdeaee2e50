"""The sandbox world's state: JSON documents in one SQLite file.

A file (not process memory) so that a restarted sandbox server resumes the same world and so that tests
and benchmarks can inspect it. One server process owns the file; every request runs under `World.lock`.
"""

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_kind_seq ON docs (kind, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (kind TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL,
                                  PRIMARY KEY (kind, key));
"""


class StateFile:
    """Documents by (kind, id), kept in insertion order (`seq`), plus meta values and audit counters."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0

    # --- transactions: one per request, so a crash mid-request leaves the world consistent -------------
    def __enter__(self) -> "StateFile":
        self._lock.acquire()
        if self._depth == 0:
            self._conn.execute("BEGIN")
        self._depth += 1
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()

    # --- documents ----------------------------------------------------------------------------------
    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT body FROM docs WHERE kind=? AND id=?", (kind, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, doc_id: str, body: dict[str, Any]) -> None:
        text = json.dumps(body, separators=(",", ":"))
        updated = self._conn.execute(
            "UPDATE docs SET body=? WHERE kind=? AND id=?", (text, kind, doc_id)
        ).rowcount
        if not updated:
            seq = self.next_seq(f"seq:{kind}")
            self._conn.execute(
                "INSERT INTO docs (kind, id, seq, body) VALUES (?, ?, ?, ?)", (kind, doc_id, seq, text)
            )

    def delete(self, kind: str, doc_id: str) -> None:
        self._conn.execute("DELETE FROM docs WHERE kind=? AND id=?", (kind, doc_id))

    def iter(self, kind: str, after_seq: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        rows = self._conn.execute(
            "SELECT seq, body FROM docs WHERE kind=? AND seq>? ORDER BY seq", (kind, after_seq)
        ).fetchall()
        for seq, body in rows:
            yield seq, json.loads(body)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [body for _, body in self.iter(kind)]

    def count(self, kind: str) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM docs WHERE kind=?", (kind,)).fetchone()[0])

    # --- meta and counters --------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def next_seq(self, name: str) -> int:
        value = int(self.meta(name, "0") or 0) + 1
        self.set_meta(name, str(value))
        return value

    def audit_increment(self, kind: str, key: str) -> int:
        self._conn.execute(
            "INSERT INTO audit (kind, key, count) VALUES (?, ?, 1) "
            "ON CONFLICT(kind, key) DO UPDATE SET count = count + 1",
            (kind, key),
        )
        return int(
            self._conn.execute("SELECT count FROM audit WHERE kind=? AND key=?", (kind, key)).fetchone()[0]
        )

    def audit_counts(self, kind: str) -> dict[str, int]:
        rows = self._conn.execute("SELECT key, count FROM audit WHERE kind=?", (kind,)).fetchall()
        return {key: count for key, count in rows}

    def audit_kinds(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT DISTINCT kind FROM audit").fetchall()]

    def close(self) -> None:
        # Under the lock: closing while another thread is inside a transaction crashes SQLite's C code.
        with self._lock:
            self._conn.close()
