"""Work items in flight together, a bounded number at a time: how the services keep an API's limiter busy.

Each item's ledger claim stays inside its own work (claimed before its remote call), so running items side
by side changes when they happen, never what happens to each. The API clients pace every call to the
API's limits across threads, so the bound is about round trips, not about the limit."""

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
IN_FLIGHT = 4  # enough to cover one item's database writes and answers while the limiter sends the next


def each_in_flight(work: Callable[[T], None], items: Iterable[T], *, at_once: int = IN_FLIGHT) -> None:
    """`work` on every item, `at_once` at a time, in order of submission. An unexpected error (one the
    work does not handle itself) is raised after the items already submitted have run."""
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="in-flight") as pool:
        for future in [pool.submit(work, item) for item in items]:
            future.result()


class InFlight(Generic[T]):
    """`work` on items handed in one by one while the caller keeps producing them (a stage of a pipeline):
    `at_once` at a time, in order of submission. Leaving the block waits for every item submitted, so no
    item's work outlives the step; then an unexpected error of any item (or of the block) is raised."""

    def __init__(
        self, work: Callable[[T], None], *, at_once: int = IN_FLIGHT, max_waiting: int | None = None
    ) -> None:
        self._work = work
        self._pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="in-flight")
        self._futures: list[Future[None]] = []
        # `submit` blocks while this many items wait for a worker: a producer that shares a limit with the
        # work (the store read and the gate's queries both spend Shopify's bucket) stays only a little ahead.
        self._room = threading.Semaphore(at_once + max_waiting) if max_waiting is not None else None

    def submit(self, item: T) -> None:
        room = self._room
        if room is None:
            self._futures.append(self._pool.submit(self._work, item))
            return
        room.acquire()

        def work(item: T) -> None:
            try:
                self._work(item)
            finally:
                room.release()

        self._futures.append(self._pool.submit(work, item))

    def __enter__(self) -> "InFlight[T]":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)  # the block's own error, if any, is raised after this
        if exc_info[0] is None:
            for future in self._futures:
                future.result()
