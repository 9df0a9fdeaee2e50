"""The faults a real API produces, drawn per request; each API's policy renders them in its own dialect."""

from enum import StrEnum

from dropship_sandbox.world import World


class Fault(StrEnum):
    ERROR = "error"  # the API's own 5xx / "system busy"
    RATE_LIMIT = "rate_limit"  # the API's own throttle signal
    TIMEOUT = "timeout"  # the answer comes too late for the client
    LOST_RESPONSE = "lost_response"  # the write happened; its answer is a 5xx


def draw_fault(world: World, api: str, is_write: bool) -> Fault | None:
    """Decide, reproducibly for the request order, whether this request fails and how."""
    faults = world.faults(api)
    if not faults.any_random():
        return None
    roll = world.request_rng(api).random()
    for fault, rate in (
        (Fault.RATE_LIMIT, faults.rate_limit_rate),
        (Fault.ERROR, faults.error_rate),
        (Fault.TIMEOUT, faults.timeout_rate),
        (Fault.LOST_RESPONSE, faults.lost_response_rate if is_write else 0.0),
    ):
        if roll < rate:
            return fault
        roll -= rate
    return None
