"""A helpdesk REST API shaped like Gorgias (docs/helpdesk-contract.md): tickets, messages, tags, status.

Basic auth (`email:api_key`), cursor pagination (`limit`, `cursor`, `order_by`; `meta.next_cursor`), a
leaky-bucket limit of 40 calls refilled at 2 per second answered with 429 + `Retry-After`, and every
outgoing reply counted at the source (`support_replies_sent` per ticket).
"""

import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import credentials
from dropship_sandbox.faults import Fault, LeakyBucket, draw_fault, hang
from dropship_sandbox.support_messages import (
    CUSTOMER,
    DAILY_RATE_META,
    MESSAGE,
    SUPPORT_ADDRESS,
    TICKET,
    add_incoming,
    customer_for,
    iso,
)
from dropship_sandbox.world import World

router = APIRouter()
control = APIRouter(prefix="/_sandbox/helpdesk", tags=["sandbox control"])

BUCKET_SIZE = 40.0  # API-key integrations: 40 requests per 20 s window
RESTORE_PER_SECOND = 2.0
MAX_LIMIT = 100
ORDER_FIELDS = (
    "created_datetime",
    "updated_datetime",
    "last_message_datetime",
    "last_received_message_datetime",
)
_bucket: dict[str, LeakyBucket] = {}


