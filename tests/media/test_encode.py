"""The frame prefetcher hands the encoder the plan's frames in order, computed ahead on helper threads."""

from __future__ import annotations

import threading

from dropship_pipelines.media import encode


class _CountingRender:
    """A stand-in frame renderer: frame ``i`` is ``bytes([i])``; records the threads it ran on."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def __call__(self, index: int) -> bytes:
        with self._lock:
            self.calls.append((index, threading.current_thread().name))
        return bytes([index])


def test_frames_come_back_in_order_and_are_computed_ahead() -> None:
    render = _CountingRender()
    got = [frame[0] for frame in encode.frames_in_order(render, 10, workers=2, depth=3)]
    assert got == list(range(10))
    assert sorted(index for index, _ in render.calls) == list(range(10))  # each once, none past the end
    assert all(name.startswith("video-ad-frame") for _, name in render.calls)


def test_stopping_early_computes_no_more_than_the_frames_in_flight() -> None:
    render = _CountingRender()
    frames = encode.frames_in_order(render, 100, workers=1, depth=3)
    assert next(frames) == bytes([0])
    frames.close()
    assert len(render.calls) <= 4
