"""The ads workflows end to end on the sandbox: launch, metrics backfill, optimisation, faults, resume."""

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dropship_pipelines.store import ads_queries
from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns, ad_creatives, ad_metrics_daily
from dropship_pipelines.store.database import get_engine
from dropship_sandbox import credentials
from dropship_testkit.pipelines import build_ads_defs
from dropship_testkit.sandbox_server import RunningSandbox
from tests.ads import helpers as h

# Out of learning after one conversion (or $50 without): the sandbox's few days judge every campaign.
POLICY = {"min_spend": 10, "learning_conversions": 1, "learning_max_spend": 50, "scale_multiple": 1.2}


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests of this module: the same products render once (videos are content-cached)."""
    return tmp_path_factory.mktemp("media")


def campaigns_created(sandbox: RunningSandbox) -> dict[str, int]:
    return sandbox.audit().get("campaigns_created", {})


@pytest.mark.system
def test_launch_metrics_and_optimisation(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    defs = build_ads_defs(POLICY, media_dir)
    h.list_products(defs, 3)
    # Both platforms throttle a third of the calls with their own signals (17/613/80004, 40100).
    sandbox.control("POST", "/faults/meta", {"rate_limit_rate": 0.3})
    sandbox.control("POST", "/faults/tiktok", {"rate_limit_rate": 0.3})
    result = h.launch(defs)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    creatives = h.rows(store_url, ad_creatives)
    assert len(creatives) == 3 and all(
        c["status"] == "ok" and Path(c["video_path"]).exists() for c in creatives
    )
    ledger = h.rows(store_url, ad_campaigns)
    assert len(ledger) == 6 and all(r["state"] == "active" and r["ad_id"] for r in ledger)
    audit = campaigns_created(sandbox)
    assert audit == {f"{r['platform']}:{r['pid']}": 1 for r in ledger}

    # Running again changes nothing: no second campaign, no new LLM call, no new render.
    llm_calls = sum(sandbox.audit()["llm_calls"].values())
    assert h.launch(defs).success
    assert campaigns_created(sandbox) == audit
    assert sum(sandbox.audit()["llm_calls"].values()) == llm_calls

    sandbox.control("POST", "/faults/meta", {"reset": True})
    sandbox.control("POST", "/faults/tiktok", {"reset": True})
    sandbox.control("POST", "/clock", {"advance_seconds": 5 * 86400})
    metrics = h.metrics(defs, "2026-11-01", "2026-11-06")
    assert metrics.success
    first = h.rows(store_url, ad_metrics_daily)
    assert {(r["platform"], r["campaign_id"]) for r in first} == {
        (r["platform"], r["campaign_id"]) for r in ledger
    }
    assert all(r["pid"] for r in first) and all(r["clicks"] <= r["impressions"] for r in first)
    rerun = h.metrics(defs, "2026-11-01", "2026-11-06")
    assert rerun.success  # a re-run replaces, never duplicates
    [*_, latest] = rerun.get_asset_materialization_events()
    weak = latest.materialization.metadata["below_kill_threshold"].value
    assert len(h.rows(store_url, ad_metrics_daily)) == len(first)
    # Ad purchases became store orders with their source.
    assert any(k for k in sandbox.audit().get("orders_placed", {}))

    assert h.optimise(defs, dry_run=True).success
    proposed = h.rows(store_url, ad_actions)
    assert proposed and all(a["status"] == "proposed" for a in proposed)
    # The weak-ads sensor's count is the optimiser's own decision, not a copy of the kill rule.
    assert weak == sum(1 for a in proposed if a["action"] == "pause")
    assert all(r["state"] == "active" for r in h.rows(store_url, ad_campaigns))  # a dry run changes nothing

    result = h.optimise(defs)
    assert result.success and all(check.passed for check in result.get_asset_check_evaluations())
    applied = [a for a in h.rows(store_url, ad_actions) if a["status"] == "applied"]
    assert [(a["campaign_id"], a["action"]) for a in applied] == [
        (a["campaign_id"], a["action"]) for a in proposed
    ]
    ledger = {r["campaign_id"]: r for r in h.rows(store_url, ad_campaigns)}
    world = sandbox.world
    for action in applied:
        assert action["reason"] and action["spend"] >= 10
        row = ledger[action["campaign_id"]]
        with world.lock, world.state:
            campaign = world.state.get(f"{row['platform']}_campaign", row["campaign_id"])
            adset = world.state.get(f"{row['platform']}_adset", row["adset_id"])
        if action["action"] == "pause":
            assert action["roas"] < action["breakeven_roas"] and row["state"] == "paused"
            assert not campaign["active"] and row["paused_by"] == "rule"
        else:
            assert (
                action["roas"] >= 1.2 * action["breakeven_roas"]
                and row["daily_budget"] == action["new_budget"]
            )
            assert adset["budget"] == float(action["new_budget"])
    # Within the cool-down and with the paused ones paused, a second pass does nothing new.
    assert h.optimise(defs).success
    assert len(h.rows(store_url, ad_actions)) == len(proposed) + len(applied)


def test_expired_tokens_lost_answers_and_resume(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    defs = build_ads_defs(POLICY, media_dir)
    h.list_products(defs, 2)
    sandbox.control("POST", "/faults/meta", {"expire_tokens": True})
    result = h.launch(defs)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error.message)
    assert "META_ACCESS_TOKEN" in message and credentials.META_ACCESS_TOKEN not in message
    ledger = h.rows(store_url, ad_campaigns)
    assert {r["state"] for r in ledger if r["platform"] == "tiktok"} == {"active"}
    assert {r["state"] for r in ledger if r["platform"] == "meta"} == {"failed"}
    assert not any(k.startswith("meta:") for k in campaigns_created(sandbox))

    # The token is renewed; now writes take effect but their answers get lost, and 5xx happen.
    sandbox.control("POST", "/faults/meta", {"reset": True, "lost_response_rate": 0.3, "error_rate": 0.1})
    sandbox.control("POST", "/faults/tiktok", {"lost_response_rate": 0.3, "error_rate": 0.1})
    assert h.launch(defs).success
    ledger = h.rows(store_url, ad_campaigns)
    assert len(ledger) == 4 and all(r["state"] == "active" for r in ledger)
    assert campaigns_created(sandbox) == {f"{r['platform']}:{r['pid']}": 1 for r in ledger}

    # A run killed after the platform created a campaign but before the ledger heard of it (and longer ago
    # than the launch lease): the next run finds the campaign by its name instead of creating a second one.
    sandbox.control("POST", "/faults/meta", {"reset": True})
    sandbox.control("POST", "/faults/tiktok", {"reset": True})
    before = {(r["pid"], r["platform"]): r["campaign_id"] for r in ledger}
    died_at = ads_queries.now() - ads_queries.LAUNCH_LEASE - timedelta(minutes=1)
    with get_engine(store_url).begin() as conn:
        conn.execute(
            sa.update(ad_campaigns).values(
                state="pending", campaign_id=None, adset_id=None, ad_id=None, updated_at=died_at
            )
        )
    assert h.launch(defs).success
    after = {(r["pid"], r["platform"]): r["campaign_id"] for r in h.rows(store_url, ad_campaigns)}
    assert after == before
    assert all(count == 1 for count in campaigns_created(sandbox).values())

    # Reporting with a revoked TikTok token fails loudly, naming what to fix; Meta's days are still saved.
    sandbox.control("POST", "/clock", {"advance_seconds": 2 * 86400})
    sandbox.control("POST", "/faults/tiktok", {"expire_tokens": True})
    metrics = h.metrics(defs, "2026-11-01", "2026-11-03")
    assert not metrics.success
    failure = next(e for e in metrics.all_events if e.event_type_value == "STEP_FAILURE")
    assert "TIKTOK_ACCESS_TOKEN" in str(failure.event_specific_data.error.message)
    assert {r["platform"] for r in h.rows(store_url, ad_metrics_daily)} == {"meta"}
