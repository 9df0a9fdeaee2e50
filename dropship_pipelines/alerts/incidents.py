"""The run-failure incidents already notified, in the store database.

`run_failure_sensor` keeps its own cursor (which runs it has seen), so the incident state that makes "one
message per incident" survive daemon restarts lives here, keyed by job + failing step + error class."""

import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.schema import metadata

alert_incidents = sa.Table(
    "alert_incidents",
    metadata,
    sa.Column("incident_key", sa.String(500), primary_key=True),
    sa.Column("job", sa.String(200), nullable=False),
    sa.Column("notified_at", sa.Float, nullable=False),  # epoch seconds: compared with run timestamps
    sa.Column("last_run_id", sa.String(64), nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
)

_created: set[int] = set()
_lock = threading.Lock()


def _ensure_table(engine: Engine) -> None:
    # The engine may have been created (schema and all) before this module was imported.
    with _lock:
        if id(engine) not in _created:
            alert_incidents.create(engine, checkfirst=True)
            _created.add(id(engine))


def notified_at(engine: Engine, incident_key: str) -> float | None:
    _ensure_table(engine)
    with engine.connect() as conn:
        return conn.execute(
            sa.select(alert_incidents.c.notified_at).where(alert_incidents.c.incident_key == incident_key)
        ).scalar_one_or_none()


def record_notified(engine: Engine, incident_key: str, job: str, run_id: str) -> None:
    _ensure_table(engine)
    row = {
        "incident_key": incident_key,
        "job": job,
        "notified_at": time.time(),
        "last_run_id": run_id,
        "occurrences": 1,
    }
    with engine.begin() as conn:
        upsert(conn, alert_incidents, [row], keys=["incident_key"])


def record_repeat(engine: Engine, incident_key: str, run_id: str) -> None:
    """Same incident again: counted, not notified."""
    _ensure_table(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.update(alert_incidents)
            .where(alert_incidents.c.incident_key == incident_key)
            .values(last_run_id=run_id, occurrences=alert_incidents.c.occurrences + 1)
        )
