import math
import random
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from dropship_pipelines.rules.pricing import (
    CENT,
    PriceRule,
    compare_at_prices,
    money,
    retail_prices,
    unit_profits,
)
from dropship_pipelines.rules.scoring import (
    Candidates,
    Evaluation,
    ProductFacts,
    Thresholds,
    evaluate,
    evaluate_batch,
    rank_hint,
    score,
)

D = Decimal

RULE = PriceRule()
LIMITS = Thresholds()


def facts(**overrides: object) -> ProductFacts:
    base = {
        "pid": "P1",
        "unit_cost": Decimal("5.00"),
        "shipping_cost": Decimal("3.00"),
        "shipping_days_max": 8,
        "popularity": 150,
        "variant_count": 2,
    }
    return ProductFacts(**{**base, **overrides})  # type: ignore[arg-type]


def test_good_product_is_accepted_and_priced() -> None:
    verdict = evaluate(facts(), LIMITS, RULE)
    assert verdict.accepted and verdict.reason is None
    assert verdict.price is not None and verdict.profit is not None and verdict.profit > 0
    assert verdict.compare_at is not None and verdict.compare_at > verdict.price
    assert 0 < (verdict.score or 0) <= 1


@pytest.mark.parametrize(
    "overrides,reason",
    [
        ({"variant_count": 0}, "no variants"),
        ({"unit_cost": None}, "no usable supplier price"),
        ({"unit_cost": Decimal("0")}, "no usable supplier price"),
        ({"shipping_cost": None}, "no shipping route"),
        ({"popularity": 3}, "popularity 3 below 20"),
        ({"shipping_days_max": 25}, "ships in up to 25 days"),
        ({"unit_cost": Decimal("70")}, "over the 80 ceiling"),
    ],
)
def test_rejections_carry_a_reason(overrides: dict, reason: str) -> None:
    verdict = evaluate(facts(**overrides), LIMITS, RULE)
    assert not verdict.accepted
    assert reason in (verdict.reason or "")


def test_margin_threshold_rejects_thin_products() -> None:
    thin = PriceRule(margin=Decimal("0.05"), min_profit=Decimal("0"))
    verdict = evaluate(facts(), Thresholds(min_margin=0.3), thin)
    assert not verdict.accepted and "margin" in (verdict.reason or "")


def test_boundaries_are_inclusive() -> None:
    assert evaluate(facts(popularity=20, shipping_days_max=12), LIMITS, RULE).accepted


def test_score_prefers_demand_margin_and_speed() -> None:
    assert score(0.3, 1000, 5, LIMITS) > score(0.3, 30, 5, LIMITS)
    assert score(0.4, 100, 5, LIMITS) > score(0.2, 100, 5, LIMITS)
    assert score(0.3, 100, 4, LIMITS) > score(0.3, 100, 12, LIMITS)


def test_rank_hint_handles_missing_prices() -> None:
    assert rank_hint(100, None) == 0.0
    assert rank_hint(100, Decimal("5")) > rank_hint(10, Decimal("5"))


# --- the array rule against the Decimal statement it replaced ----------------------------------------
# The per-product Decimal rule as it was written before the rule became arrays of cents: the oracle the
# array rule must equal exactly, decision for decision and cent for cent.
def _lift(amount: Decimal, ending: Decimal) -> Decimal:
    whole = (amount - ending).to_integral_value(rounding=ROUND_CEILING)
    return (whole + ending).quantize(CENT)


def _fees(price: Decimal, rule: PriceRule) -> Decimal:
    return (price * rule.fee_rate + rule.fixed_fee).quantize(CENT, rounding=ROUND_HALF_UP)


