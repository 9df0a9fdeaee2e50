"""One shape for a campaign's day on any ad platform: spend, reach, clicks, purchases, revenue, ratios.

Meta reports strings and lists purchases under several redundant action types; TikTok reports strings
with "-" for empty values. Both become `CampaignDay`; ratios are derived here from the counts, the same
way for both platforms, instead of trusting each platform's own rounding.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
# Meta lists one purchase under each of these; they are alternatives, never to be summed.
META_PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")


@dataclass(frozen=True)
class CampaignDay:
    day: date
    platform: str
    campaign_id: str
    campaign_name: str
    spend: Decimal
    impressions: int
    clicks: int
    purchases: int
    revenue: Decimal

    @property
    def ctr(self) -> float | None:
        """Clicks per impression, as a fraction (0.012 = 1.2 %)."""
        return round(self.clicks / self.impressions, 6) if self.impressions else None

    @property
    def cpc(self) -> Decimal | None:
        return (self.spend / self.clicks).quantize(CENT, ROUND_HALF_UP) if self.clicks else None

    @property
    def roas(self) -> float | None:
        """Revenue per unit of spend; None when nothing was spent (undefined, not zero)."""
        return round(float(self.revenue / self.spend), 4) if self.spend > 0 else None

    def row(self, pid: str | None) -> dict[str, Any]:
        return {
            "day": self.day,
            "platform": self.platform,
            "campaign_id": self.campaign_id,
            "pid": pid,
            "spend": self.spend,
            "impressions": self.impressions,
            "clicks": self.clicks,
            "purchases": self.purchases,
            "revenue": self.revenue,
            "ctr": self.ctr,
            "cpc": self.cpc,
            "roas": self.roas,
        }


@dataclass(frozen=True)
class MetricsTotals:
    """A set of campaign-days summed: what a pull of the platforms' reports amounts to."""

    campaigns: int  # distinct (platform, campaign) pairs
    spend: Decimal
    revenue: Decimal

    @property
    def roas(self) -> float:
        """Revenue per unit of spend over the whole set; 0.0 when nothing was spent."""
        return round(float(self.revenue / self.spend), 3) if self.spend else 0.0


def totals(days: Iterable[CampaignDay]) -> MetricsTotals:
    days = list(days)
    return MetricsTotals(
        campaigns=len({(d.platform, d.campaign_id) for d in days}),
        spend=sum((d.spend for d in days), Decimal(0)),
        revenue=sum((d.revenue for d in days), Decimal(0)),
    )


def number(value: Any) -> Decimal:
    """A platform metric as a Decimal: strings, numbers, "-" / "" / None (no value) -> 0."""
    if value in (None, "", "-", "--"):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def _action_value(items: list[dict[str, Any]] | None) -> Decimal:
    by_type = {item.get("action_type"): item.get("value") for item in items or []}
    for kind in META_PURCHASE_TYPES:
        if kind in by_type:
            return number(by_type[kind])
    return Decimal(0)


def from_meta(row: dict[str, Any]) -> CampaignDay:
    """A Meta insights row (level=campaign, time_increment=1)."""
    return CampaignDay(
        day=date.fromisoformat(row["date_start"]),
        platform="meta",
        campaign_id=str(row["campaign_id"]),
        campaign_name=str(row.get("campaign_name") or ""),
        spend=number(row.get("spend")).quantize(CENT, ROUND_HALF_UP),
        impressions=int(number(row.get("impressions"))),
        clicks=int(number(row.get("clicks"))),
        purchases=int(_action_value(row.get("actions"))),
        revenue=_action_value(row.get("action_values")).quantize(CENT, ROUND_HALF_UP),
    )


def from_tiktok(row: dict[str, Any]) -> CampaignDay:
    """A TikTok integrated-report row (AUCTION_CAMPAIGN, dimensions campaign_id + stat_time_day)."""
    dims, metrics = row["dimensions"], row["metrics"]
    return CampaignDay(
        day=date.fromisoformat(str(dims["stat_time_day"])[:10]),
        platform="tiktok",
        campaign_id=str(dims["campaign_id"]),
        campaign_name=str(metrics.get("campaign_name") or ""),
        spend=number(metrics.get("spend")).quantize(CENT, ROUND_HALF_UP),
        impressions=int(number(metrics.get("impressions"))),
        clicks=int(number(metrics.get("clicks"))),
        purchases=int(number(metrics.get("complete_payment"))),
        revenue=number(metrics.get("total_complete_payment_rate")).quantize(CENT, ROUND_HALF_UP),
    )
