"""The dashboard's actions through the pipelines' own functions and clients, on the sandbox's platforms."""

from decimal import Decimal
from urllib.parse import quote

import dagster as dg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dashboard.api.actions import (
    ActionConflict,
    ActionUnavailable,
    campaign_pauser,
    order_canceller,
    reply_sender,
)
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_testkit.ledger_seed import seed_support_orders
from dropship_testkit.sandbox_server import RunningSandbox
from tests.dashboard.seed import TOKEN
from tests.support.conftest import complete_store_orders

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


def test_cancelling_a_held_order_twice_cancels_it_once_at_the_store(
    pipeline_env: dict[str, str], sandbox: RunningSandbox, store_url: str
) -> None:
    (order,) = seed_support_orders(store_url, sandbox.world, 1)  # #1001, new: not at the supplier yet
    complete_store_orders(sandbox.world, [order])  # the whole Shopify order the order actions read
    engine = get_engine(store_url)
    with engine.begin() as conn:
        order_id = conn.scalar(sa.select(store_orders.c.order_id).where(store_orders.c.name == order.name))
        conn.execute(
            store_orders.update()
            .where(store_orders.c.order_id == order_id)
            .values(state="problem", problem="the supplier does not ship to AQ")
        )
    app = create_app(store_url, TOKEN, launcher=NoLauncher(), cancel_order=order_canceller(store_url))
    with TestClient(app) as client:
        # A Shopify order id is a GID ("gid://shopify/Order/1001"): the page sends it URL-encoded.
        path = f"/api/orders/{quote(order_id, safe='')}/cancel"
        first = client.post(path, headers=BEARER).json()
        second = client.post(path, headers=BEARER).json()
    assert first["status"] == second["status"] == "done", (first, second)
    assert sandbox.audit().get("orders_cancelled") == {order_id: 1}  # the second click found the claim
    with engine.connect() as conn:
        assert (
            conn.scalar(sa.select(store_orders.c.state).where(store_orders.c.order_id == order_id))
            == "cancelled"
        )
        claims = (
            conn.execute(sa.select(order_actions).where(order_actions.c.order_id == order_id))
            .mappings()
            .all()
        )
        shown = [(c["origin"], c["kind"], c["state"]) for c in claims]
    assert shown == [(f"dashboard-order:{order_id}", "cancel", "done")]
