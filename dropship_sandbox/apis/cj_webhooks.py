"""CJ's message settings: `POST /webhook/set` (CJ API 2.0, "08. Webhook").

The body names each message kind CJ sends (product, stock, order, logistics) with `type` ENABLE or CANCEL
and `callbackUrls`, a list of one URL (CJ takes only one, and only a public https address; the sandbox also
takes plain http on loopback, where its receivers live). A setting replaces the kind's previous one, so
setting the same URL again changes nothing; `data: true` answers success. CJ has no endpoint that reads the
settings back. Messages are then sent only to an ENABLEd kind's URL (`dropship_sandbox/webhooks.py`).
"""

import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import CJ, CjCall, CjError, _json_body
from dropship_sandbox.world import World

router = APIRouter()
SETTINGS = "cj_webhook_settings"
KINDS = ("product", "stock", "order", "logistics")
TYPES = ("ENABLE", "CANCEL")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PARAM_ERROR = 1600300  # CJ's "Param error" envelope code


def settings(world: World) -> dict[str, Any]:
    return json.loads(world.state.meta(SETTINGS, "{}") or "{}")


def callback_url(world: World, kind: str) -> str | None:
    """Where messages of `kind` go, or None when that kind is not ENABLEd."""
    setting = settings(world).get(kind) or {}
    urls = setting.get("callbackUrls") or []
    return urls[0] if setting.get("type") == "ENABLE" and urls else None


def _checked(kind: str, setting: Any) -> dict[str, Any]:
    if not isinstance(setting, dict):
        raise CjError(PARAM_ERROR, f"Param error: {kind} must be an object")
    kind_type = setting.get("type")
    if kind_type not in TYPES:
        raise CjError(PARAM_ERROR, f"Param error: {kind}.type must be one of {', '.join(TYPES)}")
    urls = setting.get("callbackUrls")
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise CjError(PARAM_ERROR, f"Param error: {kind}.callbackUrls must be a list of URLs")
    if kind_type == "ENABLE":
        if len(urls) != 1:
            raise CjError(PARAM_ERROR, f"Param error: {kind}.callbackUrls: only one URL is supported")
        parts = urlsplit(urls[0])
        loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK
        if not parts.netloc or not (parts.scheme == "https" or loopback_http):
            raise CjError(PARAM_ERROR, f"Param error: {kind}.callbackUrls: not a public https URL")
    return {"type": kind_type, "callbackUrls": list(urls)}


@router.post("/webhook/set")
async def webhook_set(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> bool:
        given = {k: v for k, v in body.items() if k in KINDS}
        if not given:
            raise CjError(PARAM_ERROR, f"Param error: at least one of {', '.join(KINDS)} is required")
        current = settings(world)
        for kind, setting in given.items():
            current[kind] = _checked(kind, setting)
        world.state.set_meta(SETTINGS, json.dumps(current))
        world.state.audit_increment("cj_webhook_settings", ",".join(sorted(given)))
        return True

    return await CJ.serve(request, CjCall(is_write=True), handle)
