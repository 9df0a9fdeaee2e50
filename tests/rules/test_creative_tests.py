"""The creative-test rule: the two variants' plans, and the two-proportion test with its minimum sample."""

import pytest

from dropship_pipelines.rules.ad_rules import AdPolicy
from dropship_pipelines.rules.creative_tests import (
    CreativeTestPolicy,
    VariantResult,
    judge_test,
    plan_variants,
    two_proportion_z,
)

POLICY = CreativeTestPolicy(alpha=0.05, min_clicks=200, min_purchases=10)


def test_the_challenger_opens_on_the_price_with_another_hook_and_first_image() -> None:
    control, challenger = plan_variants(
        "Never drop it", ("Grips any car", "Fits every phone", "Ships free"), 3
    )
    assert (control.opening, control.headline, control.image_order) == ("problem", "Never drop it", (0, 1, 2))
    assert control.captions == ("Grips any car", "Fits every phone", "Ships free")
    assert (challenger.opening, challenger.headline) == ("price", "Ships free")
    assert challenger.captions == ("Fits every phone", "Grips any car")
    assert challenger.image_order == (1, 2, 0) and challenger.images(("x", "y", "z")) == ("y", "z", "x")
    # One image, one hook: still two distinct openings.
    _, lone = plan_variants("Headline", ("Hook",), 1)
    assert lone.headline == "Hook" and lone.captions == ("Headline",) and lone.image_order == (0,)
    with pytest.raises(ValueError, match="hook"):
        plan_variants("Headline", (), 2)


def test_a_significant_difference_names_winner_and_loser_with_the_inputs() -> None:
    a, b = VariantResult("a", "ad-a", 600, 24), VariantResult("b", "ad-b", 600, 48)
    decision = judge_test(a, b, POLICY)
    assert (decision.outcome, decision.winner, decision.loser) == ("winner", "b", "a")
    assert decision.p_value is not None and decision.p_value < 0.01
    assert decision.inputs["a"]["clicks"] == 600 and decision.inputs["b"]["purchases"] == 48
    assert decision.inputs["alpha"] == 0.05 and "variant a is paused" in decision.reason
    # The same rates from a smaller sample are not significant.
    small = judge_test(VariantResult("a", "x", 200, 8), VariantResult("b", "y", 200, 12), POLICY)
    assert small.outcome == "undecided" and "no significant difference" in small.reason


def test_nothing_is_decided_before_the_minimum_sample() -> None:
    few_clicks = judge_test(VariantResult("a", "x", 150, 0), VariantResult("b", "y", 900, 60), POLICY)
    assert few_clicks.outcome == "undecided" and "under 200 clicks" in few_clicks.reason
    few_sales = judge_test(VariantResult("a", "x", 900, 1), VariantResult("b", "y", 900, 8), POLICY)
    assert few_sales.outcome == "undecided" and "under 10" in few_sales.reason


def test_the_z_test_matches_the_textbook_value() -> None:
    z, p = two_proportion_z(VariantResult("a", "x", 1000, 50), VariantResult("b", "y", 1000, 80))
    # p1 = 0.05, p2 = 0.08, pooled 0.065: se = sqrt(0.065 x 0.935 x 2 / 1000) = 0.011025
    assert z == pytest.approx(-2.7211, abs=0.0001) and p == pytest.approx(0.00651, abs=0.00002)
    assert two_proportion_z(VariantResult("a", "x", 100, 0), VariantResult("b", "y", 100, 0)) == (0.0, 1.0)


def test_the_ad_policy_carries_and_checks_the_test_parameters() -> None:
    assert AdPolicy(creative_test_alpha=0.01).creative_tests().alpha == 0.01
    with pytest.raises(ValueError, match="alpha"):
        AdPolicy(creative_test_alpha=0.7)
    with pytest.raises(ValueError, match="at least 1"):
        AdPolicy(creative_test_min_clicks=0)
