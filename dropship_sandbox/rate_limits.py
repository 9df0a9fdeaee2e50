"""The rate limiters the simulated APIs enforce: leaky buckets, kept per world by name."""

import threading
import time
from dataclasses import dataclass


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


class RateBuckets:
    """One world's buckets by name (`"cj:/product/list"`, `"shopify:<shop>"`, ...).

    Held by the `World`, so two worlds in one process (tests run several in-thread servers) never share a
    quota. In memory, not in the state file: a quota is about the last few seconds, and a restarted
    server starting with full buckets is what a real API's window would give it too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, LeakyBucket] = {}

    def get(self, name: str, capacity: float, restore_rate: float) -> LeakyBucket:
        """The bucket `name`, full when new; a changed setting (`/_sandbox/settings`) starts it afresh."""
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None or (bucket.capacity, bucket.restore_rate) != (capacity, restore_rate):
                bucket = self._buckets[name] = LeakyBucket(capacity, restore_rate)
            return bucket
