"""The order gate's policy as a resource: an operator changes the buffer, the risk levels held or the
contribution floor for a run from the launchpad (resources.order_gate.config) or for good where it is built.

`GatePolicy` (rules/order_gate.py) states each setting, what it means and its default; this resource only
makes them configurable with the same defaults and builds the typed policy from them."""

from datetime import timedelta
from decimal import Decimal

import dagster as dg

from dropship_pipelines.rules.order_gate import GatePolicy
from dropship_pipelines.settings import env

DEFAULT = GatePolicy()


class OrderGatePolicy(dg.ConfigurableResource):
    """Cancellation buffer, which risk and address results hold an order, the contribution floor."""

    cancellation_buffer_minutes: float = DEFAULT.cancellation_buffer.total_seconds() / 60
    hold_recommendations: list[str] = sorted(DEFAULT.hold_recommendations)
    hold_risk_levels: list[str] = sorted(DEFAULT.hold_risk_levels)
    hold_address_results: list[str] = sorted(DEFAULT.hold_address_results)
    # Dagster config has no Decimal type; None: the landed cost is not checked.
    min_contribution: float | None = 0.0
    fee_rate: float = float(DEFAULT.fee_rate)
    fixed_fee: float = float(DEFAULT.fixed_fee)

    def policy(self) -> GatePolicy:
        """The typed policy the gate reads (money from its decimal string, not the float's expansion)."""
        return GatePolicy(
            cancellation_buffer=timedelta(minutes=self.cancellation_buffer_minutes),
            hold_recommendations=frozenset(self.hold_recommendations),
            hold_risk_levels=frozenset(self.hold_risk_levels),
            hold_address_results=frozenset(self.hold_address_results),
            min_contribution=None if self.min_contribution is None else Decimal(str(self.min_contribution)),
            fee_rate=Decimal(str(self.fee_rate)),
            fixed_fee=Decimal(str(self.fixed_fee)),
        )


def order_gate_policy() -> OrderGatePolicy:
    """The gate as the code location builds it: `ORDER_GATE_BUFFER_MINUTES` (default 60) and
    `ORDER_GATE_MIN_CONTRIBUTION` (default 0.00; "off" skips the landed-cost check) from the environment."""
    floor = env("ORDER_GATE_MIN_CONTRIBUTION", "0.00").strip()
    try:
        return OrderGatePolicy(
            cancellation_buffer_minutes=float(env("ORDER_GATE_BUFFER_MINUTES", "60")),
            min_contribution=None if floor.lower() == "off" else float(floor),
        )
    except ValueError as exc:
        raise ValueError(
            "ORDER_GATE_BUFFER_MINUTES must be a number of minutes and ORDER_GATE_MIN_CONTRIBUTION an amount "
            f"or 'off': {exc}"
        ) from exc
