"""The ads ledger protocol (services/ads.py) against a real store database and an in-memory platform:
claims come before platform writes, a resumed launch finds what a crashed one created, the metrics asset's
weak-campaign count is the optimiser's own decision."""

import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dropship_pipelines.resources.ad_platforms import AdText
from dropship_pipelines.resources.errors import TransientApiError
from dropship_pipelines.rules.ad_metrics import CampaignDay
from dropship_pipelines.rules.ad_rules import AdPolicy, Decision
from dropship_pipelines.services import ads
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns, ad_metrics_daily
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings

AS_OF = date(2026, 11, 10)
PRODUCT = {"pid": "P1", "handle": "mount", "image_url": "https://img.test/1.jpg"}
CREATIVE = {
    "video_fingerprint": "f" * 64,
    "video_path": "/tmp/ad.mp4",
    "headline": "Never drop your phone",
    "caption": "The mount that just works.",
    "call_to_action": "SHOP_NOW",
}


class FakePlatform:
    """An ad platform in memory; `on_write` runs before each write (to look at the ledger at that moment)."""

    platform = "meta"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.objects: dict[str, str] = {}  # name -> id
        self.calls: list[str] = []
        self.ledger_at_write: list[dict[str, Any] | None] = []
        self.fail_writes: Exception | None = None

    def _write(self, call: str) -> None:
        self.calls.append(call)
        with self.engine.connect() as conn:
            self.ledger_at_write.append(q.ledger(conn).get(("P1", self.platform)))
        if self.fail_writes:
            raise self.fail_writes

    def _create(self, call: str, name: str) -> str:
        self._write(call)
        self.objects[name] = f"id-{len(self.objects) + 1}"
        return self.objects[name]

    def find_campaign(self, name: str) -> str | None:
        self.calls.append("find_campaign")
        return self.objects.get(name)

    def create_campaign(self, name: str) -> str:
        return self._create("create_campaign", name)

    def find_adset(self, campaign_id: str, name: str) -> str | None:
        self.calls.append("find_adset")
        return self.objects.get(name)

    def create_adset(self, campaign_id: str, name: str, daily_budget: Decimal) -> str:
        return self._create("create_adset", name)

    def upload_video(self, path: Path, name: str) -> str:
        return self._create("upload_video", name)

    def find_ad(self, adset_id: str, name: str) -> str | None:
        self.calls.append("find_ad")
        return self.objects.get(name)

    def create_ad(self, adset_id: str, name: str, video_id: str, text: AdText) -> str:
        return self._create("create_ad", name)

    def set_campaign_active(self, campaign_id: str, active: bool) -> None:
        self._write(f"set_campaign_active:{active}")

    def set_daily_budget(self, adset_id: str, daily_budget: Decimal) -> None:
        self._write(f"set_daily_budget:{daily_budget}")

    def campaign_days(self, since: date, until: date) -> list[CampaignDay]:
        return []


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return get_engine(f"sqlite:///{tmp_path}/store.db")


