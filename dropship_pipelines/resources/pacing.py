"""Client-side pacing: calls spaced to an API's rate, so retries are not spent on its throttle."""

import threading
import time


class Pacer:
    """Spaces calls `1 / per_second` apart, across the threads of one process."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def pacer(key: str, per_second: float) -> Pacer:
    """The process-wide pacer for `key` (an API account); a changed rate replaces it."""
    with _pacers_lock:
        current = _pacers.get(key)
        if current is None or abs(current.interval - (1.0 / per_second if per_second > 0 else 0.0)) > 1e-9:
            current = _pacers[key] = Pacer(per_second)
        return current
