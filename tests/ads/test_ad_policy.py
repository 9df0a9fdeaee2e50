"""The `ad_policy` resource builds the one typed `AdPolicy`: its defaults are the rule's, money is exact."""

from decimal import Decimal

from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.rules.ad_rules import AdPolicy


def test_resource_defaults_are_the_policy_defaults() -> None:
    assert AdPolicyResource().policy() == AdPolicy()


def test_configured_money_becomes_exact_decimals() -> None:
    policy = AdPolicyResource(budget_cap=99.9, min_spend=12.5, scale_step=0.1, meta_daily_budget=150).policy()
    assert policy.budget_cap == Decimal("99.9") and policy.min_spend == Decimal("12.5")
    assert policy.scale_step == Decimal("0.1")
    assert policy.launch_budget("meta") == Decimal("99.9")  # the cap wins
