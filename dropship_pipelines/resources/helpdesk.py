"""The store's helpdesk (Gorgias REST API, docs/helpdesk-contract.md): read tickets, reply, tag, close.

Basic auth `email:api_key`; cursor pagination; 429 + `Retry-After` on its leaky bucket (40 calls, 2/s),
honoured by the retries. A reply carries our idempotency marker in `external_id`; when a send fails in a
way that may have gone through (5xx, timeout), the ticket is checked for the marker before trying again.
"""

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dagster as dg
import httpx
from pydantic import PrivateAttr, ValidationError

from dropship_pipelines.resources.errors import (
    PayloadError,
    PermanentApiError,
    TransientApiError,
    raise_if_retryable,
)
from dropship_pipelines.resources.pacing import pacer
from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.resources.support_channel import Message, SentReply, Ticket
from dropship_pipelines.resources.write_gate import gate_write
from dropship_pipelines.rules.outgoing_reply import checked_text
from dropship_pipelines.rules.reply_context import ReplyContext

API = "helpdesk"
MAX_SEND_WAIT_S = 10.0  # between attempts at posting a reply: a customer waits on it


class HelpdeskResource(dg.ConfigurableResource):
    """Gorgias REST API (`https://{domain}.gorgias.com`), HTTP Basic with the account email and API key."""

    base_url: str = "https://your-store.gorgias.com"
    username: str
    api_key: str
    timeout_s: float = 20.0
    max_attempts: int = 6
    requests_per_second: float = 2.0  # the API-key leaky bucket refills at 2 calls per second
    page_size: int = 100

    _http: httpx.Client | None = PrivateAttr(default=None)
    _http_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _client(self) -> httpx.Client:
        """One pooled connection set per resource instance, opened on first use (in a run or not).

        No teardown hook: `process_config_and_initialize()`, how the dashboard builds the channel outside a
        run, refuses resources that have one; the pool closes with the instance."""
        with self._http_lock:
            if self._http is None or self._http.is_closed:
                self._http = httpx.Client(
                    base_url=self.base_url, timeout=self.timeout_s, auth=(self.username, self.api_key)
                )
            return self._http

    def _request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> dict[str, Any]:
        if method != "GET":  # replies, tags, status: shadow mode records them here instead
            shadowed = gate_write(API, f"{method} {path}", kwargs.get("json") or {})
            if shadowed is not None:  # a reply posted answers its message's id; a ticket update, nothing
                return {"id": shadowed.id("helpdesk.message")} if path.endswith("/messages") else {}

        def attempt() -> dict[str, Any]:
            # Calls spread at the refill rate, so a run never empties the bucket others share.
            pacer(f"{API}:{self.base_url}", self.requests_per_second).wait()
            try:
                response = self._client().request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise TransientApiError(API, f"{method} {path}: timed out after {self.timeout_s}s") from exc
            except httpx.TransportError as exc:
                raise TransientApiError(API, f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            if response.status_code == 401:
                raise PermanentApiError(
                    API, "unauthorized: check HELPDESK_USERNAME / HELPDESK_API_KEY", code=401
                )
            raise_if_retryable(API, response, f"{method} {path}: HTTP {response.status_code}")
            if response.status_code >= 400:
                raise PermanentApiError(
                    API,
                    f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}",
                    code=response.status_code,
                )
            try:
                return response.json()
            except ValueError as exc:
                raise PayloadError(API, f"{method} {path}: answer is not JSON") from exc

        return call_with_retries(attempt, max_attempts=self.max_attempts) if retry else attempt()

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        cursor: str | None = None
        while True:
            body = self._request(
                "GET",
                path,
                params={**params, "limit": self.page_size, **({"cursor": cursor} if cursor else {})},
            )
            if not isinstance(body.get("data"), list):
                raise PayloadError(API, f"GET {path}: no data list")
            yield body["data"]
            cursor = (body.get("meta") or {}).get("next_cursor")
            if not cursor:
                return

    # --- reading -----------------------------------------------------------------------------------------
    def tickets_with_messages_since(self, since: datetime | None) -> Iterator[Ticket]:
        """Tickets whose last customer message is at or after `since`, newest first (stops past it)."""
        for page in self._pages("/api/tickets", {"order_by": "last_received_message_datetime:desc"}):
            for raw in page:
                try:
                    ticket = Ticket.model_validate(raw)
                except ValidationError as exc:
                    raise PayloadError(API, f"ticket {raw.get('id')}: {exc.errors()[0]['msg']}") from exc
                received = ticket.last_received_message_datetime
                if since is not None and (received is None or received < since):
                    return
                yield ticket

    def newest_received_at(self) -> datetime | None:
        """When the newest customer message arrived (one cheap call: the sensor's probe)."""
        body = self._request(
            "GET", "/api/tickets", params={"order_by": "last_received_message_datetime:desc", "limit": 1}
        )
        data = body.get("data") or []
        return Ticket.model_validate(data[0]).last_received_message_datetime if data else None

    def messages(self, ticket_id: int | str) -> list[Message]:
        out = []
        for page in self._pages(f"/api/tickets/{ticket_id}/messages", {"order_by": "created_datetime:asc"}):
            for raw in page:
                try:
                    out.append(Message.model_validate(raw))
                except ValidationError as exc:
                    raise PayloadError(API, f"message {raw.get('id')}: {exc.errors()[0]['msg']}") from exc
        return out

    def find_reply(self, ticket_id: int | str, marker: str) -> Message | None:
        """Our outgoing message carrying `marker`, if the helpdesk has it."""
        return next((m for m in self.messages(ticket_id) if m.from_agent and m.external_id == marker), None)

    # --- writing -----------------------------------------------------------------------------------------
    def send_reply(
        self,
        ticket_id: int | str,
        *,
        marker: str,
        to_email: str,
        subject: str,
        body_text: str,
        context: ReplyContext,
    ) -> SentReply:
        """Post an outgoing email reply once. A failure that may have delivered is checked, not repeated.

        Only a text the last gate passes against `context` is posted (ReplyBlocked otherwise); its HTML
        part is the same plain text, escaped."""
        body_text = checked_text(body_text, context)
        payload = {
            "channel": "email",
            "via": "api",
            "from_agent": True,
            "external_id": marker,
            "receiver": {"email": to_email},
            "source": {"type": "email", "to": [{"address": to_email}]},
            "subject": subject,
            "body_text": body_text,
            "body_html": "".join(f"<p>{_escape(p)}</p>" for p in body_text.split("\n\n")),
        }

        def post_unless_there() -> SentReply:
            # Before every attempt, the first one included (a crashed run may have posted it): a 5xx or a
            # timeout may hide a reply that was delivered, so look before posting again.
            existing = self.find_reply(ticket_id, marker)
            if existing is not None:
                return SentReply(str(existing.id), recovered=True)
            body = self._request("POST", f"/api/tickets/{ticket_id}/messages", retry=False, json=payload)
            return SentReply(str(body["id"]), recovered=False)

        return call_with_retries(
            post_unless_there, max_attempts=self.max_attempts, max_wait_s=MAX_SEND_WAIT_S
        )

    def tag_and_set_status(self, ticket_id: int | str, tags: list[str], status: str | None = None) -> None:
        body: dict[str, Any] = {"tags": [{"name": t} for t in sorted(set(tags))]}
        if status:
            body["status"] = status
        self._request("PUT", f"/api/tickets/{ticket_id}", json=body)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
