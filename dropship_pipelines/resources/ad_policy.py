"""The owner's ad settings as Dagster config: the ad policy (budgets, thresholds) and where ads lead."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.rules.ad_rules import AdPolicy

DEFAULT = AdPolicy()  # the policy's defaults are stated once, in the rule's dataclass


class AdPolicyResource(dg.ConfigurableResource):
    """Budgets in the account currency (USD). Checks read the same `AdPolicy` the assets act on."""

    meta_daily_budget: float = float(DEFAULT.meta_daily_budget)
    tiktok_daily_budget: float = float(DEFAULT.tiktok_daily_budget)
    budget_cap: float = float(DEFAULT.budget_cap)  # no campaign's daily budget ever above this
    # Kill below each product's breakeven ROAS (1 / contribution margin); scale above this multiple of it.
    scale_multiple: float = DEFAULT.scale_multiple
    min_spend: float = float(DEFAULT.min_spend)
    scale_step: float = float(DEFAULT.scale_step)  # at most 0.20: a larger change restarts learning
    learning_conversions: int = DEFAULT.learning_conversions  # since the last significant edit
    learning_max_spend: float = float(DEFAULT.learning_max_spend)
    window_days: int = DEFAULT.window_days
    scale_cooldown_days: int = DEFAULT.scale_cooldown_days
    restatement_days: int = DEFAULT.restatement_days  # metrics re-pulled and kills re-judged this far back
    # Creative tests: two video variants per product; the loser (purchases per click, two-proportion z-test)
    # is paused once p < alpha, after each variant has min_clicks and both together min_purchases.
    creative_test_alpha: float = DEFAULT.creative_test_alpha
    creative_test_min_clicks: int = DEFAULT.creative_test_min_clicks
    creative_test_min_purchases: int = DEFAULT.creative_test_min_purchases
    store_url: str = "https://sandbox-store.myshopify.com"  # ads link to {store_url}/products/{handle}
    media_dir: str = ".data/media"  # downloaded product images and rendered videos (content-addressed)
    # Hosts product images may be fetched from (a name also admits its subdomains). Image URLs come from the
    # supplier's payload: without a list, a bad or hostile URL would make us fetch from anywhere.
    image_hosts: list[str] = ["cjdropshipping.com"]

    def policy(self) -> AdPolicy:
        """The typed policy the rules read (money as Decimal, from its decimal string, not the float)."""
        return AdPolicy(
            meta_daily_budget=_money(self.meta_daily_budget),
            tiktok_daily_budget=_money(self.tiktok_daily_budget),
            budget_cap=_money(self.budget_cap),
            scale_multiple=self.scale_multiple,
            min_spend=_money(self.min_spend),
            scale_step=_money(self.scale_step),
            learning_conversions=self.learning_conversions,
            learning_max_spend=_money(self.learning_max_spend),
            window_days=self.window_days,
            scale_cooldown_days=self.scale_cooldown_days,
            restatement_days=self.restatement_days,
            creative_test_alpha=self.creative_test_alpha,
            creative_test_min_clicks=self.creative_test_min_clicks,
            creative_test_min_purchases=self.creative_test_min_purchases,
        )


def _money(value: float) -> Decimal:
    return Decimal(str(value))
