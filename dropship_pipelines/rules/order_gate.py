"""The gate before money moves: may this order be paid for at the supplier now, or must it be held?

Plain typed functions, no Dagster and no I/O. The service (services/order_gate.py) gathers the facts (the
store's risk assessment and address validation, the supplier's stock and cost read at order time, the
chosen route's price) and acts on the verdict: a hold becomes a Shopify fulfillment hold with the reason
returned here, in the store's own vocabulary (`FulfillmentHoldReason`), and a human-readable note.

The checks, in the order an operator reads them:
1. the cancellation buffer: nothing is sent before `cancellation_buffer` has passed since the order was
   placed, so a customer who cancels within the hour costs nothing (a wait, not a hold);
2. fraud risk: Shopify's recommendation (CANCEL) or an assessment at a held risk level (HIGH);
3. the address: Shopify's validation result (ERROR) or a destination the supplier does not ship to;
4. stock: every line's quantity in the supplier's stock, read at order time;
5. landed cost: supplier cost plus shipping, against what the customer paid less payment fees; below the
   contribution floor (the store's maximum buy price) it is held with OTHER.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from dropship_pipelines.rules.fulfillment import SUPPORTED_COUNTRIES

HoldReason = Literal["HIGH_RISK_OF_FRAUD", "INCORRECT_ADDRESS", "INVENTORY_OUT_OF_STOCK", "OTHER"]
HOLD_REASONS: tuple[HoldReason, ...] = (
    "HIGH_RISK_OF_FRAUD",
    "INCORRECT_ADDRESS",
    "INVENTORY_OUT_OF_STOCK",
    "OTHER",
)
# Shopify's enums, as the Admin API spells them (OrderRiskRecommendationResult, RiskAssessmentResult,
# MailingAddressValidationResult): a value outside them is a payload error, not a silent pass.
RECOMMENDATIONS = frozenset({"ACCEPT", "CANCEL", "INVESTIGATE", "NONE"})
RISK_LEVELS = frozenset({"HIGH", "MEDIUM", "LOW", "NONE", "PENDING"})
ADDRESS_RESULTS = frozenset({"ERROR", "WARNING", "NO_ISSUES"})
CENT = Decimal("0.01")


@dataclass(frozen=True)
class GatePolicy:
    """What the store holds back. Stated once here; `resources/order_gate_policy.py` makes it configurable."""

    # Customers may cancel before the supplier is paid; the latency target starts when this has passed.
    cancellation_buffer: timedelta = timedelta(hours=1)
    hold_recommendations: frozenset[str] = frozenset({"CANCEL"})  # Shopify's "cancel this order"
    hold_risk_levels: frozenset[str] = frozenset({"HIGH"})  # any assessment at one of these holds
    hold_address_results: frozenset[str] = frozenset(
        {"ERROR"}
    )  # "very likely to contain invalid information"
    ships_to: frozenset[str] = SUPPORTED_COUNTRIES
    # The least an order may contribute after supplier cost, shipping and payment fees (the maximum buy
    # price, stated as what must be left): 0.00 means the supplier is never paid more than the sale brings;
    # None turns the landed-cost check off.
    min_contribution: Decimal | None = Decimal("0.00")
    fee_rate: Decimal = Decimal("0.029")  # the payment processor's cut, as rules.pricing.PriceRule
    fixed_fee: Decimal = Decimal("0.30")

    def __post_init__(self) -> None:
        if self.cancellation_buffer < timedelta(0):
            raise ValueError(f"cancellation_buffer must not be negative, got {self.cancellation_buffer}")
        if not Decimal(0) <= self.fee_rate < 1:
            raise ValueError(f"fee_rate must be in [0, 1), got {self.fee_rate}")
        if self.fixed_fee < 0:
            raise ValueError("fixed_fee must not be negative")
        for name, values, known in (
            ("hold_recommendations", self.hold_recommendations, RECOMMENDATIONS),
            ("hold_risk_levels", self.hold_risk_levels, RISK_LEVELS),
            ("hold_address_results", self.hold_address_results, ADDRESS_RESULTS),
        ):
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"{name}: unknown values {sorted(unknown)}; known: {sorted(known)}")


@dataclass(frozen=True)
class GateLine:
    """One order line as the supplier sees it at order time."""

    vid: str
    quantity: int
    stock: int | None  # the supplier's stock now; None when it could not be read (the line is held)
    unit_cost: Decimal | None  # the supplier's price now; None when unknown (the order is held)


@dataclass(frozen=True)
class GateFacts:
    order_name: str
    placed_at: datetime
    now: datetime
    customer_paid: Decimal  # the order's total as the customer paid it
    country: str
    shipping_cost: Decimal  # the chosen route's price for this basket
    risk_recommendation: str | None = None  # None: Shopify has not assessed the order
    risk_levels: tuple[str, ...] = ()  # each assessment's riskLevel
    risk_facts: tuple[str, ...] = ()  # the NEGATIVE facts' descriptions, for the note
    address_validation: str | None = None  # None: the address was not validated
    lines: tuple[GateLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class GateVerdict:
    """`passed`: the order may go; else `reason` is set (a hold) or `wait_until` is (the buffer)."""

    passed: bool
    reason: HoldReason | None = None
    note: str = ""
    wait_until: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.wait_until is not None


PASS = GateVerdict(passed=True)


def buffer_ends(placed_at: datetime, policy: GatePolicy) -> datetime:
    """When the order may first go to the supplier (and its latency clock starts)."""
    return placed_at + policy.cancellation_buffer


def payment_fees(paid: Decimal, policy: GatePolicy) -> Decimal:
    return (paid * policy.fee_rate + policy.fixed_fee).quantize(CENT, rounding=ROUND_HALF_UP)


def landed_cost(facts: GateFacts) -> Decimal | None:
    """Supplier cost of every line plus the route's price; None when a line's cost is unknown."""
    if any(line.unit_cost is None for line in facts.lines):
        return None
    goods = sum((line.unit_cost * line.quantity for line in facts.lines if line.unit_cost), Decimal(0))
    return (goods + facts.shipping_cost).quantize(CENT)


def _hold(reason: HoldReason, note: str) -> GateVerdict:
    return GateVerdict(passed=False, reason=reason, note=note[:1000])


def gate(facts: GateFacts, policy: GatePolicy) -> GateVerdict:
    """The verdict on one order: pass, wait for the buffer, or hold with Shopify's reason and a note."""
    ends = buffer_ends(facts.placed_at, policy)
    if facts.now < ends:
        return GateVerdict(passed=False, wait_until=ends, note=f"cancellation buffer until {ends:%H:%M:%S}")
    risky = [level for level in facts.risk_levels if level in policy.hold_risk_levels]
    if facts.risk_recommendation in policy.hold_recommendations or risky:
        said = f"Shopify recommends {facts.risk_recommendation}" if facts.risk_recommendation else ""
        level = f"risk level {', '.join(sorted(set(risky)))}" if risky else ""
        why = "; ".join(facts.risk_facts[:3])
        note = f"{facts.order_name}: fraud risk ({', '.join(p for p in (said, level) if p)})"
        return _hold("HIGH_RISK_OF_FRAUD", f"{note}: {why}" if why else note)
    if facts.address_validation in policy.hold_address_results:
        return _hold(
            "INCORRECT_ADDRESS",
            f"{facts.order_name}: Shopify's address validation says {facts.address_validation}: "
            "the address very likely has invalid information; confirm it with the customer",
        )
    if facts.country.upper() not in policy.ships_to:
        return _hold(
            "INCORRECT_ADDRESS", f"{facts.order_name}: the supplier does not ship to {facts.country}"
        )
    short = [line for line in facts.lines if line.stock is None or line.stock < line.quantity]
    if short:
        detail = ", ".join(
            f"{line.vid} (wants {line.quantity}, "
            + ("stock unknown" if line.stock is None else f"{line.stock} in stock")
            + ")"
            for line in short
        )
        return _hold("INVENTORY_OUT_OF_STOCK", f"{facts.order_name}: supplier stock too low: {detail}")
    if policy.min_contribution is None:
        return PASS
    landed = landed_cost(facts)
    if landed is None:
        return _hold("OTHER", f"{facts.order_name}: the supplier's cost of a line is unknown")
    contribution = facts.customer_paid - payment_fees(facts.customer_paid, policy) - landed
    if contribution < policy.min_contribution:
        return _hold(
            "OTHER",
            f"{facts.order_name}: landed cost {landed} (supplier cost + shipping {facts.shipping_cost}) "
            f"leaves {contribution} of the {facts.customer_paid} paid after fees, below the floor "
            f"{policy.min_contribution}",
        )
    return PASS
