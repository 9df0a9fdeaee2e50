"""A call that waited for an in-flight place gets no burst: the server held the calls before it and may
answer them together, each spending its bucket, so calls sent at once after them could find it empty."""

import threading

import pytest

from dropship_pipelines.resources.pacing import Pacer
from tests.resources.test_pacing import FakeClock


def test_a_call_that_waited_for_an_in_flight_place_leaves_one_interval_after_the_last() -> None:
    clock = FakeClock()
    paced = Pacer(4.0, burst=3, max_in_flight=1, clock=clock, sleep=clock.sleep)
    holding, answered = threading.Event(), threading.Event()
    sent_at: list[float] = []

    def first() -> None:
        with paced.sending():
            paced.wait()
            sent_at.append(clock.now)
            holding.set()
            answered.wait(5)

    def second() -> None:
        with paced.sending():  # waits for the first call's answer
            paced.wait()
            sent_at.append(clock.now)

    one = threading.Thread(target=first)
    one.start()
    holding.wait(5)
    two = threading.Thread(target=second)
    two.start()
    answered.set()
    one.join(5)
    two.join(5)
    # With the burst the second would leave at once; having waited, it keeps the interval.
    assert sent_at[1] - sent_at[0] == pytest.approx(0.25)


def test_an_idle_pacer_with_places_free_keeps_its_burst() -> None:
    clock = FakeClock()
    paced = Pacer(4.0, burst=3, max_in_flight=3, clock=clock, sleep=clock.sleep)
    sent_at = []
    for _ in range(4):
        with paced.sending():
            paced.wait()
            sent_at.append(clock.now)
    assert sent_at[:3] == [sent_at[0]] * 3 and sent_at[3] == pytest.approx(sent_at[0] + 0.25)


class LateClock(FakeClock):
    """Every sleep oversleeps by `late` seconds, as threads on a loaded machine do."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + (self.late if seconds > 0 else 0.0))


def test_a_late_wake_up_spends_none_of_the_burst() -> None:
    clock = LateClock(late=1.0)
    paced = Pacer(4.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        paced.wait()  # the burst: no sleep
    paced.wait()  # its slot is 0.25 s on; it wakes 1 s late
    woke = clock.now
    paced.wait()  # without the rule the schedule's credit would send this one at once
    assert clock.now >= woke + 0.25