def _profit(price: Decimal, cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    return (price - cost - shipping - _fees(price, rule)).quantize(CENT)


def _price(cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    landed = cost + shipping
    by_margin = (landed * (1 + rule.margin) + rule.fixed_fee) / (1 - rule.fee_rate)
    by_floor = (landed + rule.min_profit + rule.fixed_fee) / (1 - rule.fee_rate)
    return _lift(max(by_margin, by_floor), rule.ending)


def _compare_at(price: Decimal, rule: PriceRule) -> Decimal | None:
    return None if rule.compare_at_multiplier == 1 else _lift(price * rule.compare_at_multiplier, rule.ending)


def _score(margin: float, popularity: int, days: int, t: Thresholds) -> float:
    demand = min(math.log1p(popularity) / math.log1p(2000), 1.0)
    margin_part = min(max(margin, 0.0) / 0.5, 1.0)
    speed = max(0.0, 1 - days / (t.max_shipping_days * 1.5))
    return round(0.5 * demand + 0.3 * margin_part + 0.2 * speed, 4)


def reference_evaluate(f: ProductFacts, t: Thresholds, rule: PriceRule) -> Evaluation:
    if f.variant_count == 0:
        return Evaluation(False, "no variants at the supplier")
    if f.unit_cost is None or f.unit_cost <= 0:
        return Evaluation(False, "no usable supplier price")
    if f.shipping_cost is None or f.shipping_days_max is None:
        return Evaluation(False, "no shipping route to the target country")
    if f.popularity < t.min_popularity:
        return Evaluation(False, f"popularity {f.popularity} below {t.min_popularity}")
    if f.shipping_days_max > t.max_shipping_days:
        return Evaluation(False, f"ships in up to {f.shipping_days_max} days, over {t.max_shipping_days}")
    price = _price(f.unit_cost, f.shipping_cost, rule)
    profit = _profit(price, f.unit_cost, f.shipping_cost, rule)
    margin = float(profit / price)
    if price > t.max_price:
        reason = f"price {price} over the {t.max_price} ceiling"
        return Evaluation(False, reason, price=price, profit=profit, margin=margin)
    if margin < t.min_margin:
        reason = f"margin {margin:.0%} below {t.min_margin:.0%}"
        return Evaluation(False, reason, price=price, profit=profit, margin=margin)
    return Evaluation(
        True,
        None,
        price=price,
        compare_at=_compare_at(price, rule),
        profit=profit,
        margin=round(margin, 4),
        score=_score(margin, f.popularity, f.shipping_days_max, t),
    )


RULES = [
    PriceRule(),
    PriceRule(min_profit=D("0")),
    # every price lands exactly on an ending: landed cost + 0 is already a whole number of cents
    PriceRule(margin=D("0"), fixed_fee=D("0"), fee_rate=D("0"), min_profit=D("0")),
    PriceRule(margin=D("0.333"), fixed_fee=D("0.305"), fee_rate=D("0.0349"), ending=D("0.95")),
    PriceRule(ending=D("0"), compare_at_multiplier=D("1")),
    PriceRule(ending=D("0.995"), compare_at_multiplier=D("1.25"), min_profit=D("12.50")),
    PriceRule(margin=D("1.5"), fee_rate=D("0.1"), min_profit=D("0.01")),
]


def random_facts(rng: random.Random, index: int) -> ProductFacts:
    cents = rng.choice([rng.randint(1, 500), rng.randint(1, 10_000), rng.randint(0, 3)])
    shipping = rng.choice([0, 0, rng.randint(1, 3_000), rng.randint(100, 250)])
    roll = rng.random()
    return ProductFacts(
        pid=f"P{index}",
        unit_cost=None if roll < 0.03 else money(cents),
        shipping_cost=None if 0.03 <= roll < 0.06 else money(shipping),
        shipping_days_max=None if 0.06 <= roll < 0.08 else rng.randint(3, 20),
        popularity=rng.choice([rng.randint(0, 40), int(rng.paretovariate(1.2) * 17), 20, 19]),
        variant_count=0 if 0.08 <= roll < 0.1 else rng.randint(1, 5),
    )


@pytest.mark.parametrize("rule", RULES, ids=range(len(RULES)))
def test_array_rule_equals_the_decimal_rule_exactly(rule: PriceRule) -> None:
    rng = random.Random(16)
    thresholds = [Thresholds(), Thresholds(min_margin=0.45, max_price=D("25.50"), max_shipping_days=8)]
    products = [random_facts(rng, i) for i in range(3_000)]
    for t in thresholds:
        batch = evaluate_batch(Candidates.of(products), t, rule)
        for index, product in enumerate(products):
            assert batch.evaluation(index) == reference_evaluate(product, t, rule), product


@pytest.mark.parametrize("rule", RULES, ids=range(len(RULES)))
def test_array_prices_equal_the_decimal_prices_at_every_cent(rule: PriceRule) -> None:
    """Every landed cost from 0 to $60 (each ending boundary and floor crossing among them), and a few
    amounts large enough that the rule leaves int64 for Python integers."""
    costs = np.concatenate([np.arange(0, 6_000), [10**9, 10**12 + 7, 4 * 10**15]])
    shipping = np.where(costs % 3 == 0, 0, costs % 700)
    prices = retail_prices(costs, shipping, rule)
    compare_at = compare_at_prices(prices, rule)
    profits = unit_profits(prices, costs, shipping, rule)
    for i, (cost, ship) in enumerate(zip(costs.tolist(), shipping.tolist(), strict=True)):
        price = _price(money(cost), money(ship), rule)
        assert money(prices[i]) == price, (cost, ship)
        assert money(profits[i]) == _profit(price, money(cost), money(ship), rule)
        expected = _compare_at(price, rule)
        assert (compare_at is None and expected is None) or money(compare_at[i]) == expected


def test_the_decimal_statement_and_the_batch_of_one_agree() -> None:
    product = facts()
    assert evaluate(product, LIMITS, RULE) == reference_evaluate(product, LIMITS, RULE)
    with pytest.raises(ValueError):
        retail_prices([-1], [0], RULE)
