"""Client-side pacing up to an API's documented limit, adapted to the limit signals the API sends back.

Two shapes of limit, both shared by every thread and resource instance of a process (`pacer`, `cost_bucket`
by API account):

- `Pacer`, a request rate (CJ's QPS per endpoint and per IP, TikTok's QPS, Meta's call rate). Calls are
  spaced `1 / rate` apart, so a server-side bucket of that rate never runs dry. With a `burst` it is a
  token bucket of that many calls, full at the start, refilled at the rate: an idle client's first calls
  go at once (as the server's own bucket takes them), then one per interval. A burst is set below the
  server's bucket, so what is left there absorbs calls that arrive bunched after leaving evenly.
  The rate starts at the documented ceiling and is never set above it; a throttle answer halves it and
  pauses for the API's hint, a usage report near the quota (Meta's `X-Business-Use-Case-Usage`,
  `X-App-Usage`) slows it in proportion, and every call answered without either wins back a share of the
  ceiling. `max_in_flight` bounds the calls sent and not yet answered: a server that stalls and then
  serves its queue at once would otherwise see a burst of them, however evenly they were sent.
- `CostBucket`, a calculated-cost leaky bucket (Shopify's GraphQL limiter): a mirror of the server's
  bucket. A call reserves its requested cost before it is sent and waits until the mirror holds it; the
  unused points come back when the answer says what was charged. A `throttleStatus` lowers the mirror
  only when even its most favourable reading (measured as the call was sent, restored since) is below
  the mirror: then someone else spends from the bucket. Read as of its arrival instead, every report
  would throw away the points restored during its round trip.

Both take a clock and a sleep, so the tests drive them with a fake clock.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

Clock = Callable[[], float]
Sleep = Callable[[float], None]

USAGE_SLOWDOWN_FROM = 0.75  # share of a reported quota from which calls slow down (Meta's own advice)
RECOVERY_CALLS = 20  # calls answered cleanly that win back the ceiling after a halving
MIN_SHARE = 0.05  # the slowest a pacer goes, as a share of its ceiling
LATE_S = 0.05  # a call that leaves this much after its slot was held up (by the machine, not the pacer)
SLACK_S = 0.01  # a cost reservation waits this much longer: the server's clock and rounding are not ours


class Pacer:
    """Spaces calls at most `ceiling` per second, slower while the API signals that its quota is tight."""

    def __init__(
        self,
        ceiling: float,
        *,
        burst: float = 1.0,
        max_in_flight: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError(f"a pacer's burst is at least one call, not {burst}")
        self.ceiling = ceiling
        self.burst = burst
        # How far ahead of now the bucket's schedule may run: (burst - 1) calls at the ceiling, fixed, so a
        # slowed rate refills the same time span with fewer calls and never sends more than the burst.
        self._tolerance = (burst - 1) / ceiling if ceiling > 0 else 0.0
        self.max_in_flight = max_in_flight
        self.rate = ceiling
        self._in_flight = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None
        self._waited = threading.local()  # this thread's call waited for an in-flight place
        self._clock, self._sleep = clock, sleep
        self._next = 0.0  # the schedule's end (GCRA): a call goes at most `_tolerance` before it
        self._usage_share = 1.0  # the rate the last usage report allows, as a share of the ceiling
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        return 1.0 / self.rate if self.rate > 0 else 0.0

    def wait(self) -> None:
        """Block until this call's slot; slots are handed out in order, one interval apart once the burst
        is spent (a burst of 1: always one interval apart)."""
        if self.ceiling <= 0:
            return  # unpaced
        # A call that waited for an in-flight place gets no burst: the server held the calls before it
        # and may answer them at once, each spending its bucket, while the schedule fell behind.
        backlogged = getattr(self._waited, "flag", False)
        self._waited.flag = False
        with self._lock:
            now = self._clock()
            slot = max(now, self._next - (0.0 if backlogged else self._tolerance))
            self._next = max(self._next, now) + self.interval
        if slot > now:
            self._sleep(slot - now)
            woke = self._clock()
            if woke - slot > LATE_S and self._tolerance:
                # Woken late (a loaded machine): the calls given slots before this one are leaving late
                # too, together, so the schedule's idle credit is not real: the next call goes one
                # interval after this one, as from an empty bucket.
                with self._lock:
                    self._next = max(self._next, woke + self._tolerance + self.interval)

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """Around one call, from before its `wait` until its answer: holds one of the in-flight places."""
        if self._in_flight is None:
            yield
            return
        if not self._in_flight.acquire(blocking=False):
            self._in_flight.acquire()
            self._waited.flag = True  # read by this thread's `wait` inside the block
        try:
            yield
        finally:
            self._waited.flag = False
            self._in_flight.release()

    def succeeded(self) -> None:
        """A call answered without a throttle: win back part of the ceiling (up to what usage allows)."""
        with self._lock:
            allowed = self.ceiling * self._usage_share
            self.rate = min(allowed, self.rate + self.ceiling / RECOVERY_CALLS)

    def throttled(self, retry_after_s: float | None = None) -> None:
        """The API refused a call for its rate: halve the rate and keep every call back for its hint."""
        with self._lock:
            self.rate = max(self.ceiling * MIN_SHARE, self.rate / 2)
            pause = retry_after_s if retry_after_s is not None else self.interval
            # The server's bucket is empty: the next call after the pause, the burst refilling from then.
            self._next = max(self._next, self._clock() + pause + self._tolerance)

    def usage(self, used_share: float, regain_s: float | None = None) -> None:
        """The API reported `used_share` (0..1) of its quota used: from `USAGE_SLOWDOWN_FROM` on, the rate
        falls linearly to the minimum at 100 %; `regain_s` (blocked until then) holds every call back."""
        headroom = (1.0 - used_share) / (1.0 - USAGE_SLOWDOWN_FROM)
        share = min(1.0, max(MIN_SHARE, headroom))
        with self._lock:
            self._usage_share = share
            self.rate = min(self.rate, self.ceiling * share) if share < 1.0 else self.rate
            if regain_s:
                self._next = max(self._next, self._clock() + regain_s + self._tolerance)


class CostBucket:
    """A mirror of a calculated-cost leaky bucket: reserve a call's cost before sending it."""

    def __init__(
        self,
        capacity: float,
        restore_rate: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.capacity = capacity
        self.restore_rate = restore_rate
        self._clock, self._sleep = clock, sleep
        self._available = capacity
        self._at = clock()
        self._lock = threading.Lock()

    def _level(self, now: float) -> float:
        return min(self.capacity, self._available + (now - self._at) * self.restore_rate)

    def available(self) -> float:
        with self._lock:
            return self._level(self._clock())

    def now(self) -> float:
        """The mirror's clock: when a call is sent, for `observe`."""
        return self._clock()

    def reserve(self, cost: float) -> float:
        """Take `cost` points, waiting until the mirror holds them; returns the points reserved.
        Reservations are taken in arrival order: the level may go below zero, and each later caller
        waits for the points reserved before it too."""
        cost = min(cost, self.capacity)
        with self._lock:
            now = self._clock()
            level = self._level(now) - cost
            self._available, self._at = level, now
        if level < 0:
            self._sleep(-level / self.restore_rate + SLACK_S)
        return cost

    def settle(self, reserved: float, charged: float) -> None:
        """The answer said what was charged: the difference to the reservation goes back (or is taken,
        when the call cost more than was reserved). A refused call is charged nothing."""
        if reserved == charged:
            return
        with self._lock:
            now = self._clock()
            self._available, self._at = min(self.capacity, self._level(now) + reserved - charged), now

    def observe(
        self, capacity: float, available: float, restore_rate: float, sent_at: float | None = None
    ) -> None:
        """The server's `throttleStatus`, on the answer of a call sent at `sent_at` (the mirror's clock).

        Its size and rate are taken as they are. Its level was measured somewhere between the send and
        now; the mirror, which has spent every call in flight already, is lowered to it only when even
        the level restored since the send is below the mirror: then another client spends from it."""
        with self._lock:
            now = self._clock()
            level = min(self._level(now), capacity)
            favourable = available + (now - sent_at) * restore_rate if sent_at is not None else available
            if favourable < level:
                level = available
            self.capacity, self.restore_rate = capacity, restore_rate
            self._available, self._at = level, now


_pacers: dict[str, Pacer] = {}
_buckets: dict[str, CostBucket] = {}
_registry_lock = threading.Lock()


def pacer(key: str, ceiling: float, max_in_flight: int | None = None, burst: float = 1.0) -> Pacer:
    """The process-wide pacer for `key` (an API account and endpoint); a changed setting replaces it."""
    with _registry_lock:
        current = _pacers.get(key)
        wanted = (ceiling, max_in_flight, burst)
        if current is None or (current.ceiling, current.max_in_flight, current.burst) != wanted:
            current = _pacers[key] = Pacer(ceiling, burst=burst, max_in_flight=max_in_flight)
        return current


def cost_bucket(key: str, capacity: float, restore_rate: float) -> CostBucket:
    """The process-wide cost bucket mirror for `key` (a shop); sized by the first caller, then by the
    server's own reports."""
    with _registry_lock:
        current = _buckets.get(key)
        if current is None:
            current = _buckets[key] = CostBucket(capacity, restore_rate)
        return current
