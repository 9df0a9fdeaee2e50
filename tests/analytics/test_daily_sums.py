"""The daily aggregation done by the database (`analytics_queries.daily_sums`, one GROUP BY day over the
orders and one over their lines) gives the same daily frame, to the cent, as the per-order computation it
replaced (`order_frame` + `rules/profit.daily_profit_frame`), on SQLite and PostgreSQL, over a ledger with
every kind of money: reported and unreported gateway fees, refunds from three ledgers, chargebacks won and
lost with and without a dispute fee, supplier refunds, actual and quoted supplier costs, listing
estimates, several currencies, cancelled orders and orders near midnight UTC."""

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.analytics import assets
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules import profit as money
from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.store import analytics_queries as q
from dropship_pipelines.store.ads_tables import ad_metrics_daily
from dropship_pipelines.store.analytics_tables import analytics_daily_profit, analytics_daily_sales
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders, supplier_orders
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_pipelines.store.profit_tables import order_payments, supplier_costs
from dropship_pipelines.store.refund_tables import order_refunds
from dropship_testkit.databases import BACKENDS, store_url_for
from dropship_testkit.ledger_seed import seeding

FIRST_DAY = date(2026, 11, 10)
DAYS = 6
ORDERS = 400


def _cents(value: int) -> Decimal:
    return Decimal(value) / 100


