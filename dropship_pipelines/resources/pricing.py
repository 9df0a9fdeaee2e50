"""The store's price rule as a resource: candidates and listings price with the same rule, and an operator
can change it for a run from the launchpad (resources.pricing.config)."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.rules.pricing import PriceRule


class PricingPolicy(dg.ConfigurableResource):
    """price = ((cost + shipping) x (1 + markup) + fixed_fee) / (1 - fee_rate), lifted to `.99`."""

    markup: float = 0.35
    fixed_fee: float = 0.30
    fee_rate: float = 0.029
    price_ending: float = 0.99
    compare_at_multiplier: float = 1.6
    min_profit: float = 4.0

    def rule(self) -> PriceRule:
        return PriceRule(
            margin=Decimal(str(self.markup)),
            fixed_fee=Decimal(str(self.fixed_fee)),
            fee_rate=Decimal(str(self.fee_rate)),
            ending=Decimal(str(self.price_ending)),
            compare_at_multiplier=Decimal(str(self.compare_at_multiplier)),
            min_profit=Decimal(str(self.min_profit)),
        )
