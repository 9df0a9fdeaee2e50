"""Catalog sync rules: how far a price may move in a day, what is sellable, when a listing is on sale, and
how many new variants the store may take today. Pure and typed; no Dagster, no I/O."""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from dropship_pipelines.rules.pricing import PriceRule, fees

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CatalogPolicy:
    max_daily_move: Decimal = Decimal("0.15")  # a price moves at most 15 % from where the day began
    # A variant with fewer units than this at the supplier is sold out on the store: stock falls through
    # the last units while the change is on its way to the store, and an order for it could not be shipped.
    min_sellable_stock: int = 10
    # Shopify: once a store holds 50,000 variants, at most 1,000 new ones a day.
    variant_cap_threshold: int = 50_000
    daily_new_variants: int = 1_000

    def __post_init__(self) -> None:
        if not Decimal(0) < self.max_daily_move <= 1:
            raise ValueError(f"max_daily_move must be in (0, 1], got {self.max_daily_move}")
        if self.min_sellable_stock < 1:
            raise ValueError("min_sellable_stock must be at least 1 (0 units can never be sold)")
        if self.variant_cap_threshold < 0 or self.daily_new_variants < 0:
            raise ValueError("the variant cap's threshold and daily allowance must not be negative")


def _ending_at_or_below(amount: Decimal, ending: Decimal) -> Decimal:
    """The largest price <= amount whose cents are `ending` (13.40 -> 12.99, 12.99 -> 12.99)."""
    return ((amount - ending).to_integral_value(rounding=ROUND_FLOOR) + ending).quantize(CENT)


def _ending_at_or_above(amount: Decimal, ending: Decimal) -> Decimal:
    return ((amount - ending).to_integral_value(rounding=ROUND_CEILING) + ending).quantize(CENT)


def break_even(cost: Decimal, shipping: Decimal, rule: PriceRule) -> Decimal:
    """The lowest price (to the cent) that does not lose money on a sale after cost, shipping and fees."""
    price = ((cost + shipping + rule.fixed_fee) / (1 - rule.fee_rate)).quantize(CENT, rounding=ROUND_CEILING)
    while price - cost - shipping - fees(price, rule) <= 0:
        price += CENT
    return price


def limited_price(
    target: Decimal,
    day_start: Decimal | None,
    floor: Decimal,
    policy: CatalogPolicy,
    ending: Decimal,
) -> Decimal:
    """The rule's `target` price, moved at most `max_daily_move` from the price the day began with, on the
    rule's ending; never under `floor` (the break-even price: a loss is never the price of a calm day).

    `day_start` None (a new listing) takes the target as it is."""
    if day_start is None or target == day_start:
        return target
    if target > day_start:
        ceiling = day_start * (1 + policy.max_daily_move)
        price = target if target <= ceiling else max(day_start, _ending_at_or_below(ceiling, ending))
    else:
        lowest = day_start * (1 - policy.max_daily_move)
        price = target if target >= lowest else min(day_start, _ending_at_or_above(lowest, ending))
    return _ending_at_or_above(floor, ending) if price < floor else price


def variant_sellable(stock: int | None, offered: bool, policy: CatalogPolicy) -> bool:
    """A variant is sold while the supplier still offers it and holds at least the safety stock."""
    return offered and stock is not None and stock >= policy.min_sellable_stock


def listing_on_sale(still_sold: bool, sellable_variants: int) -> bool:
    """A listing is published while the supplier sells the product and one of its variants is sellable."""
    return still_sold and sellable_variants > 0


def new_variants_allowed(store_variants: int, created_today: int, policy: CatalogPolicy) -> int | None:
    """How many more variants the store takes today: None (no cap) below the threshold, else what is left
    of the daily allowance."""
    if store_variants < policy.variant_cap_threshold:
        return None
    return max(0, policy.daily_new_variants - created_today)