def seed_mixed_ledger(engine: sa.Engine, seed: int = 11) -> None:
    """ORDERS orders over DAYS days with every case the daily money distinguishes, drawn at random."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    products = [(f"P{i}", rng.randrange(150, 2500), rng.randrange(100, 900)) for i in range(12)]
    orders, lines, suppliers, costs, payments, refunds, actions = [], [], [], [], [], [], []
    for n in range(ORDERS):
        day = FIRST_DAY + timedelta(days=n * DAYS // ORDERS)
        # some orders in the last and first seconds of a UTC day
        second = rng.choice([0, 1, 86_399, rng.randrange(86_400)])
        placed = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(seconds=second)
        order_id = f"gid://shopify/Order/{n + 1}"
        roll = rng.random()
        state = "cancelled" if roll < 0.08 else "new" if roll < 0.3 else "sent" if roll < 0.6 else "shipped"
        total = 0
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            pid, _, _ = products[rng.randrange(len(products))]
            price = rng.randrange(199, 6000)
            quantity = rng.randrange(1, 4)
            total += price * quantity
            known = rng.random()
            lines.append(
                {
                    "line_id": f"L{n}-{k}",
                    "order_id": order_id,
                    "title": f"line {k}",
                    "quantity": quantity,
                    "unit_price": _cents(price),
                    # a line of a product not (yet) mapped, a variant the listing lacks
                    "pid": None if known < 0.07 else f"PX{n}" if known < 0.12 else pid,
                    "vid": None if known < 0.3 else f"{pid}-v{k % 2}",
                }
            )
        total += rng.choice([0, 0, 499, 1001])  # shipping charged to the customer
        currency, presentment = rng.choice([("USD", "USD"), ("USD", "EUR"), ("EUR", "EUR"), ("USD", "GBP")])
        orders.append(
            {
                "order_id": order_id,
                "name": f"#{1001 + n}",
                "placed_at": placed,
                "store_updated_at": placed,
                "financial_status": "PAID",
                "fulfillment_status": "UNFULFILLED",
                # a cancellation the state has not caught up with yet still excludes the order
                "cancelled_at": placed + timedelta(hours=1) if state == "cancelled" or roll > 0.97 else None,
                "currency": currency,
                "total_price": _cents(total),
                "state": state,
            }
        )
        if state in ("sent", "shipped") or (state == "new" and rng.random() < 0.3):
            quoted = state != "new"  # a failed supplier order has no amounts
            suppliers.append(
                {
                    "order_number": f"DS-{n}",
                    "order_id": order_id,
                    "state": "created" if quoted else "failed",
                    "product_amount": _cents(rng.randrange(100, 4000)) if quoted else None,
                    "postage_amount": _cents(rng.randrange(100, 900)) if quoted else None,
                }
            )
            if state == "shipped" and rng.random() < 0.7:
                costs.append(
                    {
                        "order_number": f"DS-{n}",
                        "order_id": order_id,
                        "product_amount": _cents(rng.randrange(100, 4000)),
                        "postage_amount": _cents(rng.randrange(100, 900)),
                    }
                )
        if rng.random() < 0.8:
            gateway = rng.choice(["shopify_payments", "shopify_payments", "paypal", "PayPal", "stripe", None])
            reported = gateway == "shopify_payments" and rng.random() < 0.8
            payments.append(
                {
                    "order_id": order_id,
                    "gateway": gateway,
                    "paid": _cents(total),
                    "fees": _cents(rng.randrange(0, 300)) if reported else None,
                    "refunded": _cents(rng.choice([0, 0, 0, 250, total // 2])),
                    "shop_currency": currency,
                    "presentment_currency": presentment,
                    "presentment_total": _cents(total * 11 // 10),
                }
            )
        for r in range(rng.choice([0, 0, 0, 1, 2])):
            kind = rng.choice(["refund", "chargeback", "supplier_refund"])
            refunds.append(
                {
                    "refund_key": f"{order_id}:{kind}:{r}",
                    "order_id": order_id,
                    "kind": kind,
                    "remote_id": f"R{n}-{r}",
                    "status": rng.choice([None, "WON", "LOST", "NEEDS_RESPONSE"])
                    if kind == "chargeback"
                    else None,
                    "amount": _cents(rng.randrange(100, 3000)),
                    "currency": currency,
                    "presentment_amount": _cents(rng.randrange(100, 3000)),
                    "presentment_currency": presentment,
                    "fee": rng.choice([None, Decimal("15.00"), Decimal("20.00")])
                    if kind == "chargeback"
                    else None,
                    "occurred_at": placed + timedelta(days=1),
                }
            )
        if rng.random() < 0.1:
            actions.append(
                {
                    "action_key": f"support-ticket:{n}:refund",
                    "origin": f"support-ticket:{n}",
                    "kind": "refund",
                    "order_id": order_id,
                    "state": rng.choice(["done", "done", "claimed"]),
                    "amount": _cents(rng.randrange(100, 2000)),
                    "currency": currency,
                }
            )
    with seeding(engine) as seed:
        seed.rows(
            listings,
            [
                {
                    "pid": pid,
                    "handle": pid.lower(),
                    "status": "listed",
                    "title": f"Product {pid}",
                    "price": _cents(cost * 3),
                    "unit_cost": _cents(cost),
                    "shipping_cost": _cents(shipping),
                    "listed_at": now,
                }
                for pid, cost, shipping in products
            ],
        )
        seed.rows(
            listing_variants,
            [
                {
                    "vid": f"{pid}-v0",
                    "pid": pid,
                    "sku": f"{pid}-0",
                    "option_value": "A",
                    "price": _cents(cost * 3),
                    "unit_cost": _cents(cost + 37),  # the variant's cost wins over the listing's
                }
                for pid, cost, _ in products
            ],
        )
        for table, rows in (
            (store_orders, orders),
            (store_order_lines, lines),
            (supplier_orders, suppliers),
            (supplier_costs, costs),
            (order_payments, payments),
            (order_refunds, refunds),
            (order_actions, actions),
        ):
            seed.rows(table, rows)
        seed.rows(
            ad_metrics_daily,
            [
                {
                    "day": FIRST_DAY + timedelta(days=d),
                    "platform": platform,
                    "campaign_id": f"{platform}-1",
                    "pid": "P1",
                    "spend": _cents(rng.randrange(100, 5000)),
                    "impressions": 1000,
                    "clicks": 20,
                    "purchases": 1,
                    "revenue": Decimal("10.00"),
                }
                # a day before the orders with spend only
                for d in range(-1, DAYS)
                for platform in ("meta", "tiktok")
            ],
        )


@pytest.fixture(params=BACKENDS)
def mixed_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url_for(request.param, tmp_path) as url:
        seed_mixed_ledger(get_engine(url))
        yield url


def per_order_frame(url: str, first: date, end: date, rule: PriceRule) -> pd.DataFrame:
    """The computation the database aggregation replaced: every order read, summed in pandas."""
    with q.consistent_read(get_engine(url)) as conn:
        orders = q.order_frame(conn, q.utc_start(first), q.utc_start(end))
        spend = q.ad_spend_frame(conn, first, end)
    return money.daily_profit_frame(orders, spend, rule)


@pytest.mark.parametrize(
    ("first", "end"),
    [
        (FIRST_DAY - timedelta(days=1), FIRST_DAY + timedelta(days=DAYS)),  # all, with a spend-only day
        (FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=3)),  # one day, as the automation runs
    ],
)
def test_database_aggregation_equals_the_per_order_computation(
    mixed_store: str, first: date, end: date
) -> None:
    pricing = PricingPolicy()
    ours, _ = assets.daily_frame(StoreDatabase(url=mixed_store), pricing, first, end)
    theirs = per_order_frame(mixed_store, first, end, pricing.rule())
    assert len(theirs) == (end - first).days
    assert theirs["refunds"].sum() > 0 and theirs["chargebacks"].sum() > 0  # the ledger has them
    assert theirs["supplier_refunds"].sum() > 0 and theirs["estimated_cost_orders"].sum() > 0
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True))
    assert list(ours.dtypes) == list(theirs.dtypes)


def test_unreported_fees_follow_the_gateway_rule_in_the_database(mixed_store: str) -> None:
    """Each order's fee from SQL equals `payment_fee_cents` (reported, PayPal's rate, the store's rule)."""
    rule = PriceRule(fee_rate=Decimal("0.0375"), fixed_fee=Decimal("0.35"))
    with q.consistent_read(get_engine(mixed_store)) as conn:
        orders = q.order_frame(conn, *q.ALL_TIME)
        fees = dict(
            conn.execute(
                sa.select(store_orders.c.order_id, q.payment_fee_cents_column(rule)).select_from(
                    store_orders.outerjoin(
                        order_payments, order_payments.c.order_id == store_orders.c.order_id
                    )
                )
            ).all()
        )
    expected = money.payment_fee_cents(orders, rule)
    assert [int(fees[o]) for o in orders["order_id"]] == [int(v) for v in expected]


