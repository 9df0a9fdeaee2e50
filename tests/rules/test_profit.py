"""The profit rule alone: fees per order to the cent, the vectorised fees equal the scalar rule."""

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dropship_pipelines.rules import profit as p
from dropship_pipelines.rules.pricing import PriceRule

RULE = PriceRule()


def test_order_fee_is_the_pricing_fee() -> None:
    assert p.order_fee(Decimal("19.99"), RULE) == Decimal("0.88")
    assert p.order_fee(Decimal("59.98"), RULE) == Decimal("2.04")
    assert p.order_fee(Decimal("0"), RULE) == Decimal("0.30")


def test_vectorised_fees_equal_scalar_fees_for_every_cent_up_to_1000_dollars() -> None:
    cents = np.arange(0, 100_001, dtype=np.int64)
    vectorised = p.order_fee_cents(cents, RULE)
    for c in (*range(0, 2000), *range(99_000, 100_001)):
        assert vectorised[c] == p.to_cents(p.order_fee(Decimal(c) / 100, RULE)), c
    odd_rule = PriceRule(fee_rate=Decimal("0.0349"), fixed_fee=Decimal("0.49"))
    for c in range(0, 5000, 7):
        assert p.order_fee_cents(np.array([c]), odd_rule)[0] == p.to_cents(
            p.order_fee(Decimal(c) / 100, odd_rule)
        )


def test_profit_and_ratios() -> None:
    assert p.profit(
        Decimal("100"), Decimal("30"), Decimal("10"), Decimal("3.20"), Decimal("20"), Decimal("5")
    ) == (Decimal("31.80"))
    assert p.aov(Decimal("129.95"), 3) == Decimal("43.32")
    assert p.aov(Decimal("0"), 0) is None
    assert p.roas(Decimal("129.95"), Decimal("27.75")) == pytest.approx(4.6829)
    assert p.roas(Decimal("1"), Decimal("0")) is None
    assert p.roi(Decimal("49.53"), Decimal("80.42")) == pytest.approx(0.6159)
    assert p.conversion_rate(3, 110) == pytest.approx(0.0273)
    assert p.conversion_rate(3, 0) is None


def test_daily_frame_counts_ad_only_days_and_sums_in_cents() -> None:
    orders = pd.DataFrame(
        [
            ("A", date(2026, 1, 1), 1999, 500, 250, 0, 1, 1),
            ("B", date(2026, 1, 1), 1, 0, 0, 0, 1, 0),
        ],
        columns=list(p.ORDER_COLUMNS),
    )
    spend = pd.DataFrame([(date(2026, 1, 2), 1000)], columns=["day", "spend_cents"])
    daily = p.daily_profit_frame(orders, spend, RULE).set_index("day")
    first = daily.loc[date(2026, 1, 1)]
    assert first["payment_fees"] == Decimal("0.88") + Decimal("0.30")
    assert first["profit"] == Decimal("20.00") - Decimal("7.50") - Decimal("1.18")
    assert first["aov"] == Decimal("10.00")
    second = daily.loc[date(2026, 1, 2)]
    assert (second["orders"], second["profit"], second["aov"]) == (0, Decimal("-10.00"), None)


def test_to_cents_is_exact() -> None:
    assert p.to_cents(0.29) == 29
    assert p.to_cents("19.995") == 2000
    assert p.to_cents(None) == 0
    assert p.from_cents(-1225) == Decimal("-12.25")
