"""Reads and writes of `webhook_subscriptions` and `shadow_writes` (store/write_mode_tables.py)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.store.write_mode_tables import shadow_writes, webhook_subscriptions


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


# --- shadow writes -------------------------------------------------------------------------------------
def record_shadow_write(conn: Connection, row: dict[str, Any]) -> bool:
    """False when this write (its key) was recorded already, by this run or an earlier one."""
    statement = (
        _insert(conn, shadow_writes).values(**row).on_conflict_do_nothing(index_elements=["write_key"])
    )
    return conn.execute(statement).rowcount == 1


def shadow_write_by_ref(conn: Connection, ref: str) -> dict[str, Any] | None:
    """The write whose synthetic ids carry `ref`."""
    row = conn.execute(sa.select(shadow_writes).where(shadow_writes.c.shadow_ref == ref).limit(1)).first()
    return dict(row._mapping) if row else None


def shadow_write_rows(
    conn: Connection, *, limit: int = 200, service: str | None = None, before_seq: int | None = None
) -> list[dict[str, Any]]:
    """Newest first; `before_seq` pages back."""
    query = sa.select(shadow_writes).order_by(shadow_writes.c.seq.desc()).limit(limit)
    if service:
        query = query.where(shadow_writes.c.service == service)
    if before_seq:
        query = query.where(shadow_writes.c.seq < before_seq)
    return [dict(r._mapping) for r in conn.execute(query)]


def shadow_write_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """How many held-back writes per (service, operation)."""
    rows = conn.execute(
        sa.select(shadow_writes.c.service, shadow_writes.c.operation, sa.func.count()).group_by(
            shadow_writes.c.service, shadow_writes.c.operation
        )
    )
    return {(service, operation): int(n) for service, operation, n in rows}


# --- webhook subscriptions -----------------------------------------------------------------------------
def subscription_key(service: str, topic: str) -> str:
    return f"{service}:{topic}"


def claim_subscription(conn: Connection, service: str, topic: str, url: str, run_id: str | None) -> None:
    """The (service, topic) row, made or set back to `claimed` before the service is called."""
    values = {
        "subscription_key": subscription_key(service, topic),
        "service": service,
        "topic": topic,
        "callback_url": url,
        "state": "claimed",
        "error": None,
        "run_id": run_id,
    }
    statement = _insert(conn, webhook_subscriptions).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["subscription_key"],
            set_={k: statement.excluded[k] for k in ("callback_url", "state", "error", "run_id")},
        )
    )


def settle_subscription(
    conn: Connection,
    service: str,
    topic: str,
    *,
    state: str,
    checked_at: datetime | None,
    remote_id: str | None = None,
    error: str | None = None,
) -> None:
    conn.execute(
        webhook_subscriptions.update()
        .where(webhook_subscriptions.c.subscription_key == subscription_key(service, topic))
        .values(state=state, remote_id=remote_id, error=error, checked_at=checked_at)
    )


def subscription_rows(conn: Connection, service: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(webhook_subscriptions).order_by(webhook_subscriptions.c.subscription_key)
    if service:
        query = query.where(webhook_subscriptions.c.service == service)
    return [dict(r._mapping) for r in conn.execute(query)]
