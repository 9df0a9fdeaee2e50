"""The pacers against a fake clock: never over the documented ceiling, and back at it after a throttle."""

import itertools
import threading

import pytest

from dropship_pipelines.resources.pacing import RECOVERY_CALLS, CostBucket, Pacer


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)


def send_times(pacer: Pacer, clock: FakeClock, calls: int) -> list[float]:
    """When each of `calls` sequential calls leaves, each answered cleanly."""
    times = []
    for _ in range(calls):
        pacer.wait()
        times.append(clock.now)
        pacer.succeeded()
    return times


def most_in_any_window(times: list[float], window: float) -> int:
    """The most calls in any half-open window of `window` seconds (a hair shorter, for float rounding)."""
    return max(sum(1 for t in times if start <= t < start + window - 1e-9) for start in times)


def test_a_pacer_runs_at_its_ceiling_and_never_over_it() -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    times = send_times(pacer, clock, 400)
    assert most_in_any_window(times, 1.0) <= 4
    assert min(b - a for a, b in itertools.pairwise(times)) == pytest.approx(0.25)
    # at the ceiling: 400 calls take 399 intervals, not more
    assert times[-1] - times[0] == pytest.approx(399 * 0.25)


def test_success_never_lifts_a_pacer_over_its_ceiling() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        pacer.succeeded()
    assert pacer.rate == 10.0
    times = send_times(pacer, clock, 200)
    assert most_in_any_window(times, 1.0) <= 10


def test_a_throttle_halves_the_rate_pauses_for_the_hint_and_the_rate_converges_back() -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    send_times(pacer, clock, 10)
    throttled_at = clock.now
    pacer.throttled(retry_after_s=1.0)
    assert pacer.rate == 2.0
    pacer.wait()
    assert clock.now >= throttled_at + 1.0  # held back for the API's hint
    times = send_times(pacer, clock, RECOVERY_CALLS + 50)
    assert pacer.rate == 4.0  # converged to the ceiling ...
    assert most_in_any_window(times, 1.0) <= 4  # ... and never over it on the way
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[-1] == pytest.approx(0.25)


def test_repeated_throttles_never_stop_the_pacer() -> None:
    pacer = Pacer(4.0)
    for _ in range(50):
        pacer.throttled(retry_after_s=0)
    assert pacer.rate > 0


def test_a_usage_report_near_the_quota_slows_down_and_a_low_one_lets_the_rate_recover() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.usage(0.5)
    assert pacer.rate == 10.0  # far from the quota: full speed
    pacer.usage(0.9)
    assert pacer.rate == pytest.approx(4.0)  # (1 - 0.9) / (1 - 0.75) of the ceiling
    for _ in range(100):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(4.0)  # success cannot climb over what the usage allows
    pacer.usage(0.2)
    send_times(pacer, clock, RECOVERY_CALLS)
    assert pacer.rate == 10.0


def test_a_regain_time_holds_every_call_back() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    pacer.usage(1.0, regain_s=60.0)
    pacer.wait()
    assert clock.now >= start + 60.0


def test_threads_share_one_pacer_without_exceeding_it() -> None:
    clock = FakeClock()
    pacer = Pacer(5.0, clock=clock, sleep=lambda s: None)  # slots are handed out, sleeping is skipped
    slots: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            with pacer._lock:
                slot = max(clock.now, pacer._next)
            pacer.wait()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The slots handed out (at a frozen clock) are one interval apart: 200 calls take 40 s at 5/s.
    assert pacer._next - 100.0 == pytest.approx(200 * 0.2)


# --- the cost bucket (Shopify's calculated query cost) ------------------------------------------------
class ServerBucket:
    """Shopify's limiter as the sandbox models it: requested cost taken up front, refunded to actual."""

    def __init__(self, clock: FakeClock, capacity: float, restore: float) -> None:
        self.clock, self.capacity, self.restore = clock, capacity, restore
        self.level, self.at = capacity, clock.now

    def _refill(self) -> None:
        self.level = min(self.capacity, self.level + (self.clock.now - self.at) * self.restore)
        self.at = self.clock.now

    def call(self, requested: float, actual: float) -> bool:
        self._refill()
        if requested > self.level:
            return False
        self.level -= actual
        return True


def test_the_cost_bucket_never_overdraws_the_server_and_converges_to_its_restore_rate() -> None:
    clock = FakeClock()
    server = ServerBucket(clock, capacity=2000, restore=100)
    mirror = CostBucket(2000, 100, clock=clock, sleep=clock.sleep)
    requested, actual = 250.0, 110.0
    start = clock.now
    for _ in range(300):
        reserved = mirror.reserve(requested)
        sent_at = mirror.now()
        assert server.call(requested, actual), "the mirror let a call through that the server throttles"
        clock.sleep(0.05)  # the answer's way back: the server restores meanwhile
        mirror.settle(reserved, actual)
        mirror.observe(server.capacity, server.level, server.restore, sent_at)
    elapsed = clock.now - start
    # After the head start, points flow at the restore rate: 300 x 110 points, 2000 of them free at start,
    # plus the last call's unrefunded reservation. The reports, 50 ms old when they arrive, cost nothing.
    floor = (300 * actual - 2000) / 100
    assert floor <= elapsed <= floor * 1.02 + (requested - actual) / 100


def test_the_cost_bucket_takes_a_lower_server_level_but_never_a_higher_one() -> None:
    clock = FakeClock()
    mirror = CostBucket(2000, 100, clock=clock, sleep=clock.sleep)
    mirror.reserve(500)
    sent_at = mirror.now()
    clock.sleep(0.2)
    # Even measured at the send and restored since (1,020), the server has less: another client spent.
    mirror.observe(2000, 1000, 100, sent_at)
    assert mirror.available() == pytest.approx(1000)
    mirror.observe(2000, 1800, 100, sent_at)  # more than the mirror: it knows more is in flight
    assert mirror.available() == pytest.approx(1000)


def test_a_report_measured_during_the_round_trip_does_not_lower_the_mirror() -> None:
    clock = FakeClock()
    mirror = CostBucket(2000, 100, clock=clock, sleep=clock.sleep)
    for _ in range(30):  # drained: every call waits for its points
        mirror.reserve(250)
    sent_at = mirror.now()
    level = mirror.available()
    clock.sleep(0.3)
    # The server measured on arrival, 0.3 s ago: 30 points lower than the mirror's level now.
    mirror.observe(2000, level, 100, sent_at)
    assert mirror.available() == pytest.approx(level + 30)


def test_the_cost_bucket_takes_the_shops_real_size() -> None:
    clock = FakeClock()
    mirror = CostBucket(2000, 100, clock=clock, sleep=clock.sleep)
    mirror.observe(1000, 900, 50)
    assert (mirror.capacity, mirror.restore_rate) == (1000, 50)
    clock.sleep(10)
    assert mirror.available() == pytest.approx(1000)  # refilled at the shop's rate, capped at its size


def test_max_in_flight_bounds_the_calls_sent_and_not_yet_answered() -> None:
    pacer = Pacer(1000.0, max_in_flight=2)
    in_flight, most = 0, 0
    lock = threading.Lock()
    release = threading.Event()

    def call() -> None:
        nonlocal in_flight, most
        with pacer.sending():
            pacer.wait()
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            release.wait(0.05)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2
