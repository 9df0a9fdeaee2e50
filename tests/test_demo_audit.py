"""The demo audit's judgement (dropship_testkit/demo_audit.py): KPI cards against the daily and campaign
tables in the dashboard API's own JSON shapes, what counts as a persisting disagreement, every kind of
duplicate, the README's commands and the report; then one check over the real dashboard API of a seeded
store (analytics computed by the pipelines' own assets), agreeing, and failing once a stale card persists."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.store.analytics_tables import analytics_daily_profit
from dropship_pipelines.store.database import get_engine
from dropship_testkit import demo_audit as da
from dropship_testkit.databases import store_url_for
from dropship_testkit.soak.audit import AuditResult, Finding
from dropship_testkit.soak.dagster_api import RunInfo
from tests.dashboard.seed import TOKEN, seed_store

T0 = "2026-11-27T10:00:00Z"
T1 = "2026-11-27T10:05:00Z"


def card(period: str, start: str | None, end: str | None, **figures: Any) -> dict[str, Any]:
    """One period of /api/metrics/kpis as the dashboard serializes it (Decimals as strings)."""
    base = {"sales": "0.00", "orders": 0, "ad_spend": "0.00", "profit": "0.00", "computed_at": T1}
    return {"period": period, "start_day": start, "end_day": end, **base, **figures}


def day(d: str, sales: str, orders: int, ad_spend: str, profit: str, at: str = T0) -> dict[str, Any]:
    """One row of /api/metrics/daily."""
    return {"day": d, "orders": orders, "items": orders, "sales": sales, "aov": None, "product_cost": "0",
            "shipping_cost": "0", "payment_fees": "0", "ad_spend": ad_spend, "refunds": "0",
            "profit": profit, "estimated_cost_orders": 0, "computed_at": at}  # fmt: skip


DAILY = [day("2026-11-25", "100.00", 3, "10.00", "40.00"), day("2026-11-26", "50.50", 2, "5.25", "20.10")]
PERF = [{"platform": "meta", "campaign_id": "c1", "spend": "12.00", "computed_at": T0},
        {"platform": "tiktok", "campaign_id": "c2", "spend": "3.25", "computed_at": T0}]  # fmt: skip
CAMPAIGNS = [{"platform": "meta", "pid": "P1", "campaign_id": "c1", "spend": "12.00"},
             {"platform": "tiktok", "pid": "P2", "campaign_id": "c2", "spend": "3.25"}]  # fmt: skip


def kpis(all_time: dict[str, Any] | None = None, today: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "periods": [
            all_time
            or card("all_time", None, None, sales="150.50", orders=5, ad_spend="15.25", profit="60.10"),
            today
            or card(
                "today", "2026-11-26", "2026-11-26", sales="50.50", orders=2, ad_spend="5.25", profit="20.10"
            ),
        ]
    }


def test_cards_equal_to_their_tables_agree() -> None:
    assert da.compare_snapshot(kpis(), DAILY, PERF, CAMPAIGNS) == []


def test_a_card_behind_the_daily_tables_is_stale_and_one_newer_than_them_is_fresh() -> None:
    behind = card("all_time", None, None, sales="100.00", orders=3, ad_spend="15.25", profit="40.00",
                  computed_at="2026-11-27T09:00:00Z")  # fmt: skip
    found = da.compare_snapshot(kpis(behind), DAILY, PERF, CAMPAIGNS)
    assert [(d.field, d.table, d.freshness) for d in found] == [
        ("sales", "daily", "stale"),
        ("orders", "daily", "stale"),
        ("profit", "daily", "stale"),
    ]
    assert found[0].card == "100.00" and found[0].table_sum == "150.50"
    # The $480 vs $1,400 of issue 11: a card that read every daily row and still shows less ad spend than
    # the campaign table (computed before the card) is a real disagreement.
    short = card("all_time", None, None, sales="150.50", orders=5, ad_spend="4.80", profit="60.10")
    found = da.compare_snapshot(kpis(short), DAILY, PERF, CAMPAIGNS)
    assert {(d.field, d.table) for d in found} == {
        ("ad_spend", "daily"),
        ("ad_spend", "ad_performance"),
        ("ad_spend", "campaigns"),
    }
    # Read after every daily row: fresh against the daily table; the campaign tables are older than the
    # card, so they may have yet to follow the metrics (pending until the next check).
    assert {(d.table, d.freshness) for d in found} == {
        ("daily", "fresh"),
        ("ad_performance", "stale"),
        ("campaigns", "stale"),
    }


def test_the_campaign_tables_spend_must_equal_the_all_time_card() -> None:
    more = [*PERF, {"platform": "meta", "campaign_id": "c3", "spend": "9.00", "computed_at": T0}]
    (found,) = da.compare_snapshot(kpis(), DAILY, more, CAMPAIGNS)
    assert (found.table, found.card, found.table_sum) == ("ad_performance", "15.25", "24.25")
    # A campaign table computed after the card: the card has yet to follow the newer metrics.
    newer = [{**row, "computed_at": "2026-11-27T11:00:00Z"} for row in more]
    (found,) = da.compare_snapshot(kpis(), DAILY, newer, CAMPAIGNS)
    assert found.freshness == "stale"


def test_only_the_days_of_a_period_are_summed() -> None:
    wrong_today = card("today", "2026-11-26", "2026-11-26", sales="150.50", orders=5, ad_spend="5.25",
                       profit="20.10")  # fmt: skip
    found = da.compare_snapshot(kpis(today=wrong_today), DAILY, PERF, CAMPAIGNS)
    assert [(d.period, d.field, d.table_sum) for d in found] == [
        ("today", "sales", "50.50"),
        ("today", "orders", "2"),
    ]


def stale(field: str = "sales") -> da.Disagreement:
    return da.Disagreement("all_time", field, "daily", "1.00", "2.00", "stale")


def fresh(field: str = "sales") -> da.Disagreement:
    return da.Disagreement("all_time", field, "daily", "1.00", "2.00", "fresh")


def test_a_disagreement_fails_only_when_it_persists() -> None:
    key = "all_time:sales:daily"
    # Agreement in any re-read: in-flight change, no failure.
    assert da.judge([[stale()], []], {}, final=False) == (True, [], {})
    # Stale in every re-read: pending, not yet a failure...
    agreed, failures, pending = da.judge([[stale()], [stale()]], {}, final=False)
    assert (agreed, failures, pending) == (False, [], {key: 1})
    # ... but a failure when the previous check ended on it too and nothing is refreshing the snapshot,
    (failure,) = da.judge([[stale()], [stale()]], pending, final=False)[1]
    assert "no analytics run is queued or running" in failure
    # ... not while an analytics run is on its way, unless that lasts more than three checks,
    assert da.judge([[stale()]], {key: 2}, final=False, refresh_in_flight=True)[1:] == ([], {key: 3})
    (failure,) = da.judge([[stale()]], {key: 3}, final=False, refresh_in_flight=True)[1]
    assert "4 checks in a row" in failure
    # ... and at the final check, whatever the freshness.
    assert "frozen" in da.judge([[stale()]], {}, final=True)[1][0]
    # A card computed after its inputs that disagrees in every re-read is real at once.
    (failure,) = da.judge([[fresh()], [fresh()]], {}, final=False)[1]
    assert "computed after its inputs" in failure
    # Fresh once and stale once: the snapshot moved between the reads, so only pending.
    assert da.judge([[fresh()], [stale()]], {}, final=False)[1] == []


def test_an_analytics_run_queued_or_running_is_a_refresh_in_flight() -> None:
    def run(job: str, status: str) -> RunInfo:
        return RunInfo(f"{job}-{status}", job, status, {})

    assert da.refresh_in_flight(
        [run("analytics_daily_job", "QUEUED"), run("order_fulfillment_job", "STARTED")]
    )
    assert da.refresh_in_flight([run("__ASSET_JOB", "STARTED")])
    assert not da.refresh_in_flight([run("analytics_job", "SUCCESS"), run("order_fulfillment_job", "QUEUED")])


def test_every_kind_of_duplicate_at_the_sandbox_is_found() -> None:
    counts = {  # GET /_sandbox/audit
        "listings_created": {"P1": 1, "P2": 2},
        "supplier_orders_created": {"SO-1": 1, "SO-2": 3},
        "fulfillments_created": {"gid://shopify/Order/1": 2},
        "campaigns_created": {"meta:P1": 1, "tiktok:P1": 2},
        "orders_placed": {"gid://shopify/Order/1": 1},
        "support_replies_sent": {"42": 3},  # several messages on one ticket: not by itself a duplicate
        "conversion_events_duplicate": {"meta:1": 1},
    }
    found = {(d.kind, d.key, d.count) for d in da.sandbox_duplicates(counts)}
    assert found == {
        ("listings_created", "P2", 2),
        ("supplier_orders_created", "SO-2", 3),
        ("fulfillments_created", "gid://shopify/Order/1", 2),
        ("campaigns_created", "tiktok:P1", 2),
        ("conversion_events", "meta:1", 2),
    }


def test_a_refund_made_twice_or_beyond_the_total_is_a_duplicate() -> None:
    def order(name: str, total: str, *refunds: tuple[str, str]) -> dict[str, Any]:
        listed = [{"id": i, "note": n, "amount": a} for i, (n, a) in enumerate(refunds)]
        return {"id": name, "name": name, "totalPrice": total, "refunds": listed}

    supplier = "supplier failure: CJ cancelled"
    orders = [
        order("#1001", "40.00", ("staff: returned by the customer", "12.00"), (supplier, "28.00")),
        order("#1002", "40.00", (supplier, "20.00"), (supplier, "20.00")),
        order("#1003", "40.00", (supplier, "40.00"), ("other", "10.00")),
        order("#1004", "40.00"),
    ]
    found = [(d.key, d.detail) for d in da.refund_duplicates(orders)]
    assert [key for key, _ in found] == ["#1002", "#1003"]
    assert "made 2 times" in found[0][1] and "refunded 50.00 of 40.00" in found[1][1]


def test_a_budget_change_made_twice_is_found_in_the_ledger_and_at_the_platform() -> None:
    def action(campaign: str, old: str, new: str, status: str = "applied") -> dict[str, Any]:
        return {"platform": "meta", "campaign_id": campaign, "as_of": date(2026, 11, 26), "action": "scale",
                "status": status, "old_budget": Decimal(old), "new_budget": Decimal(new)}  # fmt: skip

    actions = [action("c1", "10.00", "12.00"), action("c1", "10.00", "12.00"), action("c2", "10.00", "12.00"),
               action("c2", "12.00", "14.40", status="failed")]  # fmt: skip
    campaigns = [
        {"platform": "meta", "campaign_id": "c1", "adset_id": "a1", "state": "active",
         "daily_budget": Decimal("12.00")},
        {"platform": "meta", "campaign_id": "c2", "adset_id": "a2", "state": "active",
         "daily_budget": Decimal("12.00")},
    ]  # fmt: skip
    budgets = {"meta:a1": 12.0, "meta:a2": 14.4}  # a2 scaled at Meta again, the ledger says once
    found = {(d.key, d.detail) for d in da.budget_duplicates(actions, campaigns, budgets)}
    assert found == {
        ("meta:c1", "scale from 10.00 as of 2026-11-26"),
        ("meta:a2", "platform budget 14.40, ledger's last 12.00"),
    }


def test_the_readme_commands_with_their_partitions() -> None:
    commands = da.cli_commands("2026-11-24", "2026-11-30")
    jobs = [job for job, _ in commands]
    assert jobs[:9] == list(da.README_JOBS) and "ad_launch_job" in jobs
    assert ("ad_metrics_job", {"dagster/partition": "2026-11-30"}) in commands
    assert (
        "analytics_daily_job",
        {
            "dagster/asset_partition_range_start": "2026-11-24",
            "dagster/asset_partition_range_end": "2026-11-30",
        },
    ) in commands
    # The world's yesterday, never before the first partition nor after the real today.
    today = datetime.now(UTC).date()
    first, chosen = da.partition_days({"DROPSHIP_PARTITIONS_START": "2026-11-01"}, date(2026, 11, 1))
    assert (first, chosen) == ("2026-11-01", "2026-11-01")
    assert da.partition_days({"DROPSHIP_PARTITIONS_START": "2026-11-01"}, date(2999, 1, 1))[1] == str(today)


def test_the_report_fails_on_any_failure_and_says_which(tmp_path: Path) -> None:
    report = da.Report("demo_audit --minutes 1", T0, 1.0, str(tmp_path))
    report.checks.append({"index": 1, "agreed": True, "failures": [], "error": None})
    report.cli_runs.append(asdict_run(da.CliRun(1, "ad_launch_job", {}, 0, 12.5)))
    path = tmp_path / "demo-audit.json"
    report.write(path)
    assert json.loads(path.read_text())["passed"] is True
    report.cli_runs.append(asdict_run(da.CliRun(1, "ad_metrics_job", {"dagster/partition": "x"}, 1, 3.0)))
    report.duplicates.append({"kind": "campaigns_created", "key": "meta:P1", "count": 2, "detail": "2 times"})
    report.write(path)
    written = json.loads(path.read_text())
    summary = written["summary"]
    assert written["passed"] is False and summary["cli_runs"] == 2 and summary["duplicates"] == 1
    assert summary["failures"] == [
        "duplicate campaigns_created meta:P1: 2 times",
        "CLI ad_metrics_job {'dagster/partition': 'x'} exit 1",
    ]


def asdict_run(run: da.CliRun) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(run)


# --- one check over the real dashboard API --------------------------------------------------------------
class NoLauncher:
    def launch(self, job_name: str) -> str:
        raise AssertionError("the audit only reads")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with store_url_for("sqlite", tmp_path_factory.mktemp("store")) as url:
        seed_store(url)  # a hand-computed ledger, the analytics materialized by their own assets
        yield url


def test_one_check_over_the_dashboard_api_agrees_then_a_stale_card_fails_when_it_persists(
    seeded: str, tmp_path: Path
) -> None:
    with TestClient(create_app(seeded, TOKEN, launcher=NoLauncher(), media_dir=tmp_path)) as client:
        dashboard = da.Dashboard("http://testserver", TOKEN, client=client)
        result, pending = da.check_once(dashboard, 1, 1, 0.0, {}, final=False)
        assert result.agreed and result.failures == [] and pending == {}
        assert result.cards["all_time"]["sales"] == "129.95"

        # A later day reaches the daily table; the KPI snapshot does not follow.
        late = datetime.now(UTC)
        with get_engine(seeded).begin() as conn:
            conn.execute(
                analytics_daily_profit.insert().values(
                    day=date(2026, 11, 23), orders=2, revenue=Decimal("40.00"), product_cost=Decimal("10.00"),
                    shipping_cost=Decimal("5.00"), payment_fees=Decimal("1.76"), ad_spend=Decimal("0"),
                    refunds=Decimal("0"), profit=Decimal("23.24"), estimated_cost_orders=0, computed_at=late,
                )
            )  # fmt: skip
        try:
            result, pending = da.check_once(dashboard, 2, 2, 0.0, {}, final=False)
            assert not result.agreed and result.failures == []  # stale: pending, in flight as far as known
            assert {d["field"] for d in result.disagreements} == {"sales", "orders", "profit"}
            assert {d["freshness"] for d in result.disagreements} == {"stale"}
            result, _ = da.check_once(dashboard, 3, 1, 0.0, pending, final=False)
            assert len(result.failures) == 6 and all("previous check" in f for f in result.failures)
            assert {f.split(":")[0] for f in result.failures} == {
                f"{period} {field}"
                for period in ("all_time", "last_30_days")
                for field in ("sales", "orders", "profit")
            }
        finally:
            with get_engine(seeded).begin() as conn:
                conn.execute(
                    analytics_daily_profit.delete().where(analytics_daily_profit.c.day == date(2026, 11, 23))
                )


def test_a_final_check_with_no_kpi_snapshot_fails(tmp_path: Path) -> None:
    # A demo that never computed its numbers agrees vacuously; at the end that is a failure, not a pass.
    with store_url_for("sqlite", tmp_path) as url:
        get_engine(url)  # the store's tables, empty
        with TestClient(create_app(url, TOKEN, launcher=NoLauncher(), media_dir=tmp_path)) as client:
            dashboard = da.Dashboard("http://testserver", TOKEN, client=client)
            during, _ = da.check_once(dashboard, 1, 1, 0.0, {}, final=False)
            final, _ = da.check_once(dashboard, 2, 1, 0.0, {}, final=True)
    assert during.agreed and during.failures == []
    assert final.failures == ["no KPI snapshot at the end of the demo: nothing was checked"]


def test_the_world_against_ledger_figures_write_as_json(tmp_path: Path) -> None:
    # The 30-minute run lost its final report here: asdict() turned a Counter's items into tuple keys.
    result = AuditResult(orders={"placed": 2, "lost": 1})
    result.findings += [
        Finding("orders", "lost", "#1001", "never read"),
        Finding("money", "money", "total", "x"),
    ]
    report = da.Report("demo_audit", T0, 1.0, str(tmp_path))
    report.audit = da.audit_summary(result, {"orders_placed": {"gid://shopify/Order/1": 1}})
    path = tmp_path / "demo-audit.json"
    report.write(path)
    written = json.loads(path.read_text())["audit"]
    assert written["not_duplicates"] == {"lost": 1, "money": 1}
    assert written["sandbox_totals"] == {"orders_placed": 1}
