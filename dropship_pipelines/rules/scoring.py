"""Which supplier products are worth selling: thresholds first, then a score to rank the rest."""

import math
from dataclasses import dataclass
from decimal import Decimal

from dropship_pipelines.rules.pricing import PriceRule, compare_at_price, retail_price, unit_profit


@dataclass(frozen=True)
class Thresholds:
    min_margin: float = 0.20  # unit profit / price, after cost, shipping and fees
    min_popularity: int = 20  # stores already listing it at the supplier (demand signal)
    max_shipping_days: int = 12  # slowest delivery estimate we accept
    max_price: Decimal = Decimal("80")  # above this, impulse buys from ads stop converting


@dataclass(frozen=True)
class ProductFacts:
    """What the supplier tells us about one product, reduced to what the decision needs."""

    pid: str
    unit_cost: Decimal | None  # the most expensive variant: margins hold for every variant
    shipping_cost: Decimal | None
    shipping_days_max: int | None
    popularity: int
    variant_count: int


@dataclass(frozen=True)
class Evaluation:
    accepted: bool
    reason: str | None
    price: Decimal | None = None
    compare_at: Decimal | None = None
    profit: Decimal | None = None
    margin: float | None = None
    score: float | None = None


def rank_hint(popularity: int, sell_price: Decimal | None) -> float:
    """Cheap pre-ranking from the catalog list alone, to spend detail lookups on the likeliest products."""
    if sell_price is None or sell_price <= 0:
        return 0.0
    return math.log1p(max(popularity, 0)) / (1 + float(sell_price) / 40)


def score(margin: float, popularity: int, shipping_days_max: int, thresholds: Thresholds) -> float:
    """0..1: demand weighs most, then margin, then delivery speed."""
    demand = min(math.log1p(popularity) / math.log1p(2000), 1.0)
    margin_part = min(max(margin, 0.0) / 0.5, 1.0)
    speed = max(0.0, 1 - shipping_days_max / (thresholds.max_shipping_days * 1.5))
    return round(0.5 * demand + 0.3 * margin_part + 0.2 * speed, 4)


def evaluate(facts: ProductFacts, thresholds: Thresholds, rule: PriceRule) -> Evaluation:
    """Accept or reject one product with the reason an operator can act on; price what is accepted."""
    if facts.variant_count == 0:
        return Evaluation(False, "no variants at the supplier")
    if facts.unit_cost is None or facts.unit_cost <= 0:
        return Evaluation(False, "no usable supplier price")
    if facts.shipping_cost is None or facts.shipping_days_max is None:
        return Evaluation(False, "no shipping route to the target country")
    if facts.popularity < thresholds.min_popularity:
        return Evaluation(False, f"popularity {facts.popularity} below {thresholds.min_popularity}")
    if facts.shipping_days_max > thresholds.max_shipping_days:
        return Evaluation(
            False, f"ships in up to {facts.shipping_days_max} days, over {thresholds.max_shipping_days}"
        )
    price = retail_price(facts.unit_cost, facts.shipping_cost, rule)
    profit = unit_profit(price, facts.unit_cost, facts.shipping_cost, rule)
    margin = float(profit / price)
    if price > thresholds.max_price:
        return Evaluation(
            False,
            f"price {price} over the {thresholds.max_price} ceiling",
            price=price,
            profit=profit,
            margin=margin,
        )
    if margin < thresholds.min_margin:
        return Evaluation(
            False,
            f"margin {margin:.0%} below {thresholds.min_margin:.0%}",
            price=price,
            profit=profit,
            margin=margin,
        )
    return Evaluation(
        True,
        None,
        price=price,
        compare_at=compare_at_price(price, rule),
        profit=profit,
        margin=round(margin, 4),
        score=score(margin, facts.popularity, facts.shipping_days_max, thresholds),
    )
