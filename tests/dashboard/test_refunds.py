"""The refunds view: the money back per kind and the cases a human must look at, from the refund ledger."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.store import refund_queries as q
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders
from tests.dashboard.seed import TOKEN
from tests.dashboard.test_api import BEARER, FakeLauncher

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _order(n: int) -> dict:
    return {
        "order_id": f"gid://shopify/Order/{n}",
        "name": f"#{1000 + n}",
        "placed_at": AT,
        "store_updated_at": AT,
        "financial_status": "PAID",
        "fulfillment_status": "UNFULFILLED",
        "total_price": Decimal("40.00"),
        "state": "sent",
    }


def _money(key: str, n: int, kind: str, amount: str, **extra: object) -> dict:
    return {
        "refund_key": key,
        "order_id": f"gid://shopify/Order/{n}",
        "kind": kind,
        "remote_id": key,
        "amount": Decimal(amount),
        "currency": "USD",
        "presentment_amount": Decimal(amount),
        "presentment_currency": "USD",
        "occurred_at": AT,
        **extra,
    }


def test_refunds_view_sums_money_back_and_lists_escalations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(store_orders.insert(), [_order(1), _order(2)])
        q.save_refunds(
            conn,
            [
                _money("refund:a", 1, "refund", "12.50"),
                _money("chargeback:b", 2, "chargeback", "40.00", status="LOST", fee=Decimal("15.00")),
                _money("chargeback:c", 1, "chargeback", "40.00", status="WON", fee=Decimal("15.00")),
            ],
        )
        case = {"case_key": "supplier:2:damaged_parcel", "order_id": "gid://shopify/Order/2"}
        q.open_case(conn, {**case, "order_name": "#1002", "side": "supplier", "reason": "damaged_parcel"})
        q.update_case(conn, "supplier:2:damaged_parcel", state="escalated", escalation="above the limit")
    with TestClient(create_app(url, TOKEN, launcher=FakeLauncher())) as client:
        assert client.get("/api/refunds").status_code == 401
        view = client.get("/api/refunds", headers=BEARER).json()
    assert view["totals"] == {
        "refunds": "12.50",
        "chargebacks": "40.00",  # the chargeback won is money kept
        "chargeback_fees": "30.00",
        "supplier_refunds": "0.00",
        "orders": 2,
    }
    assert [r["order_name"] for r in view["recent"]] == ["#1001", "#1002", "#1001"]
    assert [c["escalation"] for c in view["needs_a_human"]] == ["above the limit"]
    assert view["cases"] == {"supplier:escalated": 1} and view["open_cases"] == 0
