"""Receives CJ's webhook messages (`PRODUCT`, `VARIANT`, `STOCK`): check, record durably, then answer.

CJ wants HTTP 200 within 3 seconds and retries anything else (three times, five minutes apart), so the
receiver does one thing before it answers: it commits the message to the store database (one insert).
The catalog sync's sensor then processes what was recorded (`sensors/catalog.py`).

- `sign` (base64 HMAC-SHA256 of the raw body, keyed with the account's openId, `CJ_OPEN_ID`) is checked
  when the openId is configured; a mismatch is refused with 401 and not recorded (it is not CJ's).
- `messageId` is the dedupe key: a redelivery is answered 200 and not recorded twice.
- A body that cannot be read is answered 400 with the reason, and kept (status `rejected`, under its
  body's hash) so that nothing CJ sent is lost.
"""

import logging
import os
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_pipelines.resources.cj.webhooks import answer, parse_message, signature_matches
from dropship_pipelines.resources.supplier_events import MessageError
from dropship_pipelines.settings import store_database_url
from dropship_pipelines.store import catalog_queries as q
from dropship_pipelines.store.database import get_engine

log = logging.getLogger("dropship_pipelines.webhooks.cj")
MAX_BODY = 1_000_000  # a CJ message is a few kB; anything this large is not one


def cj_webhook_router(store_url: str | None = None, open_id: str | None = None) -> APIRouter:
    """The receiver's route, for any ASGI app to host (the dashboard does, beside its API).

    `store_url` defaults to STORE_DATABASE_URL, `open_id` to CJ_OPEN_ID (unset: signatures not checked)."""
    router = APIRouter()

    @router.post("/webhooks/cj", include_in_schema=False)
    async def cj_webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        key = open_id if open_id is not None else os.environ.get("CJ_OPEN_ID", "")
        if key and not signature_matches(key, raw, request.headers.get("sign")):
            log.warning("CJ webhook refused: sign does not match")
            return JSONResponse(answer(False, "sign does not match"), status_code=401)
        received = datetime.now(UTC)
        engine = get_engine(store_url or store_database_url())
        if len(raw) > MAX_BODY:
            return JSONResponse(answer(False, f"body over {MAX_BODY} bytes"), status_code=413)
        try:
            message = parse_message(raw)
        except MessageError as error:
            with engine.begin() as conn:
                q.record_event(
                    conn,
                    {
                        "message_id": q.rejected_message_id(raw),
                        "type": "?",
                        "raw": raw.decode("utf-8", errors="replace"),
                        "status": "rejected",
                        "outcome": str(error),
                        "received_at": received,
                    },
                )
            log.warning("CJ webhook rejected: %s", error)
            return JSONResponse(answer(False, f"bad message: {error}"), status_code=400)
        with engine.begin() as conn:
            fresh = q.record_event(
                conn,
                {
                    "message_id": message.message_id,
                    "type": message.kind.upper(),
                    "message_type": message.action,
                    "pid": message.pid,
                    "payload": {
                        "kind": message.kind,
                        "pid": message.pid,
                        "vid": message.vid,
                        "stock": message.stock,
                        "fields": list(message.fields),
                        "action": message.action,
                    },
                    "status": "pending",
                    "received_at": received,
                },
            )
        log.info(
            "CJ webhook %s %s (%s): %s",
            message.message_id,
            message.kind,
            message.pid or ",".join(message.stock)[:80],
            "recorded" if fresh else "duplicate",
        )
        return JSONResponse(answer(True, "recorded" if fresh else "duplicate"))

    return router
