"""The owner's ad settings: launch budgets, the optimisation thresholds and where ads lead."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.rules.ad_rules import AdRule


class AdPolicy(dg.ConfigurableResource):
    """Budgets in the account currency (USD). Checks read the same values the assets act on."""

    meta_daily_budget: float = 20.0
    tiktok_daily_budget: float = 20.0
    budget_cap: float = 100.0  # no campaign's daily budget ever above this
    kill_roas: float = 1.0
    scale_roas: float = 2.0
    min_spend: float = 30.0
    scale_step: float = 0.25
    learning_days: int = 3
    window_days: int = 3
    scale_cooldown_days: int = 1
    store_url: str = "https://sandbox-store.myshopify.com"  # ads link to {store_url}/products/{handle}
    media_dir: str = ".data/media"  # downloaded product images and rendered videos (content-addressed)
    # Hosts product images may be fetched from (a name also admits its subdomains). Image URLs come from the
    # supplier's payload: without a list, a bad or hostile URL would make us fetch from anywhere.
    image_hosts: list[str] = ["cjdropshipping.com"]

    def launch_budget(self, platform: str) -> Decimal:
        budget = self.meta_daily_budget if platform == "meta" else self.tiktok_daily_budget
        return min(Decimal(str(budget)), self.cap)

    @property
    def cap(self) -> Decimal:
        return Decimal(str(self.budget_cap))

    def rule(self) -> AdRule:
        return AdRule(
            kill_roas=self.kill_roas,
            scale_roas=self.scale_roas,
            min_spend=Decimal(str(self.min_spend)),
            scale_step=Decimal(str(self.scale_step)),
            budget_cap=self.cap,
            learning_days=self.learning_days,
            window_days=self.window_days,
            scale_cooldown_days=self.scale_cooldown_days,
        )
