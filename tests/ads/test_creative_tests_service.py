"""The creative tests' ledger protocol (services/creative_tests.py) on a real store database and an
in-memory platform: the loser's pause is claimed with its decision before the platform is asked, a
refused pause releases the claim, and a pause whose run died is made again and resolved."""

import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import TransientApiError
from dropship_pipelines.rules.ad_rules import AdPolicy
from dropship_pipelines.services import creative_tests as ct
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store import creative_test_queries as ct_q
from dropship_pipelines.store.ads_tables import (
    ad_actions,
    ad_campaigns,
    ad_variant_ads,
    ad_variant_metrics_daily,
    creative_tests,
)
from dropship_pipelines.store.database import get_engine

LOG = logging.getLogger(__name__)
POLICY = AdPolicy(creative_test_min_clicks=100, creative_test_min_purchases=5)
AS_OF = date(2026, 11, 10)


class Platform:
    """Records each ad pause and what the ledger said at that moment."""

    platform = "meta"

    def __init__(self, engine: Engine) -> None:
        self.engine, self.paused, self.test_at_write = engine, [], []
        self.fail: Exception | None = None

    def set_ad_active(self, ad_id: str, active: bool) -> None:
        with self.engine.connect() as conn:
            self.test_at_write.append(ct_q.tests(conn)[("P1", "meta")])
        if self.fail:
            raise self.fail
        self.paused.append((ad_id, active))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = get_engine(f"sqlite:///{tmp_path}/store.db")
    with engine.begin() as conn:
        conn.execute(
            ad_campaigns.insert().values(
                pid="P1", platform="meta", campaign_id="c1", adset_id="s1", ad_id="ad-a", state="active",
                daily_budget=Decimal("20"),
            )
        )  # fmt: skip
        for variant, purchases in (("a", 4), ("b", 30)):
            conn.execute(
                ad_variant_ads.insert().values(
                    pid="P1", platform="meta", variant=variant, campaign_id="c1", adset_id="s1",
                    ad_id=f"ad-{variant}", state="active",
                )
            )  # fmt: skip
            conn.execute(
                ad_variant_metrics_daily.insert().values(
                    day=AS_OF, platform="meta", ad_id=f"ad-{variant}", campaign_id="c1", spend=Decimal("40"),
                    impressions=9000, clicks=400, purchases=purchases, revenue=Decimal("0"),
                )
            )  # fmt: skip
        ct_q.start_test(conn, "P1", "meta", "c1")
    return engine


def decide(engine: Engine, platform: Platform, dry_run: bool = False) -> ct.CreativeTestsReport:
    return ct.decide_tests(
        engine, {"meta": platform}, POLICY, as_of=AS_OF, dry_run=dry_run, run_id="r1", log=LOG
    )


def rows(engine: Engine, table: sa.Table) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def test_the_pause_is_claimed_with_its_decision_before_the_platform_is_asked(engine: Engine) -> None:
    platform = Platform(engine)
    report = decide(engine, platform)
    assert platform.paused == [("ad-a", False)]
    at_write = platform.test_at_write[0]
    assert at_write["state"] == "pausing" and at_write["loser"] == "a" and at_write["action_id"]
    [test] = rows(engine, creative_tests)
    assert test["state"] == "decided" and test["winner"] == "b" and test["p_value"] < 0.05
    [action] = rows(engine, ad_actions)
    assert (action["action"], action["status"], action["id"]) == ("pause_ad", "applied", test["action_id"])
    assert action["inputs"]["a"]["purchases"] == 4 and action["inputs"]["b"]["clicks"] == 400
    assert {v["variant"]: v["state"] for v in rows(engine, ad_variant_ads)} == {"a": "paused", "b": "active"}
    assert report.decided[0]["loser"] == "a"
    # Decided: nothing more to do.
    assert decide(engine, platform).running == 0 and platform.paused == [("ad-a", False)]


def test_a_refused_pause_releases_the_claim(engine: Engine) -> None:
    platform = Platform(engine)
    platform.fail = TransientApiError("meta", "HTTP 503")
    report = decide(engine, platform)
    assert report.failures and not platform.paused
    [test] = rows(engine, creative_tests)
    assert test["state"] == "running" and test["loser"] is None
    [action] = rows(engine, ad_actions)
    assert action["status"] == "failed" and "503" in action["error"]
    platform.fail = None
    decide(engine, platform)
    assert platform.paused == [("ad-a", False)]
    assert rows(engine, creative_tests)[0]["state"] == "decided"


def test_a_pause_whose_run_died_is_made_again_and_resolved(engine: Engine) -> None:
    platform = Platform(engine)
    # A run claimed the pause and died before the platform answered.
    with engine.begin() as conn:
        assert ct_q.claim_test_decision(conn, "P1", "meta", {"winner": "b", "loser": "a"})
        stale = q.now() - q.LAUNCH_LEASE - timedelta(minutes=1)
        conn.execute(creative_tests.update().values(updated_at=stale))
    decide(engine, platform)
    assert platform.paused == [("ad-a", False)]
    [test] = rows(engine, creative_tests)
    assert test["state"] == "decided"
    assert {v["variant"]: v["state"] for v in rows(engine, ad_variant_ads)} == {"a": "paused", "b": "active"}


def test_a_dry_run_proposes_and_changes_nothing(engine: Engine) -> None:
    platform = Platform(engine)
    decide(engine, platform, dry_run=True)
    assert not platform.paused
    assert rows(engine, creative_tests)[0]["state"] == "running"
    assert [a["status"] for a in rows(engine, ad_actions)] == ["proposed"]
