"""The simulated world behind every sandbox API: a lazy clock, seeded randomness and fault switches.

Deterministic in time, not in call order: events are drawn per entity per time bucket from an RNG seeded
by (world seed, entity, bucket), so asking twice or asking later yields the same world. The clock is
lazy: `sim_now = sim_start + (real_now - real_start) * speed`, and every request first advances the
registered simulators up to `sim_now`; no background loop is needed.
"""

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from dropship_sandbox.rate_limits import RateBuckets
from dropship_sandbox.state import StateFile

API_NAMES = ("cj", "shopify", "openai", "meta", "tiktok", "helpdesk")
DEFAULT_SIM_START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class ApiFaults:
    """Faults a real API produces, switchable per API. All off by default (the demo runs clean)."""

    error_rate: float = 0.0  # share of requests answered with the API's own 5xx / system-busy body
    rate_limit_rate: float = 0.0  # share of requests answered with the API's own rate-limit signal
    timeout_rate: float = 0.0  # share of requests that hang for `timeout_seconds` before answering
    lost_response_rate: float = 0.0  # share of writes that take effect but whose answer is a 5xx
    timeout_seconds: float = 3.0
    expire_tokens: bool = False  # one-shot: every token issued before the switch is expired
    rate_limits: bool = True  # enforce the API's real quotas (Shopify cost bucket, CJ QPS, ...)

    def any_random(self) -> bool:
        return any((self.error_rate, self.rate_limit_rate, self.timeout_rate, self.lost_response_rate))


@dataclass
class LlmBehaviour:
    """How the sandbox LLM misbehaves, for tests: a share of answers is replaced by `mode`."""

    mode: str = "good"  # good | invalid_json | empty | off_topic | hallucinate | obey_injection | refusal
    rate: float = 0.0  # share of answers affected (1.0 = every answer)
    # Customer service (dropship_sandbox/llm/support.py): how often the intent classifier is right, the
    # share of reply drafts that are unsafe, and how often a retry after a rejection repeats the content.
    intent_accuracy: float = 0.9
    unsafe_rate: float = 0.0
    retry_repeat_rate: float = 0.5


class Simulator(Protocol):
    """A part of the world that moves with the clock (orders, supplier shipping, ad delivery, ...)."""

    name: str

    def advance(self, world: "World", start: datetime, end: datetime) -> None:
        """Generate everything that happens in [start, end). Must be deterministic per time bucket."""


def default_shipping_zones() -> list[dict[str, Any]]:
    """The store's shipping settings (its one delivery profile's zones and rates): $4.99 under $35 and
    free from $35 at home, a flat rate abroad. A rate's `min_total` / `max_total` are its order-price
    conditions (Shopify's GREATER_THAN_OR_EQUAL_TO / LESS_THAN_OR_EQUAL_TO); countries "*" is the rest of
    the world. Settings `shopify_shipping_zones: null` is a store without a delivery profile."""
    return [
        {
            "name": "Domestic",
            "countries": ["US"],
            "rates": [
                {"name": "Standard", "price": "4.99", "max_total": "34.99"},
                {"name": "Free shipping", "price": "0.00", "min_total": "35.00"},
            ],
        },
        {"name": "Rest of world", "countries": ["*"], "rates": [{"name": "International", "price": "14.99"}]},
    ]


@dataclass
class WorldSettings:
    seed: int = 42
    speed: float = 1.0
    catalog_size: int = 600
    shop_domain: str = "sandbox-store.myshopify.com"
    webhook_secret: str = "sandbox-webhook-secret"
    cj_level_qps: float = 4.0  # CJ "Prime / LV3": 4 requests per second per API
    cj_daily_quota: int = 0  # 0 = unlimited; set to test 1600201
    shopify_bucket: float = 2000.0  # Standard plan: 2,000 points, restored at 100/s
    shopify_restore_rate: float = 100.0
    # Scopes the app was granted; None grants every scope. A query needing another one gets ACCESS_DENIED.
    shopify_granted_scopes: list[str] | None = None
    shopify_shipping_zones: list[dict[str, Any]] | None = field(default_factory=default_shipping_zones)
    meta_regain_minutes: float = 0.0  # `estimated_time_to_regain_access` a Meta throttle reports (minutes)
    openai_insufficient_quota: bool = False  # every completion answers 429 `insufficient_quota`
    ad_pixels_removed: bool = False  # the Meta and TikTok pixels are gone (deleted in Events Manager)
    cj_balance: float = 100_000.0  # USD in the CJ wallet; paying an order above it answers 1604000
    # Shares of new orders Shopify assesses as high fraud risk / whose address fails its validation
    # (dropship_sandbox/order_risk.py). Off unless set: the store's gate holds such orders.
    order_risk_rate: float = 0.0
    invalid_address_rate: float = 0.0
    cj_intercept_orders: bool = False  # new CJ orders come back with `interceptOrderReasons`
    # Shares of orders the customer cancels within hours, the staff refunds, the cardholder charges back;
    # of paid CJ orders the supplier cancels or runs out of stock for (dropship_sandbox/order_aftermath.py,
    # REALISTIC_RATES there). Off unless set.
    customer_cancel_rate: float = 0.0
    store_refund_rate: float = 0.0
    chargeback_rate: float = 0.0
    supplier_cancel_rate: float = 0.0
    supplier_stockout_rate: float = 0.0
    cj_token_interval_s: float = 0.0  # getAccessToken may be called once per this many seconds (CJ: 300)
    # Share of ad purchases the platforms' browser pixels see (ad blockers, in-app browsers and iOS lose the
    # rest): the others reach the platforms only as the store's server events (dropship_sandbox.conversions).
    pixel_match_rate: float = 0.8
    faults: dict[str, ApiFaults] = field(default_factory=lambda: {name: ApiFaults() for name in API_NAMES})
    llm: LlmBehaviour = field(default_factory=LlmBehaviour)


