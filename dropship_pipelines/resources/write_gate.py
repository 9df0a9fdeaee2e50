"""The one seam every external write passes: `DROPSHIP_WRITE_MODE` live (the default) or shadow.

Each client calls `gate_write(api, operation, payload)` at the single place it sends a write (Shopify: a
mutation in `execute`; CJ: a non-GET call that is not a read in `call`; Meta and TikTok: a POST in
`_request`; the helpdesk: any non-GET; the mailbox: a message sent).

- Live: it returns None and the write goes out, unless its payload carries a synthetic id (`shadow:...`):
  that is refused (`ShadowIdInLiveCall`), so nothing shadow mode made up ever reaches a live service.
- Shadow: the write is recorded in the store's `shadow_writes` (a summary of its payload with secrets and
  customers' personal data cut, under a key that makes a repeated run record it once, with the run's id)
  and a `Shadowed` comes back instead of the call. The client answers its caller as the service would
  have, with synthetic remote ids derived from the write's key (`shadow:<kind>:<ref>`), so the workflow
  goes on and every write that depends on this one is recorded too (the ad set after the campaign, the
  ad after the ad set). Reads that name a synthetic id are answered by the client itself, from the write
  that made the id (`minting_write`); they never reach the service. Other reads go on as live, so a shadow
  deployment watches real orders, messages and metrics and shows what it would have done.

The services' ledgers are keyed by mode at the coarsest grain: in shadow mode the store engine is a
separate shadow ledger, copied from the live store when shadow mode first opens it
(store/shadow_ledger.py). Every claim shadow mode makes (a listing done, a campaign launched, a budget
changed) stays there; switching back to live finds the live ledger as it was, and makes those writes.
"""

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from dropship_pipelines.alerts.redact import PII_FIELDS, REDACTED, SECRET_FIELDS, redact_value
from dropship_pipelines.resources.errors import PermanentApiError

WriteMode = Literal["live", "shadow"]
MODES: tuple[WriteMode, ...] = ("live", "shadow")
MAX_TEXT = 200  # long text (descriptions, replies, captions) is cut in the summary
log = logging.getLogger("dropship_pipelines.write_gate")


class ShadowIdInLiveCall(PermanentApiError):
    """A live call named an id shadow mode made up: a bug (or a shadow ledger read live), never sent."""


SHADOW_PREFIX = "shadow:"
_SHADOW_ID = re.compile(r"shadow:[A-Za-z0-9_.-]+:([0-9a-f]{20})(?:\.\d+)?")


@dataclass(frozen=True)
class Shadowed:
    """A write shadow mode recorded instead of sending: the client answers with ids made from `ref`."""

    write_key: str
    ref: str  # 20 hex digits of the key's hash: the part every synthetic id of this write shares

    def id(self, kind: str, n: int | None = None) -> str:
        """A synthetic remote id, the same on every run for the same write (`n`: the n-th of a kind)."""
        return f"{SHADOW_PREFIX}{kind}:{self.ref}" + ("" if n is None else f".{n}")


def is_shadow_id(value: Any) -> bool:
    return isinstance(value, str) and SHADOW_PREFIX in value


def shadow_ids(value: Any) -> list[str]:
    """Every synthetic id anywhere in a payload (strings, dict keys and values, lists, tuples)."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            if SHADOW_PREFIX in v:
                found.extend(m.group(0) for m in _SHADOW_ID.finditer(v))
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(k)
                walk(item)
        elif isinstance(v, list | tuple):
            for item in v:
                walk(item)

    walk(value)
    return found


def refuse_shadow_ids(api: str, operation: str, payload: Any) -> None:
    """The guard of every live call: a synthetic id must never reach a service."""
    found = shadow_ids(payload)
    if found:
        raise ShadowIdInLiveCall(
            api,
            f"{operation} names {found[0]}, an id shadow mode made up: refused (is a live run reading "
            "the shadow ledger?)",
        )


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


def _ref(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def record_shadow_write(api: str, operation: str, payload: Any) -> Shadowed:
    """Record the write once (its key: service, operation and a hash of the full payload)."""
    from dropship_pipelines.settings import store_database_url
    from dropship_pipelines.store.database import get_engine
    from dropship_pipelines.store.write_mode_queries import record_shadow_write as insert_row

    key = write_key(api, operation, payload)
    shadowed = Shadowed(key, _ref(key))
    row = {
        "write_key": key,
        "shadow_ref": shadowed.ref,
        "service": api,
        "operation": operation[:120],
        "summary": summarise(payload),
        "run_id": _run_id(),
    }
    with get_engine(store_database_url()).begin() as conn:
        insert_row(conn, row)
    return shadowed


def minting_write(shadow_id: str) -> dict[str, Any] | None:
    """The recorded write a synthetic id was made for (service, operation, summary), or None."""
    from dropship_pipelines.settings import store_database_url
    from dropship_pipelines.store.database import get_engine
    from dropship_pipelines.store.write_mode_queries import shadow_write_by_ref

    match = _SHADOW_ID.search(shadow_id)
    if not match:
        return None
    with get_engine(store_database_url()).connect() as conn:
        return shadow_write_by_ref(conn, match.group(1))


def gate_write(api: str, operation: str, payload: Any) -> Shadowed | None:
    """None: live, send the write. A `Shadowed`: recorded, not to be sent; answer with its ids."""
    if write_mode() == "live":
        refuse_shadow_ids(api, operation, payload)
        return None
    shadowed = record_shadow_write(api, operation, payload)
    log.info("shadow mode: %s %s recorded as %s, not sent", api, operation, shadowed.write_key)
    return shadowed


def gate_read(api: str, operation: str, payload: Any) -> bool:
    """True: the read names a synthetic id and shadow mode is on, so the client answers it locally (the
    object exists only in the shadow ledger). Live, such a read is refused; any other read goes out."""
    if not shadow_ids(payload):
        return False
    if write_mode() == "live":
        refuse_shadow_ids(api, operation, payload)
    return True


_OPERATION = re.compile(r"^\s*(query|mutation|subscription)?\s*(\w+)?")


def graphql_mutation(query: str) -> str | None:
    """The mutation's operation name (`ListProduct`), or None for a query: GraphQL's writes."""
    stripped = re.sub(r"#[^\n]*", "", query)
    match = _OPERATION.match(stripped)
    if not match or match.group(1) != "mutation":
        return None
    return match.group(2) or "mutation"
