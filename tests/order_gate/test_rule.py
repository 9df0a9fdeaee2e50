"""The gate's rule alone: each check's verdict, its order, the policy's bad values."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dropship_pipelines.resources.order_gate_policy import OrderGatePolicy, order_gate_policy
from dropship_pipelines.rules.order_gate import GateFacts, GateLine, GatePolicy, gate, landed_cost

PLACED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LATER = PLACED + timedelta(hours=2)


def facts(**changes: object) -> GateFacts:
    base: dict[str, object] = {
        "order_name": "#1001",
        "placed_at": PLACED,
        "now": LATER,
        "customer_paid": Decimal("29.99"),
        "country": "US",
        "shipping_cost": Decimal("4.50"),
        "risk_recommendation": "ACCEPT",
        "risk_levels": ("LOW",),
        "address_validation": "NO_ISSUES",
        "lines": (GateLine("V1", 2, 40, Decimal("6.00")),),
    }
    return GateFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_a_clean_order_passes() -> None:
    verdict = gate(facts(), GatePolicy())
    assert verdict.passed and verdict.reason is None and not verdict.waiting


def test_the_buffer_makes_a_young_order_wait_not_hold() -> None:
    verdict = gate(facts(now=PLACED + timedelta(minutes=59)), GatePolicy())
    assert not verdict.passed and verdict.reason is None
    assert verdict.wait_until == PLACED + timedelta(hours=1)
    assert gate(facts(now=PLACED + timedelta(hours=1)), GatePolicy()).passed
    assert gate(facts(now=PLACED), GatePolicy(cancellation_buffer=timedelta(0))).passed


def test_fraud_risk_holds_on_the_recommendation_or_a_high_assessment() -> None:
    by_recommendation = gate(facts(risk_recommendation="CANCEL", risk_levels=("MEDIUM",)), GatePolicy())
    assert by_recommendation.reason == "HIGH_RISK_OF_FRAUD" and "recommends CANCEL" in by_recommendation.note
    by_level = gate(
        facts(
            risk_recommendation="INVESTIGATE", risk_levels=("LOW", "HIGH"), risk_facts=("Card declined 3x",)
        ),
        GatePolicy(),
    )
    assert (
        by_level.reason == "HIGH_RISK_OF_FRAUD"
        and "HIGH" in by_level.note
        and "Card declined" in by_level.note
    )
    assert gate(facts(risk_recommendation="INVESTIGATE", risk_levels=("MEDIUM",)), GatePolicy()).passed
    stricter = GatePolicy(hold_risk_levels=frozenset({"HIGH", "MEDIUM"}))
    assert gate(facts(risk_levels=("MEDIUM",)), stricter).reason == "HIGH_RISK_OF_FRAUD"
    assert gate(facts(risk_recommendation=None, risk_levels=()), GatePolicy()).passed  # not assessed


def test_address_holds_on_a_validation_error_or_a_destination_the_supplier_does_not_serve() -> None:
    assert gate(facts(address_validation="ERROR"), GatePolicy()).reason == "INCORRECT_ADDRESS"
    assert gate(facts(address_validation="WARNING"), GatePolicy()).passed
    assert gate(facts(address_validation=None), GatePolicy()).passed  # not validated
    far = gate(facts(country="BR"), GatePolicy())
    assert far.reason == "INCORRECT_ADDRESS" and "does not ship to BR" in far.note


def test_stock_holds_when_a_line_wants_more_than_the_supplier_has_or_stock_is_unknown() -> None:
    short = gate(facts(lines=(GateLine("V1", 3, 2, Decimal("6.00")),)), GatePolicy())
    assert short.reason == "INVENTORY_OUT_OF_STOCK" and "V1 (wants 3, 2 in stock)" in short.note
    unknown = gate(facts(lines=(GateLine("V1", 1, None, Decimal("6.00")),)), GatePolicy())
    assert unknown.reason == "INVENTORY_OUT_OF_STOCK" and "stock unknown" in unknown.note


def test_landed_cost_below_the_floor_holds_with_other() -> None:
    # 29.99 paid - fees (0.87 + 0.30) - landed (2 x 12.50 + 4.50) = -0.68
    dear = facts(lines=(GateLine("V1", 2, 40, Decimal("12.50")),))
    assert landed_cost(dear) == Decimal("29.50")
    verdict = gate(dear, GatePolicy())
    assert verdict.reason == "OTHER" and "landed cost 29.50" in verdict.note and "-0.68" in verdict.note
    assert gate(dear, GatePolicy(min_contribution=Decimal("-1.00"))).passed
    assert gate(dear, GatePolicy(min_contribution=None)).passed  # the check is off
    assert gate(facts(), GatePolicy(min_contribution=Decimal("15.00"))).reason == "OTHER"
    unknown = gate(facts(lines=(GateLine("V1", 1, 5, None),)), GatePolicy())
    assert unknown.reason == "OTHER" and "unknown" in unknown.note


def test_checks_go_in_order_fraud_first() -> None:
    everything = facts(
        risk_recommendation="CANCEL", address_validation="ERROR", lines=(GateLine("V1", 9, 0, Decimal("99")),)
    )
    assert gate(everything, GatePolicy()).reason == "HIGH_RISK_OF_FRAUD"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cancellation_buffer": timedelta(minutes=-1)}, "must not be negative"),
        ({"hold_risk_levels": frozenset({"SEVERE"})}, "unknown values ['SEVERE']"),
        ({"hold_address_results": frozenset({"BAD"})}, "hold_address_results"),
        ({"hold_recommendations": frozenset({"REJECT"})}, "hold_recommendations"),
        ({"fee_rate": Decimal("1")}, "fee_rate"),
        ({"fixed_fee": Decimal("-0.30")}, "fixed_fee"),
    ],
)
def test_a_bad_policy_is_refused_with_what_is_wrong(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        GatePolicy(**settings)  # type: ignore[arg-type]


def test_the_resource_builds_the_same_policy_and_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert OrderGatePolicy().policy() == GatePolicy()
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "15")
    monkeypatch.setenv("ORDER_GATE_MIN_CONTRIBUTION", "2.50")
    built = order_gate_policy().policy()
    assert built.cancellation_buffer == timedelta(minutes=15) and built.min_contribution == Decimal("2.5")
    monkeypatch.setenv("ORDER_GATE_MIN_CONTRIBUTION", "off")
    assert order_gate_policy().policy().min_contribution is None
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "an hour")
    with pytest.raises(ValueError, match="ORDER_GATE_BUFFER_MINUTES must be a number"):
        order_gate_policy()
    monkeypatch.setenv("ORDER_GATE_BUFFER_MINUTES", "60")
    monkeypatch.setenv("ORDER_GATE_MIN_CONTRIBUTION", "-5")
    assert order_gate_policy().policy().min_contribution == Decimal("-5.0")
    with pytest.raises(ValueError, match="must not be negative"):
        OrderGatePolicy(cancellation_buffer_minutes=-1).policy()