def _settings_from_json(raw: dict[str, Any]) -> WorldSettings:
    faults = {name: ApiFaults(**raw.get("faults", {}).get(name, {})) for name in API_NAMES}
    llm = LlmBehaviour(**raw.get("llm", {}))
    known = {f.name for f in fields(WorldSettings)}  # a world saved by an older sandbox may hold retired ones
    plain = {k: v for k, v in raw.items() if k not in ("faults", "llm") and k in known}
    return WorldSettings(**plain, faults=faults, llm=llm)


class World:
    """One simulated world: state file + clock + settings + simulators + the APIs' rate buckets.

    Everything that changes while the world runs is held here (or in its state file), never in a module
    global, so that several worlds in one process stay apart.
    """

    def __init__(self, state_path: Path, settings: WorldSettings | None = None) -> None:
        self.state = StateFile(state_path)
        self.lock = threading.RLock()
        self.simulators: list[Simulator] = []
        self.rate_buckets = RateBuckets()
        self._request_counter = 0
        with self.state:
            stored = self.state.meta("settings")
            if stored is None or settings is not None:
                self.settings = settings or WorldSettings()
                self._save_settings()
            else:
                self.settings = _settings_from_json(json.loads(stored))
            if self.state.meta("sim_start") is None:
                self._rebase(DEFAULT_SIM_START, self.settings.speed)

    # --- settings -----------------------------------------------------------------------------------
    def _save_settings(self) -> None:
        self.state.set_meta("settings", json.dumps(asdict(self.settings)))

    def update_settings(self, change: Callable[[WorldSettings], None]) -> None:
        with self.lock, self.state:
            change(self.settings)
            self._save_settings()

    def faults(self, api: str) -> ApiFaults:
        return self.settings.faults[api]

    # --- clock --------------------------------------------------------------------------------------
    def _rebase(self, sim_now: datetime, speed: float) -> None:
        self.state.set_meta("sim_start", sim_now.isoformat())
        self.state.set_meta("real_start", repr(time.time()))
        self.settings.speed = speed
        self._save_settings()

    def now(self) -> datetime:
        sim_start = datetime.fromisoformat(self.state.meta("sim_start") or DEFAULT_SIM_START.isoformat())
        real_start = float(self.state.meta("real_start") or time.time())
        return sim_start + timedelta(seconds=(time.time() - real_start) * self.settings.speed)

    def set_clock(self, sim_now: datetime | None = None, speed: float | None = None) -> None:
        """Jump the clock forward (never back: the past already happened) and/or change its speed."""
        with self.lock, self.state:
            current = self.now()
            target = max(sim_now, current) if sim_now else current
            self._rebase(target, self.settings.speed if speed is None else speed)

    def advance(self) -> datetime:
        """Bring every simulator up to `sim_now`. Called at the start of each request."""
        with self.lock, self.state:
            now = self.now()
            for sim in self.simulators:
                key = f"advanced:{sim.name}"
                last = self.state.meta(key)
                start = datetime.fromisoformat(last) if last else DEFAULT_SIM_START
                if now > start:
                    sim.advance(self, start, now)
                    self.state.set_meta(key, now.isoformat())
            return now

    # --- randomness ---------------------------------------------------------------------------------
    def rng(self, *parts: object) -> random.Random:
        """An RNG fixed by (seed, parts): the same entity and bucket always draw the same events."""
        digest = hashlib.sha256(repr((self.settings.seed, *parts)).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def request_rng(self, api: str) -> random.Random:
        """Per-request randomness for fault injection: reproducible for the same request order."""
        self._request_counter += 1
        return self.rng("request", api, self._request_counter)

    def new_id(self, name: str, start: int = 1000) -> int:
        """Sequential numeric ids (Shopify-style GIDs, order numbers)."""
        return start + self.state.next_seq(f"id:{name}")


def revoked(world: World, api: str, token_record: dict[str, Any]) -> bool:
    """A token issued before the last `expire_tokens` switch is expired (the real APIs' 401 / code)."""
    cutoff = float(world.state.meta(f"tokens_revoked_at:{api}", "0") or 0)
    return float(token_record.get("issued_real", 0)) <= cutoff
