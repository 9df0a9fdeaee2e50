"""The dashboard's reads that stay fast at any ledger size, checked for what they must still get right:
keyset pages (no order skipped or repeated while orders arrive), bounded counts, the stored
needs-attention flag (following every state change, whoever makes it), the ads' default daily window."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dashboard.api.routes.metrics import attributed_purchases
from dashboard.api.store import COUNT_BOUND, bounded_count
from dropship_pipelines.resources.supplier import SupplierOrder
from dropship_pipelines.store import ads_queries as aq
from dropship_pipelines.store import fulfillment_queries as fq
from dropship_pipelines.store import order_action_queries as oq
from dropship_pipelines.store.ads_tables import ad_metrics_daily
from dropship_pipelines.store.analytics_tables import analytics_daily_profit, analytics_daily_sales
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import (
    FULFILLMENT_FAILED,
    SUPPLIER_TROUBLE,
    fulfillments,
    order_counts_daily,
    store_orders,
    supplier_orders,
)
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import money, seeding, ts
from tests.dashboard.seed import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class NoLauncher:
    def launch(self, job_name: str) -> str:
        return "run-1"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with store_url_for(request.param, tmp_path_factory.mktemp("scale")) as url:
        get_engine(url)  # upgraded to head: the flag's triggers and the indexes exist
        yield url


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(store_url, TOKEN, launcher=NoLauncher())) as test_client:
        yield test_client


def order_row(n: int, placed_at: datetime, state: str = "new") -> dict[str, Any]:
    return {
        "order_id": f"gid://shopify/Order/{n}",
        "name": f"#{1000 + n}",
        "placed_at": placed_at,
        "store_updated_at": placed_at,
        "financial_status": "PAID",
        "fulfillment_status": "UNFULFILLED",
        "total_price": Decimal("19.99"),
        "state": state,
    }


def insert_orders(url: str, rows: list[dict[str, Any]]) -> None:
    with get_engine(url).begin() as conn:
        fq.save_orders(conn, rows, [])  # the fulfillment workflow's own writer


def walk(client: TestClient, query: str, limit: int, between: Any = None) -> list[str]:
    """Every page of /api/orders?<query> by its `next_after` cursor; `between(page)` runs after each."""
    seen: list[str] = []
    after = None
    for page_number in range(1000):
        cursor = f"&after={after}" if after else ""
        page = client.get(f"/api/orders?limit={limit}{query}{cursor}", headers=BEARER).json()
        seen += [order["order_id"] for order in page["items"]]
        after = page["next_after"]
        if between:
            between(page_number)
        if after is None:
            return seen
    raise AssertionError("the pages never ended")


def test_keyset_pages_skip_and_repeat_no_order_while_orders_arrive(
    store_url: str, client: TestClient
) -> None:
    # Ties on placed_at (three orders a minute) are ordered by order id: a page may end inside a tie.
    start = [order_row(n, T0 + timedelta(minutes=n // 3)) for n in range(1, 41)]
    insert_orders(store_url, start)
    newest_first = sorted(start, key=lambda r: (r["placed_at"], r["order_id"]), reverse=True)
    expected = [r["order_id"] for r in newest_first]

    assert walk(client, "", 7) == expected
    offset_pages = [
        o["order_id"]
        for offset in range(0, 40, 7)
        for o in client.get(f"/api/orders?limit=7&offset={offset}", headers=BEARER).json()["items"]
    ]
    assert offset_pages == expected  # the same order with offsets, on a ledger that does not move

    # Orders arrive while the operator pages: newer ones (above the cursor) and late imports placed
    # earlier (below it, so they show up in a later page, once).
    arrivals = iter(range(100, 200))

    def orders_arrive(page_number: int) -> None:
        newer, older = next(arrivals), next(arrivals)
        insert_orders(
            store_url,
            [
                order_row(newer, T0 + timedelta(days=1, minutes=newer)),
                order_row(older, T0 - timedelta(hours=older)),
            ],
        )

    seen = walk(client, "", 7, orders_arrive)
    assert len(seen) == len(set(seen)), "an order was repeated"
    assert set(expected) <= set(seen), "an order there from the start was skipped"
    assert [o for o in seen if o in set(expected)] == expected
    late = [o for o in seen if o not in set(expected)]
    assert late and all(int(o.rsplit("/", 1)[1]) % 2 == 1 for o in late)  # only the older arrivals


def test_keyset_pages_keep_their_filters(store_url: str, client: TestClient) -> None:
    rows = [order_row(n, T0 + timedelta(hours=n), "problem" if n % 4 == 0 else "new") for n in range(1, 30)]
    insert_orders(store_url, rows)
    held = [
        r["order_id"]
        for r in sorted(rows, key=lambda r: r["placed_at"], reverse=True)
        if r["state"] == "problem"
    ]
    assert walk(client, "&state=problem", 2) == held
    assert walk(client, "&needs_attention=true", 3) == held
    day = (T0 + timedelta(hours=12)).date().isoformat()
    in_day = [
        r["order_id"]
        for r in sorted(rows, key=lambda r: r["placed_at"], reverse=True)
        if r["placed_at"].date().isoformat() == day
    ]
    assert walk(client, f"&start={day}&end={day}", 4) == in_day


def test_a_cursor_that_is_not_ours_is_refused(client: TestClient) -> None:
    for bad in ("nonsense", "bm90IGEgY3Vyc29y", "MjAyNi0xMS0wMVQxMjowMDowMA=="):  # the last: no zone, no id
        response = client.get(f"/api/orders?after={bad}", headers=BEARER)
        assert response.status_code == 422, bad
        assert "next_after" in response.json()["detail"]
    both = client.get("/api/orders?after=x&offset=5", headers=BEARER)
    assert (both.status_code, both.json()["detail"]) == (422, "give after or offset, not both")


def test_counts_stop_at_their_bound(store_url: str, client: TestClient) -> None:
    rows = [order_row(n, T0 + timedelta(seconds=n)) for n in range(1, COUNT_BOUND + 2)]
    with seeding(get_engine(store_url)) as seed:  # 10,001 orders through the bulk path: fast
        seed.bulk(
            store_orders,
            (
                "order_id",
                "name",
                "placed_at",
                "store_updated_at",
                "financial_status",
                "fulfillment_status",
                "total_price",
                "state",
            ),
            [
                (
                    r["order_id"],
                    r["name"],
                    ts(r["placed_at"].replace(tzinfo=None)),
                    ts(r["store_updated_at"].replace(tzinfo=None)),
                    "PAID",
                    "UNFULFILLED",
                    money(1999),
                    r["state"],
                )
                for r in rows[:-1]
            ],
        )
    page = client.get("/api/orders?limit=5", headers=BEARER).json()
    assert (page["total"], page["total_exact"], page["total_label"]) == (10_000, True, "10,000")
    insert_orders(store_url, rows[-1:])
    page = client.get("/api/orders?limit=5", headers=BEARER).json()
    assert (page["total"], page["total_exact"], page["total_label"]) == (10_000, False, "10,000+")
    assert page["items"][0]["order_id"] == rows[-1]["order_id"]
    small = client.get("/api/orders?limit=5&state=problem", headers=BEARER).json()
    assert (small["total"], small["total_exact"], small["total_label"]) == (0, True, "0")
    with get_engine(store_url).connect() as conn:
        keys = sa.select(store_orders.c.order_id)
        assert bounded_count(conn, keys, bound=3) == (3, False)
        assert bounded_count(conn, keys.where(store_orders.c.order_id == rows[0]["order_id"]), bound=3) == (
            1,
            True,
        )


def flags(url: str) -> dict[str, tuple[bool, bool]]:
    """order id -> (stored flag, the rule computed from the three tables now)."""
    o = store_orders.c
    rule = sa.and_(
        o.state != "cancelled",
        sa.or_(
            o.state == "problem",
            sa.exists().where(supplier_orders.c.order_id == o.order_id, SUPPLIER_TROUBLE),
            sa.exists().where(fulfillments.c.order_id == o.order_id, FULFILLMENT_FAILED),
        ),
    )
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(o.order_id, o.needs_attention, sa.case((rule, True), else_=False)))
        return {order_id: (bool(stored), bool(derived)) for order_id, stored, derived in rows}


def test_the_needs_attention_flag_follows_every_state_change(store_url: str, client: TestClient) -> None:
    engine = get_engine(store_url)
    ids = [f"gid://shopify/Order/{n}" for n in range(1, 6)]
    insert_orders(store_url, [order_row(n, T0 + timedelta(hours=n)) for n in range(1, 6)])
    insert_orders(store_url, [order_row(6, T0 + timedelta(hours=6), "problem")])  # held as it arrives
    ids.append("gid://shopify/Order/6")
    expected: dict[str, bool] = dict.fromkeys(ids, False) | {ids[5]: True}

    def check(step: str) -> None:
        found = flags(store_url)
        assert {k: v[0] for k, v in found.items()} == expected, step
        assert all(stored == derived for stored, derived in found.values()), step
        listed = client.get("/api/orders?needs_attention=true&limit=50", headers=BEARER).json()
        assert {o["order_id"] for o in listed["items"]} == {k for k, v in expected.items() if v}, step
        assert all(o["needs_attention"] for o in listed["items"]), step

    check("arrived")
    placed = SupplierOrder(supplier_order_id="CJ1", status="CREATED")
    steps: list[tuple[str, Any, dict[str, bool]]] = [
        ("held by the workflow", lambda c: fq.hold_order(c, ids[0], "no route to AQ"), {ids[0]: True}),
        ("claimed at the supplier", lambda c: fq.begin_supplier_order(c, "DS-2", ids[1], None), {}),
        (
            "a transient supplier error",
            lambda c: fq.fail_supplier_order(c, "DS-2", ids[1], "503", permanent=False),
            {ids[1]: True},
        ),
        ("placed after all", lambda c: fq.finish_supplier_order(c, "DS-2", ids[1], placed), {ids[1]: False}),
        (
            "claimed, then refused",
            lambda c: (
                fq.begin_supplier_order(c, "DS-3", ids[2], None),
                fq.fail_supplier_order(c, "DS-3", ids[2], "balance too low", permanent=True),
            ),
            {ids[2]: True},
        ),
        ("fulfillment claimed", lambda c: fq.begin_fulfillment(c, ids[1], "YT1", "YunExpress", None), {}),
        (
            "fulfillment failed",
            lambda c: fq.fail_fulfillment(c, ids[1], "422", permanent=True),
            {ids[1]: True},
        ),
        (
            "fulfillment posted",
            lambda c: fq.finish_fulfillment(c, ids[1], "gid://shopify/Fulfillment/1", True),
            {ids[1]: False},
        ),
        (
            "placed",
            lambda c: (
                fq.begin_supplier_order(c, "DS-4", ids[3], None),
                fq.finish_supplier_order(c, "DS-4", ids[3], SupplierOrder("CJ4")),
            ),
            {},
        ),
        # A withdrawn supplier order is failed, with its reason as the last error; its order is cancelled,
        # so it needs no human (migration 0013).
        (
            "cancelled and withdrawn",
            lambda c: (oq.mark_cancelled(c, ids[3], T0), oq.mark_supplier_order_withdrawn(c, ids[3])),
            {ids[3]: False},
        ),
        (
            "any other writer",
            lambda c: c.execute(
                sa.update(store_orders).where(store_orders.c.order_id == ids[4]).values(state="problem")
            ),
            {ids[4]: True},
        ),
        (
            "a supplier row removed",
            lambda c: c.execute(sa.delete(supplier_orders).where(supplier_orders.c.order_id == ids[2])),
            {},
        ),
        (
            "a flag written by hand is put right",
            lambda c: c.execute(sa.update(store_orders).values(needs_attention=False)),
            {},
        ),
    ]
    for step, write, changes in steps:
        with engine.begin() as conn:
            write(conn)
        expected |= changes
        check(step)
    # The dashboard's own release of a hold (Retry) clears it; the refused supplier order of order 3 is
    # gone, so it leaves the list too.
    assert client.post(f"/api/orders/{ids[2].replace('/', '%2F')}/retry", headers=BEARER).status_code == 200
    expected[ids[2]] = False
    check("released from the dashboard")


def add_metrics(url: str, days: list[date]) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(
            ad_metrics_daily.insert(),
            [
                {
                    "day": day,
                    "platform": platform,
                    "campaign_id": f"{platform}-1",
                    "spend": Decimal("10.00"),
                    "impressions": 1000,
                    "clicks": 10,
                    "purchases": 1,
                    "revenue": Decimal("25.00"),
                }
                for day in days
                for platform in ("meta", "tiktok")
            ],
        )


def test_ads_daily_answers_for_a_bounded_window(store_url: str, client: TestClient) -> None:
    assert client.get("/api/ads/daily", headers=BEARER).json() == []  # no metrics: nothing to bound
    newest = date(2026, 11, 20)
    add_metrics(store_url, [newest - timedelta(days=i) for i in range(90)])
    default = client.get("/api/ads/daily", headers=BEARER)
    days = sorted({row["day"] for row in default.json()})
    assert (days[0], days[-1], len(days)) == ("2026-10-22", "2026-11-20", 30)
    assert (default.headers["X-Window-Start"], default.headers["X-Window-End"]) == (
        "2026-10-22",
        "2026-11-20",
    )
    assert default.json()[0] == {
        "day": "2026-10-22",
        "platform": "meta",
        "spend": "10.00",
        "clicks": 10,
        "purchases": 1,
        "revenue": "25.00",
    }
    explicit = client.get(
        "/api/ads/daily?start=2026-09-01&end=2026-11-20&platform=tiktok", headers=BEARER
    ).json()
    assert (len(explicit), {row["platform"] for row in explicit}) == (81, {"tiktok"})
    to_end = client.get("/api/ads/daily?end=2026-10-01", headers=BEARER)
    assert to_end.headers["X-Window-Start"] == "2026-09-02" and len(to_end.json()) == 60
    since = client.get("/api/ads/daily?start=2026-11-15", headers=BEARER).json()
    assert sorted({row["day"] for row in since}) == [f"2026-11-{d}" for d in range(15, 21)]
    assert client.get("/api/ads/daily?start=2026-11-21&end=2026-11-20", headers=BEARER).status_code == 422


def test_daily_order_counts_follow_every_order_write(store_url: str) -> None:
    """`order_counts_daily` (the KPI cards' organic orders) equals a count over store_orders after
    inserts, a cancellation, a source or day change, a re-import and deletes, whoever writes them."""
    engine = get_engine(store_url)
    o = store_orders.c

    def counted() -> None:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                day_of = sa.cast(sa.func.timezone("UTC", o.placed_at), sa.Date)
            else:
                day_of = sa.func.substr(o.placed_at, 1, 10)
            direct = conn.execute(
                sa.select(day_of, o.source, sa.func.count())
                .where(o.state != "cancelled")
                .group_by(day_of, o.source)
            )
            kept = conn.execute(sa.select(order_counts_daily).where(order_counts_daily.c.orders != 0))
            assert {(str(r.day), r.source): r.orders for r in kept} == {(str(d), s): n for d, s, n in direct}

    rows = [
        order_row(n, T0 + timedelta(hours=7 * n)) | {"source": ("organic", "meta")[n % 2]}
        for n in range(1, 12)
    ]
    insert_orders(store_url, rows)
    counted()
    with engine.begin() as conn:
        oq.mark_cancelled(conn, rows[0]["order_id"], T0)
        conn.execute(
            sa.update(store_orders).where(o.order_id == rows[1]["order_id"]).values(source="organic")
        )
        conn.execute(
            sa.update(store_orders)
            .where(o.order_id == rows[2]["order_id"])
            .values(placed_at=T0 + timedelta(days=9))
        )
        conn.execute(sa.update(store_orders).where(o.order_id == rows[3]["order_id"]).values(state="sent"))
    counted()
    insert_orders(store_url, rows[:5])  # the store's re-read of known orders: state kept, counts unchanged
    with engine.begin() as conn:
        conn.execute(sa.delete(store_orders).where(o.order_id.in_([r["order_id"] for r in rows[4:7]])))
        conn.execute(sa.update(store_orders).where(o.order_id == rows[0]["order_id"]).values(state="new"))
    counted()


def test_ad_day_totals_follow_every_metrics_write(store_url: str, client: TestClient) -> None:
    """`ad_metrics_day_totals` (the KPI cards' attributed purchases, /api/ads/daily) equals a sum over
    ad_metrics_daily after the metrics job's re-pull (delete and insert), a restated row, a row moved to
    another day, and deletes; a day whose rows are all gone is not shown."""
    engine = get_engine(store_url)
    d = ad_metrics_daily.c

    def summed() -> list[dict[str, Any]]:
        with engine.connect() as conn:
            direct = conn.execute(
                sa.select(
                    d.day,
                    d.platform,
                    sa.func.sum(d.spend).label("spend"),
                    sa.func.sum(d.clicks).label("clicks"),
                    sa.func.sum(d.purchases).label("purchases"),
                    sa.func.sum(d.revenue).label("revenue"),
                )
                .group_by(d.day, d.platform)
                .order_by(d.day, d.platform)
            )
            expected = [
                {**r._asdict(), "day": str(r.day), "spend": str(r.spend), "revenue": str(r.revenue)}
                for r in direct
            ]
        answered = client.get("/api/ads/daily?start=2026-01-01&end=2026-12-31", headers=BEARER).json()
        assert answered == expected
        return answered

    def metric(day: date, campaign: str, spend: str, purchases: int, platform: str = "meta") -> dict:
        return {
            "day": day,
            "platform": platform,
            "campaign_id": campaign,
            "pid": "P1",
            "spend": Decimal(spend),
            "impressions": 1000,
            "clicks": 10 + purchases,
            "purchases": purchases,
            "revenue": Decimal(spend) * 3,
        }

    first = date(2026, 11, 1)
    days = [first + timedelta(days=i) for i in range(3)]
    with engine.begin() as conn:
        rows = [metric(day, c, "10.10", 2) for day in days for c in ("c1", "c2")]
        aq.replace_metrics(conn, "meta", days[0], days[-1], rows)
        aq.replace_metrics(conn, "tiktok", days[0], days[0], [metric(days[0], "t1", "0.07", 1, "tiktok")])
    assert len(summed()) == 4
    with engine.begin() as conn:  # the re-pull of two days restates them: one campaign fewer on the 2nd
        rows = [metric(days[1], "c1", "33.33", 5), metric(days[2], "c2", "0.01", 0)]
        aq.replace_metrics(conn, "meta", days[1], days[2], rows)
        conn.execute(
            sa.update(ad_metrics_daily)
            .where(d.campaign_id == "c1", d.day == days[0])
            .values(spend=Decimal("99.99"), purchases=7)
        )
        conn.execute(
            sa.update(ad_metrics_daily).where(d.campaign_id == "t1").values(day=days[2])
        )  # a row moved: its old day empties
    totals = summed()
    assert [(row["day"], row["platform"]) for row in totals] == [
        ("2026-11-01", "meta"),
        ("2026-11-02", "meta"),
        ("2026-11-03", "meta"),
        ("2026-11-03", "tiktok"),
    ]
    assert totals[0]["spend"] == "110.09" and totals[0]["purchases"] == 9
    with engine.begin() as conn:
        conn.execute(sa.delete(ad_metrics_daily).where(d.day == days[2]))
    assert [row["day"] for row in summed()] == ["2026-11-01", "2026-11-02"]
    with engine.connect() as conn:  # the KPI cards' attributed purchases, open-ended or over a window
        assert attributed_purchases(conn, None, None) == 9 + 5
        assert attributed_purchases(conn, days[1], None) == 5
        assert attributed_purchases(conn, days[2], days[2]) == 0


def test_the_daily_page_is_reread_after_every_write_to_its_tables(store_url: str, client: TestClient) -> None:
    """/api/metrics/daily is served from a cache per version of the daily tables; every insert, update
    and delete of analytics_daily_profit or analytics_daily_sales (the triggers of migration 0014, so
    whoever writes) makes the next answer a fresh read, for each range asked."""
    engine = get_engine(store_url)
    stamp = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)

    def profit_row(day: date, revenue: str) -> dict[str, Any]:
        money_fields = ("product_cost", "shipping_cost", "payment_fees", "ad_spend", "refunds", "profit")
        return (
            {"day": day, "orders": 1, "revenue": Decimal(revenue), "estimated_cost_orders": 0}
            | {name: Decimal("1.00") for name in money_fields}
            | {"computed_at": stamp}
        )

    def sales() -> list[tuple[str, str, int]]:
        answered = client.get("/api/metrics/daily", headers=BEARER)
        assert answered.status_code == 200 and answered.headers["content-type"] == "application/json"
        return [(row["day"], row["sales"], row["items"]) for row in answered.json()]

    assert sales() == []
    with engine.begin() as conn:
        conn.execute(analytics_daily_profit.insert(), [profit_row(date(2026, 11, 1), "10.00")])
    assert sales() == [("2026-11-01", "10.00", 0)]
    assert sales() == [("2026-11-01", "10.00", 0)]  # from the cache
    with engine.begin() as conn:
        conn.execute(analytics_daily_profit.update().values(revenue=Decimal("12.50")))
    assert sales() == [("2026-11-01", "12.50", 0)]
    with engine.begin() as conn:
        conn.execute(
            analytics_daily_sales.insert(),
            [
                {
                    "day": date(2026, 11, 1),
                    "orders": 1,
                    "items": 4,
                    "sales": Decimal("12.50"),
                    "computed_at": stamp,
                }
            ],
        )
    assert sales() == [("2026-11-01", "12.50", 4)]
    one_day = "/api/metrics/daily?start=2026-11-01&end=2026-11-01"
    assert len(client.get(one_day, headers=BEARER).json()) == 1
    with engine.begin() as conn:
        conn.execute(analytics_daily_profit.insert(), [profit_row(date(2026, 11, 2), "3.00")])
        conn.execute(
            sa.delete(analytics_daily_profit).where(analytics_daily_profit.c.day == date(2026, 11, 1))
        )
    assert sales() == [("2026-11-02", "3.00", 0)]
    assert client.get(one_day, headers=BEARER).json() == []
