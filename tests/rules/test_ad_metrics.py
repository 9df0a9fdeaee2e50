"""One `CampaignDay` for any platform: raw values normalised, ratios derived from counts, totals summed."""

from datetime import date
from decimal import Decimal

import pytest

from dropship_pipelines.rules.ad_metrics import CampaignDay, campaign_day, number, totals

D = Decimal


def day(platform: str, campaign_id: str, spend: str, revenue: str, **counts: int) -> CampaignDay:
    return CampaignDay(
        day=date(2026, 11, 2),
        platform=platform,
        campaign_id=campaign_id,
        campaign_name=f"Sales pid:{campaign_id}",
        spend=D(spend),
        impressions=counts.get("impressions", 1000),
        clicks=counts.get("clicks", 10),
        purchases=counts.get("purchases", 1),
        revenue=D(revenue),
    )


def test_raw_values_become_money_to_the_cent_and_whole_counts() -> None:
    parsed = campaign_day(
        day=date(2026, 11, 3),
        platform="tiktok",
        campaign_id=1800000001,
        campaign_name=None,
        spend="12.345",
        impressions="-",
        clicks="",
        purchases="2",
        revenue=D("59.975"),
    )
    assert (parsed.campaign_id, parsed.campaign_name) == ("1800000001", "")
    assert (parsed.spend, parsed.revenue) == (D("12.35"), D("59.98"))  # half up
    assert (parsed.impressions, parsed.clicks, parsed.purchases) == (0, 0, 2)


def test_numbers_tolerate_the_platforms_empty_values_and_refuse_garbage() -> None:
    assert [number(v) for v in (None, "", "-", "--", "1.5", 2)] == [D(0), D(0), D(0), D(0), D("1.5"), D(2)]
    with pytest.raises(ValueError, match="not a number"):
        number("12 USD")


def test_ratios_are_derived_from_the_counts() -> None:
    parsed = day("meta", "c1", "12.00", "30.00", impressions=2000, clicks=30)
    assert parsed.ctr == pytest.approx(0.015)
    assert parsed.cpc == D("0.40")
    assert parsed.roas == pytest.approx(2.5)


def test_ratios_are_undefined_not_zero_without_a_denominator() -> None:
    nothing = day("tiktok", "c1", "0", "0", impressions=0, clicks=0)
    assert (nothing.ctr, nothing.cpc, nothing.roas) == (None, None, None)
    free_sales = day("tiktok", "c2", "0", "10")
    assert free_sales.roas is None


def test_row_carries_the_ratios_and_the_product() -> None:
    row = day("meta", "c1", "10.00", "25.00", impressions=500, clicks=5).row("P1")
    assert row["pid"] == "P1" and row["platform"] == "meta" and row["campaign_id"] == "c1"
    assert (row["ctr"], row["cpc"], row["roas"]) == (0.01, D("2.00"), 2.5)


def test_totals_sum_days_and_count_each_campaign_once_per_platform() -> None:
    days = [
        day("meta", "c1", "10.00", "30.00"),
        day("meta", "c1", "5.00", "0"),
        day("tiktok", "c1", "15.00", "15.00"),  # the same id on another platform is another campaign
    ]
    summed = totals(days)
    assert (summed.campaigns, summed.spend, summed.revenue) == (2, D("30.00"), D("45.00"))
    assert summed.roas == 1.5


def test_totals_of_nothing_spent() -> None:
    assert totals([]).campaigns == 0 and totals([]).roas == 0.0
    assert totals([day("meta", "c1", "0", "10")]).roas == 0.0
