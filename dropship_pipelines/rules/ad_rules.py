"""The owner's ad policy, and the one rule that pauses, scales, resumes or holds a campaign.

Each product's ads are judged against what that product can afford: its **breakeven ROAS**,
1 / contribution margin, where the contribution margin is what one sale leaves after the supplier's cost,
the shipping, the payment fees and the refunds it is expected to give back, as a share of its price
(`ProductMargin`). A product with a 25 % margin breaks even at ROAS 4.0; one with 50 % at ROAS 2.0, so the
same ROAS of 3.0 loses money on the first and pays on the second.

Time is the platforms' reporting time: `as_of` is the latest reporting day we have metrics for (the ad
accounts' days, in their time zone). The rules then read the same in live mode, in the sandbox (whose clock
is its own) and in a backfill.

- **Unpublished products**: their active ads are paused (nothing to sell), and resumed on re-publish.
- **Learning phase**: counted in conversions, not days. A campaign is left alone until it has had
  `learning_conversions` (about 50, as the platforms count) since its last significant edit (its launch or
  a resume), unless it spent `learning_max_spend` since then without getting there (the platforms'
  "learning limited": it will not get there, so it is judged).
- **Kill**: the window's ROAS under the product's breakeven pauses it, once `min_spend` makes it a signal.
- **Scale**: ROAS at least `scale_multiple` x breakeven on the window and on each complete day with spend
  raises the budget by `scale_step`, never more than 20 % (`MAX_BUDGET_STEP`: a larger change restarts the
  learning phase), up to the cap, and not again within the cool-down.
- **Restated data**: the platforms restate conversions for up to 28 days. A campaign the rule paused is
  re-judged on the restated numbers of the window that killed it; if they now reach its breakeven, it was
  killed wrongly and is resumed.

`decide` is the only place these rules are written: the optimiser acts on it, and the metrics asset counts
the campaigns it would pause (which is what the weak-ads sensor reacts to). Every decision carries its
inputs and its reason.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from dropship_pipelines.rules.creative_tests import CreativeTestPolicy

CENT = Decimal("0.01")
# The platforms restart an ad set's learning on a budget change above about 20 %: no step is larger.
MAX_BUDGET_STEP = Decimal("0.20")
# Meta and TikTok restate conversions (late attribution, deduplicated server events) for 28 days.
RESTATEMENT_DAYS = 28
PAUSED_BY_RULE = "rule"
PAUSED_BY_UNPUBLISH = "unpublished"


@dataclass(frozen=True)
class AdPolicy:
    """Launch budgets and the optimisation thresholds; money in the account currency (USD).

    The defaults here are the only ones: `AdPolicyResource` shows them as its config and builds this."""

    meta_daily_budget: Decimal = Decimal("20")
    tiktok_daily_budget: Decimal = Decimal("20")
    budget_cap: Decimal = Decimal("100")  # no campaign's daily budget ever above this
    scale_multiple: float = 1.5  # scale when ROAS >= this x the product's breakeven ROAS
    min_spend: Decimal = Decimal("30")  # over the window, before any judgement
    scale_step: Decimal = Decimal("0.20")  # +20 % per scaling decision, at most MAX_BUDGET_STEP
    learning_conversions: int = 50  # conversions since the last significant edit before judging
    learning_max_spend: Decimal = Decimal("300")  # ... or this much spend without them ("learning limited")
    window_days: int = 7
    scale_cooldown_days: int = 1
    restatement_days: int = RESTATEMENT_DAYS  # how far back metrics are re-pulled and kills re-judged
    # Creative tests (rules/creative_tests.py): significance level and minimum sample of each test.
    creative_test_alpha: float = 0.05
    creative_test_min_clicks: int = 200  # per variant
    creative_test_min_purchases: int = 10  # both variants together

    def __post_init__(self) -> None:
        if not Decimal(0) < self.scale_step <= MAX_BUDGET_STEP:
            raise ValueError(
                f"scale_step {self.scale_step} must be above 0 and at most {MAX_BUDGET_STEP} "
                "(a budget change above 20 % restarts the platforms' learning phase)"
            )
        if self.scale_multiple < 1.0:
            raise ValueError(
                f"scale_multiple {self.scale_multiple} must be at least 1 (scale above breakeven)"
            )
        if self.window_days < 1 or self.restatement_days < self.window_days:
            raise ValueError("window_days must be at least 1 and no longer than restatement_days")
        if self.learning_conversions < 0:
            raise ValueError("learning_conversions must not be negative")
        self.creative_tests()  # its own checks (alpha in (0, 0.5), minimums at least 1)

    def creative_tests(self) -> CreativeTestPolicy:
        """The creative-test rule's policy (validated there)."""
        return CreativeTestPolicy(
            alpha=self.creative_test_alpha,
            min_clicks=self.creative_test_min_clicks,
            min_purchases=self.creative_test_min_purchases,
        )

    def launch_budget(self, platform: str) -> Decimal:
        """A new campaign's daily budget on `platform` (meta | tiktok), never above the cap."""
        budget = self.meta_daily_budget if platform == "meta" else self.tiktok_daily_budget
        return min(budget, self.budget_cap)

    def window_start(self, as_of: date) -> date:
        """The first reporting day of the window that ends on `as_of`."""
        return as_of - timedelta(days=self.window_days - 1)

    def next_budget(self, budget: Decimal) -> Decimal:
        """One scaling step up, rounded down to the cent so the change never exceeds the step."""
        step = min(self.scale_step, MAX_BUDGET_STEP)
        return min(self.budget_cap, (budget * (1 + step)).quantize(CENT, ROUND_DOWN))