def test_one_run_reads_the_ledger_once_for_both_daily_tables(mixed_store: str) -> None:
    """daily_sales and daily_profit of one run are one computation: one snapshot, one stamp, and nothing
    is left behind for another run."""
    from tests.analytics.test_analytics_assets import CHECKS, DAILY_ASSETS, resources

    result = dg.materialize(
        [*DAILY_ASSETS, *CHECKS],
        resources=resources(mixed_store),
        selection=dg.AssetSelection.assets(*DAILY_ASSETS),
        tags={
            "dagster/asset_partition_range_start": FIRST_DAY.isoformat(),
            "dagster/asset_partition_range_end": (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat(),
        },
    )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    # one materialisation per day and asset, each with its own day of the run's one read
    events = result.get_asset_materialization_events()
    assert len(events) == 2 * DAYS
    reads = {
        (event.asset_key, event.partition): event.materialization.metadata[assets.LEDGER_READ].value
        for event in events
    }
    assert {key for key, _ in reads} == {assets.daily_sales.key, assets.daily_profit.key}
    assert len({read["computed_at"] for read in reads.values()}) == 1
    for (_, partition), read in reads.items():
        assert set(read["days"]) == {partition}
        assert json.dumps(read) == json.dumps(reads[(assets.daily_sales.key, partition)])
    engine = get_engine(mixed_store)
    with engine.connect() as conn:
        stamps = {
            table.name: set(conn.execute(sa.select(table.c.computed_at)).scalars())
            for table in (analytics_daily_sales, analytics_daily_profit)
        }
    assert len(stamps["analytics_daily_sales"]) == 1
    assert stamps["analytics_daily_sales"] == stamps["analytics_daily_profit"]
    assert not assets._SHARED_DAILY


def test_product_profit_in_the_database_equals_the_per_order_sharing(mixed_store: str) -> None:
    """True profit per product shared by the database equals `rules/profit.product_profit` over every
    order and line, to the cent, and the products' sums are the orders' sums."""
    rule = PriceRule()
    with q.consistent_read(get_engine(mixed_store)) as conn:
        orders = q.order_frame(conn, *q.ALL_TIME)
        theirs = money.product_profit(orders, q.product_lines(conn), rule)
        ours = q.product_profit_sums(conn, rule)
    theirs = theirs.sort_values("pid").reset_index(drop=True)
    ours = ours.sort_values("pid").reset_index(drop=True)
    for column in money.PRODUCT_MONEY:
        theirs[column] = theirs[column].astype("int64")
    assert len(ours) > 10
    pd.testing.assert_frame_equal(ours, theirs)


def test_product_figures_in_one_pass_equal_product_sales(mixed_store: str) -> None:
    """The top products' one pass over the lines gives `product_sales`' units, orders, revenue and
    listing costs per product, to the cent, and the ledger's own units and revenue per product."""
    with q.consistent_read(get_engine(mixed_store)) as conn:
        ours = q.product_figures(conn, PriceRule())
        theirs = q.product_sales(conn).drop(columns="ad_spend")
        lean = q.product_units_revenue(conn)
    columns = list(q.PRODUCT_SALES)
    ours = ours.loc[:, columns].sort_values("pid").reset_index(drop=True)
    theirs = theirs.loc[:, columns].sort_values("pid").reset_index(drop=True)
    assert len(ours) > 10
    pd.testing.assert_frame_equal(ours, theirs)
    lean = lean.sort_values("pid").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours.loc[:, ["pid", "units", "revenue"]], lean)
