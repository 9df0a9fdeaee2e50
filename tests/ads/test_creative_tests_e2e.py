"""Creative tests end to end over the sandbox: a new product gets two video variants, launched once in its
ad set / ad group on each platform (a second launch makes no third ad); once the sandbox has delivered
enough, the loser is paused and the winner keeps running, the decision recorded with its inputs; two
overlapping optimiser runs and a later one pause nothing twice."""

import threading
from pathlib import Path

import dagster as dg
import pytest

from dropship_pipelines.store.ads_tables import (
    ad_actions,
    ad_campaigns,
    ad_creative_variants,
    ad_creatives,
    ad_variant_ads,
    ad_variant_metrics_daily,
    creative_tests,
)
from dropship_testkit.pipelines import build_ads_defs
from dropship_testkit.sandbox_server import RunningSandbox
from tests.ads import helpers as h
from tests.ads.test_margins_e2e import metrics_to_now

# The campaign rule holds (no kill, no scale) so only the creative test acts; a budget that buys a sample.
POLICY = {
    "meta_daily_budget": 100,
    "tiktok_daily_budget": 100,
    "min_spend": 100000,
    "learning_conversions": 100000,
    "learning_max_spend": 1000000,
    "creative_test_min_clicks": 150,
    "creative_test_min_purchases": 10,
    "creative_test_alpha": 0.05,
}


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


def sandbox_ads(sandbox: RunningSandbox, platform: str, adset_id: str) -> list[dict]:
    world = sandbox.world
    with world.lock, world.state:
        adset = world.state.get(f"{platform}_adset", adset_id)
        assert adset
        return [world.state.get(f"{platform}_ad", ad_id) for ad_id in adset["ad_ids"]]


def test_two_variants_per_product_and_the_loser_paused_once_significant(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    sandbox.control("POST", "/settings", {"pixel_match_rate": 1.0})
    defs = build_ads_defs(POLICY, media_dir)
    h.list_products(defs, 1)
    assert h.launch(defs).success
    # Two renders: the control and the price-first challenger, from the same copy.
    [control] = h.rows(store_url, ad_creatives)
    [challenger] = h.rows(store_url, ad_creative_variants)
    assert challenger["status"] == "ok" and challenger["opening"] == "price"
    assert challenger["video_fingerprint"] != control["video_fingerprint"]
    assert challenger["headline"] != control["headline"]
    # Both variants in the product's one ad set / ad group on each platform, launched once.
    assert h.launch(defs).success
    ledger = h.rows(store_url, ad_campaigns)
    assert {r["platform"] for r in ledger} == {"meta", "tiktok"}
    variants = {(v["platform"], v["variant"]): v for v in h.rows(store_url, ad_variant_ads)}
    assert set(variants) == {(p, v) for p in ("meta", "tiktok") for v in ("a", "b")}
    for row in ledger:
        ads = sandbox_ads(sandbox, row["platform"], row["adset_id"])
        assert [ad["id"] for ad in ads] == [
            variants[(row["platform"], "a")]["ad_id"],
            variants[(row["platform"], "b")]["ad_id"],
        ]
        assert all(ad["active"] for ad in ads)
    assert {t["state"] for t in h.rows(store_url, creative_tests)} == {"running"}

    # Before the sample: nothing is decided.
    sandbox.control("POST", "/clock", {"advance_seconds": 86400})
    metrics_to_now(defs, sandbox)
    assert h.optimise(defs).success
    assert not [a for a in h.rows(store_url, ad_actions) if a["action"] == "pause_ad"]

    # The sandbox delivers two weeks; each ad's numbers are pulled; two overlapping optimiser runs.
    sandbox.control("POST", "/clock", {"advance_seconds": 14 * 86400})
    metrics_to_now(defs, sandbox)
    assert {r["ad_id"] for r in h.rows(store_url, ad_variant_metrics_daily)} == {
        v["ad_id"] for v in variants.values()
    }
    results: list[dg.ExecuteInProcessResult] = []
    runs = [threading.Thread(target=lambda: results.append(h.optimise(defs))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert all(r.success for r in results)

    tests = {t["platform"]: t for t in h.rows(store_url, creative_tests)}
    pauses = [a for a in h.rows(store_url, ad_actions) if a["action"] == "pause_ad"]
    assert sorted(a["platform"] for a in pauses) == ["meta", "tiktok"]  # one per test, not one per run
    variants = {(v["platform"], v["variant"]): v for v in h.rows(store_url, ad_variant_ads)}
    for row in ledger:
        platform = row["platform"]
        test = tests[platform]
        assert test["state"] == "decided" and test["p_value"] < 0.05
        winner, loser = variants[(platform, test["winner"])], variants[(platform, test["loser"])]
        assert winner["state"] == "active" and loser["state"] == "paused"
        live = {ad["id"]: ad["active"] for ad in sandbox_ads(sandbox, platform, row["adset_id"])}
        assert live == {winner["ad_id"]: True, loser["ad_id"]: False}
        [action] = [a for a in pauses if a["platform"] == platform]
        assert action["status"] == "applied" and "creative test" in action["reason"]
        inputs = action["inputs"]
        assert inputs["loser"] == test["loser"] and inputs["p_value"] < inputs["alpha"] == 0.05
        for variant in ("a", "b"):
            assert (
                inputs[variant]["clicks"] >= 150
                and inputs[variant]["ad_id"] == variants[(platform, variant)]["ad_id"]
            )
        assert inputs[test["winner"]]["purchases_per_click"] > inputs[test["loser"]]["purchases_per_click"]
        # The campaign itself keeps running on the winner.
        assert row["state"] == "active"

    # The blocking check saw each decided test's loser paused and its winner running.
    checks = [
        c
        for r in results
        for c in r.get_asset_check_evaluations()
        if c.check_name == "creative_test_losers_paused"
    ]
    assert len(checks) == 2 and all(c.passed for c in checks)  # one per run
    # A later run pauses nothing again.
    assert h.optimise(defs).success
    assert len([a for a in h.rows(store_url, ad_actions) if a["action"] == "pause_ad"]) == 2


def test_two_overlapping_launches_make_each_variant_once(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    defs = build_ads_defs(POLICY, media_dir)
    h.list_products(defs, 1)
    # The creatives first (as the first run of the job would), then two launch runs at once.
    config = {"ops": {"ad_creatives": {"config": h.SMALL_VIDEO}}}
    made = defs.resolve_job_def("ad_launch_job").execute_in_process(
        run_config=config,
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey("ad_creatives")],
    )
    assert made.success
    results: list[dg.ExecuteInProcessResult] = []
    runs = [threading.Thread(target=lambda: results.append(h.launch(defs))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(results) == 2
    ledger = h.rows(store_url, ad_campaigns)
    assert sorted(r["platform"] for r in ledger) == ["meta", "tiktok"]
    variants = h.rows(store_url, ad_variant_ads)
    assert sorted((v["platform"], v["variant"]) for v in variants) == [
        ("meta", "a"),
        ("meta", "b"),
        ("tiktok", "a"),
        ("tiktok", "b"),
    ]
    for row in ledger:
        ads = sandbox_ads(sandbox, row["platform"], row["adset_id"])
        assert len(ads) == 2 and all(ad["active"] for ad in ads)
    # A later run (the sweep of live campaigns too) makes no third ad.
    assert h.launch(defs).success
    for row in ledger:
        assert len(sandbox_ads(sandbox, row["platform"], row["adset_id"])) == 2