class HelpdeskError(Exception):
    def __init__(self, status: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.data = status, message, data


def _error(status: int, message: str, data: dict[str, Any] | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"error": {"msg": message}}
    if data:
        body["error"]["data"] = data
    return JSONResponse(body, status_code=status, headers=headers)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _authenticate(request: Request) -> None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        raise HelpdeskError(401, "Unauthorized: missing Basic credentials (email:api_key)")
    try:
        user, _, key = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise HelpdeskError(401, "Unauthorized: malformed Basic credentials") from exc
    if user != credentials.HELPDESK_USERNAME or key != credentials.HELPDESK_API_KEY:
        raise HelpdeskError(401, "Unauthorized: invalid email or API key")


def _call_limit(world: World) -> tuple[bool, str]:
    """(allowed, `X-Gorgias-Account-Api-Call-Limit` value) from the account's leaky bucket."""
    if not world.faults("helpdesk").rate_limits:
        return True, f"1/{int(BUCKET_SIZE)}"
    bucket = _bucket.setdefault(world.settings.shop_domain, LeakyBucket(BUCKET_SIZE, RESTORE_PER_SECOND))
    allowed = bucket.take(1)
    used = round(BUCKET_SIZE - bucket.level())
    return allowed, f"{min(used, int(BUCKET_SIZE))}/{int(BUCKET_SIZE)}"


def run_helpdesk(
    request: Request, handler: Callable[[World], tuple[int, Any]], *, is_write: bool = False
) -> JSONResponse:
    """Every call: faults, auth, the rate limit, then the handler inside one state transaction."""
    world: World = request.app.state.world
    fault = draw_fault(world, "helpdesk", is_write)
    if fault is Fault.TIMEOUT:
        hang(world, "helpdesk")
    if fault is Fault.RATE_LIMIT:
        return _error(
            429, "Too many requests.", **{"Retry-After": "1", "X-Gorgias-Account-Api-Call-Limit": "40/40"}
        )
    if fault is Fault.ERROR:
        return _error(503, "Service unavailable, please retry later.")
    try:
        _authenticate(request)
    except HelpdeskError as error:
        return _error(error.status, error.message)
    allowed, limit_header = _call_limit(world)
    if not allowed:
        return _error(
            429, "Too many requests.", **{"Retry-After": "1", "X-Gorgias-Account-Api-Call-Limit": "40/40"}
        )
    world.advance()
    try:
        with world.lock, world.state:
            status, body = handler(world)
    except HelpdeskError as error:
        return _error(error.status, error.message, error.data)
    if fault is Fault.LOST_RESPONSE:
        return _error(502, "Bad Gateway")
    return JSONResponse(body, status_code=status, headers={"X-Gorgias-Account-Api-Call-Limit": limit_header})


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise HelpdeskError(400, "Request body must be a JSON object.")
    return body


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(["next", offset]).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        assert kind == "next" and isinstance(offset, int) and offset >= 0
    except (ValueError, AssertionError, TypeError, binascii.Error) as exc:
        raise HelpdeskError(400, "Invalid cursor.", {"cursor": ["Invalid value."]}) from exc
    return offset


def _page(request: Request, rows: list[dict[str, Any]], uri: str) -> dict[str, Any]:
    try:
        limit = int(request.query_params.get("limit", "30"))
    except ValueError as exc:
        raise HelpdeskError(400, "Invalid limit.", {"limit": ["Not a valid integer."]}) from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise HelpdeskError(400, "Invalid limit.", {"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    offset = _decode_cursor(request.query_params.get("cursor"))
    chunk = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return {
        "data": [_public(r) for r in chunk],
        "object": "list",
        "uri": uri,
        "meta": {
            "prev_cursor": base64.urlsafe_b64encode(json.dumps(["prev", offset]).encode()).decode()
            if offset
            else None,
            "next_cursor": _encode_cursor(offset + limit) if more else None,
        },
    }


def _sorted(request: Request, rows: list[dict[str, Any]], default: str) -> list[dict[str, Any]]:
    order_by = request.query_params.get("order_by", default)
    field, _, direction = order_by.partition(":")
    if field not in (*ORDER_FIELDS, "id") or direction not in ("", "asc", "desc"):
        raise HelpdeskError(
            400, "Invalid order_by.", {"order_by": [f"Must be one of {', '.join(ORDER_FIELDS)}."]}
        )
    return sorted(rows, key=lambda r: (str(r.get(field) or ""), r["id"]), reverse=direction == "desc")


def _ticket(world: World, ticket_id: int) -> dict[str, Any]:
    ticket = world.state.get(TICKET, str(ticket_id))
    if ticket is None:
        raise HelpdeskError(404, "Resource not found.")
    return ticket


@router.get("/api/tickets")
def list_tickets(request: Request) -> JSONResponse:
    def handle(world: World) -> tuple[int, Any]:
        rows = world.state.all(TICKET)
        if status := request.query_params.get("status"):
            rows = [r for r in rows if r["status"] == status]
        return 200, _page(request, _sorted(request, rows, "created_datetime:desc"), "/api/tickets/")

    return run_helpdesk(request, handle)


@router.post("/api/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    """A ticket with its first (incoming) message, as a contact form or an email integration creates it."""
    body = await _json(request)

    def handle(world: World) -> tuple[int, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise HelpdeskError(400, "A ticket needs at least one message.", {"messages": ["Required."]})
        first = messages[0]
        sender = first.get("sender") or {}
        if not sender.get("email") or not (first.get("body_text") or first.get("body_html")):
            raise HelpdeskError(400, "Message needs sender.email and a body.", {"messages": ["Invalid."]})
        customer = customer_for(
            world, str(sender["email"]), str(sender.get("firstname") or ""), str(sender.get("lastname") or "")
        )
        ticket, _ = add_incoming(
            world,
            customer=customer,
            subject=str(body.get("subject") or first.get("subject") or ""),
            body=str(first.get("body_text") or first.get("body_html")),
            at=world.now(),
            sim={
                "order": body.get("_sim_order"),
                "topic": body.get("_sim_topic"),
                "lang": body.get("language"),
            },
        )
        return 201, _public(ticket)

    return run_helpdesk(request, handle, is_write=True)


@router.get("/api/tickets/{ticket_id}")
def get_ticket(ticket_id: int, request: Request) -> JSONResponse:
    return run_helpdesk(request, lambda world: (200, _public(_ticket(world, ticket_id))))


@router.put("/api/tickets/{ticket_id}")
async def update_ticket(ticket_id: int, request: Request) -> JSONResponse:
    body = await _json(request)

    def handle(world: World) -> tuple[int, Any]:
        ticket = _ticket(world, ticket_id)
        unknown = set(body) - {"status", "tags", "subject", "assignee_user", "priority", "meta"}
        if unknown:
            raise HelpdeskError(400, "Unknown fields.", {k: ["Unknown field."] for k in sorted(unknown)})
        if "status" in body:
            if body["status"] not in ("open", "closed"):
                raise HelpdeskError(400, "Invalid status.", {"status": ["Must be open or closed."]})
            ticket["status"] = body["status"]
            ticket["closed_datetime"] = iso(world.now()) if body["status"] == "closed" else None
        if "tags" in body:
            tags = body["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, dict) and t.get("name") for t in tags):
                raise HelpdeskError(400, "Invalid tags.", {"tags": ["A list of {name} objects."]})
            ticket["tags"] = [{"name": str(t["name"])} for t in tags]
        for key in ("subject", "priority", "meta"):
            if key in body:
                ticket[key] = body[key]
        ticket["updated_datetime"] = iso(world.now())
        world.state.put(TICKET, str(ticket_id), ticket)
        return 200, _public(ticket)

    return run_helpdesk(request, handle, is_write=True)


@router.get("/api/tickets/{ticket_id}/messages")
def list_messages(ticket_id: int, request: Request) -> JSONResponse:
    def handle(world: World) -> tuple[int, Any]:
        ticket = _ticket(world, ticket_id)
        rows = [m for i in ticket.get("_messages", []) if (m := world.state.get(MESSAGE, str(i)))]
        rows = _sorted(request, rows, "created_datetime:asc")
        return 200, _page(request, rows, f"/api/tickets/{ticket_id}/messages/")

    return run_helpdesk(request, handle)


@router.post("/api/tickets/{ticket_id}/messages")
async def create_message(ticket_id: int, request: Request) -> JSONResponse:
    """An outgoing reply (sent to the customer), an internal note, or an imported incoming message."""
    body = await _json(request)

    def handle(world: World) -> tuple[int, Any]:
        ticket = _ticket(world, ticket_id)
        problems = {}
        if not (body.get("body_text") or body.get("body_html")):
            problems["body_text"] = ["body_text or body_html is required."]
        if not isinstance(body.get("from_agent"), bool):
            problems["from_agent"] = ["Required boolean."]
        if not body.get("channel"):
            problems["channel"] = ["Required."]
        if (
            body.get("from_agent")
            and body.get("channel") != "internal-note"
            and not ((body.get("receiver") or {}).get("email") or (body.get("source") or {}).get("to"))
        ):
            problems["receiver"] = ["An outgoing message needs a receiver or source.to."]
        if problems:
            raise HelpdeskError(400, "Invalid message.", problems)
        now = world.now()
        message_id = world.new_id("helpdesk_message", 900000)
        customer = world.state.get(CUSTOMER, str(ticket["customer"]["id"])) or ticket["customer"]
        message = {
            "id": message_id,
            "uri": f"/api/tickets/{ticket_id}/messages/{message_id}/",
            "message_id": f"<{message_id}@helpdesk.sandbox-store.example>",
            "ticket_id": ticket_id,
            "external_id": body.get("external_id"),
            "public": body.get("channel") != "internal-note",
            "channel": body["channel"],
            "via": body.get("via") or "api",
            "source": body.get("source")
            or {
                "type": body["channel"],
                "from": {"address": SUPPORT_ADDRESS},
                "to": [{"address": customer["email"]}],
            },
            "sender": body.get("sender") or {"email": credentials.HELPDESK_USERNAME},
            "receiver": body.get("receiver"),
            "from_agent": body["from_agent"],
            "subject": body.get("subject") or ticket.get("subject"),
            "body_text": body.get("body_text"),
            "body_html": body.get("body_html"),
            "created_datetime": iso(now),
            "sent_datetime": iso(now) if body["from_agent"] else body.get("sent_datetime"),
            "meta": body.get("meta"),
        }
        world.state.put(MESSAGE, str(message_id), message)
        ticket.update(
            updated_datetime=iso(now),
            messages_count=int(ticket.get("messages_count", 0)) + 1,
            _messages=[*ticket.get("_messages", []), message_id],
        )
        if message["public"]:
            ticket["last_message_datetime"] = iso(now)
        world.state.put(TICKET, str(ticket_id), ticket)
        if body["from_agent"] and message["public"]:
            world.state.audit_increment("support_replies_sent", str(ticket_id))
        return 201, _public(message)

    return run_helpdesk(request, handle, is_write=True)


@control.post("")
def set_helpdesk(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"daily_rate": 0.2}`: the chance that a customer writes about an order on a given day."""
    world: World = request.app.state.world
    with world.lock, world.state:
        if "daily_rate" in body:
            world.state.set_meta(DAILY_RATE_META, str(float(body["daily_rate"])))
        return {"daily_rate": float(world.state.meta(DAILY_RATE_META, "0.08") or 0.08), "at": time.time()}
