"""The catalog sync's pure rules: the daily move limit, what is sellable, when a listing is on sale, the
store's daily allowance of new variants."""

from decimal import Decimal

import pytest

from dropship_pipelines.rules.catalog import (
    CatalogPolicy,
    break_even,
    limited_price,
    listing_on_sale,
    new_variants_allowed,
    variant_sellable,
)
from dropship_pipelines.rules.pricing import PriceRule, unit_profit

D = Decimal
ENDING = D("0.99")
POLICY = CatalogPolicy(max_daily_move=D("0.10"))


def test_a_rise_within_the_limit_is_taken_whole() -> None:
    assert limited_price(D("21.99"), D("20.99"), D("5.00"), POLICY, ENDING) == D("21.99")


def test_a_big_rise_stops_at_the_limit_on_the_ending() -> None:
    # 19.99 x 1.10 = 21.989: the highest .99 price under it is 20.99
    assert limited_price(D("29.99"), D("19.99"), D("5.00"), POLICY, ENDING) == D("20.99")


def test_a_big_fall_stops_at_the_limit_on_the_ending() -> None:
    # 29.99 x 0.90 = 26.991: the lowest .99 price over it is 26.99 (26.99 < 26.991, so 27.99)
    assert limited_price(D("9.99"), D("29.99"), D("5.00"), POLICY, ENDING) == D("27.99")


def test_the_limit_gives_way_to_break_even() -> None:
    assert limited_price(D("49.99"), D("19.99"), D("31.20"), POLICY, ENDING) == D("31.99")


def test_a_new_listing_takes_the_rule_price() -> None:
    assert limited_price(D("29.99"), None, D("5.00"), POLICY, ENDING) == D("29.99")


@pytest.mark.parametrize(
    "cost,shipping", [(D("4.10"), D("2.50")), (D("0.50"), D("0.00")), (D("88.00"), D("9.90"))]
)
def test_break_even_is_the_lowest_price_without_a_loss(cost: Decimal, shipping: Decimal) -> None:
    rule = PriceRule()
    price = break_even(cost, shipping, rule)
    assert unit_profit(price, cost, shipping, rule) > 0
    assert unit_profit(price - D("0.01"), cost, shipping, rule) <= 0


def test_sellable_needs_the_safety_stock_and_the_offer() -> None:
    policy = CatalogPolicy(min_sellable_stock=10)
    assert variant_sellable(10, True, policy)
    assert not variant_sellable(9, True, policy)  # the last units go while the change travels
    assert not variant_sellable(500, False, policy)  # no longer offered
    assert not variant_sellable(None, True, policy)


def test_a_listing_is_on_sale_while_sold_and_one_variant_sellable() -> None:
    assert listing_on_sale(True, 1)
    assert not listing_on_sale(True, 0)
    assert not listing_on_sale(False, 3)


def test_daily_variant_allowance_applies_from_fifty_thousand() -> None:
    policy = CatalogPolicy()
    assert new_variants_allowed(49_999, 5_000, policy) is None
    assert new_variants_allowed(50_000, 0, policy) == 1_000
    assert new_variants_allowed(60_000, 998, policy) == 2
    assert new_variants_allowed(60_000, 1_200, policy) == 0


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        CatalogPolicy(max_daily_move=D("0"))
    with pytest.raises(ValueError):
        CatalogPolicy(min_sellable_stock=0)
