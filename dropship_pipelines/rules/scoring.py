"""Which supplier products are worth selling: thresholds first, then a score to rank the rest.

The rule is stated once, over columns (`evaluate_batch` on `Candidates`: money in integer cents, the
prices from `rules.pricing`'s array rule); `evaluate` runs it on a batch of one. A decision is a
`Verdict` code per product; its operator-facing reason is rendered only when a row is read out.

numpy is imported by the functions that compute, not here: the discovery definitions read `Thresholds`,
and loading the code location (every `dagster job execute`) need not import numpy (~0.06 s)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction
from typing import TYPE_CHECKING

from dropship_pipelines.rules.pricing import (
    PriceRule,
    cents_of,
    compare_at_prices,
    money,
    retail_prices,
    unit_profits,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

NO_CENTS = -1  # in a cents column: no amount (rejected before it was priced, or no compare-at price)


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


class Verdict(IntEnum):
    """Why a product is accepted or rejected, checked in this order (the first that applies)."""

    ACCEPTED = 0
    NO_VARIANTS = 1
    NO_PRICE = 2
    NO_ROUTE = 3
    LOW_POPULARITY = 4
    SLOW_SHIPPING = 5
    OVER_MAX_PRICE = 6
    LOW_MARGIN = 7


@dataclass(frozen=True)
class Candidates:
    """`ProductFacts` as columns. A missing unit cost is 0 cents (no usable price either way); a missing
    shipping cost or delivery estimate is `route_known` False (their values there are not read)."""

    unit_cost_cents: NDArray[np.int64]
    shipping_cents: NDArray[np.int64]
    shipping_days_max: NDArray[np.int64]
    route_known: NDArray[np.bool_]
    popularity: NDArray[np.int64]
    variant_count: NDArray[np.int64]

    @classmethod
    def of(cls, facts: Sequence[ProductFacts]) -> Candidates:
        import numpy as np  # here, not at module level: see the module's docstring

        def column(values: list[int]) -> NDArray[np.int64]:
            return np.array(values, dtype=np.int64)

        known = [f.shipping_cost is not None and f.shipping_days_max is not None for f in facts]
        routes = [
            (f.shipping_cost, f.shipping_days_max) if k else (Decimal(0), 0)
            for f, k in zip(facts, known, strict=True)
        ]
        return cls(
            unit_cost_cents=column([0 if f.unit_cost is None else cents_of(f.unit_cost) for f in facts]),
            shipping_cents=column([cents_of(cost or Decimal(0)) for cost, _ in routes]),
            shipping_days_max=column([days or 0 for _, days in routes]),
            route_known=np.array(known, dtype=np.bool_),
            popularity=column([f.popularity for f in facts]),
            variant_count=column([f.variant_count for f in facts]),
        )


@dataclass(frozen=True)
class Evaluations:
    """One decision per candidate. Cents are NO_CENTS, and margin and score NaN, where the rule set none:
    price, profit and margin once the product reached pricing, compare-at and score only when accepted."""

    candidates: Candidates
    thresholds: Thresholds
    verdict: NDArray[np.int8]
    price_cents: NDArray[np.int64]
    compare_at_cents: NDArray[np.int64]
    profit_cents: NDArray[np.int64]
    margin: NDArray[np.float64]  # rounded to 4 places when accepted, as the ledger stores it
    score: NDArray[np.float64]

    @property
    def accepted(self) -> NDArray[np.bool_]:
        return self.verdict == Verdict.ACCEPTED

    def reason(self, index: int) -> str | None:
        verdict, t, c = Verdict(int(self.verdict[index])), self.thresholds, self.candidates
        match verdict:
            case Verdict.ACCEPTED:
                return None
            case Verdict.NO_VARIANTS:
                return "no variants at the supplier"
            case Verdict.NO_PRICE:
                return "no usable supplier price"
            case Verdict.NO_ROUTE:
                return "no shipping route to the target country"
            case Verdict.LOW_POPULARITY:
                return f"popularity {int(c.popularity[index])} below {t.min_popularity}"
            case Verdict.SLOW_SHIPPING:
                return f"ships in up to {int(c.shipping_days_max[index])} days, over {t.max_shipping_days}"
            case Verdict.OVER_MAX_PRICE:
                return f"price {money(self.price_cents[index])} over the {t.max_price} ceiling"
            case Verdict.LOW_MARGIN:
                return f"margin {float(self.margin[index]):.0%} below {t.min_margin:.0%}"

    def evaluation(self, index: int) -> Evaluation:
        def amount(cents: NDArray[np.int64]) -> Decimal | None:
            return None if cents[index] == NO_CENTS else money(cents[index])

        def number(values: NDArray[np.float64]) -> float | None:
            return None if math.isnan(values[index]) else float(values[index])

        return Evaluation(
            accepted=bool(self.verdict[index] == Verdict.ACCEPTED),
            reason=self.reason(index),
            price=amount(self.price_cents),
            compare_at=amount(self.compare_at_cents),
            profit=amount(self.profit_cents),
            margin=number(self.margin),
            score=number(self.score),
        )


def rank_hint(popularity: int, sell_price: Decimal | None) -> float:
    """Cheap pre-ranking from the catalog list alone, to spend detail lookups on the likeliest products."""
    if sell_price is None or sell_price <= 0:
        return 0.0
    return math.log1p(max(popularity, 0)) / (1 + float(sell_price) / 40)


def round_half_even(values: NDArray[np.float64], places: int) -> NDArray[np.float64]:
    """Python's `round(x, places)` for an array: numpy's scaled rint, except where the scaled value lies
    within rounding noise of a half, which Python's exact decimal rounding decides instead."""
    import numpy as np  # here, not at module level: see the module's docstring

    scaled = values * 10.0**places
    whole = np.rint(scaled)
    near_half = np.abs(scaled - whole) > 0.5 - 1e-6
    rounded = whole / 10.0**places
    for index in np.flatnonzero(near_half):
        rounded[index] = round(float(values[index]), places)
    return rounded


