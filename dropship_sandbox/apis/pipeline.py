"""The one request pipeline every simulated API runs; each API's policy says only what it does differently.

A request that an endpoint has read goes through these steps, in this order (`ApiPolicy.serve`):

1. draw a fault, reproducibly for the request order. `TIMEOUT` answers late (then goes on); `ERROR` and
   `RATE_LIMIT` answer at once, in the API's own words (`server_error`, `rate_limited`);
2. advance the world's clock: the simulators catch up to `sim_now`;
3. lock the world and open one state transaction;
4. authenticate and 5. throttle (`admit`), against state the `World` holds: tokens, rate buckets, quotas;
6. run the endpoint's handler;
7. commit, then, for a `LOST_RESPONSE` fault, answer with the API's 5xx although the write took effect
   (`lost_answer`); otherwise `answer`.

The API's error (`ApiError`) raised in steps 4-6 rolls the transaction back and is answered as that API
answers it (`create_app` registers `answer_api_error`). APIs that refuse a bad key before they even read
the request (Shopify, OpenAI) check it in a router dependency instead of step 4.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dropship_sandbox.faults import Fault, draw_fault
from dropship_sandbox.world import World

Handler = Callable[[World], Any]


def world_of(request: Request) -> World:
    return request.app.state.world


class ApiError(Exception, ABC):
    """An error in one API's own dialect, raised anywhere in a request; `response` is what the API sends."""

    @abstractmethod
    def response(self) -> Response: ...


async def answer_api_error(request: Request, error: Exception) -> Response:
    """The app's handler for `ApiError`: the error renders itself."""
    assert isinstance(error, ApiError)
    return error.response()


@dataclass(frozen=True, kw_only=True)
class Call:
    """What the pipeline needs to know of one request; an API that needs more extends it."""

    is_write: bool = False  # only a write can lose its answer


CallT = TypeVar("CallT", bound=Call)


class ApiPolicy(ABC, Generic[CallT]):
    """One API's way at each step of the pipeline. `serve` is the pipeline; the rest is the API's dialect."""

    api: str  # the name its faults are switched under (`POST /_sandbox/faults/{api}`)

    # --- steps 4 and 5 -----------------------------------------------------------------------------
    def admit(self, world: World, request: Request, call: CallT) -> Any:
        """Who is calling, and may they call now? Returns the throttle's grant for `answer`."""
        self.authenticate(world, request, call)
        return self.throttle(world, request, call)

    def authenticate(self, world: World, request: Request, call: CallT) -> None:
        """Raise the API's error for a missing, wrong or expired credential (no-op: checked at the gate)."""

    def throttle(self, world: World, request: Request, call: CallT) -> Any:
        """Take the call from the world's rate buckets or raise the API's throttle error."""
        return None

    # --- the answers -------------------------------------------------------------------------------
    @abstractmethod
    def server_error(self, world: World, call: CallT) -> Response:
        """An injected `ERROR`: the API's own 5xx or "system busy"."""

    @abstractmethod
    def rate_limited(self, world: World, call: CallT) -> Response:
        """An injected `RATE_LIMIT`: the API's own throttle signal."""

    @abstractmethod
    def lost_answer(self, world: World, call: CallT) -> Response:
        """An injected `LOST_RESPONSE`: the write is committed, the client sees the gateway's 5xx."""

    @abstractmethod
    def answer(self, data: Any, grant: Any, call: CallT) -> Response:
        """The success answer for what the handler returned."""

    # --- the pipeline ------------------------------------------------------------------------------
    async def serve(self, request: Request, call: CallT, handle: Handler) -> Response:
        world = world_of(request)
        # On the event loop: the world's per-request fault counter is drawn from one thread, in order.
        fault = draw_fault(world, self.api, call.is_write)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(world.faults(self.api).timeout_seconds)
        if fault is Fault.ERROR:
            return self.server_error(world, call)
        if fault is Fault.RATE_LIMIT:
            return self.rate_limited(world, call)

        def run() -> tuple[Any, Any]:
            world.advance()
            with world.lock, world.state:
                grant = self.admit(world, request, call)
                return handle(world), grant

        # In a worker thread: waiting for the world's lock must not stall the server's event loop.
        data, grant = await run_in_threadpool(run)
        if fault is Fault.LOST_RESPONSE:
            return self.lost_answer(world, call)
        response = self.answer(data, grant, call)
        # A server's Date header is its clock, and the world's servers keep the world's: clients that need
        # "now" as the platform sees it (the ad accounts' reporting day) read it there, live or sandbox.
        response.headers["Date"] = format_datetime(world.now().astimezone(UTC), usegmt=True)
        return response


async def read_form(request: Request) -> tuple[dict[str, Any], bytes | None]:
    """A form's fields, and the bytes of its file part (the APIs' uploads carry one file)."""
    fields: dict[str, Any] = {}
    upload = None
    form = await request.form()
    for key, value in form.multi_items():
        if hasattr(value, "read"):
            upload = await value.read()
        else:
            fields[key] = value
    return fields, upload
