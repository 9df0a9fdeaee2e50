"""Work items in flight together, a bounded number at a time: how the services keep an API's limiter busy.

Each item's ledger claim stays inside its own work (claimed before its remote call), so running items side
by side changes when they happen, never what happens to each. The API clients pace every call to the
API's limits across threads, so the bound is about round trips, not about the limit."""

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
IN_FLIGHT = 4  # enough to cover one item's database writes and answers while the limiter sends the next


def each_in_flight(work: Callable[[T], None], items: Iterable[T], *, at_once: int = IN_FLIGHT) -> None:
    """`work` on every item, `at_once` at a time, in order of submission. An unexpected error (one the
    work does not handle itself) is raised after the items already submitted have run."""
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="in-flight") as pool:
        for future in [pool.submit(work, item) for item in items]:
            future.result()
