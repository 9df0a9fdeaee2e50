"""The dashboard API on a real store (SQLite and PostgreSQL): numbers, filters, auth, CSRF and actions."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_replies
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import ESCALATED_DRAFT, ESCALATED_KEY
from tests.dashboard.seed import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}
READS = [
    "/api/metrics/kpis",
    "/api/metrics/daily",
    "/api/metrics/top-products",
    "/api/metrics/ad-performance",
    "/api/products/candidates",
    "/api/products/listings",
    "/api/orders",
    "/api/ads/campaigns",
    "/api/ads/daily",
    "/api/ads/actions",
    "/api/support/status",
    "/api/support/tickets",
    "/api/support/replies",
    "/api/support/escalations",
    "/api/runs/jobs",
]


class FakeLauncher:
    def __init__(self) -> None:
        self.launched: list[str] = []

    def launch(self, job_name: str) -> str:
        self.launched.append(job_name)
        return f"run-{len(self.launched)}"


@pytest.fixture
def client(seeded_url: str) -> Iterator[TestClient]:
    app = create_app(seeded_url, TOKEN, launcher=FakeLauncher())
    with TestClient(app) as test_client:
        yield test_client


def test_every_read_needs_a_login(client: TestClient) -> None:
    for path in READS:
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer wrong-token-xxxxxxx"}).status_code == 401
        assert client.get(path, headers=BEARER).status_code == 200, path
    for path in (
        "/api/runs/analytics_job",
        f"/api/support/escalations/{ESCALATED_KEY}/approve",
        "/api/ads/campaigns/meta/c1/pause",
    ):
        assert client.post(path, json={}).status_code == 401
    assert client.get("/api/session").json() == {"authenticated": False, "csrf_token": None}


def test_kpis_and_daily_are_the_analytics(client: TestClient) -> None:
    report = client.get("/api/metrics/kpis", headers=BEARER).json()
    overall = report["periods"][0]
    assert overall["period"] == "all_time"
    assert (overall["sales"], overall["profit"], overall["orders"], overall["ad_spend"], overall["aov"]) == (
        "129.95",
        "49.53",
        3,
        "27.75",
        "43.32",
    )
    assert overall["conversion_rate"] == pytest.approx(0.0273)
    assert "refunds" in report["refunds_note"]
    daily = client.get("/api/metrics/daily", headers=BEARER).json()
    assert [(d["day"], d["sales"], d["profit"], d["items"]) for d in daily] == [
        ("2026-11-20", "79.97", "32.05", 3),
        ("2026-11-21", "49.98", "17.48", 2),
    ]
    only = client.get("/api/metrics/daily?start=2026-11-21&end=2026-11-21", headers=BEARER).json()
    assert [d["day"] for d in only] == ["2026-11-21"]
    assert client.get("/api/metrics/daily?start=2026-11-22&end=2026-11-21", headers=BEARER).status_code == 422
    top = client.get("/api/metrics/top-products?limit=1", headers=BEARER).json()
    assert (top["total"], top["items"][0]["pid"], top["items"][0]["contribution"]) == (2, "P2", "51.47")
    ads = client.get("/api/metrics/ad-performance?platform=tiktok", headers=BEARER).json()
    assert [(a["campaign_id"], a["spend"], a["roas"]) for a in ads["items"]] == [("t1", "5.50", 10.9055)]


def test_orders_pages_filters_and_problems(client: TestClient) -> None:
    first = client.get("/api/orders?limit=2", headers=BEARER).json()
    second = client.get("/api/orders?limit=2&offset=2", headers=BEARER).json()
    assert first["total"] == second["total"] == 4
    assert [o["name"] for o in first["items"] + second["items"]] == ["#1004", "#1003", "#1002", "#1001"]
    shipped = first["items"][0]
    assert (shipped["supplier_status"], shipped["track_number"]) == ("SHIPPED", "YT2611210001")
    day = client.get("/api/orders?start=2026-11-21&end=2026-11-21", headers=BEARER).json()
    assert [o["order_id"] for o in day["items"]] == ["O4"]
    attention = client.get("/api/orders?needs_attention=true", headers=BEARER).json()
    assert [(o["order_id"], o["problem"]) for o in attention["items"]] == [
        ("O2", "variant V2 out of stock at the supplier")
    ]
    assert client.get("/api/orders?state=cancelled", headers=BEARER).json()["total"] == 1
    assert client.get("/api/orders?limit=0", headers=BEARER).status_code == 422
    assert client.get("/api/orders?limit=501", headers=BEARER).status_code == 422


def test_products_ads_and_support_pages(client: TestClient) -> None:
    candidates = client.get("/api/products/candidates?status=rejected", headers=BEARER).json()
    assert [(c["pid"], c["reason"]) for c in candidates["items"]] == [
        ("P9", "shipping takes 21 days (max 12)")
    ]
    failed = client.get("/api/products/listings?status=failed", headers=BEARER).json()
    assert [(x["pid"], x["last_error"]) for x in failed["items"]] == [("P3", "Shopify: title too long")]
    campaigns = client.get("/api/ads/campaigns", headers=BEARER).json()["items"]
    assert {(c["platform"], c["spend"], c["title"]) for c in campaigns} == {
        ("meta", "22.25", "Galaxy Lamp"),
        ("tiktok", "5.50", "Pet Brush"),
    }
    assert client.get("/api/support/status", headers=BEARER).json()["available"] is True
    tickets = client.get("/api/support/tickets", headers=BEARER).json()
    assert {(t["ticket_id"], t["escalated"]) for t in tickets["items"]} == {("T1", 0), ("T2", 1)}
    escalations = client.get("/api/support/escalations", headers=BEARER).json()["items"]
    assert [(e["reply_key"], e["reply_text"], e["reason"]) for e in escalations] == [
        (ESCALATED_KEY, ESCALATED_DRAFT, "refund requests need a human")
    ]
    assert escalations[0]["customer_message"] == "My order #1002 is late. I want my money back."


def test_cookie_session_actions_need_the_csrf_token(client: TestClient) -> None:
    assert client.post("/api/login", json={"token": "not-the-token"}).status_code == 401
    login = client.post("/api/login", json={"token": TOKEN})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csrf = login.json()["csrf_token"]
    assert client.get("/api/orders").status_code == 200  # the cookie alone reads
    assert client.post("/api/runs/analytics_job").status_code == 403  # ... but does not act
    assert client.post("/api/runs/analytics_job", headers={"X-CSRF-Token": "forged"}).status_code == 403
    launched = client.post("/api/runs/analytics_job", headers={"X-CSRF-Token": csrf})
    assert launched.json() == {"job_name": "analytics_job", "run_id": "run-1"}
    assert client.post("/api/runs/rm_rf_job", headers={"X-CSRF-Token": csrf}).status_code == 404
    client.post("/api/logout")
    assert client.get("/api/orders").status_code == 401


def test_approve_edit_and_pause_are_recorded(client: TestClient, seeded_url: str) -> None:
    key = ESCALATED_KEY
    edit = client.post(
        f"/api/support/escalations/{key}/edit", json={"text": "Edited: refund on its way."}, headers=BEARER
    )
    assert edit.json()["status"] == "recorded"
    shown = client.get("/api/support/escalations", headers=BEARER).json()["items"][0]
    assert (shown["decision"], shown["decision_text"]) == ("edit", "Edited: refund on its way.")
    approve = client.post(f"/api/support/escalations/{key}/approve", json={}, headers=BEARER).json()
    assert approve["status"] == "recorded" and "no send function" in approve["message"]
    shown = client.get("/api/support/escalations", headers=BEARER).json()["items"][0]
    assert (shown["decision"], shown["decision_text"]) == ("approve", "Edited: refund on its way.")
    assert client.post(f"/api/support/escalations/{key}/approve", json={}, headers=BEARER).status_code == 409
    assert client.post("/api/support/escalations/T1:M1/approve", json={}, headers=BEARER).status_code == 409
    assert client.post("/api/support/escalations/nope/approve", json={}, headers=BEARER).status_code == 404

    assert client.post("/api/ads/campaigns/meta/nope/pause", json={}, headers=BEARER).status_code == 404
    pause = client.post(
        "/api/ads/campaigns/meta/c1/pause", json={"reason": "ROAS 0.9"}, headers=BEARER
    ).json()
    assert pause["status"] == "recorded"
    actions = client.get("/api/ads/actions", headers=BEARER).json()["items"]
    assert [(a["source"], a["campaign_id"], a["reason"]) for a in actions] == [
        ("dashboard", "c1", "ROAS 0.9")
    ]
    campaigns = client.get("/api/ads/campaigns?platform=meta", headers=BEARER).json()["items"]
    assert campaigns[0]["pause_requested"] is True and campaigns[0]["state"] == "active"


def test_actions_call_the_workflows_functions_when_given(seeded_url: str) -> None:
    engine = get_engine(seeded_url)
    with engine.begin() as conn:
        conn.execute(
            support_replies.insert().values(
                reply_key="T1:M9",
                ticket_id="T1",
                message_id="M9",
                state="escalated",
                reply_text="Draft",
                reason="angry customer",
            )
        )
    sent: list[tuple[str, str]] = []
    paused: list[tuple[str, str]] = []
    app = create_app(
        seeded_url,
        TOKEN,
        launcher=FakeLauncher(),
        send_reply=lambda key, text: sent.append((key, text)) or "helpdesk-msg-9",
        pause_campaign=lambda platform, cid: paused.append((platform, cid)),
    )
    with TestClient(app) as client:
        reply = client.post(
            "/api/support/escalations/T1:M9/approve", json={"text": "We refund you."}, headers=BEARER
        ).json()
        pause = client.post("/api/ads/campaigns/tiktok/t1/pause", json={}, headers=BEARER).json()
    assert reply == {"action_id": reply["action_id"], "status": "done", "message": "sent (helpdesk-msg-9)"}
    assert sent == [("T1:M9", "We refund you.")]
    assert pause["status"] == "done" and paused == [("tiktok", "t1")]
    with engine.connect() as conn:
        state = conn.execute(
            sa.select(ad_campaigns.c.state).where(ad_campaigns.c.campaign_id == "t1")
        ).scalar()
    assert state == "paused"


def test_no_secret_in_any_response(client: TestClient) -> None:
    bodies = [client.get(path, headers=BEARER).text for path in READS]
    bodies.append(client.get("/api/openapi.json").text)
    assert not any(TOKEN in body for body in bodies)
    assert not any("postgresql" in body or "sqlite:" in body for body in bodies)


def test_support_pages_without_support_tables(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/bare.db"
    engine = get_engine(url)
    with engine.begin() as conn:
        for name in ("support_replies", "support_messages", "support_tickets"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    with TestClient(create_app(url, TOKEN, launcher=FakeLauncher())) as client:
        status = client.get("/api/support/status", headers=BEARER).json()
        assert status["available"] is False and "support_tickets" in status["note"]
        assert client.get("/api/support/escalations", headers=BEARER).json()["items"] == []
        assert client.post("/api/support/escalations/x/approve", json={}, headers=BEARER).status_code == 404
        assert client.get("/api/metrics/kpis", headers=BEARER).json()["periods"] == []


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with its schema and nothing else: the test writes the only rows it reads."""
    with store_url_for(request.param, tmp_path) as url:
        yield url


