"""The owner's ad policy, and when to pause a campaign or give it more budget, from its measured return.

Time is the platforms' reporting time: `as_of` is the latest reporting day we have metrics for, and a
campaign's age is counted in reporting days since its first delivery. The rules then read the same in
live mode, in the sandbox (whose clock is its own) and in a backfill.

- Never touch a campaign younger than its learning period: the platform is still finding its audience.
- Judge only after a minimum spend over the window; below that the numbers are noise.
- Pause when the window's ROAS (revenue / spend) is under the kill threshold.
- Scale the budget by a step when ROAS stays above the scale threshold (on the window and on each of its
  complete days with spend), up to a cap, and not again within the cool-down.

`decide` is the only place these rules are written: the optimiser acts on it, and the metrics asset counts
the campaigns it would pause (which is what the weak-ads sensor reacts to).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class AdPolicy:
    """Launch budgets and the optimisation thresholds; money in the account currency (USD).

    The defaults here are the only ones: `AdPolicyResource` shows them as its config and builds this."""

    meta_daily_budget: Decimal = Decimal("20")
    tiktok_daily_budget: Decimal = Decimal("20")
    budget_cap: Decimal = Decimal("100")  # no campaign's daily budget ever above this
    kill_roas: float = 1.0
    scale_roas: float = 2.0
    min_spend: Decimal = Decimal("30")  # over the window, before any judgement
    scale_step: Decimal = Decimal("0.25")  # +25 % per scaling decision
    learning_days: int = 3
    window_days: int = 3
    scale_cooldown_days: int = 1

    def launch_budget(self, platform: str) -> Decimal:
        """A new campaign's daily budget on `platform` (meta | tiktok), never above the cap."""
        budget = self.meta_daily_budget if platform == "meta" else self.tiktok_daily_budget
        return min(budget, self.budget_cap)

    def window_start(self, as_of: date) -> date:
        """The first reporting day of the window that ends on `as_of`."""
        return as_of - timedelta(days=self.window_days - 1)


@dataclass(frozen=True)
class DayResult:
    day: date
    spend: Decimal
    revenue: Decimal
    purchases: int = 0

    @property
    def roas(self) -> float | None:
        return float(self.revenue / self.spend) if self.spend > 0 else None


@dataclass(frozen=True)
class CampaignState:
    platform: str
    campaign_id: str
    pid: str | None
    active: bool
    daily_budget: Decimal
    budget_changed_day: date | None = None
    first_delivery: date | None = None  # when known from a longer history than `days`


@dataclass(frozen=True)
class Decision:
    action: str  # pause | scale | hold
    reason: str
    spend: Decimal
    revenue: Decimal
    purchases: int
    roas: float | None
    old_budget: Decimal
    new_budget: Decimal | None = None

    @property
    def changes_something(self) -> bool:
        return self.action in ("pause", "scale")


def first_delivery(days: list[DayResult]) -> date | None:
    return min((d.day for d in days if d.spend > 0), default=None)


def decide(campaign: CampaignState, days: list[DayResult], as_of: date, policy: AdPolicy) -> Decision:
    """Pause, scale or hold one campaign; the reason names the numbers behind the decision."""
    recent = sorted((d for d in days if policy.window_start(as_of) <= d.day <= as_of), key=lambda d: d.day)
    spend = sum((d.spend for d in recent), Decimal(0))
    revenue = sum((d.revenue for d in recent), Decimal(0))
    purchases = sum(d.purchases for d in recent)
    roas = float(revenue / spend) if spend > 0 else None

    def hold(reason: str) -> Decision:
        return Decision("hold", reason, spend, revenue, purchases, roas, campaign.daily_budget)

    if not campaign.active:
        return hold("not active")
    started = campaign.first_delivery or first_delivery(days)
    if started is None:
        return hold("no delivery yet")
    age = (as_of - started).days + 1
    if age < policy.learning_days:
        return hold(f"learning: day {age} of {policy.learning_days}")
    if spend <= 0:
        return hold(f"no spend in the last {policy.window_days} days")
    if spend < policy.min_spend:
        return hold(f"spend {spend:.2f} below the {policy.min_spend:.2f} needed to judge")
    assert roas is not None
    numbers = f"spend {spend:.2f}, revenue {revenue:.2f}, {purchases} purchases in {policy.window_days} days"
    if roas < policy.kill_roas:
        return Decision(
            "pause",
            f"ROAS {roas:.2f} < kill threshold {policy.kill_roas:.2f} ({numbers})",
            spend,
            revenue,
            purchases,
            roas,
            campaign.daily_budget,
        )
    # "Stays above" is judged on complete days: today's partial day may not have had its purchases yet.
    complete = [d for d in recent if d.day < as_of and d.spend > 0]
    weakest = min(((d.roas or 0.0) for d in complete), default=0.0)
    if roas < policy.scale_roas or weakest < policy.scale_roas:
        return hold(
            f"ROAS {roas:.2f} (weakest complete day {weakest:.2f}) not above scale {policy.scale_roas:.2f}"
        )
    if campaign.daily_budget >= policy.budget_cap:
        return hold(f"ROAS {roas:.2f} but budget {campaign.daily_budget:.2f} is at the cap")
    changed = campaign.budget_changed_day
    if changed and (as_of - changed).days < policy.scale_cooldown_days:
        return hold(f"ROAS {roas:.2f} but the budget changed on {changed}")
    new_budget = min(
        policy.budget_cap, (campaign.daily_budget * (1 + policy.scale_step)).quantize(CENT, ROUND_HALF_UP)
    )
    return Decision(
        "scale",
        f"ROAS {roas:.2f} >= scale threshold {policy.scale_roas:.2f} (weakest day {weakest:.2f}; {numbers}); "
        f"budget {campaign.daily_budget:.2f} -> {new_budget:.2f}",
        spend,
        revenue,
        purchases,
        roas,
        campaign.daily_budget,
        new_budget,
    )
