from decimal import Decimal

import pytest

from dropship_pipelines.rules.pricing import (
    PriceRule,
    compare_at_price,
    fees,
    lift_to_ending,
    retail_price,
    unit_profit,
)

D = Decimal


def test_price_follows_the_formula_and_lands_on_99() -> None:
    rule = PriceRule(min_profit=D("0"))
    # ((4.10 + 2.50) * 1.35 + 0.30) / 0.971 = 9.485... -> 9.99
    assert retail_price(D("4.10"), D("2.50"), rule) == D("9.99")


def test_min_profit_floor_raises_cheap_products() -> None:
    rule = PriceRule(min_profit=D("4.00"))
    price = retail_price(D("1.00"), D("1.00"), rule)
    assert unit_profit(price, D("1.00"), D("1.00"), rule) >= D("4.00")
    assert str(price).endswith(".99")


@pytest.mark.parametrize(
    "amount,expected", [("12.31", "12.99"), ("12.99", "12.99"), ("13.00", "13.99"), ("0.10", "0.99")]
)
def test_lift_to_ending(amount: str, expected: str) -> None:
    assert lift_to_ending(D(amount), D("0.99")) == D(expected)


def test_profit_is_price_minus_cost_shipping_and_fees() -> None:
    rule = PriceRule()
    assert fees(D("20.00"), rule) == D("0.88")
    assert unit_profit(D("20.00"), D("5.00"), D("3.00"), rule) == D("11.12")


def test_compare_at_is_above_price_and_optional() -> None:
    assert compare_at_price(D("19.99"), PriceRule()) == D("31.99")
    assert compare_at_price(D("19.99"), PriceRule(compare_at_multiplier=D("1"))) is None


def test_every_price_covers_costs_across_a_grid() -> None:
    rule = PriceRule()
    for cost in (D("0.50"), D("3.33"), D("17.80"), D("49.99")):
        for shipping in (D("0"), D("2.40"), D("12.75")):
            price = retail_price(cost, shipping, rule)
            assert unit_profit(price, cost, shipping, rule) >= rule.min_profit


@pytest.mark.parametrize(
    "kwargs",
    [{"fee_rate": D("1")}, {"ending": D("1.5")}, {"margin": D("-0.1")}, {"compare_at_multiplier": D("0.5")}],
)
def test_invalid_rules_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        PriceRule(**kwargs)


def test_negative_cost_is_refused() -> None:
    with pytest.raises(ValueError):
        retail_price(D("-1"), D("0"), PriceRule())


def test_rule_fingerprint_changes_with_the_rule() -> None:
    assert PriceRule().fingerprint() == PriceRule().fingerprint()
    assert PriceRule().fingerprint() != PriceRule(margin=D("0.5")).fingerprint()