def test_the_optimisers_actions_show_their_time_newest_first(
    empty_url: str, record_optimiser_action: Callable[..., int]
) -> None:
    paused_at, scaled_at = datetime(2026, 11, 22, 8, 15, tzinfo=UTC), datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    record = record_optimiser_action
    record(empty_url, decided_at=scaled_at, platform="tiktok", campaign_id="t1", action="scale")
    record(empty_url, decided_at=paused_at, platform="meta", campaign_id="c1", reason="ROAS 0.62")
    with get_engine(empty_url).begin() as conn:
        conn.execute(
            ad_campaigns.insert().values(
                pid="P1", platform="meta", campaign_id="c1", state="active", daily_budget=Decimal("20.00")
            )
        )
    with TestClient(create_app(empty_url, TOKEN, launcher=FakeLauncher())) as client:
        client.post("/api/ads/campaigns/meta/c1/pause", json={"reason": "operator"}, headers=BEARER)
        actions = client.get("/api/ads/actions", headers=BEARER).json()
        second = client.get("/api/ads/actions?limit=1&offset=1", headers=BEARER).json()
    items = actions["items"]
    assert [(a["source"], a["campaign_id"], a["action"]) for a in items] == [
        ("dashboard", "c1", "pause"),  # the operator's pause, just now
        ("ads", "c1", "pause"),
        ("ads", "t1", "scale"),
    ]
    shown = [datetime.fromisoformat(a["at"]) for a in items]
    assert shown[1:] == [paused_at, scaled_at] and shown[0] > paused_at
    assert (items[1]["reason"], items[1]["detail"]["status"], items[1]["detail"]["roas"]) == (
        "ROAS 0.62",
        "applied",
        0.62,
    )
    assert (actions["total"], second["total"]) == (3, 3)
    assert [(a["source"], a["at"]) for a in second["items"]] == [("ads", items[1]["at"])]
