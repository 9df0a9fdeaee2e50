"""Both platforms' report rows become one `CampaignDay`, with ratios derived the same way; totals sum them."""

from datetime import date
from decimal import Decimal

import pytest

from dropship_pipelines.rules.ad_metrics import CampaignDay, from_meta, from_tiktok, number, totals

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


def test_meta_purchase_types_are_alternatives_never_summed() -> None:
    row = {
        "date_start": "2026-11-02",
        "campaign_id": 120000001,
        "campaign_name": "Sales pid:P1",
        "spend": "12.345",
        "impressions": "2000",
        "clicks": "30",
        "actions": [
            {"action_type": "link_click", "value": "30"},
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "3"},
            {"action_type": "omni_purchase", "value": "3"},
            {"action_type": "purchase", "value": "3"},
        ],
        "action_values": [
            {"action_type": "purchase", "value": "89.97"},
            {"action_type": "omni_purchase", "value": "89.97"},
        ],
    }
    parsed = from_meta(row)
    assert parsed.day == date(2026, 11, 2) and parsed.platform == "meta" and parsed.campaign_id == "120000001"
    assert (parsed.purchases, parsed.revenue) == (3, D("89.97"))
    assert parsed.spend == D("12.35")  # to the cent, half up


def test_meta_row_without_conversions_has_none() -> None:
    parsed = from_meta({"date_start": "2026-11-02", "campaign_id": "1", "spend": "5"})
    assert (parsed.impressions, parsed.clicks, parsed.purchases, parsed.revenue) == (0, 0, 0, D("0"))
    assert parsed.campaign_name == ""


def test_tiktok_dashes_are_zero_and_the_day_is_a_date() -> None:
    row = {
        "dimensions": {"campaign_id": "1800000001", "stat_time_day": "2026-11-03 00:00:00"},
        "metrics": {
            "campaign_name": "Sales pid:P2",
            "spend": "20.00",
            "impressions": "-",
            "clicks": "",
            "complete_payment": "2",
            "total_complete_payment_rate": "59.98",
        },
    }
    parsed = from_tiktok(row)
    assert parsed.day == date(2026, 11, 3) and parsed.platform == "tiktok"
    assert (parsed.impressions, parsed.clicks, parsed.purchases) == (0, 0, 2)
    assert (parsed.spend, parsed.revenue) == (D("20.00"), D("59.98"))


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
