"""The frame prefetcher hands moviepy the plan's frames in order, computed ahead on helper threads."""

from __future__ import annotations

import threading

import numpy as np

from dropship_pipelines.media import encode


class _CountingPlan:
    """A stand-in frame plan: frame ``t`` is filled with ``round(t * 10)``; records the threads it ran on."""

    duration = 1.0

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def frame(self, t: float) -> np.ndarray:
        with self._lock:
            self.calls.append((t, threading.current_thread().name))
        return np.full((2, 2, 3), round(t * 10), dtype=np.uint8)


def test_frames_come_back_in_order_and_are_computed_ahead() -> None:
    plan = _CountingPlan()
    frames = encode.PrefetchingFrames(plan, 10, workers=2, depth=3)  # type: ignore[arg-type]
    try:
        got = [int(frames(index / 10)[0, 0, 0]) for index in range(10)]
    finally:
        frames.close()
    assert got == list(range(10))
    computed = sorted(round(t * 10) for t, _ in plan.calls)
    assert computed == list(range(10))  # each frame exactly once, none past the end
    assert any(name.startswith("video-ad-frame") for _, name in plan.calls)


def test_a_time_off_the_frame_grid_is_computed_inline() -> None:
    plan = _CountingPlan()
    frames = encode.PrefetchingFrames(plan, 10, workers=1, depth=3)  # type: ignore[arg-type]
    try:
        assert int(frames(0.25)[0, 0, 0]) == 2
    finally:
        frames.close()
    assert plan.calls == [(0.25, threading.current_thread().name)]
