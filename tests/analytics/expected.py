"""What the analytics of the hand-computed ledger must be (the rows: `dropship_testkit.ledger_seed.
seed_hand_computed_ledger`; the working below).

Orders (fee rule 2.9 % + $0.30, rounded half up per order):
  O1 2026-11-20 sent      19.99  P1x1  supplier 5.10 + 2.40 (actual)        fee 0.88
  O2 2026-11-20 new       59.98  P2x2  no supplier order: 2 x 8.00, 2 x 3.00 fee 2.04
  O3 2026-11-20 cancelled 29.99  (excluded)
  O4 2026-11-21 shipped   49.98  P1x1 + P2x1  supplier 13.00 + 5.50          fee 1.75
Ad spend: 11-20 meta 10.00 + tiktok 5.50 = 15.50; 11-21 meta 12.25. Clicks 40 + 20 + 50 = 110.
  11-20: 79.97 - 21.10 - 8.40 - 2.92 - 15.50 = 32.05     11-21: 49.98 - 13.00 - 5.50 - 1.75 - 12.25 = 17.48
"""

from datetime import date
from decimal import Decimal

D = Decimal

EXPECTED_DAILY = {
    date(2026, 11, 20): {
        "orders": 2,
        "items": 3,
        "revenue": D("79.97"),
        "product_cost": D("21.10"),
        "shipping_cost": D("8.40"),
        "payment_fees": D("2.92"),
        "ad_spend": D("15.50"),
        "refunds": D("0.00"),
        "profit": D("32.05"),
        "aov": D("39.99"),
        "estimated_cost_orders": 1,
    },
    date(2026, 11, 21): {
        "orders": 1,
        "items": 2,
        "revenue": D("49.98"),
        "product_cost": D("13.00"),
        "shipping_cost": D("5.50"),
        "payment_fees": D("1.75"),
        "ad_spend": D("12.25"),
        "refunds": D("0.00"),
        "profit": D("17.48"),
        "aov": D("49.98"),
        "estimated_cost_orders": 0,
    },
}
EXPECTED_ALL_TIME = {
    "sales": D("129.95"),
    "profit": D("49.53"),
    "orders": 3,
    "ad_spend": D("27.75"),
    "ad_clicks": 110,
    "total_cost": D("80.42"),
    "roi": 0.6159,
    "roas": 4.6829,
    "conversion_rate": 0.0273,
    "aov": D("43.32"),
}
EXPECTED_TOP = [
    {
        "pid": "P2",
        "orders": 2,
        "units": 3,
        "revenue": D("89.97"),
        "product_cost": D("24.00"),
        "shipping_cost": D("9.00"),
        "ad_spend": D("5.50"),
        "contribution": D("51.47"),
    },
    {
        "pid": "P1",
        "orders": 2,
        "units": 2,
        "revenue": D("39.98"),
        "product_cost": D("10.00"),
        "shipping_cost": D("5.00"),
        "ad_spend": D("22.25"),
        "contribution": D("2.73"),
    },
]
EXPECTED_ADS = {
    ("meta", "c1"): {
        "days": 2,
        "spend": D("22.25"),
        "clicks": 90,
        "impressions": 4500,
        "purchases": 1,
        "revenue": D("19.99"),
        "ctr": 0.02,
        "cpc": D("0.25"),
        "roas": 0.8984,
    },
    ("tiktok", "t1"): {
        "days": 1,
        "spend": D("5.50"),
        "clicks": 20,
        "impressions": 1000,
        "purchases": 1,
        "revenue": D("59.98"),
        "ctr": 0.02,
        "cpc": D("0.28"),
        "roas": 10.9055,
    },
}
