"""The ad rule alone: each product's breakeven ROAS, learning counted in conversions, budget steps of at
most 20 %, unpublished products, and kills re-judged on restated numbers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dropship_pipelines.rules.ad_rules import (
    MAX_BUDGET_STEP,
    AdPolicy,
    CampaignState,
    DayResult,
    ProductMargin,
    decide,
    first_delivery,
)

D = Decimal
AS_OF = date(2026, 11, 10)
# Learning ends after 10 conversions here; min spend 30 over a 3-day window; +20 % steps; scale at 1.5 x.
POLICY = AdPolicy(learning_conversions=10, window_days=3)
# Price 40: 25 % margin (breakeven ROAS 4.0) and 50 % margin (breakeven ROAS 2.0).
THIN = ProductMargin("P1", D("40"), D("24"), D("4.84"), D("1.16"))
WIDE = ProductMargin("P2", D("40"), D("14"), D("4.84"), D("1.16"))


def campaign(budget: str = "20", margin: ProductMargin | None = WIDE, **overrides: object) -> CampaignState:
    values: dict = {
        "platform": "meta",
        "campaign_id": "c1",
        "pid": margin.pid if margin else "P0",
        "active": True,
        "daily_budget": D(budget),
        "margin": margin,
    }
    return CampaignState(**{**values, **overrides})


def days(*results: tuple[int, str, str], purchases: int = 5) -> list[DayResult]:
    """(days before AS_OF, spend, revenue) per reporting day."""
    return [DayResult(AS_OF - timedelta(days=ago), D(s), D(r), purchases) for ago, s, r in results]


def steady(spend: str, revenue: str, span: int = 5, purchases: int = 5) -> list[DayResult]:
    """The same day `span` times, ending on AS_OF: with 5 conversions a day, out of learning."""
    return days(*((ago, spend, revenue) for ago in range(span)), purchases=purchases)


def test_breakeven_roas_is_one_over_the_contribution_margin() -> None:
    assert THIN.margin == pytest.approx(0.25) and THIN.breakeven_roas == 4.0
    assert WIDE.margin == pytest.approx(0.5) and WIDE.breakeven_roas == 2.0
    refunded = ProductMargin("P3", D("40"), D("14"), D("4.84"), D("1.16"), refund_rate=0.1)
    assert refunded.refunds == D("4.00") and refunded.breakeven_roas == 2.5  # 16 / 40 = 40 %
    losing = ProductMargin("P4", D("10"), D("9"), D("2"), D("0.59"))
    assert losing.breakeven_roas is None


def test_the_same_roas_kills_the_thin_margin_and_keeps_the_wide_one() -> None:
    history = steady("20", "56")  # ROAS 2.8
    thin = decide(campaign(margin=THIN), history, AS_OF, POLICY)
    assert thin.action == "pause" and "ROAS 2.80 < breakeven 4.00" in thin.reason
    assert thin.breakeven_roas == 4.0 and thin.inputs["margin"]["margin"] == 0.25
    wide = decide(campaign(margin=WIDE), history, AS_OF, POLICY)
    assert wide.action == "hold" and "above breakeven 2.00" in wide.reason and "2.80" in wide.reason


def test_a_product_that_earns_nothing_per_sale_is_paused() -> None:
    losing = ProductMargin("P4", D("10"), D("9"), D("2"), D("0.59"))
    decision = decide(campaign(margin=losing), steady("20", "200"), AS_OF, POLICY)
    assert decision.action == "pause" and "no ROAS breaks even" in decision.reason


def test_unknown_costs_hold() -> None:
    decision = decide(campaign(margin=None), steady("20", "0"), AS_OF, POLICY)
    assert decision.action == "hold" and "costs are unknown" in decision.reason


def test_learning_is_counted_in_conversions_since_the_last_significant_edit() -> None:
    young = steady("20", "0", purchases=1)  # 5 conversions, far from 10, spend 100 < 300
    decision = decide(campaign(), young, AS_OF, POLICY)
    assert decision.action == "hold" and decision.reason.startswith("learning: 5 of 10 conversions")
    # Old in days but only just resumed: learning starts again at the resume.
    resumed = campaign(learning_since=AS_OF - timedelta(days=1))
    decision = decide(resumed, steady("20", "0", span=20, purchases=3), AS_OF, POLICY)
    assert decision.action == "hold" and "6 of 10 conversions since 2026-11-09" in decision.reason
    assert decision.inputs["learning"]["conversions"] == 6
    # Enough conversions: judged, whatever the days.
    judged = decide(campaign(margin=THIN), steady("20", "20", span=2), AS_OF, POLICY)
    assert judged.action == "pause"


def test_learning_limited_is_judged_after_its_spend() -> None:
    never_converts = steady("100", "0", purchases=0)  # 500 spent, no conversion: it will never learn
    decision = decide(campaign(), never_converts, AS_OF, POLICY)
    assert decision.action == "pause" and "ROAS 0.00 < breakeven 2.00" in decision.reason


def test_no_judgement_below_the_minimum_spend() -> None:
    decision = decide(campaign(), steady("9.99", "0", purchases=4), AS_OF, POLICY)
    assert decision.action == "hold" and "29.97 below the 30.00 needed to judge" in decision.reason


def test_a_winner_is_scaled_by_at_most_20_percent_rounded_down() -> None:
    decision = decide(campaign("21.13"), steady("20", "80"), AS_OF, POLICY)  # ROAS 4.0 >= 1.5 x 2.0
    assert decision.action == "scale" and decision.new_budget == D("25.35")  # 25.356 -> 25.35
    assert decision.new_budget <= D("21.13") * (1 + MAX_BUDGET_STEP)
    for cents in range(100, 10000, 37):  # every budget: one step never exceeds 20 %
        budget = D(cents) / 100
        assert POLICY.next_budget(budget) <= budget * D("1.2")


def test_a_step_above_20_percent_is_refused() -> None:
    with pytest.raises(ValueError, match=r"at most 0\.20"):
        AdPolicy(scale_step=D("0.25"))
    with pytest.raises(ValueError, match="scale_multiple"):
        AdPolicy(scale_multiple=0.8)


def test_scaling_stops_at_the_cap_and_waits_out_the_cool_down() -> None:
    assert decide(campaign("90"), steady("20", "80"), AS_OF, POLICY).new_budget == D("100")
    at_cap = decide(campaign("100"), steady("20", "80"), AS_OF, POLICY)
    assert at_cap.action == "hold" and "at the cap" in at_cap.reason
    changed_today = decide(campaign(budget_changed_day=AS_OF), steady("20", "80"), AS_OF, POLICY)
    assert changed_today.action == "hold" and "budget changed on 2026-11-10" in changed_today.reason


def test_scale_needs_every_complete_day_above_breakeven() -> None:
    dip = days((2, "20", "30"), (1, "20", "100"), (0, "20", "100"))  # window 3.83, one day at 1.5
    decision = decide(campaign(), dip, AS_OF, POLICY)
    assert decision.action == "hold" and "weakest complete day 1.50" in decision.reason


def test_unpublished_products_pause_and_resume() -> None:
    paused = decide(campaign(published=False), steady("20", "80"), AS_OF, POLICY)
    assert paused.action == "pause" and "unpublished" in paused.reason and paused.paused_by == "unpublished"
    still = decide(campaign(published=False, active=False), [], AS_OF, POLICY)
    assert still.action == "hold"
    back = decide(campaign(active=False, paused_by="unpublished"), [], AS_OF, POLICY)
    assert back.action == "resume" and "published again" in back.reason


def test_an_operator_pause_is_left_alone() -> None:
    decision = decide(campaign(active=False, paused_by="operator"), steady("20", "80"), AS_OF, POLICY)
    assert decision.action == "hold" and "not by the rule" in decision.reason


def test_a_kill_is_re_judged_on_the_restated_window() -> None:
    killed_on = AS_OF - timedelta(days=5)
    state = campaign(margin=THIN, active=False, paused_by="rule", killed_as_of=killed_on)
    # As first reported the window was at ROAS 3.0 (< 4.0): the kill stands.
    first = [DayResult(killed_on - timedelta(days=i), D("20"), D("60"), 5) for i in range(3)]
    held = decide(state, first, AS_OF, POLICY)
    assert held.action == "hold" and "still < breakeven 4.00" in held.reason
    # Late conversions restated the same days to ROAS 4.5: killed wrongly, revived.
    restated = [DayResult(killed_on - timedelta(days=i), D("20"), D("90"), 7) for i in range(3)]
    revived = decide(state, restated, AS_OF, POLICY)
    assert revived.action == "resume" and "killed wrongly" in revived.reason
    assert revived.roas == 4.5 and revived.inputs["restated_window"] == ["2026-11-03", "2026-11-05"]
    # Beyond the restatement period the numbers are final.
    old = campaign(margin=THIN, active=False, paused_by="rule", killed_as_of=AS_OF - timedelta(days=28))
    assert decide(old, restated, AS_OF, POLICY).action == "hold"


def test_first_delivery() -> None:
    assert first_delivery(days((3, "0", "0"), (2, "5", "0"), (0, "5", "0"))) == AS_OF - timedelta(days=2)
    assert first_delivery([]) is None
