"""Fault injection and rate limiting shared by the API routers; each renders them in its own dialect."""

import threading
import time
from dataclasses import dataclass
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


def hang(world: World, api: str) -> None:
    """A timeout as the client sees it: no answer within its deadline."""
    time.sleep(world.faults(api).timeout_seconds)


@dataclass
class LeakyBucket:
    """A cost bucket refilled continuously (Shopify's GraphQL limiter; CJ's per-second QPS with size 1)."""

    capacity: float
    restore_rate: float
    available: float = -1.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        if self.available < 0:
            self.available = self.capacity
        self.updated_at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.capacity, self.available + (now - self.updated_at) * self.restore_rate)
        self.updated_at = now

    def take(self, cost: float) -> bool:
        with self._lock:
            self._refill()
            if cost > self.available:
                return False
            self.available -= cost
            return True

    def refund(self, amount: float) -> None:
        with self._lock:
            self.available = min(self.capacity, self.available + amount)

    def level(self) -> float:
        with self._lock:
            self._refill()
            return self.available
