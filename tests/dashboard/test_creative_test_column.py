"""The ads table shows each product's creative test: both variants' ads, their states and numbers, the
winner and the p-value once decided (a real SQLite store, the real API)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.store.ads_tables import (
    ad_campaigns,
    ad_variant_ads,
    ad_variant_metrics_daily,
    creative_tests,
)
from dropship_pipelines.store.database import get_engine
from tests.dashboard.seed import TOKEN
from tests.dashboard.test_api import BEARER, FakeLauncher


def test_the_campaigns_carry_their_creative_test(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    engine = get_engine(url)
    with engine.begin() as conn:
        for platform, campaign in (("meta", "c1"), ("tiktok", "t1")):
            conn.execute(
                ad_campaigns.insert().values(
                    pid="P1",
                    platform=platform,
                    campaign_id=campaign,
                    adset_id=f"{campaign}-set",
                    ad_id=f"{campaign}-a",
                    state="active",
                    daily_budget=Decimal("20"),
                )
            )
        for variant, state in (("a", "paused"), ("b", "active")):
            conn.execute(
                ad_variant_ads.insert().values(
                    pid="P1",
                    platform="meta",
                    variant=variant,
                    campaign_id="c1",
                    adset_id="c1-set",
                    ad_id=f"c1-{variant}",
                    state=state,
                )
            )
            conn.execute(
                ad_variant_metrics_daily.insert().values(
                    day=date(2026, 11, 5),
                    platform="meta",
                    ad_id=f"c1-{variant}",
                    campaign_id="c1",
                    spend=Decimal("50"),
                    impressions=5000,
                    clicks=400,
                    purchases=8 if variant == "a" else 30,
                    revenue=Decimal("0"),
                )
            )
        conn.execute(
            creative_tests.insert().values(
                pid="P1",
                platform="meta",
                campaign_id="c1",
                state="decided",
                winner="b",
                loser="a",
                p_value=0.0004,
            )
        )
    with TestClient(create_app(url, TOKEN, launcher=FakeLauncher())) as client:
        items = client.get("/api/ads/campaigns", headers=BEARER).json()["items"]
    by_platform = {c["platform"]: c for c in items}
    test = by_platform["meta"]["creative_test"]
    assert (test["state"], test["winner"], test["loser"], test["p_value"]) == ("decided", "b", "a", 0.0004)
    assert [(v["variant"], v["state"], v["clicks"], v["purchases"]) for v in test["variants"]] == [
        ("a", "paused", 400, 8),
        ("b", "active", 400, 30),
    ]
    assert by_platform["tiktok"]["creative_test"] is None
