"""The store's price rule as a resource: candidates and listings price with the same rule, and an operator
can change it for a run from the launchpad (resources.pricing.config).

The rule and its defaults are `rules.pricing.PriceRule`; this resource only makes it configurable."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.rules.pricing import PriceRule

DEFAULT_RULE = PriceRule()


class PricingPolicy(dg.ConfigurableResource):
    """price = ((cost + shipping) x (1 + markup) + fixed_fee) / (1 - fee_rate), lifted to `.99`."""

    markup: float = float(DEFAULT_RULE.margin)
    fixed_fee: float = float(DEFAULT_RULE.fixed_fee)
    fee_rate: float = float(DEFAULT_RULE.fee_rate)
    price_ending: float = float(DEFAULT_RULE.ending)
    compare_at_multiplier: float = float(DEFAULT_RULE.compare_at_multiplier)
    min_profit: float = float(DEFAULT_RULE.min_profit)

    def rule(self) -> PriceRule:
        """The typed policy the pricing rules read, built from this run's configuration."""
        return PriceRule(
            margin=Decimal(str(self.markup)),
            fixed_fee=Decimal(str(self.fixed_fee)),
            fee_rate=Decimal(str(self.fee_rate)),
            ending=Decimal(str(self.price_ending)),
            compare_at_multiplier=Decimal(str(self.compare_at_multiplier)),
            min_profit=Decimal(str(self.min_profit)),
        )
