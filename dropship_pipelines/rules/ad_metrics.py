"""One shape for a campaign's day on any ad platform: spend, reach, clicks, purchases, revenue, ratios.

Each client knows which of its report fields mean what (`meta_ads.campaign_day_from_insight`,
`tiktok_ads.campaign_day_from_report`) and hands the raw values to `campaign_day`: platforms report
strings, "-" or nothing for no value, and money to more than a cent. Ratios are derived here from the
counts, the same way for both platforms, instead of trusting each platform's own rounding.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


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


def campaign_day(
    *,
    day: date,
    platform: str,
    campaign_id: Any,
    campaign_name: Any,
    spend: Any,
    impressions: Any,
    clicks: Any,
    purchases: Any,
    revenue: Any,
) -> CampaignDay:
    """A platform's raw values for one campaign-day as a `CampaignDay`: money to the cent, counts whole."""
    return CampaignDay(
        day=day,
        platform=platform,
        campaign_id=str(campaign_id),
        campaign_name=str(campaign_name or ""),
        spend=number(spend).quantize(CENT, ROUND_HALF_UP),
        impressions=int(number(impressions)),
        clicks=int(number(clicks)),
        purchases=int(number(purchases)),
        revenue=number(revenue).quantize(CENT, ROUND_HALF_UP),
    )
