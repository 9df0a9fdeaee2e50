"""A helpdesk REST API shaped like Gorgias (docs/helpdesk-contract.md): tickets, messages, tags, status.

Basic auth (`email:api_key`), cursor pagination (`limit`, `cursor`, `order_by`; `meta.next_cursor`), a
leaky-bucket limit of 40 calls refilled at 2 per second answered with 429 + `Retry-After`, and every
outgoing reply counted at the source (`support_replies_sent` per ticket).
"""

import base64
import binascii
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import credentials
from dropship_sandbox.apis.pipeline import ApiError, ApiPolicy, Call, world_of
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
THROTTLED_HEADERS = {"Retry-After": "1", "X-Gorgias-Account-Api-Call-Limit": "40/40"}


class HelpdeskError(ApiError):
    def __init__(
        self,
        status: int,
        message: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.data, self.headers = status, message, data, headers or {}

    def response(self) -> JSONResponse:
        return _error(self.status, self.message, self.data, **self.headers)


def _error(status: int, message: str, data: dict[str, Any] | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"error": {"msg": message}}
    if data:
        body["error"]["data"] = data
    return JSONResponse(body, status_code=status, headers=headers)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


class HelpdeskApi(ApiPolicy[Call]):
    """Basic auth; the account's leaky bucket, reported on every answer and refused with 429 + Retry-After.

    Handlers return (HTTP status, body).
    """

    api = "helpdesk"

    def authenticate(self, world: World, request: Request, call: Call) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            raise HelpdeskError(401, "Unauthorized: missing Basic credentials (email:api_key)")
        try:
            user, _, key = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise HelpdeskError(401, "Unauthorized: malformed Basic credentials") from exc
        if user != credentials.HELPDESK_USERNAME or key != credentials.HELPDESK_API_KEY:
            raise HelpdeskError(401, "Unauthorized: invalid email or API key")

    def throttle(self, world: World, request: Request, call: Call) -> str:
        """The `X-Gorgias-Account-Api-Call-Limit` value from the account's leaky bucket."""
        if not world.faults(self.api).rate_limits:
            return f"1/{int(BUCKET_SIZE)}"
        bucket = world.rate_buckets.get(
            f"helpdesk:{world.settings.shop_domain}", BUCKET_SIZE, RESTORE_PER_SECOND
        )
        if not bucket.take(1):
            raise HelpdeskError(429, "Too many requests.", headers=THROTTLED_HEADERS)
        used = round(BUCKET_SIZE - bucket.level())
        return f"{min(used, int(BUCKET_SIZE))}/{int(BUCKET_SIZE)}"

    def server_error(self, world: World, call: Call) -> JSONResponse:
        return _error(503, "Service unavailable, please retry later.")

    def rate_limited(self, world: World, call: Call) -> JSONResponse:
        return _error(429, "Too many requests.", **THROTTLED_HEADERS)

    def lost_answer(self, world: World, call: Call) -> JSONResponse:
        return _error(502, "Bad Gateway")

    def answer(self, data: tuple[int, Any], grant: str, call: Call) -> JSONResponse:
        status, body = data
        return JSONResponse(body, status_code=status, headers={"X-Gorgias-Account-Api-Call-Limit": grant})


HELPDESK = HelpdeskApi()


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
async def list_tickets(request: Request) -> JSONResponse:
    def handle(world: World) -> tuple[int, Any]:
        rows = world.state.all(TICKET)
        if status := request.query_params.get("status"):
            rows = [r for r in rows if r["status"] == status]
        return 200, _page(request, _sorted(request, rows, "created_datetime:desc"), "/api/tickets/")

    return await HELPDESK.serve(request, Call(), handle)


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

    return await HELPDESK.serve(request, Call(is_write=True), handle)


@router.get("/api/tickets/{ticket_id}")
async def get_ticket(ticket_id: int, request: Request) -> JSONResponse:
    return await HELPDESK.serve(request, Call(), lambda world: (200, _public(_ticket(world, ticket_id))))


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

    return await HELPDESK.serve(request, Call(is_write=True), handle)


@router.get("/api/tickets/{ticket_id}/messages")
async def list_messages(ticket_id: int, request: Request) -> JSONResponse:
    def handle(world: World) -> tuple[int, Any]:
        ticket = _ticket(world, ticket_id)
        rows = [m for i in ticket.get("_messages", []) if (m := world.state.get(MESSAGE, str(i)))]
        rows = _sorted(request, rows, "created_datetime:asc")
        return 200, _page(request, rows, f"/api/tickets/{ticket_id}/messages/")

    return await HELPDESK.serve(request, Call(), handle)


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

    return await HELPDESK.serve(request, Call(is_write=True), handle)


@control.post("")
def set_helpdesk(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"daily_rate": 0.2}`: the chance that a customer writes about an order on a given day."""
    world = world_of(request)
    with world.lock, world.state:
        if "daily_rate" in body:
            world.state.set_meta(DAILY_RATE_META, str(float(body["daily_rate"])))
        return {"daily_rate": float(world.state.meta(DAILY_RATE_META, "0.08") or 0.08), "at": time.time()}
