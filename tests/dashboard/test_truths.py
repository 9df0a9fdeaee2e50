"""Dashboard truths (issue 11, item 8; item 3's dashboard side), on SQLite and PostgreSQL: the numbers and
labels the pages show say what they are. Products, not campaign ids; the creative's video, from the media
directory only; conversion split into attributed and organic, each defined; the store's "today"; the
instance's health; the launched run followed; a KPI card flagged when the daily tables disagree."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from dagster_graphql.schema import create_schema
from fastapi.testclient import TestClient
from graphql import parse, validate

from dashboard.api import create_app
from dashboard.api.health import system_health
from dashboard.api.reasons import reason_text
from dashboard.api.runs import HEALTH_QUERY, InstanceHealth, parse_health
from dropship_pipelines.rules.reply_draft import ActionKind
from dropship_pipelines.services.order_actions import ActionResult
from dropship_pipelines.store.ads_tables import ad_creatives
from dropship_pipelines.store.analytics_tables import analytics_daily_profit
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_pipelines.store.support_tables import support_replies
from tests.dashboard.seed import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64  # the first bytes of an mp4


class FakeLauncher:
    def launch(self, job_name: str) -> str:
        return f"run-of-{job_name}"


@dataclass
class FakeMonitor:
    """The Dagster instance as the dashboard sees it: run statuses by id, and a health report."""

    statuses: dict[str, str] = field(default_factory=dict)
    instance: InstanceHealth = field(default_factory=lambda: InstanceHealth(reachable=True))

    def run_status(self, run_id: str) -> str:
        if run_id not in self.statuses:
            raise LookupError(f"Dagster knows no run {run_id}")
        return self.statuses[run_id]

    def health(self, window: timedelta) -> InstanceHealth:
        return self.instance


@pytest.fixture
def make_client(seeded_url: str, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        options.setdefault("launcher", FakeLauncher())
        options.setdefault("media_dir", tmp_path / "media")
        client = TestClient(create_app(seeded_url, TOKEN, **options))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def period(report: dict, name: str) -> dict:
    return next(p for p in report["periods"] if p["period"] == name)


# --- 1. products, not campaign ids -----------------------------------------------------------------------
def test_ad_tables_name_the_product_and_keep_the_campaign_id(
    make_client: Callable[..., TestClient], seeded_url: str, record_optimiser_action: Callable[..., int]
) -> None:
    client = make_client()
    performance = client.get("/api/metrics/ad-performance", headers=BEARER).json()["items"]
    assert {(a["campaign_id"], a["pid"], a["title"]) for a in performance} == {
        ("c1", "P1", "Galaxy Lamp"),
        ("t1", "P2", "Pet Brush"),
    }
    action_id = record_optimiser_action(seeded_url, campaign_id="t1", platform="tiktok", pid=None)
    try:
        client.post("/api/ads/campaigns/meta/c1/pause", json={"reason": "by hand"}, headers=BEARER)
        actions = client.get("/api/ads/actions", headers=BEARER).json()["items"]
        # The optimiser's row without a pid and the operator's pause both name the product.
        assert {(a["source"], a["campaign_id"], a["pid"], a["title"]) for a in actions} >= {
            ("ads", "t1", "P2", "Pet Brush"),
            ("dashboard", "c1", "P1", "Galaxy Lamp"),
        }
    finally:
        with get_engine(seeded_url).begin() as conn:
            conn.execute(sa.text("DELETE FROM ad_actions WHERE id = :id"), {"id": action_id})
            conn.execute(sa.text("DELETE FROM dashboard_actions WHERE kind = 'pause_campaign'"))


def test_a_product_link_narrows_the_listings_to_that_product(make_client: Callable[..., TestClient]) -> None:
    listings = make_client().get("/api/products/listings?pid=P2", headers=BEARER).json()
    assert [(x["pid"], x["title"]) for x in listings["items"]] == [("P2", "Pet Brush")]


# --- 2. the creative's video, confined to the media directory ------------------------------------------
def test_the_creatives_video_is_served_from_the_media_directory_only(
    make_client: Callable[..., TestClient], seeded_url: str, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    (media / "ads").mkdir(parents=True)
    (media / "ads" / "P1.mp4").write_bytes(MP4)
    (tmp_path / "secret.mp4").write_bytes(b"not for the browser")
    creative = {"content_hash": "h", "status": "ok", "generated_at": datetime.now(UTC)}
    with get_engine(seeded_url).begin() as conn:
        conn.execute(
            ad_creatives.insert(),
            [
                {**creative, "pid": "P1", "video_path": str(media / "ads" / "P1.mp4")},
                # A ledger path that climbs out of the media directory is refused like a missing file.
                {**creative, "pid": "P2", "video_path": str(media / "ads" / ".." / ".." / "secret.mp4")},
            ],
        )
    try:
        client = make_client(media_dir=media)
        campaigns = {c["pid"]: c for c in client.get("/api/ads/campaigns", headers=BEARER).json()["items"]}
        assert campaigns["P1"]["video_url"] == "/api/ads/creatives/P1/video"
        video = client.get(campaigns["P1"]["video_url"], headers=BEARER)
        assert (video.status_code, video.headers["content-type"], video.content) == (200, "video/mp4", MP4)
        assert client.get(campaigns["P1"]["video_url"]).status_code == 401  # behind the login
        assert client.get("/api/ads/creatives/P2/video", headers=BEARER).status_code == 404
        for climb in ("..%2F..%2Fsecret.mp4", "..", "%2E%2E%2Fsecret.mp4", "P1%2F..%2F..%2Fsecret.mp4"):
            refused = client.get(f"/api/ads/creatives/{climb}/video", headers=BEARER)
            assert refused.status_code == 404, climb
            assert b"not for the browser" not in refused.content
        assert client.get("/api/ads/creatives/P9/video", headers=BEARER).status_code == 404
    finally:
        with get_engine(seeded_url).begin() as conn:
            conn.execute(ad_creatives.delete())


# --- 3. conversion: attributed and organic, defined ---------------------------------------------------
def test_conversion_is_split_into_attributed_and_organic(make_client: Callable[..., TestClient]) -> None:
    report = make_client().get("/api/metrics/kpis", headers=BEARER).json()
    overall = period(report, "all_time")
    # The platforms attribute 2 purchases (c1 and t1 on the first day) to 110 clicks; the only organic
    # order (#1003) was cancelled. All 3 orders per click is what "conversion" used to show.
    assert (overall["attributed_orders"], overall["ad_clicks"], overall["organic_orders"]) == (2, 110, 0)
    assert overall["attributed_conversion_rate"] == pytest.approx(2 / 110, abs=1e-4)
    assert overall["conversion_rate"] == pytest.approx(0.0273)  # kept, under its documented meaning
    assert overall["store_sessions"] is None and overall["organic_conversion_rate"] is None
    definitions = report["definitions"]
    assert "attribute" in definitions["attributed_conversion"]
    assert "sessions" in definitions["organic_orders"]
    assert set(definitions) >= {"sales", "profit", "orders", "ad_spend", "roi", "aov", "roas"}


# --- 4. the store's today ----------------------------------------------------------------------------
def test_today_is_the_stores_date_in_its_time_zone(make_client: Callable[..., TestClient]) -> None:
    # A zone whose date differs from UTC's at this hour, whatever the hour.
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"
    report = make_client(store_timezone=zone).get("/api/metrics/kpis", headers=BEARER).json()
    store_today = datetime.now(ZoneInfo(zone)).date()
    assert (report["store_timezone"], report["store_today"]) == (zone, str(store_today))
    today = period(report, "today")
    assert today["start_day"] != str(store_today)  # the snapshot was computed for UTC's date
    assert any(f"the store's today ({zone}) is {store_today}" in w for w in today["warnings"])

    utc_report = make_client().get("/api/metrics/kpis", headers=BEARER).json()
    assert (utc_report["store_timezone"], utc_report["store_today"]) == ("UTC", str(datetime.now(UTC).date()))
    with pytest.raises(ValueError, match="STORE_TIMEZONE"):
        create_app("sqlite://", TOKEN, launcher=FakeLauncher(), store_timezone="Mars/Olympus_Mons")


# --- 9. system health -----------------------------------------------------------------------------------
def test_the_health_query_is_valid_for_the_dagster_webserver() -> None:
    assert validate(create_schema().graphql_schema, parse(HEALTH_QUERY)) == []
    health = parse_health(
        {
            "queued": {"__typename": "Runs", "results": [{"runId": "r1", "jobName": "analytics_job"}]},
            "failed": {"__typename": "PythonError"},
            "assetNodes": [
                {
                    "assetKey": {"path": ["kpis"]},
                    "assetChecksOrError": {
                        "__typename": "AssetChecks",
                        "checks": [
                            {
                                "name": "kpis_match_daily_totals",
                                "executionForLatestMaterialization": {
                                    "status": "FAILED",
                                    "evaluation": {"severity": "ERROR"},
                                },
                            },
                            {"name": "fresh", "executionForLatestMaterialization": {"status": "SUCCEEDED"}},
                        ],
                    },
                }
            ],
        }
    )
    assert health == InstanceHealth(
        reachable=True,
        queued_runs=["analytics_job"],
        failed_runs=[],
        failing_checks=[("kpis:kpis_match_daily_totals", "ERROR")],
    )


def test_the_header_health_is_red_amber_or_green_with_its_causes(
    make_client: Callable[..., TestClient], seeded_url: str
) -> None:
    failing = InstanceHealth(
        reachable=True,
        queued_runs=["analytics_job"] * 7,
        failed_runs=["ad_metrics_job"],
        failing_checks=[("kpis:kpis_match_daily_totals", "ERROR"), ("listings:copy_is_fresh", "WARN")],
    )
    red = make_client(monitor=FakeMonitor(instance=failing)).get("/api/system-health", headers=BEARER).json()
    assert red["state"] == "red"
    assert red["causes"][:2] == [
        "asset check failing: kpis:kpis_match_daily_totals",
        "1 run(s) failed in the last hour: ad_metrics_job",
    ]
    assert "asset check failing: listings:copy_is_fresh" in red["causes"] and "7 runs queued" in red["causes"]
    # The seeded listing P3 failed at the store just now: an API fault, amber.
    assert "1 listings failed at the remote service in the last hour" in red["causes"]

    down = make_client().get("/api/system-health", headers=BEARER).json()  # a launcher with no monitor
    assert down["state"] == "amber" and "no Dagster instance configured" in down["causes"][0]
    with get_engine(seeded_url).connect() as conn:
        later = datetime.now(UTC) + timedelta(hours=2)  # the listing's fault is old news by then
        assert system_health(conn, InstanceHealth(reachable=True), now=later) == {
            "state": "green",
            "causes": [],
            "checked_at": later,
        }


# --- 10. the launched run followed; stale cards flagged ------------------------------------------------
def test_a_launched_run_is_followed_until_it_finishes(make_client: Callable[..., TestClient]) -> None:
    monitor = FakeMonitor(statuses={"r-started": "STARTED", "r-done": "SUCCESS", "r-failed": "FAILURE"})
    client = make_client(monitor=monitor)
    shown = {run: client.get(f"/api/runs/{run}/status", headers=BEARER).json() for run in monitor.statuses}
    assert {run: (s["status"], s["finished"]) for run, s in shown.items()} == {
        "r-started": ("STARTED", False),
        "r-done": ("SUCCESS", True),
        "r-failed": ("FAILURE", True),
    }
    assert client.get("/api/runs/r-unknown/status", headers=BEARER).status_code == 404
    assert make_client().get("/api/runs/r-done/status", headers=BEARER).status_code == 404  # no monitor


def test_each_figure_says_when_it_was_computed_and_a_stale_card_is_flagged(
    make_client: Callable[..., TestClient], seeded_url: str
) -> None:
    client = make_client()
    report = client.get("/api/metrics/kpis", headers=BEARER).json()
    overall = period(report, "all_time")
    assert overall["disagrees"] == [] and overall["warnings"] == []
    assert overall["daily_sums"] == {"sales": "129.95", "orders": 3, "ad_spend": "27.75", "profit": "49.53"}
    assert overall["daily_computed_at"] and overall["computed_at"]
    for path in ("/api/metrics/daily", "/api/metrics/top-products", "/api/metrics/ad-performance"):
        body = client.get(path, headers=BEARER).json()
        rows = body if isinstance(body, list) else body["items"]
        assert rows and all(row["computed_at"] for row in rows), path

    # Orders of a later day reached the daily tables; the KPI snapshot was not recomputed.
    late_day = date(2026, 11, 23)
    with get_engine(seeded_url).begin() as conn:
        conn.execute(
            analytics_daily_profit.insert().values(
                day=late_day,
                orders=2,
                revenue=Decimal("40.00"),
                product_cost=Decimal("10.00"),
                shipping_cost=Decimal("5.00"),
                payment_fees=Decimal("1.76"),
                ad_spend=Decimal("0"),
                refunds=Decimal("0"),
                profit=Decimal("23.24"),
                estimated_cost_orders=0,
                computed_at=datetime.now(UTC),
            )
        )
    try:
        stale = period(client.get("/api/metrics/kpis", headers=BEARER).json(), "all_time")
    finally:
        with get_engine(seeded_url).begin() as conn:
            conn.execute(analytics_daily_profit.delete().where(analytics_daily_profit.c.day == late_day))
    assert stale["disagrees"] == ["sales", "orders", "profit"]
    assert stale["daily_sums"]["sales"] == "169.95" and stale["sales"] == "129.95"
    assert "disagree with the daily tables" in stale["warnings"][0]


# --- 6. escalations: the AI's draft, the order's facts, reasons in words --------------------------------
def test_escalations_show_the_draft_the_order_and_the_reason_in_words(
    make_client: Callable[..., TestClient], seeded_url: str
) -> None:
    structured = {"facts": ["order.status"], "policy": [], "actions": [], "text": "Your order is late."}
    with get_engine(seeded_url).begin() as conn:
        conn.execute(
            support_replies.insert().values(
                reply_key="T1:M7",
                ticket_id="T1",
                message_id="M7",
                state="escalated",
                order_name="#1004",
                reason="gate_refused: names a date not in the facts",
                reply_text="It arrives on Monday.",
                draft=structured,
                received_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
            )
        )
    try:
        escalations = make_client().get("/api/support/escalations", headers=BEARER).json()["items"]
    finally:
        with get_engine(seeded_url).begin() as conn:
            conn.execute(support_replies.delete().where(support_replies.c.reply_key == "T1:M7"))
    by_key = {e["reply_key"]: e for e in escalations}
    coded = by_key["T1:M7"]
    assert coded["reason"] == "gate_refused: names a date not in the facts"  # the code, kept
    assert coded["reason_text"] == (
        "The AI's draft failed the last check before sending: names a date not in the facts"
    )

    assert coded["draft"] == structured
    assert (coded["order"]["name"], coded["order"]["state"], coded["order"]["track_number"]) == (
        "#1004",
        "shipped",
        "YT2611210001",
    )
    seeded = by_key["T2:M2"]
    assert seeded["reason_text"] == "refund requests need a human"  # free text: shown as it is
    assert seeded["draft"] is None
    assert (seeded["order"]["total_price"], seeded["order"]["problem"]) == (
        "59.98",
        "variant V2 out of stock at the supplier",
    )


def test_every_escalation_code_reads_as_a_sentence() -> None:
    assert reason_text("legal_threat") == "The customer mentions legal action"
    assert reason_text("sender_cap: 9 messages today (cap 5)") == (
        "The sender wrote more messages today than the AI answers: 9 messages today (cap 5)"
    )
    assert reason_text("action_refused:cancel: the supplier has shipped") == (
        "The action asked for was refused: cancel: the supplier has shipped"
    )
    assert reason_text(None) is None


# --- 7. a ticket's status follows the ledger ------------------------------------------------------------
def test_a_ticket_answered_shows_closed_before_the_helpdesk_is_read_again(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    tickets = client.get("/api/support/tickets", headers=BEARER).json()["items"]
    # T1's newest message was answered (the send closes the ticket at the helpdesk); T2 waits for a human.
    assert {(t["ticket_id"], t["status"], t["helpdesk_status"]) for t in tickets} == {
        ("T1", "closed", "open"),
        ("T2", "open", "open"),
    }
    closed = client.get("/api/support/tickets?status=closed", headers=BEARER).json()["items"]
    assert [t["ticket_id"] for t in closed] == ["T1"]


# --- 8. held orders: retry and cancel, each once ---------------------------------------------------------
@dataclass
class CountingLauncher:
    launched: list[str] = field(default_factory=list)

    def launch(self, job_name: str) -> str:
        self.launched.append(job_name)
        return f"run-{len(self.launched)}-of-{job_name}"


def hold(seeded_url: str, order_id: str, problem: str) -> None:
    with get_engine(seeded_url).begin() as conn:
        conn.execute(
            store_orders.update()
            .where(store_orders.c.order_id == order_id)
            .values(state="problem", problem=problem)
        )


def test_a_held_order_is_retried_once_and_the_fulfillment_run_launched(
    make_client: Callable[..., TestClient], seeded_url: str
) -> None:
    launcher = CountingLauncher()
    client = make_client(launcher=launcher)
    held = client.get("/api/orders?needs_attention=true", headers=BEARER).json()["items"]
    assert [(o["order_id"], o["actions"]) for o in held] == [("O2", ["retry", "cancel"])]
    try:
        retried = client.post("/api/orders/O2/retry", headers=BEARER).json()
        assert (retried["status"], retried["message"]) == (
            "done",
            "released; fulfillment run run-1-of launched",
        )
        again = client.post("/api/orders/O2/retry", headers=BEARER)
        assert (again.status_code, again.json()["detail"]) == (409, "the order is new, not held")
        assert launcher.launched == ["order_fulfillment_job"]  # two clicks, one release, one run
        order = client.get("/api/orders?state=new", headers=BEARER).json()["items"]
        assert [(o["order_id"], o["problem"], o["actions"]) for o in order] == [("O2", None, [])]
        assert client.post("/api/orders/O404/retry", headers=BEARER).status_code == 404
        assert client.post("/api/orders/O4/retry", headers=BEARER).status_code == 409  # shipped
    finally:
        hold(seeded_url, "O2", "variant V2 out of stock at the supplier")


def test_cancelling_a_held_order_calls_the_order_actions(
    make_client: Callable[..., TestClient], seeded_url: str
) -> None:
    recorded = make_client().post("/api/orders/O2/cancel", headers=BEARER).json()
    assert recorded["status"] == "recorded" and "no store client" in recorded["message"]
    asked: list[str] = []

    def cancel(order_id: str) -> ActionResult:
        asked.append(order_id)
        return ActionResult(ActionKind.CANCEL, done=False, reason="the supplier has been paid for the order")

    client = make_client(cancel_order=cancel)
    refused = client.post("/api/orders/O2/cancel", headers=BEARER).json()
    assert (refused["status"], refused["message"]) == (
        "failed",
        "not cancelled: the supplier has been paid for the order",
    )
    assert client.post("/api/orders/O4/cancel", headers=BEARER).status_code == 409  # shipped, not held
    assert client.post("/api/orders/O404/cancel", headers=BEARER).status_code == 404
    assert asked == ["O2"]
