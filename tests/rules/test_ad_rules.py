"""The ad rule alone: when a campaign is left to learn, paused, scaled (and by how much), or held."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dropship_pipelines.rules.ad_rules import AdPolicy, CampaignState, DayResult, decide, first_delivery

D = Decimal
AS_OF = date(2026, 11, 10)
POLICY = AdPolicy()  # kill 1.0, scale 2.0, min spend 30 over 3 days, learning 3 days, +25 %, cap 100


def campaign(budget: str = "20", **overrides: object) -> CampaignState:
    values: dict = {
        "platform": "meta",
        "campaign_id": "c1",
        "pid": "P1",
        "active": True,
        "daily_budget": D(budget),
    }
    return CampaignState(**{**values, **overrides})


def days(*results: tuple[int, str, str], purchases: int = 1) -> list[DayResult]:
    """(days before AS_OF, spend, revenue) per reporting day."""
    return [DayResult(AS_OF - timedelta(days=ago), D(s), D(r), purchases) for ago, s, r in results]


def steady(spend: str, revenue: str, span: int = 5) -> list[DayResult]:
    """The same day `span` times, ending on AS_OF: old enough to be out of learning."""
    return days(*((ago, spend, revenue) for ago in range(span)))


def test_a_campaign_under_the_kill_roas_is_paused_with_its_numbers() -> None:
    decision = decide(campaign(), steady("20", "10"), AS_OF, POLICY)
    assert decision.action == "pause" and decision.changes_something
    # Only the 3-day window counts: 60 spent, 30 earned.
    assert (decision.spend, decision.revenue, decision.purchases) == (D("60"), D("30"), 3)
    assert decision.roas == pytest.approx(0.5)
    assert "0.50 < kill threshold 1.00" in decision.reason and "spend 60.00" in decision.reason
    assert decision.new_budget is None and decision.old_budget == D("20")


def test_roas_exactly_at_the_kill_threshold_is_not_killed() -> None:
    decision = decide(campaign(), steady("20", "20"), AS_OF, POLICY)
    assert decision.action == "hold" and "not above scale" in decision.reason


def test_old_bad_days_outside_the_window_do_not_kill() -> None:
    history = days((5, "50", "0"), (4, "50", "0"), (2, "20", "50"), (1, "20", "50"), (0, "20", "50"))
    decision = decide(campaign(), history, AS_OF, POLICY)
    assert decision.action == "scale" and decision.spend == D("60")


def test_a_campaign_in_its_learning_period_is_never_touched() -> None:
    young = days((1, "40", "0"), (0, "40", "0"))  # ROAS 0 on 80 spent, but only 2 days old
    decision = decide(campaign(), young, AS_OF, POLICY)
    assert decision.action == "hold" and decision.reason == "learning: day 2 of 3"
    # On its third reporting day it is judged.
    assert decide(campaign(), young, AS_OF + timedelta(days=1), POLICY).action == "pause"


def test_learning_counts_from_the_first_delivery_known_before_the_window() -> None:
    window_only = days((1, "40", "0"), (0, "40", "0"))
    started_earlier = campaign(first_delivery=AS_OF - timedelta(days=9))
    assert decide(started_earlier, window_only, AS_OF, POLICY).action == "pause"


def test_no_judgement_below_the_minimum_spend() -> None:
    decision = decide(campaign(), steady("9.99", "0"), AS_OF, POLICY)  # 29.97 < 30 over the window
    assert decision.action == "hold" and "29.97 below the 30.00 needed to judge" in decision.reason
    assert decide(campaign(), steady("10", "0"), AS_OF, POLICY).action == "pause"  # exactly 30: judged


@pytest.mark.parametrize(
    ("state", "history", "reason"),
    [
        (campaign(active=False), steady("20", "0"), "not active"),
        (campaign(), [], "no delivery yet"),
        (campaign(), days((3, "0", "0"), (0, "0", "0")), "no delivery yet"),
        (campaign(), days((6, "50", "0"), (5, "50", "0"), (4, "50", "0")), "no spend in the last 3 days"),
    ],
)
def test_nothing_to_judge_holds(state: CampaignState, history: list[DayResult], reason: str) -> None:
    decision = decide(state, history, AS_OF, POLICY)
    assert decision.action == "hold" and decision.reason == reason and not decision.changes_something


def test_a_paying_campaign_is_scaled_by_the_step_rounded_to_cents() -> None:
    decision = decide(campaign("21.13"), steady("20", "60"), AS_OF, POLICY)
    assert decision.action == "scale" and decision.changes_something
    assert decision.old_budget == D("21.13") and decision.new_budget == D("26.41")  # 26.4125 -> 26.41
    assert "21.13 -> 26.41" in decision.reason


def test_scaling_stops_at_the_cap() -> None:
    assert decide(campaign("90"), steady("20", "60"), AS_OF, POLICY).new_budget == D("100")
    at_cap = decide(campaign("100"), steady("20", "60"), AS_OF, POLICY)
    assert at_cap.action == "hold" and "at the cap" in at_cap.reason
    lower_cap = AdPolicy(budget_cap=D("22"))
    assert decide(campaign("20"), steady("20", "60"), AS_OF, lower_cap).new_budget == D("22")


def test_no_second_scale_within_the_cool_down() -> None:
    changed_today = campaign(budget_changed_day=AS_OF)
    decision = decide(changed_today, steady("20", "60"), AS_OF, POLICY)
    assert decision.action == "hold" and "budget changed on 2026-11-10" in decision.reason
    changed_yesterday = campaign(budget_changed_day=AS_OF - timedelta(days=1))
    assert decide(changed_yesterday, steady("20", "60"), AS_OF, POLICY).action == "scale"


def test_scale_needs_every_complete_day_above_the_scale_roas() -> None:
    # The window is at ROAS 2.5, but one complete day was at 1.5.
    dip = days((2, "20", "30"), (1, "20", "60"), (0, "20", "60"))
    decision = decide(campaign(), dip, AS_OF, POLICY)
    assert decision.action == "hold" and "weakest complete day 1.50" in decision.reason


def test_todays_partial_day_does_not_block_a_scale() -> None:
    # Today's purchases may not be reported yet: it counts in the window, not as a weak day.
    partial_today = days((2, "20", "70"), (1, "20", "70"), (0, "10", "0"))
    decision = decide(campaign(), partial_today, AS_OF, POLICY)
    assert decision.roas == pytest.approx(2.8) and decision.action == "scale"


def test_thresholds_come_from_the_policy() -> None:
    strict = AdPolicy(kill_roas=3.0, scale_roas=5.0)
    assert decide(campaign(), steady("20", "50"), AS_OF, strict).action == "pause"  # ROAS 2.5 < 3
    lenient = AdPolicy(min_spend=D("100"))
    assert decide(campaign(), steady("20", "0"), AS_OF, lenient).action == "hold"
    history = days((3, "20", "60"), (2, "100", "0"), (1, "20", "60"), (0, "20", "60"))
    assert decide(campaign(), history, AS_OF, POLICY).action == "pause"
    assert decide(campaign(), history, AS_OF, AdPolicy(window_days=2)).action == "scale"  # bad day left out


def test_without_a_complete_day_with_spend_there_is_no_scale() -> None:
    # Only today spent (the learning clock started earlier): "stays above" cannot be shown yet.
    started = campaign(first_delivery=AS_OF - timedelta(days=5))
    decision = decide(started, days((0, "40", "200")), AS_OF, POLICY)
    assert decision.action == "hold" and "weakest complete day 0.00" in decision.reason


def test_launch_budget_is_per_platform_and_never_above_the_cap() -> None:
    policy = AdPolicy(meta_daily_budget=D("30"), tiktok_daily_budget=D("150"), budget_cap=D("100"))
    assert policy.launch_budget("meta") == D("30")
    assert policy.launch_budget("tiktok") == D("100")


def test_first_delivery_is_the_first_day_with_spend() -> None:
    history = days((4, "0", "0"), (3, "5", "0"), (1, "5", "0"))
    assert first_delivery(history) == AS_OF - timedelta(days=3)
    assert first_delivery([]) is None