FULL_DEMAND = 2000  # stores listing a product at which its demand counts in full


@functools.cache
def _demand() -> NDArray[np.float64]:
    """The weighted demand part by number of stores listing the product (made on first use: numpy)."""
    import numpy as np  # here, not at module level: see the module's docstring

    return 0.5 * np.minimum(np.log1p(np.arange(FULL_DEMAND + 1.0)) / math.log1p(FULL_DEMAND), 1.0)


@functools.cache
def _speed(max_shipping_days: int) -> NDArray[np.float64]:
    import numpy as np  # here, not at module level: see the module's docstring

    slowest = math.ceil(max_shipping_days * 1.5)
    return 0.2 * np.maximum(0.0, 1 - np.arange(slowest + 1) / (max_shipping_days * 1.5))


def scores(
    margin: NDArray[np.float64],
    popularity: NDArray[np.int64],
    shipping_days_max: NDArray[np.int64],
    thresholds: Thresholds,
) -> NDArray[np.float64]:
    """0..1: demand weighs most, then margin, then delivery speed (rounded to 4 places).

    Demand and speed take few values (demand is full from 2,000 stores on, speed is 0 from 1.5 times the
    slowest accepted delivery), so their weighted parts are looked up in tables made with the same float
    operations, rather than recomputed per product."""
    if (popularity < 0).any() or (shipping_days_max < 0).any():
        raise ValueError("popularity and shipping days must not be negative")
    import numpy as np  # here, not at module level: see the module's docstring

    demand, speed = _demand(), _speed(thresholds.max_shipping_days)
    margin_part = np.minimum(np.maximum(margin, 0.0) / 0.5, 1.0)
    total = demand[np.minimum(popularity, len(demand) - 1)] + 0.3 * margin_part
    total += speed[np.minimum(shipping_days_max, len(speed) - 1)]
    return round_half_even(total, 4)


def score(margin: float, popularity: int, shipping_days_max: int, thresholds: Thresholds) -> float:
    """`scores` for one product."""
    import numpy as np  # here, not at module level: see the module's docstring

    one = scores(np.array([margin]), np.array([popularity]), np.array([shipping_days_max]), thresholds)
    return float(one[0])


@functools.cache
def _cents_fraction(amount: Decimal) -> Fraction:
    return Fraction(amount) * 100


def evaluate_batch(candidates: Candidates, thresholds: Thresholds, rule: PriceRule) -> Evaluations:
    """Accept or reject every candidate with the reason an operator can act on; price what is accepted."""
    import numpy as np  # here, not at module level: see the module's docstring

    c = candidates
    # The first failing check decides, so the checks are applied last to first.
    verdict = np.full(len(c.popularity), Verdict.ACCEPTED, dtype=np.int8)
    # Unpriceable rows are priced at 0 + 0 (and their price is dropped below), so the arrays stay whole.
    cost = np.maximum(c.unit_cost_cents, 0)
    shipping = np.where(c.route_known, c.shipping_cents, 0)
    price = retail_prices(cost, shipping, rule)
    profit = unit_profits(price, cost, shipping, rule)
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = profit / price
    max_price = _cents_fraction(thresholds.max_price)
    over_price = price * max_price.denominator > max_price.numerator
    verdict[margin < thresholds.min_margin] = Verdict.LOW_MARGIN
    verdict[over_price] = Verdict.OVER_MAX_PRICE
    verdict[c.shipping_days_max > thresholds.max_shipping_days] = Verdict.SLOW_SHIPPING
    verdict[c.popularity < thresholds.min_popularity] = Verdict.LOW_POPULARITY
    verdict[~c.route_known] = Verdict.NO_ROUTE
    verdict[c.unit_cost_cents <= 0] = Verdict.NO_PRICE
    verdict[c.variant_count == 0] = Verdict.NO_VARIANTS
    accepted = verdict == Verdict.ACCEPTED
    reached_pricing = accepted | (verdict >= Verdict.OVER_MAX_PRICE)
    # margin and score are rounded, and compare-at priced, for the accepted only
    chosen = np.flatnonzero(accepted)
    margin_out = np.where(reached_pricing, margin, np.nan)
    margin_out[chosen] = round_half_even(margin[chosen], 4)
    score = np.full(len(verdict), np.nan)
    score[chosen] = scores(margin[chosen], c.popularity[chosen], c.shipping_days_max[chosen], thresholds)
    compare_at = np.full(len(verdict), NO_CENTS, dtype=price.dtype)
    compare_at_chosen = compare_at_prices(price[chosen], rule)
    if compare_at_chosen is not None:
        compare_at[chosen] = compare_at_chosen
    return Evaluations(
        candidates=c,
        thresholds=thresholds,
        verdict=verdict,
        price_cents=np.where(reached_pricing, price, NO_CENTS),
        compare_at_cents=compare_at,
        profit_cents=np.where(reached_pricing, profit, NO_CENTS),
        margin=margin_out,
        score=score,
    )


def evaluate(facts: ProductFacts, thresholds: Thresholds, rule: PriceRule) -> Evaluation:
    """`evaluate_batch` for one product."""
    return evaluate_batch(Candidates.of([facts]), thresholds, rule).evaluation(0)