@dataclass(frozen=True)
class ProductMargin:
    """What one sale of a product leaves, per unit, before ads: the inputs of its breakeven ROAS."""

    pid: str
    price: Decimal
    supplier_cost: Decimal
    shipping: Decimal
    fees: Decimal
    refund_rate: float = 0.0  # share of revenue refunded (the ledger's refunds of this product's orders)
    basis: str = "listing"  # where the costs come from: listing | supplier charges (n orders)

    @property
    def refunds(self) -> Decimal:
        return (self.price * Decimal(str(self.refund_rate))).quantize(CENT, ROUND_HALF_UP)

    @property
    def contribution(self) -> Decimal:
        return self.price - self.supplier_cost - self.shipping - self.fees - self.refunds

    @property
    def margin(self) -> float:
        """Contribution as a share of the price (0.25 = 25 %)."""
        return float(self.contribution / self.price) if self.price > 0 else 0.0

    @property
    def breakeven_roas(self) -> float | None:
        """1 / contribution margin; None when a sale earns nothing (no ROAS breaks even)."""
        return round(1 / self.margin, 4) if self.margin > 0 else None

    def inputs(self) -> dict[str, Any]:
        return {
            "price": str(self.price),
            "supplier_cost": str(self.supplier_cost),
            "shipping": str(self.shipping),
            "fees": str(self.fees),
            "refund_rate": round(self.refund_rate, 4),
            "contribution": str(self.contribution),
            "margin": round(self.margin, 4),
            "breakeven_roas": self.breakeven_roas,
            "basis": self.basis,
        }


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
    margin: ProductMargin | None = None  # None: the product's costs are not known
    published: bool = True  # the product is on sale at the store
    budget_changed_day: date | None = None
    first_delivery: date | None = None  # when known from a longer history than `days`
    learning_since: date | None = None  # reporting day of the last significant edit (a resume)
    paused_by: str | None = None  # rule | unpublished | anything else (an operator): who paused it
    killed_as_of: date | None = None  # the `as_of` of the rule's pause, for the re-judgement


@dataclass(frozen=True)
class Decision:
    action: str  # pause | scale | resume | hold
    reason: str
    spend: Decimal
    revenue: Decimal
    purchases: int
    roas: float | None
    old_budget: Decimal
    new_budget: Decimal | None = None
    breakeven_roas: float | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # everything the decision was made from

    @property
    def changes_something(self) -> bool:
        return self.action in ("pause", "scale", "resume")

    @property
    def paused_by(self) -> str | None:
        """Who the pause is recorded as made by (a rule's kill or the product's unpublishing)."""
        if self.action != "pause":
            return None
        return PAUSED_BY_UNPUBLISH if self.inputs.get("published") is False else PAUSED_BY_RULE


def first_delivery(days: list[DayResult]) -> date | None:
    return min((d.day for d in days if d.spend > 0), default=None)


@dataclass(frozen=True)
class _Window:
    days: list[DayResult]
    spend: Decimal
    revenue: Decimal
    purchases: int

    @property
    def roas(self) -> float | None:
        return float(self.revenue / self.spend) if self.spend > 0 else None


def _window(days: list[DayResult], first: date, last: date) -> _Window:
    recent = sorted((d for d in days if first <= d.day <= last), key=lambda d: d.day)
    return _Window(
        recent,
        sum((d.spend for d in recent), Decimal(0)),
        sum((d.revenue for d in recent), Decimal(0)),
        sum(d.purchases for d in recent),
    )