def ledger_row(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return q.ledger(conn)[("P1", "meta")]


def test_a_launch_claims_the_ledger_row_before_any_platform_write(engine: Engine) -> None:
    platform = FakePlatform(engine)
    row = ads.launch(platform, engine, PRODUCT, CREATIVE, None, Decimal("20"), "https://shop.test/")
    assert platform.calls == [
        "create_campaign",
        "create_adset",
        "upload_video",
        "create_ad",
        "set_campaign_active:True",
    ]  # a first launch has nothing to look up
    first = platform.ledger_at_write[0]
    assert first is not None and first["state"] == "pending" and first["attempts"] == 1
    assert first["campaign_name"] == "Sales pid:P1" and first["campaign_id"] is None
    # Each id is in the ledger before the next write; the campaign is switched on last.
    assert platform.ledger_at_write[1]["campaign_id"] == row["campaign_id"]
    assert platform.ledger_at_write[3]["video_id"] == row["video_id"]
    assert platform.ledger_at_write[4]["ad_id"] == row["ad_id"]
    assert ledger_row(engine)["state"] == "active"


def test_a_resumed_launch_finds_what_the_crashed_one_created(engine: Engine) -> None:
    platform = FakePlatform(engine)
    ads.launch(platform, engine, PRODUCT, CREATIVE, None, Decimal("20"), "https://shop.test/")
    # The run died after the platform created everything but before the ledger heard of it; its claim has
    # outlived the lease (a younger pending claim is a launch still in flight in some run).
    with engine.begin() as conn:
        lost = {"state": "pending", "campaign_id": None, "adset_id": None, "ad_id": None}
        lost["updated_at"] = q.now() - q.LAUNCH_LEASE - timedelta(minutes=1)
        conn.execute(sa.update(ad_campaigns).values(**lost))
        crashed = q.ledger(conn)[("P1", "meta")]
    created = dict(platform.objects)
    platform.calls.clear()
    row = ads.launch(platform, engine, PRODUCT, CREATIVE, crashed, Decimal("20"), "https://shop.test/")
    assert platform.calls == ["find_campaign", "find_adset", "find_ad", "set_campaign_active:True"]
    assert platform.objects == created  # nothing created twice
    assert ledger_row(engine)["attempts"] == 2 and row["campaign_id"] == created["Sales pid:P1"]


def seed_campaign(engine: Engine, state: str = "active", budget: str = "20") -> None:
    with engine.begin() as conn:
        conn.execute(
            ad_campaigns.insert().values(
                pid="P1",
                platform="meta",
                campaign_id="c1",
                adset_id="s1",
                state=state,
                daily_budget=Decimal(budget),
                attempts=1,
            )
        )


def seed_days(engine: Engine, spend: str, revenue: str, count: int) -> None:
    rows = [
        {
            "day": AS_OF - timedelta(days=ago),
            "platform": "meta",
            "campaign_id": "c1",
            "pid": "P1",
            "spend": Decimal(spend),
            "impressions": 1000,
            "clicks": 10,
            "purchases": 1,
            "revenue": Decimal(revenue),
        }
        for ago in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(ad_metrics_daily.insert(), rows)


def seed_listing(engine: Engine, status: str = "listed") -> None:
    """P1 at $40 from $14 + $4.84 shipping: after the $1.46 fee a 49 % margin, breakeven ROAS 2.03."""
    with engine.begin() as conn:
        conn.execute(
            listings.insert().values(
                pid="P1",
                handle="mount",
                status=status,
                title="Mount",
                price=Decimal("40"),
                unit_cost=Decimal("14"),
                shipping_cost=Decimal("4.84"),
            )
        )


POLICY = AdPolicy(learning_conversions=3, window_days=3)


@pytest.mark.parametrize(
    ("days", "spend", "revenue", "action"),
    [(5, "20", "10", "pause"), (2, "20", "10", "hold"), (5, "5", "0", "hold"), (5, "20", "80", "scale")],
)
def test_the_weak_count_is_the_optimisers_decision(
    engine: Engine, days: int, spend: str, revenue: str, action: str
) -> None:
    seed_listing(engine)
    seed_campaign(engine)
    seed_days(engine, spend, revenue, days)
    with engine.connect() as conn:
        judgement = ads.judge_campaigns(conn, POLICY)
    assert judgement.as_of == AS_OF
    [(_, decision)] = judgement.decisions
    assert decision.action == action, decision.reason
    assert decision.breakeven_roas == pytest.approx(2.03, abs=0.01)
    assert judgement.count("pause") == (1 if action == "pause" else 0)


def test_an_operators_pause_is_held_and_an_unpublished_products_ads_pause(engine: Engine) -> None:
    seed_listing(engine, status="unpublished")
    seed_campaign(engine)
    seed_days(engine, "20", "80", 5)
    with engine.connect() as conn:
        [(_, decision)] = ads.judge_campaigns(conn, POLICY).decisions
    assert decision.action == "pause" and "unpublished" in decision.reason
    with engine.begin() as conn:
        conn.execute(ad_campaigns.update().values(state="paused", paused_by="operator"))
        conn.execute(listings.update().values(status="listed"))
    with engine.connect() as conn:
        [(_, decision)] = ads.judge_campaigns(conn, POLICY).decisions
    assert decision.action == "hold" and "not by the rule" in decision.reason


def scale_decision() -> Decision:
    return Decision("scale", "pays back", Decimal("60"), Decimal("180"), 3, 3.0, Decimal("20"), Decimal("25"))


def action_record() -> dict[str, Any]:
    return {
        "decided_at": q.now(),
        "platform": "meta",
        "campaign_id": "c1",
        "pid": "P1",
        "action": "scale",
        "status": "pending",
        "reason": "pays back",
        "window_days": 3,
        "spend": Decimal("60"),
        "revenue": Decimal("180"),
        "purchases": 3,
        "roas": 3.0,
        "old_budget": Decimal("20"),
        "new_budget": Decimal("25"),
        "run_id": "r1",
    }


def actions(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(ad_actions))]


def test_a_budget_change_is_claimed_before_the_platform_is_asked(engine: Engine) -> None:
    seed_campaign(engine)
    platform = FakePlatform(engine)
    claimed: list[list[dict[str, Any]]] = []
    original = platform.set_daily_budget

    def set_daily_budget(adset_id: str, daily_budget: Decimal) -> None:
        claimed.append(actions(engine))
        original(adset_id, daily_budget)

    platform.set_daily_budget = set_daily_budget  # type: ignore[method-assign]
    record = action_record()
    ads.apply_decision(platform, engine, ledger_row(engine), scale_decision(), AS_OF, record)
    assert [a["status"] for a in claimed[0]] == ["pending"]
    assert [a["status"] for a in actions(engine)] == ["applied"] and record["status"] == "applied"
    row = ledger_row(engine)
    assert row["daily_budget"] == Decimal("25") and row["budget_changed_day"] == AS_OF


def test_a_failed_change_resolves_its_claim_and_leaves_the_ledger(engine: Engine) -> None:
    seed_campaign(engine)
    platform = FakePlatform(engine)
    platform.fail_writes = TransientApiError("meta", "HTTP 503")
    record = action_record()
    with pytest.raises(TransientApiError):
        ads.apply_decision(platform, engine, ledger_row(engine), scale_decision(), AS_OF, record)
    [failed] = actions(engine)
    assert failed["status"] == "failed" and "HTTP 503" in failed["error"] and record["status"] == "failed"
    assert ledger_row(engine)["daily_budget"] == Decimal("20")


def test_names_carry_the_product_id() -> None:
    assert ads.pid_from_name(ads.campaign_name("AB-12")) == "AB-12"
    assert ads.pid_from_name(ads.adset_name("X1")) == "X1" and ads.pid_from_name(ads.ad_name("X1")) == "X1"
    assert ads.pid_from_name("someone else's campaign") is None


def test_two_runs_that_judged_the_same_campaign_change_it_once(engine: Engine) -> None:
    seed_campaign(engine)
    platform = FakePlatform(engine)
    judged = ledger_row(engine)  # both runs read the campaign before either changed it
    first, second = action_record(), action_record()
    assert ads.apply_decision(platform, engine, dict(judged), scale_decision(), AS_OF, first)
    assert not ads.apply_decision(platform, engine, dict(judged), scale_decision(), AS_OF, second)
    assert [c for c in platform.calls if c.startswith("set_daily_budget")] == ["set_daily_budget:25"]
    assert [a["status"] for a in actions(engine)] == ["applied"] and second["status"] == "claimed_elsewhere"
    assert ledger_row(engine)["daily_budget"] == Decimal("25")


def test_a_second_launch_claim_of_a_product_loses(engine: Engine) -> None:
    platform = FakePlatform(engine)
    # Both runs found no ledger row; the first claims it and is still launching when the second tries.
    with engine.begin() as conn:
        row = {"pid": "P1", "platform": "meta", "state": "pending", "daily_budget": Decimal("20")}
        assert q.claim_launch(conn, row, None)
    assert ads.launch(platform, engine, PRODUCT, CREATIVE, None, Decimal("20"), "https://shop.test/") is None
    in_flight = ledger_row(engine)
    shop = "https://shop.test/"
    assert ads.launch(platform, engine, PRODUCT, CREATIVE, in_flight, Decimal("20"), shop) is None
    assert platform.calls == [] and ledger_row(engine)["attempts"] == 1


def test_a_change_whose_run_died_is_made_again_at_the_next_optimisation(engine: Engine) -> None:
    seed_campaign(engine)
    judged = ledger_row(engine)
    died_at = q.now() - q.LAUNCH_LEASE - timedelta(minutes=1)
    with engine.begin() as conn:  # the claim, then the run died before asking the platform
        assert q.claim_change(conn, judged, "scale", AS_OF, Decimal("25"))
        q.record_action(conn, {**action_record(), "decided_at": died_at})
    platform = FakePlatform(engine)
    assert ads.resolve_pending_changes(engine, {"meta": platform}, logging.getLogger("test")) == 1
    assert platform.calls == ["set_daily_budget:25.00"] and [a["status"] for a in actions(engine)] == [
        "applied"
    ]
