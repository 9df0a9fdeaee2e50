"""The dashboard's stalls list and true profit per order, to the cent, from a small ledger."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders, supplier_orders
from dropship_pipelines.store.profit_tables import order_payments, supplier_costs
from dropship_pipelines.store.refund_tables import order_refunds
from dropship_pipelines.store.tracking_tables import parcel_tracking
from tests.dashboard.seed import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}
PLACED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


class NoLauncher:
    def launch(self, job_name: str) -> str:
        raise AssertionError("no run is launched here")


def _order(order_id: str, name: str, total: str) -> dict:
    return {
        "order_id": order_id,
        "name": name,
        "placed_at": PLACED,
        "store_updated_at": PLACED,
        "financial_status": "PAID",
        "fulfillment_status": "FULFILLED",
        "currency": "USD",
        "total_price": Decimal(total),
        "state": "shipped",
    }


def test_stalls_and_true_profit_per_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(store_orders), [_order("O1", "#1001", "50.00"), _order("O2", "#1002", "30.00")]
        )
        conn.execute(
            sa.insert(supplier_orders),
            [
                {"order_number": "shopify-1001", "order_id": "O1", "state": "created",
                 "product_amount": Decimal("12.00"), "postage_amount": Decimal("4.00")},
                {"order_number": "shopify-1002", "order_id": "O2", "state": "created",
                 "product_amount": Decimal("8.00"), "postage_amount": Decimal("3.00")},
            ],
        )  # fmt: skip
        # CJ charged O1 more postage than quoted once it shipped
        conn.execute(
            sa.insert(supplier_costs),
            [{"order_number": "shopify-1001", "order_id": "O1", "product_amount": Decimal("12.00"),
              "postage_amount": Decimal("4.60"), "supplier_status": "SHIPPED"}],
        )  # fmt: skip
        conn.execute(
            sa.insert(order_payments),
            [
                {"order_id": "O1", "gateway": "shopify_payments", "paid": Decimal("50.00"),
                 "fees": Decimal("1.75"), "shop_currency": "USD", "presentment_currency": "EUR"},
                {"order_id": "O2", "gateway": "paypal", "paid": Decimal("30.00"), "fees": None,
                 "shop_currency": "USD", "presentment_currency": "USD"},
            ],
        )  # fmt: skip
        conn.execute(
            sa.insert(order_refunds),
            [
                {"refund_key": "chargeback:D1", "order_id": "O2", "kind": "chargeback", "remote_id": "D1",
                 "status": "LOST", "amount": Decimal("30.00"), "currency": "USD", "fee": None,
                 "occurred_at": PLACED},
                {"refund_key": "refund:R1", "order_id": "O1", "kind": "refund", "remote_id": "R1",
                 "status": None, "fee": None, "amount": Decimal("5.00"), "currency": "USD",
                 "occurred_at": PLACED},
            ],
        )  # fmt: skip
        conn.execute(
            sa.insert(parcel_tracking),
            [{"order_id": "O2", "order_number": "shopify-1002", "track_number": "T2", "stall": "no_scan",
              "stalled_since": PLACED, "carrier_status": "In transit"}],
        )  # fmt: skip
    with TestClient(create_app(url, TOKEN, launcher=NoLauncher())) as client:
        assert client.get("/api/tracking/stalls").status_code == 401
        stalls = client.get("/api/tracking/stalls", headers=BEARER).json()
        assert stalls["by_stall"] == {"no_scan": 1} and stalls["items"][0]["order_name"] == "#1002"

        page = client.get("/api/tracking/profit", headers=BEARER).json()
        by_id = {row["order_id"]: row for row in page["items"]}
        # O1: 50.00 - 12.00 - 4.60 (actual, not the 4.00 quoted) - 1.75 (reported) - 5.00 refunded
        assert by_id["O1"]["profit"] == "26.65" and by_id["O1"]["shipping_cost"] == "4.60"
        # O2: PayPal 3.49 % + 0.49 of 30.00 = 1.54; a lost chargeback of 30.00 plus the 15.00 dispute fee
        assert by_id["O2"]["payment_fees"] == "1.54" and by_id["O2"]["chargebacks"] == "45.00"
        assert by_id["O2"]["profit"] == "-27.54"
        assert page["items"][0]["order_id"] == "O2"  # the least profitable first
        assert page["totals"]["profit"] == "-0.89"
        bad = client.get(f"/api/tracking/profit?start={date.today()}&end=2020-01-01", headers=BEARER)
        assert bad.status_code == 422
