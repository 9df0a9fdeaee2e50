"""The dashboard's actions through the pipelines' own functions and clients, on the sandbox's platforms."""

from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dashboard.api.actions import ActionConflict, ActionUnavailable, campaign_pauser, reply_sender
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.database import get_engine
from dropship_testkit.sandbox_server import RunningSandbox
from tests.dashboard.seed import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}


class NoLauncher:
    def launch(self, job_name: str) -> str:
        raise AssertionError("no run is launched here")


def active_meta_campaign(name: str) -> str:
    """A running campaign on the sandbox's Meta, made with the client the ads workflow uses."""
    with dg.build_resources({"meta": build_resources()["meta_ads"]}) as built:
        campaign_id = built.meta.create_campaign(name)
        built.meta.set_campaign_active(campaign_id, True)
    return campaign_id


def is_active(sandbox: RunningSandbox, campaign_id: str) -> bool:
    world = sandbox.world
    with world.lock, world.state:
        return bool(world.state.get("meta_campaign", campaign_id)["active"])


def test_pausing_from_the_dashboard_pauses_on_the_platform_and_in_the_ledger(
    pipeline_env: dict[str, str], sandbox: RunningSandbox, store_url: str
) -> None:
    campaign_id = active_meta_campaign("dashboard-pause-P1")
    assert is_active(sandbox, campaign_id)
    with get_engine(store_url).begin() as conn:
        conn.execute(
            ad_campaigns.insert().values(
                pid="P1", platform="meta", campaign_id=campaign_id, state="active", daily_budget=Decimal("20")
            )
        )
    app = create_app(store_url, TOKEN, launcher=NoLauncher(), pause_campaign=campaign_pauser())
    with TestClient(app) as client:
        paused = client.post(f"/api/ads/campaigns/meta/{campaign_id}/pause", json={}, headers=BEARER).json()
    assert (paused["status"], paused["message"]) == ("done", "paused on the platform")
    assert not is_active(sandbox, campaign_id)
    with get_engine(store_url).connect() as conn:
        state = conn.scalar(sa.select(ad_campaigns.c.state).where(ad_campaigns.c.campaign_id == campaign_id))
    assert state == "paused"


def test_without_the_platforms_credentials_a_pause_is_only_recorded(
    pipeline_env: dict[str, str], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIKTOK_ACCESS_TOKEN")
    with pytest.raises(ActionUnavailable, match="no tiktok credentials"):
        campaign_pauser()("tiktok", "1800000000000001")
    with pytest.raises(LookupError):
        campaign_pauser()("snapchat", "1")


def test_a_reply_not_waiting_for_a_human_is_a_conflict(pipeline_env: dict[str, str], store_url: str) -> None:
    with pytest.raises(ActionConflict, match="not waiting for approval"):
        reply_sender(store_url)("T404:M404", "Hello")
