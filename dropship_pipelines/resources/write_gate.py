"""The one seam every external write passes: `DROPSHIP_WRITE_MODE` live (the default) or shadow.

Each client calls `gate_write(api, operation, payload)` at the single place it sends a write (Shopify: a
mutation in `execute`; CJ: a non-GET call that is not a read in `call`; Meta and TikTok: a POST in
`_request`; the helpdesk: any non-GET; the mailbox: a message sent). In live mode it returns and the write
goes out. In shadow mode the write is recorded in the store's `shadow_writes` (a summary of its payload
with secrets and customers' personal data cut, under a key that makes a repeated run record it once, with
the run's id) and `ShadowedWrite` is raised instead: the service that asked treats it as any refused call,
so nothing that depends on the write is done either, and nothing reaches the service. Reads go on as live,
so a shadow deployment watches real orders, messages and metrics and shows what it would have done.
"""

import hashlib
import json
import logging
import os
import re
from typing import Any, Literal

from dropship_pipelines.alerts.redact import PII_FIELDS, REDACTED, SECRET_FIELDS, redact_value
from dropship_pipelines.resources.errors import PermanentApiError

WriteMode = Literal["live", "shadow"]
MODES: tuple[WriteMode, ...] = ("live", "shadow")
MAX_TEXT = 200  # long text (descriptions, replies, captions) is cut in the summary
log = logging.getLogger("dropship_pipelines.write_gate")


class ShadowedWrite(PermanentApiError):
    """Shadow mode: the write was recorded in `shadow_writes`, not sent."""


def write_mode() -> WriteMode:
    """DROPSHIP_WRITE_MODE, read at each write (a typo must not fall back to live)."""
    value = (os.environ.get("DROPSHIP_WRITE_MODE") or "live").strip().lower()
    if value not in MODES:
        raise ValueError(f"DROPSHIP_WRITE_MODE={value!r}: must be one of {', '.join(MODES)}")
    return value  # type: ignore[return-value]


def summarise(value: Any, field: str = "") -> Any:
    """The payload without secrets or personal data, long strings cut, binary parts named only."""
    if field and (PII_FIELDS.search(field) or SECRET_FIELDS.search(field)) and value not in (None, ""):
        return REDACTED  # a whole address or credential, however nested
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): summarise(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [summarise(v, field) for v in value[:50]]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        value = value[:MAX_TEXT] + "..."
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    return redact_value(value, field=field)


_process_run: dict[str, str | None] = {"run_id": None}


def note_run(run_id: str | None) -> None:
    """The run this process executes (set as its resources are set up): the run id of writes made on a
    worker thread, where Dagster's current-context variable is not visible. A process runs one run at a
    time under `dagster job execute` and the daemon; several at once only in tests."""
    _process_run["run_id"] = run_id


def _run_id() -> str | None:
    try:
        import dagster as dg

        return dg.OpExecutionContext.get().run_id
    except Exception:  # another thread of the run, or outside a run (the dashboard, a script)
        return _process_run["run_id"]


def write_key(api: str, operation: str, payload: Any) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"{api}:{operation}:{digest}"[:200]


def record_shadow_write(api: str, operation: str, payload: Any) -> str:
    """Record the write once (its key: service, operation and a hash of the full payload)."""
    from dropship_pipelines.settings import store_database_url
    from dropship_pipelines.store.database import get_engine
    from dropship_pipelines.store.write_mode_queries import record_shadow_write as insert_row

    key = write_key(api, operation, payload)
    row = {
        "write_key": key,
        "service": api,
        "operation": operation[:120],
        "summary": summarise(payload),
        "run_id": _run_id(),
    }
    with get_engine(store_database_url()).begin() as conn:
        insert_row(conn, row)
    return key


def gate_write(api: str, operation: str, payload: Any) -> None:
    """Let the write through (live), or record it and raise ShadowedWrite (shadow)."""
    if write_mode() == "live":
        return
    key = record_shadow_write(api, operation, payload)
    log.info("shadow mode: %s %s recorded as %s, not sent", api, operation, key)
    raise ShadowedWrite(api, f"shadow mode: {operation} recorded in shadow_writes, not sent")


_OPERATION = re.compile(r"^\s*(query|mutation|subscription)?\s*(\w+)?")


def graphql_mutation(query: str) -> str | None:
    """The mutation's operation name (`ListProduct`), or None for a query: GraphQL's writes."""
    stripped = re.sub(r"#[^\n]*", "", query)
    match = _OPERATION.match(stripped)
    if not match or match.group(1) != "mutation":
        return None
    return match.group(2) or "mutation"
