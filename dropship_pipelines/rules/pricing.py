"""How a retail price is made from the supplier's cost, and what a sale earns.

The rule is stated once, over arrays of integer cents (`retail_prices`, `compare_at_prices`, `fee_cents`,
`unit_profits`); the `Decimal` functions below it run the same code on a batch of one. Every parameter of
the rule is an exact fraction, so the arithmetic is integer ceiling/half-up division on numerators and
denominators: no float ever rounds a cent. Where a batch's amounts are large enough that the products could
leave int64, the same code runs on Python integers (exact at any size, only slower).

numpy is imported by the functions that compute, not here: `PriceRule` is read by every workflow's
definitions, and loading the code location (every `dagster job execute`) need not import numpy (~0.06 s)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from math import lcm
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    Cents = NDArray[np.int64]  # or an object array of Python ints when int64 could overflow

CENT = Decimal("0.01")
# int64 holds 9.2e18; staying under 2**62 leaves headroom for the sums of two products
_INT64_SAFE = 2**62


@dataclass(frozen=True)
class PriceRule:
    margin: Decimal = Decimal("0.35")  # markup on landed cost (product + shipping)
    fixed_fee: Decimal = Decimal("0.30")  # payment processor's per-order fee
    fee_rate: Decimal = Decimal("0.029")  # payment processor's cut of the price
    ending: Decimal = Decimal("0.99")  # psychological price ending
    compare_at_multiplier: Decimal = Decimal("1.6")  # "was" price shown struck through
    min_profit: Decimal = Decimal("4.00")  # never list for less profit than this per unit

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.fee_rate < 1:
            raise ValueError(f"fee_rate must be in [0, 1), got {self.fee_rate}")
        if not Decimal(0) <= self.ending < 1:
            raise ValueError(f"ending must be in [0, 1), got {self.ending}")
        if self.margin < 0 or self.min_profit < 0 or self.fixed_fee < 0:
            raise ValueError("margin, min_profit and fixed_fee must not be negative")
        if self.compare_at_multiplier < 1:
            raise ValueError("compare_at_multiplier must be at least 1")

    def fingerprint(self) -> str:
        """Changes whenever the rule does, so existing listings are re-priced with it."""
        return hashlib.sha256(repr(sorted(asdict(self).items())).encode()).hexdigest()[:16]


# --- money <-> cents ----------------------------------------------------------------------------------
def cents_of(amount: Decimal) -> int:
    """Exact cents of an amount given to the cent (every money column is); a fraction of a cent is refused
    rather than rounded, since the rule's cents would then differ from its Decimal statement."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def money(cents: int | np.integer) -> Decimal:
    """12.99 from 1299, always with two decimals."""
    return Decimal(int(cents)).scaleb(-2)


def cents_array(values: ArrayLike) -> NDArray[np.int64]:
    import numpy as np  # here, not at module level: see the module's docstring

    return np.asarray(values, dtype=np.int64)


# --- the rule over arrays of cents --------------------------------------------------------------------
def _exact(value: Decimal, scale: int = 1) -> Fraction:
    return Fraction(value) * scale


@dataclass(frozen=True)
class _Ending:
    """An ending in cents as a fraction (its numerator and denominator), and as Decimal's quantize puts it
    on the price (to the cent, half even)."""

    numerator: int
    denominator: int
    cents: int


@functools.cache
def _ending(ending: Decimal) -> _Ending:
    exact = _exact(ending, 100)
    cents = int((ending * 100).to_integral_value(rounding=ROUND_HALF_EVEN))
    return _Ending(exact.numerator, exact.denominator, cents)


@dataclass(frozen=True)
class _Terms:
    """A rule's parameters as integers, worked out once per rule.

    Over one denominator `q`, the price by margin is (landed x by_margin[0] + by_margin[1]) / q and the
    price by the profit floor is (landed x by_floor[0] + by_floor[1]) / q, so the larger numerator is the
    larger price. The fee of a price is (price x fee_per_cent + fee_base) / fee_scale, half up."""

    by_margin: tuple[int, int]
    by_floor: tuple[int, int]
    q: int
    ending: _Ending
    multiplier: Fraction
    fee_per_cent: int
    fee_base: int
    fee_scale: int


@functools.cache
def _terms(rule: PriceRule) -> _Terms:
    keep = 1 - _exact(rule.fee_rate)  # the share of the price left after the fee rate, > 0
    markup, fixed, floor = 1 + _exact(rule.margin), _exact(rule.fixed_fee, 100), _exact(rule.min_profit, 100)
    # by margin = (L x markup + fixed) / keep = (L x a1 + c1) / q1; by floor = (L + floor + fixed) / keep
    k1, k2 = lcm(markup.denominator, fixed.denominator), lcm(floor.denominator, fixed.denominator)
    a1, c1 = markup * k1 * keep.denominator, fixed * k1 * keep.denominator
    a2, c2 = Fraction(k2 * keep.denominator), (floor + fixed) * k2 * keep.denominator
    q1, q2 = keep.numerator * k1, keep.numerator * k2
    q = lcm(q1, q2)
    s1, s2 = q // q1, q // q2
    rate = _exact(rule.fee_rate)
    return _Terms(
        by_margin=(int(a1 * s1), int(c1 * s1)),
        by_floor=(int(a2 * s2), int(c2 * s2)),
        q=q,
        ending=_ending(rule.ending),
        multiplier=_exact(rule.compare_at_multiplier),
        fee_per_cent=rate.numerator * fixed.denominator,
        fee_base=fixed.numerator * rate.denominator,
        fee_scale=rate.denominator * fixed.denominator,
    )


