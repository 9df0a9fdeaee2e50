"""How a retail price is made from the supplier's cost, and what a sale earns."""

import hashlib
from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


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


def lift_to_ending(amount: Decimal, ending: Decimal) -> Decimal:
    """The smallest price >= amount that ends in `ending` (12.31 -> 12.99, 12.99 -> 12.99)."""
    whole = (amount - ending).to_integral_value(rounding=ROUND_CEILING)
    return (whole + ending).quantize(CENT)


def fees(price: Decimal, rule: PriceRule) -> Decimal:
    return (price * rule.fee_rate + rule.fixed_fee).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_profit(price: Decimal, cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    """What one sale earns after product cost, shipping and payment fees (before ads)."""
    return (price - cost - shipping - fees(price, rule)).quantize(CENT)


def retail_price(cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    """((cost + shipping) x (1 + margin) + fixed fee) / (1 - fee rate), lifted to the ending,
    and raised until the unit profit reaches the floor."""
    if cost < 0 or shipping < 0:
        raise ValueError("cost and shipping must not be negative")
    landed = cost + shipping
    by_margin = (landed * (1 + rule.margin) + rule.fixed_fee) / (1 - rule.fee_rate)
    by_floor = (landed + rule.min_profit + rule.fixed_fee) / (1 - rule.fee_rate)
    return lift_to_ending(max(by_margin, by_floor), rule.ending)


def compare_at_price(price: Decimal, rule: PriceRule) -> Decimal | None:
    if rule.compare_at_multiplier == 1:
        return None
    return lift_to_ending(price * rule.compare_at_multiplier, rule.ending)
