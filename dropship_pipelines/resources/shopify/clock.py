"""The store's clock: "now" as Shopify sees it, from the `Date` header of its Admin API's answers.

Order timestamps (`createdAt`, refunds, scans the supplier reports) are the platforms' clock, so what is
measured against them (the order gate's cancellation buffer, a parcel's days without a scan) must be too.
Live, Shopify's clock is the wall clock within a second; in the sandbox it is the world's (which runs
ahead at `--speed` and starts wherever the world was made), and the ad accounts' reporting day is read the
same way (resources/ad_platforms.py `server_time`).

One cheap query (`shop { id }`, 1 point) per reading; a reading is reused for `max_age_s` of this
machine's time, so a run gating thousands of orders asks once a second at most.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from dropship_pipelines.resources.ad_platforms import server_time
from dropship_pipelines.resources.errors import (
    PayloadError,
    PermanentApiError,
    TransientApiError,
    raise_if_retryable,
)
from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.resources.shopify.client import API, ShopifyAdminResource, last_answer_time

PROBE = "{ shop { id } }"
PROBE_COST = 1.0  # what Shopify charges for it, requested and actual


def read_shop_time(shopify: ShopifyAdminResource, attempts: int = 5) -> datetime:
    """Shopify's clock now (a read: retried on throttles and transient failures)."""

    def attempt() -> datetime:
        # Paid from the shop's cost bucket mirror like every other call (PROBE_COST, a point): unbooked, a
        # run's probes left the mirror that many points above the server's bucket, and a page of orders
        # sent on the difference came back THROTTLED.
        bucket = shopify._bucket()
        reserved = bucket.reserve(PROBE_COST)
        try:
            response = shopify._http.client(shopify.timeout_s).post(
                shopify.endpoint,
                json={"query": PROBE},
                headers={"X-Shopify-Access-Token": shopify.access_token},
            )
        except httpx.TimeoutException as exc:
            raise TransientApiError(API, "clock probe timed out") from exc
        except httpx.TransportError:
            bucket.settle(reserved, 0.0)  # never reached Shopify's limiter
            raise
        if response.status_code != 200:
            bucket.settle(reserved, 0.0)
        if response.status_code == 401:
            raise PermanentApiError(API, "invalid access token; check SHOPIFY_ACCESS_TOKEN", code=401)
        raise_if_retryable(API, response, f"HTTP {response.status_code}")
        moment = server_time(response.headers.get_list("date"))
        if moment is None:
            raise PayloadError(API, "answer has no Date header: the store's clock is unknown")
        return moment.astimezone(UTC)

    return call_with_retries(attempt, max_attempts=attempts)


@dataclass
class ShopClock:
    """A callable `now()` on the store's clock, re-read from Shopify at most every `max_age_s` of machine
    time; between readings, the last reading plus the machine time since (a second at most: the Date
    header's own resolution)."""

    shopify: ShopifyAdminResource
    max_age_s: float = 1.0
    # Also the `Date` of the shop's answers to this process's other calls made since this clock was made
    # (each newer reading taken as it comes): a caller that has just called the store needs no probe.
    from_answers: bool = False
    _last: tuple[float, datetime] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _made: float = field(default_factory=time.monotonic, repr=False)

    def __call__(self) -> datetime:
        with self._lock:
            mono = time.monotonic()
            answered = last_answer_time(self.shopify.shop_url) if self.from_answers else None
            if answered is not None and answered[0] >= max(self._made, self._last[0] if self._last else 0):
                self._last = answered
            if self._last is None or mono - self._last[0] >= self.max_age_s:
                self._last = (mono, read_shop_time(self.shopify))
                return self._last[1]
            seen_at, moment = self._last
            return moment + timedelta(seconds=mono - seen_at)
