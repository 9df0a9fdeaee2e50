"""The write gate's own rules: which GraphQL operations are writes, what a summary keeps, a bad mode."""

import pytest

from dropship_pipelines.resources.write_gate import (
    Shadowed,
    ShadowIdInLiveCall,
    gate_write,
    graphql_mutation,
    summarise,
    write_mode,
)


def test_mutations_are_writes_and_queries_are_not():
    assert graphql_mutation("mutation ListProduct($input: ProductSetInput!) { x }") == "ListProduct"
    assert graphql_mutation("# a comment\n  mutation { productSet { id } }") == "mutation"
    assert graphql_mutation("query OrdersSince { orders { nodes { id } } }") is None
    assert graphql_mutation("{ shop { name } }") is None


def test_summary_cuts_secrets_personal_data_long_text_and_bytes():
    summary = summarise(
        {
            "access_token": "shpat_abcdef123456",
            "shippingAddress": {"address1": "1 Main St"},
            "email": "jane@example.com",
            "descriptionHtml": "x" * 500,
            "files": {"video": ("ad.mp4", b"\x00" * 2048, "video/mp4")},
            "note": "call +1 512 555 0100",
        }
    )
    assert summary["access_token"] == "[redacted]" and summary["shippingAddress"] == "[redacted]"
    assert summary["email"] == "[redacted]"
    assert len(summary["descriptionHtml"]) < 210
    assert summary["files"]["video"][1] == "<2048 bytes>"
    assert "555" not in summary["note"]


def test_a_mistyped_mode_is_refused_not_taken_for_live(monkeypatch, store_url):
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadwo")
    with pytest.raises(ValueError, match="DROPSHIP_WRITE_MODE='shadwo': must be one of live, shadow"):
        gate_write("shopify", "ListProduct", {})
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "")
    assert write_mode() == "live"
    gate_write("shopify", "ListProduct", {})  # live: the write goes on
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "Shadow")
    monkeypatch.setenv("STORE_DATABASE_URL", store_url)
    shadowed = gate_write("shopify", "ListProduct", {"input": {"title": "Lamp"}})
    assert isinstance(shadowed, Shadowed)


def test_a_shadow_id_never_reaches_a_live_call_and_ids_repeat_per_write(monkeypatch, store_url):
    monkeypatch.setenv("STORE_DATABASE_URL", store_url)
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    first = gate_write("meta", "POST act_1/campaigns", {"data": {"name": "dropship-p1"}})
    again = gate_write("meta", "POST act_1/campaigns", {"data": {"name": "dropship-p1"}})
    other = gate_write("meta", "POST act_1/campaigns", {"data": {"name": "dropship-p2"}})
    assert first and again and other
    campaign = first.id("meta.campaign")
    assert campaign == again.id("meta.campaign") != other.id("meta.campaign")
    assert campaign.startswith("shadow:meta.campaign:")
    # Shadow: a write under the shadow campaign is recorded too (the chain goes on).
    assert gate_write("meta", "POST act_1/adsets", {"data": {"campaign_id": campaign}})
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    with pytest.raises(ShadowIdInLiveCall, match="an id shadow mode made up"):
        gate_write("meta", "POST act_1/adsets", {"data": {"campaign_id": campaign, "name": "x"}})
    with pytest.raises(ShadowIdInLiveCall):
        gate_write("tiktok", "POST /ad/create/", {"body": {"creatives": [{"video_id": campaign + ".0"}]}})
