"""A small ledger whose analytics were computed by hand (numbers in EXPECTED, working in comments).

Orders (fee rule 2.9 % + $0.30, rounded half up per order):
  O1 2026-11-20 sent      19.99  P1x1  supplier 5.10 + 2.40 (actual)        fee 0.88
  O2 2026-11-20 new       59.98  P2x2  no supplier order: 2 x 8.00, 2 x 3.00 fee 2.04
  O3 2026-11-20 cancelled 29.99  (excluded)
  O4 2026-11-21 shipped   49.98  P1x1 + P2x1  supplier 13.00 + 5.50          fee 1.75
Ad spend: 11-20 meta 10.00 + tiktok 5.50 = 15.50; 11-21 meta 12.25. Clicks 40 + 20 + 50 = 110.
  11-20: 79.97 - 21.10 - 8.40 - 2.92 - 15.50 = 32.05     11-21: 49.98 - 13.00 - 5.50 - 1.75 - 12.25 = 17.48
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dropship_pipelines.store.ads_tables import ad_campaigns, ad_metrics_daily
from dropship_pipelines.store.discovery_tables import listing_variants, listings, product_candidates
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders, supplier_orders

D = Decimal
FIRST_DAY = date(2026, 11, 20)
LAST_DAY = date(2026, 11, 21)

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


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def seed_ledger(engine: Engine) -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            listings.insert(),
            [
                {
                    "pid": "P1",
                    "handle": "galaxy-lamp",
                    "status": "listed",
                    "store_product_id": "gid://shopify/Product/1",
                    "title": "Galaxy Lamp",
                    "price": D("19.99"),
                    "unit_cost": D("5.00"),
                    "shipping_cost": D("2.50"),
                    "image_url": None,
                    "listed_at": now,
                    "last_error": None,
                },
                {
                    "pid": "P2",
                    "handle": "pet-brush",
                    "status": "listed",
                    "store_product_id": "gid://shopify/Product/2",
                    "title": "Pet Brush",
                    "price": D("29.99"),
                    "unit_cost": D("8.00"),
                    "shipping_cost": D("3.00"),
                    "image_url": None,
                    "listed_at": now,
                    "last_error": None,
                },
                {
                    "pid": "P3",
                    "handle": "broken-mug",
                    "status": "failed",
                    "store_product_id": None,
                    "title": "Broken Mug",
                    "price": D("14.99"),
                    "unit_cost": D("3.00"),
                    "shipping_cost": D("2.00"),
                    "image_url": None,
                    "listed_at": None,
                    "last_error": "Shopify: title too long",
                },
            ],
        )
        conn.execute(
            listing_variants.insert(),
            [
                {
                    "vid": "V1",
                    "pid": "P1",
                    "sku": "GL-1",
                    "option_value": "Default",
                    "price": D("19.99"),
                    "unit_cost": D("5.00"),
                },
                {
                    "vid": "V2",
                    "pid": "P2",
                    "sku": "PB-1",
                    "option_value": "Default",
                    "price": D("29.99"),
                    "unit_cost": D("8.00"),
                },
            ],
        )
        conn.execute(
            product_candidates.insert(),
            [
                {
                    "pid": pid,
                    "status": status,
                    "reason": reason,
                    "name": name,
                    "unit_cost": D("5.00"),
                    "shipping_cost": D("2.50"),
                    "price": D("19.99"),
                    "profit": D("11.61"),
                    "margin": 0.58,
                    "popularity": 50,
                    "shipping_days_max": 9,
                    "score": score,
                    "rule_fingerprint": "f",
                    "evaluated_at": now,
                }
                for pid, status, reason, name, score in (
                    ("P1", "accepted", None, "Galaxy Lamp", 0.91),
                    ("P2", "accepted", None, "Pet Brush", 0.84),
                    ("P9", "rejected", "shipping takes 21 days (max 12)", "Slow Chair", 0.12),
                )
            ],
        )
        order = {
            "email": "a@example.com",
            "customer_name": "Ann Lee",
            "store_updated_at": now,
            "financial_status": "PAID",
            "fulfillment_status": "UNFULFILLED",
            "currency": "USD",
            "cancelled_at": None,
            "problem": None,
            "source": "meta",
            "country_code": "US",
        }
        conn.execute(
            store_orders.insert(),
            [
                {
                    **order,
                    "order_id": "O1",
                    "name": "#1001",
                    "placed_at": _at(20, 10),
                    "total_price": D("19.99"),
                    "state": "sent",
                },
                {
                    **order,
                    "order_id": "O2",
                    "name": "#1002",
                    "placed_at": _at(20, 15, 30),
                    "total_price": D("59.98"),
                    "state": "problem",
                    "source": "tiktok",
                    "problem": "variant V2 out of stock at the supplier",
                },
                {
                    **order,
                    "order_id": "O3",
                    "name": "#1003",
                    "placed_at": _at(20, 18),
                    "total_price": D("29.99"),
                    "state": "cancelled",
                    "cancelled_at": _at(20, 19),
                    "source": "organic",
                },
                {
                    **order,
                    "order_id": "O4",
                    "name": "#1004",
                    "placed_at": _at(21, 9),
                    "total_price": D("49.98"),
                    "state": "shipped",
                    "fulfillment_status": "FULFILLED",
                },
            ],
        )
        conn.execute(
            store_order_lines.insert(),
            [
                {
                    "line_id": "L1",
                    "order_id": "O1",
                    "title": "Galaxy Lamp",
                    "quantity": 1,
                    "unit_price": D("19.99"),
                    "pid": "P1",
                    "vid": "V1",
                },
                {
                    "line_id": "L2",
                    "order_id": "O2",
                    "title": "Pet Brush",
                    "quantity": 2,
                    "unit_price": D("29.99"),
                    "pid": "P2",
                    "vid": "V2",
                },
                {
                    "line_id": "L3",
                    "order_id": "O3",
                    "title": "Pet Brush",
                    "quantity": 1,
                    "unit_price": D("29.99"),
                    "pid": "P2",
                    "vid": "V2",
                },
                {
                    "line_id": "L4a",
                    "order_id": "O4",
                    "title": "Galaxy Lamp",
                    "quantity": 1,
                    "unit_price": D("19.99"),
                    "pid": "P1",
                    "vid": "V1",
                },
                {
                    "line_id": "L4b",
                    "order_id": "O4",
                    "title": "Pet Brush",
                    "quantity": 1,
                    "unit_price": D("29.99"),
                    "pid": "P2",
                    "vid": "V2",
                },
            ],
        )
        conn.execute(
            supplier_orders.insert(),
            [
                {
                    "order_number": "DS-1001",
                    "order_id": "O1",
                    "cj_order_id": "CJ1",
                    "state": "created",
                    "supplier_status": "UNSHIPPED",
                    "product_amount": D("5.10"),
                    "postage_amount": D("2.40"),
                    "total_amount": D("7.50"),
                    "track_number": None,
                    "carrier": None,
                    "tracking_url": None,
                },
                {
                    "order_number": "DS-1004",
                    "order_id": "O4",
                    "cj_order_id": "CJ4",
                    "state": "created",
                    "supplier_status": "SHIPPED",
                    "product_amount": D("13.00"),
                    "postage_amount": D("5.50"),
                    "total_amount": D("18.50"),
                    "track_number": "YT2611210001",
                    "carrier": "YunExpress",
                    "tracking_url": "https://t.17track.net/en#nums=YT2611210001",
                },
            ],
        )
        conn.execute(
            ad_campaigns.insert(),
            [
                {
                    "pid": "P1",
                    "platform": "meta",
                    "campaign_id": "c1",
                    "state": "active",
                    "daily_budget": D("20.00"),
                    "launched_at": _at(19, 8),
                },
                {
                    "pid": "P2",
                    "platform": "tiktok",
                    "campaign_id": "t1",
                    "state": "active",
                    "daily_budget": D("15.00"),
                    "launched_at": _at(19, 8),
                },
            ],
        )
        metric = {"ctr": None, "cpc": None, "roas": None}
        conn.execute(
            ad_metrics_daily.insert(),
            [
                {
                    **metric,
                    "day": FIRST_DAY,
                    "platform": "meta",
                    "campaign_id": "c1",
                    "pid": "P1",
                    "spend": D("10.00"),
                    "impressions": 2000,
                    "clicks": 40,
                    "purchases": 1,
                    "revenue": D("19.99"),
                },
                {
                    **metric,
                    "day": FIRST_DAY,
                    "platform": "tiktok",
                    "campaign_id": "t1",
                    "pid": "P2",
                    "spend": D("5.50"),
                    "impressions": 1000,
                    "clicks": 20,
                    "purchases": 1,
                    "revenue": D("59.98"),
                },
                {
                    **metric,
                    "day": LAST_DAY,
                    "platform": "meta",
                    "campaign_id": "c1",
                    "pid": "P1",
                    "spend": D("12.25"),
                    "impressions": 2500,
                    "clicks": 50,
                    "purchases": 0,
                    "revenue": D("0.00"),
                },
            ],
        )


def table_rows(engine: Engine, table: sa.Table) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]
