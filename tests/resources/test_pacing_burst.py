"""A pacer with a burst is a token bucket: full at the start, refilled at the ceiling, never over either."""

import itertools

import pytest

from dropship_pipelines.resources.pacing import Pacer, pacer
from tests.resources.test_pacing import FakeClock, most_in_any_window, send_times


def test_a_burst_goes_at_once_then_one_per_interval() -> None:
    clock = FakeClock()
    paced = Pacer(10.0, burst=5, clock=clock, sleep=clock.sleep)
    times = send_times(paced, clock, 55)
    assert times[:5] == [100.0] * 5  # a full bucket: the first five leave together
    assert [b - a for a, b in itertools.pairwise(times[4:])] == pytest.approx([0.1] * 50)
    # never more than the bucket plus what one second refills, in any second
    assert most_in_any_window(times, 1.0) <= 5 + 10
    # sustained: the documented rate, the burst only once
    assert times[-1] - times[0] == pytest.approx(50 * 0.1)


def test_an_idle_pacer_refills_its_burst_at_the_ceiling_and_no_further() -> None:
    clock = FakeClock()
    paced = Pacer(10.0, burst=5, clock=clock, sleep=clock.sleep)
    send_times(paced, clock, 20)
    clock.sleep(0.3)  # three calls' worth refilled
    start = clock.now
    times = send_times(paced, clock, 4)
    assert times[:3] == [start] * 3 and times[3] == pytest.approx(start + 0.1)
    clock.sleep(60.0)  # a long idle fills the bucket, never beyond its size
    start = clock.now
    times = send_times(paced, clock, 7)
    assert times[:5] == [start] * 5 and times[5] > start


def test_a_throttle_empties_the_burst() -> None:
    clock = FakeClock()
    paced = Pacer(10.0, burst=5, clock=clock, sleep=clock.sleep)
    paced.throttled(2.0)
    start = clock.now
    paced.wait()
    assert clock.now == pytest.approx(start + 2.0)  # held for the hint, whatever the burst
    paced.wait()
    assert clock.now - start > 2.0  # and no burst after it: the server's bucket is empty


def test_a_burst_below_one_call_is_refused_and_a_changed_burst_replaces_the_pacer() -> None:
    with pytest.raises(ValueError, match="burst"):
        Pacer(10.0, burst=0)
    first = pacer("test-burst:key", 10.0, burst=5)
    assert pacer("test-burst:key", 10.0, burst=5) is first
    assert pacer("test-burst:key", 10.0, burst=3).burst == 3
