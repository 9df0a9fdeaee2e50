"""Launches in flight together (services/ads.launch_campaigns): several products' chains run at once, each
still claimed in the store database before its first write and made in its own order."""

import logging
import threading
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.ad_platforms import AdText
from dropship_pipelines.rules.ad_rules import AdPolicy
from dropship_pipelines.services import ads
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings

PIDS = [f"P{i}" for i in range(1, 7)]
AT_ONCE = 3  # fewer than ads.LAUNCHES_IN_FLIGHT: the barrier opens only if this many launches overlap


class MeetingPlatform:
    """An ad platform in memory whose campaign create waits until `AT_ONCE` launches are in it together:
    launches made one after another break the barrier (after its timeout) instead of meeting there."""

    platform = "meta"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.barrier = threading.Barrier(AT_ONCE, timeout=30)
        self.lock = threading.Lock()
        self.calls: dict[str, list[str]] = {}
        self.claimed_before_write: list[bool] = []
        self.met = 0
        self.entered = 0

    def _write(self, call: str, name: str) -> str:
        pid = ads.pid_from_name(name) or name
        with self.engine.connect() as conn:
            claimed = q.ledger(conn).get((pid, self.platform))
        with self.lock:
            self.calls.setdefault(pid, []).append(call)
            self.claimed_before_write.append(claimed is not None and claimed["state"] == "pending")
        return f"{call}:{pid}"

    def create_campaign(self, name: str) -> str:
        with self.lock:  # the first few launches meet; the rest go on without waiting
            meets = self.entered < AT_ONCE
            self.entered += 1
        if meets:
            self.barrier.wait()
            with self.lock:
                self.met += 1
        return self._write("create_campaign", name)

    def create_adset(self, campaign_id: str, name: str, daily_budget: Decimal) -> str:
        return self._write("create_adset", name)

    def upload_video(self, path: Path, name: str) -> str:
        return self._write("upload_video", f"pid:{name.split('-')[0]}")

    def create_ad(self, adset_id: str, name: str, video_id: str, text: AdText) -> str:
        return self._write("create_ad", name)

    def set_campaign_active(self, campaign_id: str, active: bool) -> None:
        self._write("set_campaign_active", f"pid:{campaign_id.split(':')[1]}")

    def find_campaign(self, name: str) -> str | None:
        raise AssertionError("a first launch looks nothing up")

    find_adset = find_ad = find_campaign


def seed(engine: Engine) -> None:
    with engine.begin() as conn:
        for pid in PIDS:
            conn.execute(
                listings.insert().values(
                    pid=pid,
                    handle=pid.lower(),
                    status="listed",
                    title=pid,
                    price=Decimal("40"),
                    unit_cost=Decimal("14"),
                    shipping_cost=Decimal("4.84"),
                )
            )
            q.save_creative(
                conn,
                {
                    "pid": pid,
                    "content_hash": "h",
                    "status": "ok",
                    "headline": "Mount",
                    "hooks": ["Fast"],
                    "caption": "The mount that just works.",
                    "call_to_action": "SHOP_NOW",
                    "video_path": "/tmp/ad.mp4",
                    "video_fingerprint": "f" * 64,
                    "video_bytes": 1,
                    "render_seconds": 0.0,
                    "model": "test",
                    "attempts": 1,
                    "error": None,
                    "generated_at": q.now(),
                },
            )


def test_launches_of_several_products_are_in_flight_together_each_claimed_first(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    seed(engine)
    platform = MeetingPlatform(engine)
    report = ads.launch_campaigns(
        engine,
        {"meta": platform},  # type: ignore[dict-item]
        AdPolicy(),
        "https://shop.test/",
        max_launches=len(PIDS),
        max_attempts=3,
        log=logging.getLogger("test"),
    )
    assert not platform.barrier.broken and platform.met == AT_ONCE  # three launches were in it together
    assert sorted(r["pid"] for r in report.launched) == PIDS and not report.failures
    # Each launch's own chain stays in order, every write after its claim.
    chain = ["create_campaign", "create_adset", "upload_video", "create_ad", "set_campaign_active"]
    assert platform.calls == {pid: chain for pid in PIDS}
    assert all(platform.claimed_before_write)
    with engine.connect() as conn:
        assert {k: r["state"] for k, r in q.ledger(conn).items()} == {(p, "meta"): "active" for p in PIDS}