def _ceil_div(numerator: Cents, denominator: int) -> Cents:
    return -(-numerator // denominator)


def _wide_enough(largest: int, array: Cents) -> Cents:
    """The array as int64 when `largest` (a bound on every intermediate) fits, else as Python integers."""
    return array if largest < _INT64_SAFE else array.astype(object)


def _max_abs(values: Cents) -> int:
    return max(int(values.max()), -int(values.min())) if values.size else 0


def _lift_bound(numerator_bound: int, denominator: int, ending: _Ending) -> int:
    """A bound on every intermediate of `_lift_to_ending` for numerators up to `numerator_bound`."""
    return max(
        numerator_bound * ending.denominator + ending.numerator * denominator,
        100 * denominator * ending.denominator,
    )


def _lift_to_ending(numerator: Cents, denominator: int, ending: _Ending) -> Cents:
    """The smallest price >= numerator/denominator cents whose cents end in `ending` (1231 -> 1299,
    1299 -> 1299), as `(amount - ending)` rounded up to whole units plus the ending to the cent."""
    whole = _ceil_div(
        numerator * ending.denominator - ending.numerator * denominator,
        100 * denominator * ending.denominator,
    )
    return whole * 100 + ending.cents


def retail_prices(cost_cents: ArrayLike, shipping_cents: ArrayLike, rule: PriceRule) -> Cents:
    """((cost + shipping) x (1 + margin) + fixed fee) / (1 - fee rate), lifted to the ending, and raised
    until the unit profit reaches the floor: max(by margin, by floor) with
    by floor = (cost + shipping + min profit + fixed fee) / (1 - fee rate)."""
    cost, shipping = cents_array(cost_cents), cents_array(shipping_cents)
    if (cost < 0).any() or (shipping < 0).any():
        raise ValueError("cost and shipping must not be negative")
    t = _terms(rule)
    (m1, n1), (m2, n2) = t.by_margin, t.by_floor
    largest_landed = _max_abs(cost) + _max_abs(shipping) + 1
    bound = _lift_bound(largest_landed * max(m1, m2) + max(n1, n2), t.q, t.ending)
    landed = _wide_enough(bound, cost + shipping)
    import numpy as np  # here, not at module level: see the module's docstring

    return _lift_to_ending(np.maximum(landed * m1 + n1, landed * m2 + n2), t.q, t.ending)


def compare_at_prices(price_cents: ArrayLike, rule: PriceRule) -> Cents | None:
    """The "was" price: price x multiplier lifted to the ending; None when the multiplier is 1."""
    if rule.compare_at_multiplier == 1:
        return None
    t, price = _terms(rule), cents_array(price_cents)
    k = t.multiplier
    price = _wide_enough(_lift_bound((_max_abs(price) + 1) * k.numerator, k.denominator, t.ending), price)
    return _lift_to_ending(price * k.numerator, k.denominator, t.ending)


def fee_cents(price_cents: ArrayLike, rule: PriceRule) -> Cents:
    """price x fee rate + fixed fee, to the cent, half up (floor(y + 1/2): a fee is never negative)."""
    t, price = _terms(rule), cents_array(price_cents)
    price = _wide_enough(2 * ((_max_abs(price) + 1) * t.fee_per_cent + t.fee_base + t.fee_scale), price)
    return (2 * (price * t.fee_per_cent + t.fee_base) + t.fee_scale) // (2 * t.fee_scale)


def unit_profits(
    price_cents: ArrayLike, cost_cents: ArrayLike, shipping_cents: ArrayLike, rule: PriceRule
) -> Cents:
    """What one sale earns after product cost, shipping and payment fees (before ads), in cents."""
    price = cents_array(price_cents)
    return price - cents_array(cost_cents) - cents_array(shipping_cents) - fee_cents(price, rule)


# --- the same rule on one amount ----------------------------------------------------------------------
def lift_to_ending(amount: Decimal, ending: Decimal) -> Decimal:
    """The smallest price >= amount that ends in `ending` (12.31 -> 12.99, 12.99 -> 12.99)."""
    import numpy as np  # here, not at module level: see the module's docstring

    exact = _exact(amount, 100)
    lifted = _lift_to_ending(np.array([exact.numerator], dtype=object), exact.denominator, _ending(ending))
    return money(lifted[0])


def fees(price: Decimal, rule: PriceRule) -> Decimal:
    return money(fee_cents([cents_of(price)], rule)[0])


def unit_profit(price: Decimal, cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    """What one sale earns after product cost, shipping and payment fees (before ads)."""
    return money(unit_profits([cents_of(price)], [cents_of(cost)], [cents_of(shipping)], rule)[0])


def retail_price(cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    """`retail_prices` for one product."""
    return money(retail_prices([cents_of(cost)], [cents_of(shipping)], rule)[0])


def compare_at_price(price: Decimal, rule: PriceRule) -> Decimal | None:
    compare_at = compare_at_prices([cents_of(price)], rule)
    return None if compare_at is None else money(compare_at[0])
