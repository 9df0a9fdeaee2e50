"""True profit to the cent: reported gateway fees, a gateway's configured rate, refunds, chargebacks
with the dispute fee, supplier refunds (rules/profit.py, no I/O)."""

from datetime import date
from decimal import Decimal

import pandas as pd

from dropship_pipelines.rules import profit as p
from dropship_pipelines.rules.pricing import PriceRule

RULE = PriceRule()
DAY = date(2026, 11, 30)


def test_profit_per_day_counts_fees_refunds_chargebacks_and_supplier_refunds() -> None:
    columns = [*p.ORDER_COLUMNS, *p.PROFIT_COLUMNS]
    orders = pd.DataFrame(
        [
            # Shopify Payments reported 1.75 of fees; refunded 5.00
            ("A", DAY, 5000, 1200, 400, 500, 1, 0, 175, "shopify_payments", 0, 0),
            # PayPal reported none: 3.49 % + 0.49 of 30.00 = 1.537 -> 1.54 (half up) + 0.49 = 1.54
            ("B", DAY, 3000, 800, 300, 0, 1, 0, -1, "paypal", 0, 0),
            # a lost chargeback of 20.00 plus Shopify's 15.00 dispute fee; the supplier paid back 6.00
            ("C", DAY, 2000, 700, 300, 0, 1, 0, -1, None, 3500, 600),
        ],
        columns=columns,
    )
    spend = pd.DataFrame([(DAY, 250)], columns=["day", "spend_cents"])
    row = p.daily_profit_frame(orders, spend, RULE).iloc[0]
    paypal = int((Decimal(3000) * Decimal("0.0349") + 49).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    store_rule = int(p.order_fee_cents([2000], RULE)[0])  # no gateway known: the store's own rule
    fees = 175 + paypal + store_rule
    assert row["payment_fees"] == p.from_cents(fees)
    assert (row["refunds"], row["chargebacks"], row["supplier_refunds"]) == (
        Decimal("5.00"),
        Decimal("35.00"),
        Decimal("6.00"),
    )
    expected = 10000 - 2700 - 1000 - fees - 250 - 500 - 3500 + 600
    assert row["profit"] == p.from_cents(expected)
    assert (
        p.profit(
            row["revenue"],
            row["product_cost"],
            row["shipping_cost"],
            row["payment_fees"],
            row["ad_spend"],
            row["refunds"],
            row["chargebacks"],
            row["supplier_refunds"],
        )
        == row["profit"]
    )


def test_order_fee_cents_is_pricing_fee_rule() -> None:
    # 2.9 % of 19.99 = 0.57971 -> 0.58, + 0.30
    assert list(p.order_fee_cents([1999, 0], RULE)) == [88, 30]
    assert p.gateway_rule("PayPal", RULE).fee_rate == Decimal("0.0349")
    assert p.gateway_rule("shopify_payments", RULE) == RULE


def test_product_profit_shares_each_order_to_the_cent() -> None:
    columns = [*p.ORDER_COLUMNS, *p.PROFIT_COLUMNS]
    orders = pd.DataFrame(
        [
            # 33.33 paid for two products (10.00 and 23.33 of lines); a 10.01 refund splits unevenly
            ("A", DAY, 3333, 1001, 500, 1001, 2, 0, 127, "shopify_payments", 0, 0),
            ("B", DAY, 1000, 400, 300, 0, 1, 0, -1, "paypal", 2500, 0),  # a lost chargeback
        ],
        columns=columns,
    )
    lines = pd.DataFrame(
        [("A", "P1", 1000), ("A", "P2", 2333), ("B", "P1", 1000)],
        columns=["order_id", "pid", "revenue_cents"],
    )
    shared = p.product_profit(orders, lines, RULE).set_index("pid")
    # the products' sums are the orders' sums, cent for cent
    assert int(shared["money_back"].sum()) == 1001 + 2500
    assert int(shared["product_cost"].sum()) == 1001 + 400
    fees = 127 + int(p.order_fee_cents([1000], p.gateway_rule("paypal", RULE))[0])
    assert int(shared["payment_fees"].sum()) == fees
    total_profit = (3333 - 1001 - 500 - 127 - 1001) + (1000 - 400 - 300 - (fees - 127) - 2500)
    assert int(shared["order_profit"].sum()) == total_profit
    # P2 has 70 % of order A's lines: 70 % of its refund, the remainder cent on the larger line
    assert int(shared.loc["P2", "money_back"]) == 701
    assert int(shared.loc["P1", "money_back"]) == 300 + 2500