def decide(campaign: CampaignState, days: list[DayResult], as_of: date, policy: AdPolicy) -> Decision:
    """Pause, scale, resume or hold one campaign; the reason names the numbers behind the decision."""
    window = _window(days, policy.window_start(as_of), as_of)
    breakeven = campaign.margin.breakeven_roas if campaign.margin else None
    inputs: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "window": [policy.window_start(as_of).isoformat(), as_of.isoformat()],
        "published": campaign.published,
        "active": campaign.active,
        "margin": campaign.margin.inputs() if campaign.margin else None,
        "scale_multiple": policy.scale_multiple,
    }

    def make(action: str, reason: str, w: _Window = window, new_budget: Decimal | None = None) -> Decision:
        roas = w.roas
        return Decision(
            action,
            reason,
            w.spend,
            w.revenue,
            w.purchases,
            roas,
            campaign.daily_budget,
            new_budget,
            breakeven,
            inputs,
        )

    # --- the product comes first: nothing to sell, nothing to advertise ---------------------------------
    if not campaign.published:
        if campaign.active:
            return make("pause", "the product is unpublished at the store (nothing to sell)")
        return make("hold", "paused; the product is unpublished")
    if not campaign.active:
        return _judge_paused(campaign, days, as_of, policy, breakeven, inputs, make)

    # --- learning: counted in conversions since the last significant edit ---------------------------
    started = campaign.first_delivery or first_delivery(days)
    if started is None:
        return make("hold", "no delivery yet")
    since = max(started, campaign.learning_since or started)
    learned = _window(days, since, as_of)
    inputs["learning"] = {
        "since": since.isoformat(),
        "conversions": learned.purchases,
        "spend": str(learned.spend),
        "needed": policy.learning_conversions,
    }
    if learned.purchases < policy.learning_conversions and learned.spend < policy.learning_max_spend:
        return make(
            "hold",
            f"learning: {learned.purchases} of {policy.learning_conversions} conversions since {since} "
            f"(spend {learned.spend:.2f} of {policy.learning_max_spend:.2f})",
        )
    if window.spend <= 0:
        return make("hold", f"no spend in the last {policy.window_days} days")
    if window.spend < policy.min_spend:
        return make("hold", f"spend {window.spend:.2f} below the {policy.min_spend:.2f} needed to judge")
    roas = window.roas
    assert roas is not None
    numbers = (
        f"spend {window.spend:.2f}, revenue {window.revenue:.2f}, {window.purchases} purchases "
        f"in {policy.window_days} days"
    )
    if campaign.margin is None:
        return make("hold", f"ROAS {roas:.2f}, but the product's costs are unknown ({numbers})")
    margin = campaign.margin
    if breakeven is None:
        return make(
            "pause",
            f"the product earns nothing per sale (contribution {margin.contribution:.2f} on price "
            f"{margin.price:.2f}): no ROAS breaks even ({numbers})",
        )
    if roas < breakeven:
        return make(
            "pause",
            f"ROAS {roas:.2f} < breakeven {breakeven:.2f} (margin {margin.margin:.1%}; {numbers})",
        )
    target = breakeven * policy.scale_multiple
    complete = [d for d in window.days if d.day < as_of and d.spend > 0]
    weakest = min(((d.roas or 0.0) for d in complete), default=0.0)
    if roas < target or weakest < breakeven:
        return make(
            "hold",
            f"ROAS {roas:.2f} (weakest complete day {weakest:.2f}) above breakeven {breakeven:.2f}, "
            f"not at the scale target {target:.2f}",
        )
    if campaign.daily_budget >= policy.budget_cap:
        return make("hold", f"ROAS {roas:.2f} but budget {campaign.daily_budget:.2f} is at the cap")
    changed = campaign.budget_changed_day
    if changed and (as_of - changed).days < policy.scale_cooldown_days:
        return make("hold", f"ROAS {roas:.2f} but the budget changed on {changed}")
    new_budget = policy.next_budget(campaign.daily_budget)
    return make(
        "scale",
        f"ROAS {roas:.2f} >= {policy.scale_multiple:g} x breakeven {breakeven:.2f} = {target:.2f} "
        f"(weakest day {weakest:.2f}; {numbers}); budget {campaign.daily_budget:.2f} -> {new_budget:.2f}",
        new_budget=new_budget,
    )


def _judge_paused(
    campaign: CampaignState,
    days: list[DayResult],
    as_of: date,
    policy: AdPolicy,
    breakeven: float | None,
    inputs: dict[str, Any],
    make: Any,
) -> Decision:
    """A paused campaign of a published product: resumed when its product came back, or when the restated
    numbers of the window that killed it reach its breakeven (it was killed wrongly)."""
    if campaign.paused_by == PAUSED_BY_UNPUBLISH:
        return make("resume", "the product is published again")
    if campaign.paused_by != PAUSED_BY_RULE or campaign.killed_as_of is None:
        return make("hold", "paused (not by the rule: left to whoever paused it)")
    killed = campaign.killed_as_of
    if (as_of - killed).days >= policy.restatement_days:
        return make("hold", f"paused by the rule on {killed}; its numbers are final")
    restated = _window(days, policy.window_start(killed), killed)
    inputs["restated_window"] = [policy.window_start(killed).isoformat(), killed.isoformat()]
    roas = restated.roas
    if roas is None or breakeven is None:
        return make("hold", f"paused by the rule on {killed}", restated)
    if roas >= breakeven:
        return make(
            "resume",
            f"restated ROAS {roas:.2f} of the window that killed it ({policy.window_start(killed)} .. "
            f"{killed}: spend {restated.spend:.2f}, revenue {restated.revenue:.2f}, {restated.purchases} "
            f"purchases) reaches breakeven {breakeven:.2f}: killed wrongly",
            restated,
        )
    return make(
        "hold",
        f"paused by the rule on {killed}; restated ROAS {roas:.2f} still < breakeven {breakeven:.2f}",
        restated,
    )
