"""Creative tests: each new product's ad runs as two video variants, and the loser is paused once the
difference between them is significant.

- **Variants** (`plan_variants`): the control "a" opens on the problem (the model's headline over the
  product's first image, its hooks as the scenes' captions, the price badge a moment later). The
  challenger "b" opens on the price: another hook line as its headline, the price badge on the first frame,
  the hooks in another order and the images rotated so its first scene shows another picture. Two renders
  per product, no more.
- **Split**: both ads run in the product's one ad set (Meta) / ad group (TikTok), which holds the budget.
  Media buyers on a small budget test creatives this way (ABO with the creatives side by side) rather than
  with an ad set per creative, which would double the spend and the learning phases per product; the
  platform leans delivery to the ad it prefers, so the split is not exactly even. The test therefore
  compares a rate (purchases per click), which an uneven split does not bias; it only takes the slower
  variant longer to reach the sample.
- **Decision** (`judge_test`): a two-sided two-proportion z-test (pooled) on purchases per click. Nothing
  is decided before each variant has `min_clicks` clicks and the two together `min_purchases` purchases;
  then the variant with the lower rate loses when p < `alpha`. Every decision carries its inputs.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dropship_pipelines.rules.ad_metrics import CampaignDay

CONTROL, CHALLENGER = "a", "b"
VARIANTS = (CONTROL, CHALLENGER)
Opening = Literal["problem", "price"]
Outcome = Literal["winner", "undecided"]


# --- variants --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreativeVariant:
    """What one video variant is made of: its hook line (the headline on the first frame), how it opens,
    its captions and the order its images are shown in (indexes into the product's images)."""

    variant: str  # a | b
    opening: Opening
    headline: str
    captions: tuple[str, ...]
    image_order: tuple[int, ...]

    def images(self, paths: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(paths[i] for i in self.image_order if i < len(paths))


def plan_variants(headline: str, hooks: tuple[str, ...], image_count: int) -> tuple[CreativeVariant, ...]:
    """The control (problem-first: the creative as the model wrote it) and the challenger (price-first:
    the last hook as its hook line, the other hooks reversed, the images rotated by one)."""
    if not hooks:
        raise ValueError("a creative test needs at least one hook")
    if image_count < 1:
        raise ValueError("a creative test needs at least one image")
    order = tuple(range(image_count))
    control = CreativeVariant(CONTROL, "problem", headline, tuple(hooks), order)
    others = tuple(reversed(hooks[:-1])) or (headline,)
    challenger = CreativeVariant(CHALLENGER, "price", hooks[-1], others, order[1:] + order[:1])
    return control, challenger


# --- per-ad numbers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdDay:
    """One ad's numbers for one reporting day (`numbers.campaign_id` is its campaign's)."""

    ad_id: str
    ad_name: str
    numbers: CampaignDay


@dataclass(frozen=True)
class VariantResult:
    """A variant's totals over the test so far."""

    variant: str
    ad_id: str
    clicks: int
    purchases: int
    spend: Decimal = Decimal(0)
    impressions: int = 0

    @property
    def rate(self) -> float:
        """Purchases per click (0 without clicks)."""
        return self.purchases / self.clicks if self.clicks else 0.0

    def inputs(self) -> dict[str, Any]:
        return {
            "ad_id": self.ad_id,
            "clicks": self.clicks,
            "purchases": self.purchases,
            "impressions": self.impressions,
            "spend": str(self.spend),
            "purchases_per_click": round(self.rate, 6),
        }


# --- the decision ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreativeTestPolicy:
    """When a creative test is decided. The defaults are the only ones (`AdPolicy` carries them)."""

    alpha: float = 0.05  # two-sided significance level
    min_clicks: int = 200  # per variant, before any decision
    min_purchases: int = 10  # both variants together, before any decision

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"creative test alpha {self.alpha} must be in (0, 0.5)")
        if self.min_clicks < 1 or self.min_purchases < 1:
            raise ValueError("creative test min_clicks and min_purchases must be at least 1")


@dataclass(frozen=True)
class CreativeTestDecision:
    outcome: Outcome
    reason: str
    winner: str | None
    loser: str | None
    z: float | None
    p_value: float | None
    inputs: dict[str, Any]


def two_proportion_z(a: VariantResult, b: VariantResult) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion test of a's rate against b's."""
    pooled = (a.purchases + b.purchases) / (a.clicks + b.clicks)
    variance = pooled * (1 - pooled) * (1 / a.clicks + 1 / b.clicks)
    if variance <= 0:
        return 0.0, 1.0  # no purchase (or nothing but purchases) on either side: no difference shown
    z = (a.rate - b.rate) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def judge_test(a: VariantResult, b: VariantResult, policy: CreativeTestPolicy) -> CreativeTestDecision:
    """Winner and loser once the difference in purchases per click is significant; else undecided."""
    inputs: dict[str, Any] = {
        "metric": "purchases_per_click",
        "test": "two-proportion z (pooled, two-sided)",
        "alpha": policy.alpha,
        "min_clicks": policy.min_clicks,
        "min_purchases": policy.min_purchases,
        a.variant: a.inputs(),
        b.variant: b.inputs(),
    }
    short = [v.variant for v in (a, b) if v.clicks < policy.min_clicks]
    if short:
        reason = f"variant(s) {', '.join(short)} under {policy.min_clicks} clicks"
        return CreativeTestDecision("undecided", reason, None, None, None, None, inputs)
    if a.purchases + b.purchases < policy.min_purchases:
        reason = f"{a.purchases + b.purchases} purchases, under {policy.min_purchases}"
        return CreativeTestDecision("undecided", reason, None, None, None, None, inputs)
    z, p = two_proportion_z(a, b)
    inputs |= {"z": round(z, 4), "p_value": round(p, 6)}
    if p >= policy.alpha:
        reason = f"no significant difference (p={p:.4f} >= {policy.alpha})"
        return CreativeTestDecision("undecided", reason, None, None, z, p, inputs)
    winner, loser = (a, b) if a.rate > b.rate else (b, a)
    reason = (
        f"variant {winner.variant} converts {winner.rate:.2%} of clicks against {loser.rate:.2%} "
        f"(p={p:.4f} < {policy.alpha}): variant {loser.variant} is paused"
    )
    return CreativeTestDecision("winner", reason, winner.variant, loser.variant, z, p, inputs)
