"""The preflight against the sandbox: all ready when it is, and with scopes, balance, pixels and credit
taken away every failure named with its fix; read-only throughout (the world records no side effect)."""

from decimal import Decimal

import dagster as dg
import pytest

from dropship_pipelines.assets.readiness.assets import run_checks
from dropship_pipelines.assets.readiness.defs import readiness_defs
from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.services.preflight import WEBHOOK_FIX, ready, render
from dropship_testkit.pipelines import build_defs, built_resources, subscribe_webhooks

BASE = "https://hooks.example-store.com"
# Counted at the source on every side effect; a token fetched and the one-token model call (the quota
# check) change nothing in the world.
NOT_WRITES = {"cj_token_requests", "cj_calls", "llm_calls"}


def _writes(sandbox) -> dict:
    return {k: v for k, v in sandbox.audit().items() if k not in NOT_WRITES}


def _by_check(rows) -> dict:
    return {(r.area, r.check): r for r in rows}


@pytest.fixture
def live_env(pipeline_env, monkeypatch):
    monkeypatch.setenv("WEBHOOK_BASE_URL", BASE)
    return pipeline_env


def test_preflight_job_against_the_sandbox_is_all_ready_and_writes_nothing(sandbox, store_url, live_env):
    subscribe_webhooks(store_url, BASE)  # what the start sensor's run does
    before = _writes(sandbox)
    job = build_defs(readiness_defs).resolve_job_def("preflight_job")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [materialization] = result.asset_materializations_for_node("preflight")
    metadata = materialization.metadata
    table = metadata["readiness"].value
    statuses = {(r.data["area"], r.data["check"]): r.data["status"] for r in table.records}
    assert set(statuses.values()) == {"ok"}, statuses
    for expected in [
        ("Shopify", "credentials"), ("Shopify", "API version"), ("Shopify", "access scopes"),
        ("Shopify", "webhook subscriptions"), ("CJ", "credentials"), ("CJ", "wallet balance"),
        ("CJ", "logistics US"), ("CJ", "logistics GB"), ("CJ", "logistics DE"), ("CJ", "webhook settings"),
        ("Meta", "ad account"), ("Meta", "pixel"), ("TikTok", "advertiser"), ("TikTok", "identity"),
        ("TikTok", "pixel"), ("OpenAI", "quota"), ("Support", "credentials"),
    ]:  # fmt: skip
        assert expected in statuses
    assert metadata["ready"].value is True and metadata["failed"].value == 0
    assert _writes(sandbox) == before  # read-only: nothing listed, ordered, sent or subscribed


def test_scopes_balance_pixels_and_credit_removed_each_fail_with_its_fix(sandbox, store_url, live_env):
    sandbox.control(
        "POST",
        "/settings",
        {
            "shopify_granted_scopes": ["read_products"],
            "cj_balance": 0,
            "ad_pixels_removed": True,
            "openai_insufficient_quota": True,
        },
    )
    rows = run_checks()
    checks = _by_check(rows)
    assert not ready(rows)
    scopes = checks[("Shopify", "access scopes")]
    assert (
        scopes.status == "fail"
        and "write_orders" in scopes.detail
        and "Admin API access scopes" in scopes.fix
    )
    balance = checks[("CJ", "wallet balance")]
    assert balance.status == "fail" and "USD 0.00" in balance.detail and "top up the CJ wallet" in balance.fix
    meta_pixel = checks[("Meta", "pixel")]
    assert meta_pixel.status == "fail" and "META_PIXEL_ID" in meta_pixel.fix
    tiktok_pixel = checks[("TikTok", "pixel")]
    assert tiktok_pixel.status == "fail" and "TIKTOK_PIXEL_ID" in tiktok_pixel.fix
    quota = checks[("OpenAI", "quota")]
    assert quota.status == "fail" and "insufficient_quota" in quota.detail and "Billing" in quota.fix
    hooks = checks[("Shopify", "webhook subscriptions")]  # nothing subscribed in this world yet
    assert hooks.status == "fail" and hooks.fix == WEBHOOK_FIX
    assert all(r.fix for r in rows if r.status != "ok")  # a fix for every failure
    assert checks[("Meta", "ad account")].status == "ok"  # the rest still checked


def test_a_missing_setting_is_a_failed_row_not_a_failed_run(sandbox, store_url, live_env, monkeypatch):
    monkeypatch.delenv("META_PIXEL_ID")
    monkeypatch.setenv("SHOPIFY_API_VERSION", "banana")
    monkeypatch.delenv("WEBHOOK_BASE_URL")
    checks = _by_check(run_checks())
    settings = checks[("Meta", "settings")]
    assert settings.status == "fail" and "META_PIXEL_ID" in settings.detail + settings.fix
    version = checks[("Shopify", "API version")]
    assert version.status == "fail" and "SHOPIFY_API_VERSION" in version.fix
    assert checks[("CJ", "webhook settings")].fix.startswith("WEBHOOK_BASE_URL is not set")
    assert checks[("TikTok", "pixel")].status == "ok"


def test_with_the_pixels_removed_the_platforms_refuse_ad_sets_too(sandbox, store_url, live_env):
    sandbox.control("POST", "/settings", {"ad_pixels_removed": True})
    with built_resources("meta_ads", "tiktok_ads") as built:
        for platform in (built.meta_ads, built.tiktok_ads):
            campaign = platform.create_campaign(f"preflight pixel test {platform.platform}")
            with pytest.raises(PermanentApiError, match=r"(?i)pixel"):
                platform.create_adset(campaign, f"preflight pixel test {platform.platform}", Decimal("10"))


def test_wrong_credentials_fail_with_fixes_and_no_secret_in_the_table(
    sandbox, store_url, live_env, monkeypatch
):
    planted = {
        "SHOPIFY_ACCESS_TOKEN": "shpat_planted-secret-XYZ-shopify-77",
        "CJ_API_KEY": "CJ5550001@api@planted-secret-XYZ-cj-4f1a",
        "OPENAI_API_KEY": "sk-planted-secret-XYZ-openai-0042",
        "META_ACCESS_TOKEN": "EAAplanted-secret-XYZ-meta-9911",
        "TIKTOK_ACCESS_TOKEN": "planted-secret-XYZ-tiktok-5150",
        "HELPDESK_API_KEY": "planted-secret-XYZ-helpdesk-3321",
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    rows = run_checks()
    text = render(rows) + repr(rows)
    assert not any(value in text for value in planted.values())
    checks = _by_check(rows)
    assert "SHOPIFY_ACCESS_TOKEN" in checks[("Shopify", "credentials")].fix
    assert "CJ_API_KEY" in checks[("CJ", "credentials")].fix
    assert "OPENAI_API_KEY" in checks[("OpenAI", "quota")].fix
    assert "META_ACCESS_TOKEN" in checks[("Meta", "ad account")].fix
    assert "TIKTOK_ACCESS_TOKEN" in checks[("TikTok", "advertiser")].fix
    assert "HELPDESK" in checks[("Support", "credentials")].fix
