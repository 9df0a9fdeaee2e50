from decimal import Decimal

import pytest

from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.rules.scoring import ProductFacts, Thresholds, evaluate, rank_hint, score

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
