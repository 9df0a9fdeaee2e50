"""CJ's webhook messages (API 2.0 "Webhook"): `PRODUCT`, `VARIANT` and `STOCK` bodies parsed into
`SupplierMessage`, and the `sign` header checked.

- CJ POSTs JSON and wants HTTP 200 within 3 seconds, answered `{"code": 200, "result": "success",
  "message": ...}`; anything else is retried (three times, five minutes apart).
- `sign` is base64(HMAC-SHA256(key=str(openId), message=raw body)); the openId is what getAccessToken
  returns for the account.
- PRODUCT: `params.pid`, `params.fields` (what changed), `messageType` INSERT | UPDATE | DELETE.
  STOCK: `params` maps each vid to its warehouses' stock (`totalInventoryNum`, older `storageNum`).
"""

import base64
import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dropship_pipelines.resources.supplier_events import MessageError, SupplierMessage

KINDS = {"PRODUCT": "product", "VARIANT": "variant", "STOCK": "stock"}
ACTIONS = {"INSERT", "UPDATE", "DELETE"}


def answer(ok: bool, message: str) -> dict[str, Any]:
    """The body CJ expects back."""
    return {"code": 200 if ok else 400, "result": "success" if ok else "fail", "message": message}


def sign(open_id: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(open_id.encode(), raw, hashlib.sha256).digest()).decode()


def signature_matches(open_id: str, raw: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(open_id, raw).encode(), (header or "").encode())


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    type: str
    message_type: str | None = Field(default=None, alias="messageType")
    params: dict[str, Any]


class _Area(BaseModel):
    model_config = ConfigDict(extra="ignore")

    total: int | None = Field(default=None, alias="totalInventoryNum", ge=0)
    storage: int | None = Field(default=None, alias="storageNum", ge=0)


def parse_message(raw: bytes) -> SupplierMessage:
    """One delivery's body as a `SupplierMessage`; `MessageError` says what is wrong with a bad one."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise MessageError("body is not JSON") from exc
    if not isinstance(body, dict):
        raise MessageError("body is not a JSON object")
    try:
        message = _Message.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MessageError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    kind = KINDS.get(message.type)
    if kind is None:
        raise MessageError(f"type {message.type!r} is not one of {', '.join(KINDS)}")
    if message.message_type is not None and message.message_type not in ACTIONS:
        raise MessageError(f"messageType {message.message_type!r} is not one of {', '.join(sorted(ACTIONS))}")
    params = message.params
    if kind == "product":
        pid = params.get("pid")
        if not isinstance(pid, str) or not pid:
            raise MessageError("params.pid is missing")
        fields = params.get("fields") or []
        if not isinstance(fields, list):
            raise MessageError("params.fields is not a list")
        return SupplierMessage(
            message.message_id, kind, message.message_type, pid=pid, fields=tuple(map(str, fields))
        )
    if kind == "variant":
        vid = params.get("vid")
        if not isinstance(vid, str) or not vid:
            raise MessageError("params.vid is missing")
        fields = params.get("fields") or []
        return SupplierMessage(
            message.message_id, kind, message.message_type, vid=vid, fields=tuple(map(str, fields))
        )
    stock: dict[str, int] = {}
    for vid, areas in params.items():
        if not isinstance(areas, list) or not areas:
            raise MessageError(f"params.{vid}: not a list of warehouses")
        try:
            parsed = [_Area.model_validate(area) for area in areas]
        except ValidationError as exc:
            raise MessageError(f"params.{vid}: {exc.errors()[0]['msg']}") from exc
        if any(a.total is None and a.storage is None for a in parsed):
            raise MessageError(f"params.{vid}: a warehouse without totalInventoryNum")
        stock[vid] = sum(a.total if a.total is not None else a.storage or 0 for a in parsed)
    if not stock:
        raise MessageError("params names no variant")
    return SupplierMessage(message.message_id, kind, message.message_type, stock=stock)
